package dev.rafter.mapping;

import java.util.ArrayList;
import java.util.List;

/**
 * The placement step: a pure function from a tile program whose stages read a tensor of one role to the same
 * program with each stage in its region (a memory tier and a base address), as a {@link Policy} decides by role.
 * {@link #FIRST_TIER} puts every tensor on the first tier at base 0 (a trace's runs, a device with one memory); a
 * workload's policy is a {@link TierPlacement} (its {@code placement:} section, else the first tier that fits).
 * Addresses within a tier are the mappers' in either case.
 */
public final class TensorPlacement {
    private TensorPlacement() {}

    /** Decides where the tensors of each role live. */
    @FunctionalInterface
    public interface Policy {
        Region regionOf(TensorRole role);
    }

    /** Everything on the first tier from address 0. */
    public static final Policy FIRST_TIER = role -> Region.FIRST_TIER;

    /** {@code program} with every stage reading the tensor of {@code role}, placed where {@code policy} says. */
    public static TileProgram place(TileProgram program, TensorRole role, Policy policy) {
        Region region = policy.regionOf(role);
        List<Stage> placed = new ArrayList<>(program.stages().size());
        for (Stage s : program.stages()) {
            placed.add(s.placed(role, region));
        }
        return new TileProgram(List.copyOf(placed), program.cores(), program.hbmReadBytes(), program.hbmWriteBytes(),
            program.explanation());
    }

    /**
     * The programs of a GEMM whose streamed operand is of {@code role}: with split-K, the programs after the first
     * reduce partial sums that the first wrote, which are scratch.
     */
    public static List<TileProgram> placeGemm(List<TileProgram> programs, TensorRole role, Policy policy) {
        List<TileProgram> out = new ArrayList<>(programs.size());
        for (int i = 0; i < programs.size(); i++) {
            out.add(place(programs.get(i), i == 0 ? role : TensorRole.SCRATCH, policy));
        }
        return List.copyOf(out);
    }
}

package dev.rafter.mapping;

import java.util.ArrayList;
import java.util.List;

/**
 * The placement step: a pure function from a tile program whose stages read one or two operands (see
 * {@link Stage}) to the same program with each operand's part in the region of its tensor's role (a memory tier
 * and a base address), as a {@link Policy} decides by role.
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
        return place(program, role, role, policy);
    }

    /**
     * {@code program} with each stage's streamed operand a tensor of {@code role} and its other operand one of
     * {@code other}, each placed where {@code policy} says: each part is then read from its own region.
     */
    public static TileProgram place(TileProgram program, TensorRole role, TensorRole other, Policy policy) {
        Region region = policy.regionOf(role);
        Region otherRegion = policy.regionOf(other);
        List<Stage> placed = new ArrayList<>(program.stages().size());
        for (Stage s : program.stages()) {
            placed.add(s.placed(role, region, other, otherRegion));
        }
        return new TileProgram(List.copyOf(placed), program.cores(), program.hbmReadBytes(), program.hbmWriteBytes(),
            program.explanation());
    }

    /**
     * The programs of a GEMM (or a flash attention) whose B operand is of {@code role} and A operand of
     * {@code other}: with split-K (split-KV), the programs after the first reduce partial sums that the first wrote,
     * which are scratch.
     */
    public static List<TileProgram> placeGemm(List<TileProgram> programs, TensorRole role, TensorRole other,
                                              Policy policy) {
        List<TileProgram> out = new ArrayList<>(programs.size());
        for (int i = 0; i < programs.size(); i++) {
            out.add(i == 0 ? place(programs.get(i), role, other, policy)
                : place(programs.get(i), TensorRole.SCRATCH, policy));
        }
        return List.copyOf(out);
    }
}

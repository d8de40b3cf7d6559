package dev.rafter.mapping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;
import dev.rafter.workload.Phase;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The placement step as a pure function: programs in, the same programs with their tensors placed out. */
class TensorPlacementTest {
    static final HardwareSpec A100 = HardwareLoader.load(Path.of("models/hardware/a100.yaml"), List.of());

    static final TileProgram PROGRAM = new TileProgram(List.of(new Stage(0, 1000, 0, 0, 1),
        new Stage(4096, 1000, 200, 0, 2)), List.of(List.of()), 2000, 500, "two stages");

    @Test
    void placesEveryStageWhereThePolicySaysAndKeepsTheRest() {
        TensorPlacement.Policy kvElsewhere = role -> role == TensorRole.KV_CACHE ? new Region(1, 1 << 20)
            : Region.FIRST_TIER;
        TileProgram kv = TensorPlacement.place(PROGRAM, TensorRole.KV_CACHE, kvElsewhere);
        assertEquals(new Stage(4096, 1000, 200, 0, 2, TensorRole.KV_CACHE, new Region(1, 1 << 20), 0,
            TensorRole.KV_CACHE, new Region(1, 1 << 20)), kv.stages().get(1));
        assertEquals((1 << 20) + 4096, kv.stages().get(1).tierAddress());
        assertEquals(List.of(PROGRAM.cores(), PROGRAM.hbmReadBytes(), PROGRAM.hbmWriteBytes(), PROGRAM.explanation()),
            List.of(kv.cores(), kv.hbmReadBytes(), kv.hbmWriteBytes(), kv.explanation()));
        TileProgram weights = TensorPlacement.place(PROGRAM, TensorRole.WEIGHTS, kvElsewhere);
        assertEquals(Region.FIRST_TIER, weights.stages().get(0).region());
        assertEquals(4096, weights.stages().get(1).tierAddress(), "the first tier from 0: today's addresses");
        assertEquals(new Stage(0, 1000, 0, 0, 1), PROGRAM.stages().get(0), "the input is left as it was");
    }

    @Test
    void eachOperandsPartOfAStageLiesInTheRegionOfItsRole() {
        TensorPlacement.Policy weightsElsewhere = role -> role == TensorRole.WEIGHTS ? new Region(1, 1 << 20)
            : Region.FIRST_TIER;
        // 1000 bytes, 300 of them the activations beside 700 of weights.
        TileProgram gemm = new TileProgram(List.of(new Stage(4096, 1000, 0, 0, 1, 300)), List.of(List.of()), 1000,
            0, "one stage");
        Stage s = TensorPlacement.place(gemm, TensorRole.WEIGHTS, TensorRole.ACTIVATIONS, weightsElsewhere)
            .stages().get(0);
        assertEquals(List.of(TensorRole.WEIGHTS, new Region(1, 1 << 20), 700L, (1L << 20) + 4096),
            List.of(s.role(), s.region(), s.streamedBytes(), s.tierAddress()));
        assertEquals(List.of(TensorRole.ACTIVATIONS, Region.FIRST_TIER, 300L, 4096L + 700),
            List.of(s.otherRole(), s.otherRegion(), s.otherBytes(), s.otherTierAddress()));
        assertThrows(IllegalArgumentException.class, () -> new Stage(0, 100, 0, 0, 1, 101));
    }

    @Test
    void splitKReductionsReadScratch() {
        List<TileProgram> two = TensorPlacement.placeGemm(List.of(PROGRAM, PROGRAM), TensorRole.WEIGHTS,
            TensorRole.ACTIVATIONS, TensorPlacement.FIRST_TIER);
        assertEquals(List.of(TensorRole.WEIGHTS, TensorRole.SCRATCH), List.of(two.get(0).stages().get(0).role(),
            two.get(1).stages().get(0).role()));
    }

    @Test
    void theMapperTagsEachOperatorsTensors() {
        Operator proj = Operator.gemm(0, "qkv", Phase.DECODE, 0, 1, 1, 8, 4096, 4096, DataType.FP16, DataType.FP16);
        assertEquals(List.of(TensorRole.WEIGHTS), roles(OperatorMapper.programs(A100, proj)));
        Stage first = OperatorMapper.programs(A100, proj).get(0).stages().get(0);
        assertEquals(TensorRole.ACTIVATIONS, first.otherRole(), "the GEMM's A operand: activations");
        assertEquals(8L * first.loadBytes() / (8 + 4096), first.otherBytes(), "8 rows of A beside 4096 columns of B");
        Operator norm = Operator.rows(1, "norm", OpKind.RMSNORM, Phase.DECODE, 0, 1, 8, 4096, DataType.FP16);
        assertEquals(List.of(TensorRole.ACTIVATIONS), roles(OperatorMapper.programs(A100, norm)));
        Operator att = new Operator(2, "att", OpKind.ATTENTION, Phase.DECODE, 0, 1, 8, 1, 512, 128, 0,
            DataType.FP16, Operator.NO_DEPS);
        assertEquals(List.of(TensorRole.KV_CACHE, TensorRole.SCRATCH, TensorRole.KV_CACHE),
            roles(OperatorMapper.programs(A100, att)));
    }

    @Test
    void aRegionIsATierAndANonNegativeBase() {
        assertThrows(IllegalArgumentException.class, () -> new Region(-1, 0));
        assertThrows(IllegalArgumentException.class, () -> new Region(0, -4096));
    }

    /** The distinct roles of the programs' stages, program by program. */
    private static List<TensorRole> roles(List<TileProgram> programs) {
        return programs.stream().map(p -> p.stages().stream().map(Stage::role).distinct()
            .reduce((a, b) -> { throw new AssertionError("one role per program"); }).orElseThrow()).toList();
    }
}

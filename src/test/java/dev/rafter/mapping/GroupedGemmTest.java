package dev.rafter.mapping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.hw.HardwareSpec.GemmTile;
import dev.rafter.sim.Simulation;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Phase;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A grouped GEMM (vLLM's fused_moe: one launch over the experts a batch touches, each expert's rows padded to the
 * kernel's block rows on their own) on the A100-like device of {@link LibraryTilesTest}, with one 64x128x64 library
 * tile so the tile counts are checked by hand.
 */
class GroupedGemmTest {
    static final HardwareSpec HW = LibraryTilesTest.a100(3850, List.of(new GemmTile(64, 128, 64)));

    /** Groups of the given rows, each (rows x 128) * (128 x 256) fp16 with its own weights. */
    static Operator grouped(long id, long... rows) {
        return Operator.groupedGemm(id, "experts", Phase.DECODE, 0, 1, rows, 256, 128, DataType.FP16, DataType.FP16);
    }

    @Test
    void eachGroupIsPaddedToWholeTilesOnItsOwnInOneLaunch() {
        GemmPlan plan = GemmMapper.plan(HW, grouped(0, 3, 130, 64, 65));
        assertEquals(1, plan.programs().size(), "one kernel, no split-K");
        List<MatrixTile> tiles = LibraryTilesTest.tiles(plan.program());
        // Tile rows: ceil(3/64) + ceil(130/64) + ceil(64/64) + ceil(65/64) = 1 + 3 + 1 + 2 = 7, times ceil(256/128) =
        // 2 tile columns: 14 tiles (a batched GEMM padded to the largest group would have 4 x 3 x 2 = 24).
        assertEquals(14, tiles.size());
        // Each tile computes 64 padded rows on the arrays but loads and stores only its group's real rows:
        // 3 | 64, 64, 2 | 64 | 64, 1, each in two columns.
        assertEquals(List.of(1, 1, 2, 2, 3, 3, 64, 64, 64, 64, 64, 64, 64, 64),
            tiles.stream().map(MatrixTile::m).sorted().toList());
        assertTrue(tiles.stream().allMatch(t -> t.arrayM() == 64 && t.arrayN() == 128), "whole tiles on the arrays");
        // Each group's weights once (128 x 256) and the 262 real rows of A (x 128), fp16; the 262 x 256 results.
        assertEquals(2L * (262 * 128 + 4 * 128 * 256), plan.program().hbmReadBytes());
        assertEquals(2L * 262 * 256, plan.program().hbmWriteBytes());
    }

    @Test
    void theSearchedTilesOfADeviceWithoutALibraryStayWithinTheirGroups() {
        HardwareSpec generic = dev.rafter.hw.TestModels.a100Generic();
        long[] rows = {3, 130, 64, 65};
        Operator op = Operator.groupedGemm(0, "experts", Phase.PREFILL, 0, 0, rows, 1024, 512, DataType.FP16,
            DataType.FP16);
        GemmPlan plan = GemmMapper.plan(generic, op);
        long expected = 0;
        for (long r : rows) {
            expected += GemmMapper.ceilDiv(r, plan.localM()) * GemmMapper.ceilDiv(1024, plan.localN());
        }
        List<MatrixTile> tiles = LibraryTilesTest.tiles(plan.program());
        assertEquals(expected, tiles.size(), "each group padded to whole tiles of " + plan.localM() + " on its own");
        assertEquals(262L * 1024, tiles.stream().mapToLong(t -> (long) t.m() * t.n()).sum(), "the real outputs");
        assertTrue(plan.program().hbmReadBytes() >= 2L * (262 * 512 + 4 * 512 * 1024), "each group's weights");
    }

    @Test
    void flopsAndBytesCountTheRealRowsAndEachGroupsWeightsOnce() {
        Operator op = grouped(0, 3, 130, 64, 65);
        assertEquals(OpKind.GROUPED_GEMM, op.kind());
        assertEquals(4, op.batch());
        assertEquals(130, op.m(), "the largest group");
        assertEquals(2.0 * 262 * 256 * 128, op.flops(), 0);
        // A (262 x 128) and C (262 x 256) once, B (128 x 256) once per group, 2 bytes each.
        assertEquals(2.0 * (262 * 128 + 262 * 256 + 4 * 128 * 256), op.minBytes(), 0);
    }

    @Test
    void oneGroupedLaunchEndsNoLaterThanOneGemmPerGroup() {
        // Decode-sized groups: a few rows each, so every kernel is short and the per-kernel launch gap (2.555 us,
        // eager) is most of each GEMM's time.
        long[] rows = {3, 1, 2, 3, 4, 1, 2, 3};
        Operator[] perGroup = new Operator[rows.length];
        for (int g = 0; g < rows.length; g++) {
            perGroup[g] = Operator.gemm(g, "expert" + g, Phase.DECODE, 0, 1, 1, rows[g], 256, 128, DataType.FP16);
        }
        long separate = new Simulation(HW).run(OperatorSource.of(perGroup), null, r -> { }).endPs();
        long together = new Simulation(HW).run(OperatorSource.of(grouped(0, rows)), null, r -> { }).endPs();
        assertTrue(together <= separate, together + " ps grouped against " + separate + " ps per group");
        // Eight launches against one: at least seven launch gaps apart.
        assertTrue(separate - together >= 7 * 2555_000L, (separate - together) + " ps saved");
    }
}

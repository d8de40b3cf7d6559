package dev.rafter.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link Operator#sameShape} and {@link Operator.Shape#matches} are the reuse path's shortcuts for
 * {@code shape().equals(...)}: they must agree with it on every pair, or a replayed operator would take another
 * shape's row, estimate or replay.
 */
class OperatorShapeTest {
    @Test
    void sameShapeAgreesWithShapeEqualityOnEveryPairOfLoweredOperators() {
        List<Operator> ops = new ArrayList<>();
        for (String name : List.of("tiny", "mixtral-8x7b")) {
            Workload w = Workload.load(Path.of("models/workloads/" + name + ".yaml"));
            int[] left = {400}; // the first layers of each phase: every operator kind the workloads lower
            Lowering.lower(w, EnumSet.allOf(Phase.class), op -> {
                if (left[0]-- > 0) {
                    ops.add(op);
                }
            });
        }
        // GEMMs of one shape that name different library kernels (a replayed trace's), or none: different shapes.
        Operator gemm = Operator.gemm(9000, "g", Phase.PREFILL, 0, 0, 1, 141, 512, 512, dev.rafter.hw.DataType.BF16,
            dev.rafter.hw.DataType.BF16);
        ops.add(gemm);
        ops.add(gemm.withKernel(new GemmKernel("a", 32, 32, 128, GemmKernel.Path.WARP_MMA)));
        ops.add(gemm.withKernel(new GemmKernel("b", 64, 64, 64, GemmKernel.Path.WARPGROUP_MMA)));
        ops.add(gemm.withKernel(new GemmKernel("b", 64, 64, 64, GemmKernel.Path.WARPGROUP_MMA)));
        int equal = 0;
        for (Operator a : ops) {
            for (Operator b : ops) {
                boolean same = a.shape().equals(b.shape());
                assertEquals(same, a.sameShape(b), a + " / " + b);
                assertEquals(same, a.shape().matches(b), a + " / " + b);
                equal += same && a != b ? 1 : 0;
            }
        }
        assertTrue(equal > 0 && equal < ops.size() * (ops.size() - 1), "both outcomes occur");
    }
}

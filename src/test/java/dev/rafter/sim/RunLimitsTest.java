package dev.rafter.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Phase;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The dry pass's estimates are kept per shape and, for a stream whose shapes come round in order, found by guessing
 * that the shape after an operator's is the one that followed it last time: a wrong guess must still give each
 * operator its own shape's estimate.
 */
class RunLimitsTest {
    private static final HardwareSpec HW = HardwareLoader.load(Path.of("models/hardware/a100.yaml"), List.of());

    private static Operator gemm(long id, long m) {
        return Operator.gemm(id, "gemm" + m, Phase.PREFILL, 0, 0, 1, m, 4096, 4096, DataType.FP16, DataType.FP16);
    }

    private static Operator norm(long id) {
        return Operator.vector(id, "norm", OpKind.RMSNORM, Phase.PREFILL, 0, 0, 8 * 4096, DataType.FP16);
    }

    @Test
    void eachOperatorCountsItsOwnShapeWhateverCameBeforeIt() {
        // After the norm come 128-row, 256-row and 512-row GEMMs in turn: every guess after the first round is wrong.
        Operator[] ops = {gemm(0, 128), norm(1), gemm(2, 256), norm(3), gemm(4, 512), norm(5), gemm(6, 128), norm(7),
            gemm(8, 128), norm(9), gemm(10, 256), gemm(11, 512), norm(12), gemm(13, 512)};
        RunLimits.Totals all = RunLimits.check(HW, OperatorSource.of(ops));
        double events = 0;
        double ps = 0;
        for (Operator op : ops) {
            RunLimits.Totals alone = RunLimits.check(HW, OperatorSource.of(op));
            events += alone.events();
            ps += alone.simulatedPs();
        }
        assertEquals(ops.length, all.operators());
        assertEquals(events, all.events(), 0.0);
        assertEquals(ps, all.simulatedPs(), 0.0);
        // The shapes differ in their estimates, so a wrong one would show.
        assertFalse(RunLimits.check(HW, OperatorSource.of(gemm(0, 128))).simulatedPs()
            == RunLimits.check(HW, OperatorSource.of(gemm(0, 512))).simulatedPs());
        assertTrue(all.simulatedPs() > 0);
    }

    @Test
    void aWorkloadIsCheckedByShapeAndCountAsItsEveryOperatorIs() {
        // Llama-3-8B's prefill and 8 decode steps: the totals by shape and count (its layers once each) against the
        // pass over every operator (the same source without that form).
        dev.rafter.workload.Workload w = dev.rafter.workload.Workload.load(Path.of("models/workloads/llama3-8b.yaml"),
            List.of("run.output_tokens=9"));
        OperatorSource lowered = OperatorSource.of(w, java.util.EnumSet.allOf(Phase.class));
        OperatorSource everyOperator = lowered::forEach;
        RunLimits.Totals quick = RunLimits.check(HW, lowered);
        RunLimits.Totals full = RunLimits.check(HW, everyOperator);
        assertEquals(full.operators(), quick.operators());
        assertEquals(full.events(), quick.events(), full.events() * 1e-12);
        assertEquals(full.simulatedPs(), quick.simulatedPs(), full.simulatedPs() * 1e-12);
        // Beyond a limit, the operator that crosses it is named, as the full pass names it.
        HardwareSpec slow = HardwareLoader.load(Path.of("models/hardware/a100.yaml"), List.of("clock_mhz=1",
            "memory.bandwidth_gb_per_s=0.001"));
        String byShape = org.junit.jupiter.api.Assertions.assertThrows(dev.rafter.config.InputException.class,
            () -> RunLimits.check(slow, lowered)).getMessage();
        String byOperator = org.junit.jupiter.api.Assertions.assertThrows(dev.rafter.config.InputException.class,
            () -> RunLimits.check(slow, everyOperator)).getMessage();
        assertEquals(byOperator, byShape);
        assertTrue(byShape.startsWith("op "), byShape);
    }
}

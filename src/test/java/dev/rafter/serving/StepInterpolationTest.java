package dev.rafter.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.workload.StepLowering;
import dev.rafter.workload.Workload;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class StepInterpolationTest {
    private static final HardwareSpec H100 = HardwareLoader.load(Path.of("models/hardware/h100.yaml"), List.of());
    private static final Workload LLAMA3 = Workload.load(Path.of("models/workloads/llama3-8b.yaml"));

    private static long interpolated(List<StepLowering.Group> groups, long emitting) {
        return new StepTimer(H100, LLAMA3, null, StepTiming.INTERPOLATED).stepPs(0, groups, emitting);
    }

    private static long exact(List<StepLowering.Group> groups, long emitting) {
        return new StepTimer(H100, LLAMA3).stepPs(0, groups, emitting);
    }

    @Test
    void onAGridPointAStepIsTimedExactly() {
        // Decode sequences over one KV length at the end of a 64-key interval, 256 tokens or fewer: no interpolation.
        List<StepLowering.Group> decodes = List.of(new StepLowering.Group(12, 1, 1088));
        assertEquals(exact(decodes, 12), interpolated(decodes, 12));
        // 64 decodes beside a prefill chunk of 1024 tokens (the engine's order: by new tokens, then KV length):
        // 1088 tokens, the end of a 64-token interval.
        List<StepLowering.Group> mixed = List.of(new StepLowering.Group(64, 1, 1152),
            new StepLowering.Group(1, 1024, 1024));
        assertEquals(exact(mixed, 65), interpolated(mixed, 65));
    }

    @Test
    void betweenGridPointsAStepIsCloseToExact() {
        // Decode sequences over their own KV lengths (mean 1100) beside a chunk: 1024 + 20 = 1044 tokens.
        List<StepLowering.Group> spread = new java.util.ArrayList<>();
        for (int i = 0; i < 20; i++) {
            spread.add(new StepLowering.Group(1, 1, 1030 + 7 * i));
        }
        spread.add(new StepLowering.Group(1, 1024, 1024));
        long exact = exact(spread, 21);
        long approx = interpolated(spread, 21);
        // Measured: 34.328 ms against 34.303 ms exact, +0.07% (a 1025-row GEMM costs a row of tiles and a wave more
        // than a 1024-row one, so the intervals start just above a grid multiple); 1% leaves room for other tiles.
        assertTrue(Math.abs(approx - exact) <= 0.01 * exact, approx + " ps against " + exact + " ps exact");
    }

    @Test
    void energyIsInterpolatedAsTimeIs() {
        StepTimer interpolated = new StepTimer(H100, LLAMA3, null, StepTiming.INTERPOLATED);
        StepTimer exact = new StepTimer(H100, LLAMA3);
        // Twelve decodes over one KV length: the 64-key interval (1024, 1088] ends at 1025 and 1088, where the step is
        // simulated; 12 tokens leave the rest of the layer exact.
        StepTimer.Cost low = exact.step(0, List.of(new StepLowering.Group(12, 1, 1025)), 12);
        StepTimer.Cost high = exact.step(0, List.of(new StepLowering.Group(12, 1, 1088)), 12);
        for (StepTimer.Cost end : List.of(low, high)) {
            long kv = end == low ? 1025 : 1088;
            StepTimer.Cost at = interpolated.step(0, List.of(new StepLowering.Group(12, 1, kv)), 12);
            assertEquals(end.ps(), at.ps());
            assertEquals(end.femtojoules(), at.femtojoules(), "exact at a sample point, to the femtojoule");
        }
        assertTrue(low.femtojoules() != high.femtojoules(), "the interval's ends differ in energy");
        for (long kv = 1026; kv < 1088; kv += 7) {
            StepTimer.Cost between = interpolated.step(0, List.of(new StepLowering.Group(12, 1, kv)), 12);
            assertTrue(between.femtojoules() >= Math.min(low.femtojoules(), high.femtojoules())
                && between.femtojoules() <= Math.max(low.femtojoules(), high.femtojoules()), kv + ": " + between);
            // The same weight as the time's (each rounded to a picosecond and a femtojoule per layer).
            double along = (kv - 1025) / 63.0;
            assertEquals(low.femtojoules() + (high.femtojoules() - low.femtojoules()) * along,
                between.femtojoules(), LLAMA3.run().layers());
            assertEquals(low.ps() + (high.ps() - low.ps()) * along, between.ps(), LLAMA3.run().layers());
        }
    }
}

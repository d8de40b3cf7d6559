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
        // Measured: 35.356 ms against 35.339 ms exact, +0.05% (a 1025-row GEMM costs a row of tiles and a wave more
        // than a 1024-row one, so the intervals start just above a grid multiple); 1% leaves room for other tiles.
        assertTrue(Math.abs(approx - exact) <= 0.01 * exact, approx + " ps against " + exact + " ps exact");
    }
}

package dev.rafter.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rafter.hw.Dataflow;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.sim.component.PeArray;
import dev.rafter.sim.trace.SliceKind;
import dev.rafter.sim.trace.TraceSink;
import dev.rafter.sim.trace.Track;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The PE array issues the fold model's cycles at its sustained rate: ceil(fold cycles / fraction). */
class PeArrayTest {
    record Slice(SliceKind kind, long start, long end, long amount) {}

    final List<Slice> slices = new ArrayList<>();
    final TraceSink sink = (track, kind, op, start, end, amount) -> slices.add(new Slice(kind, start, end, amount));
    final ClockDomain clock = new ClockDomain("core", 1000);

    long cycles(double fraction, long m, long n, long k) {
        PeArray array = new PeArray(new HardwareSpec.PeArray(16, 16, Dataflow.OUTPUT_STATIONARY, false, fraction),
            sink, new Track(0, PeArray.KIND, 0, 0, "pe"));
        return array.compute(0, 1_000, m, n, k, clock);
    }

    @Test
    void sustainedFractionStretchesTheFoldCycles() {
        // 16x16x16 on a 16x16 output-stationary array: one fold of 16 + 16 + 16 - 2 = 46 cycles.
        assertEquals(46, cycles(1.0, 16, 16, 16));
        assertEquals(92, cycles(0.5, 16, 16, 16));
        assertEquals(58, cycles(0.8, 16, 16, 16), "46 / 0.8 = 57.5, rounded up");
        // 64x32x100: 4 x 2 folds of 16 + 16 + 100 - 2 = 130 cycles = 1040; 1040 / 0.869 = 1196.8.
        assertEquals(1040, cycles(1.0, 64, 32, 100));
        assertEquals(1197, cycles(0.869, 64, 32, 100));
        // The busy slice covers the stretched time at 1 ns per cycle; the MACs are the tile's.
        assertEquals(new Slice(SliceKind.COMPUTE, 1_000, 1_000 + 1_197_000, 64L * 32 * 100), slices.get(4));
        assertEquals(0, cycles(0.5, 0, 16, 16), "an empty share takes no time");
    }
}

package dev.rafter.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rafter.hw.Dataflow;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.sim.component.Catalogue;
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
            sink, Catalogue.track(0, PeArray.KIND, 0, 0, "pe"));
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

    /**
     * The array remembers the timing of its last two tile shapes: shapes taken in turn (a tile's shallower last
     * chunk between full ones, another clock, another operand type) time as a fresh array times each: the fold model
     * by hand for 16x16x16 (46 cycles), 16x16x4 (16 + 16 + 4 - 2 = 34), 32x16x16 (2 folds of 46 = 92).
     */
    @Test
    void shapesTakenInTurnTimeAsFreshArraysTimeThem() {
        PeArray array = new PeArray(new HardwareSpec.PeArray(16, 16, Dataflow.OUTPUT_STATIONARY, false, 1.0,
            java.util.Map.of(dev.rafter.hw.DataType.FP8, 2)), sink, Catalogue.track(0, PeArray.KIND, 0, 0, "pe"));
        ClockDomain slow = new ClockDomain("core", 500);
        dev.rafter.hw.DataType fp16 = dev.rafter.hw.DataType.FP16;
        dev.rafter.hw.DataType fp8 = dev.rafter.hw.DataType.FP8;
        long[][] shapes = {{16, 16, 16}, {16, 16, 4}, {16, 16, 16}, {16, 16, 4}, {32, 16, 16}, {16, 16, 16},
            {16, 16, 4}, {32, 16, 16}};
        long[] expected = {46, 34, 46, 34, 92, 46, 34, 92};
        for (int i = 0; i < shapes.length; i++) {
            long[] s = shapes[i];
            assertEquals(expected[i], array.compute(i, 0, s[0], s[1], s[2], s[0] * s[1] * s[2], fp16, clock),
                "shape " + i);
            assertEquals(1_000 * expected[i], slices.get(slices.size() - 1).end(), "1 ns per cycle, shape " + i);
        }
        // The same shape at half the clock: as many cycles, each 2 ns; in fp8 (2 MACs per PE per cycle): depth 8,
        // 16 + 16 + 8 - 2 = 38 cycles.
        assertEquals(46, array.compute(9, 0, 16, 16, 16, 16 * 16 * 16, fp16, slow));
        assertEquals(2_000 * 46, slices.get(slices.size() - 1).end());
        assertEquals(38, array.compute(10, 0, 16, 16, 16, 16 * 16 * 16, fp8, clock));
        assertEquals(46, array.compute(11, 0, 16, 16, 16, 16 * 16 * 16, fp16, clock));
        assertEquals(1_000 * 46, slices.get(slices.size() - 1).end());
    }
}

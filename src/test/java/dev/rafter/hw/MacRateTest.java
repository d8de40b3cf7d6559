package dev.rafter.hw;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** MACs per PE per cycle by operand type: a PE of rate r is an r-wide dot product along k. */
class MacRateTest {
    static final HardwareSpec.PeArray ARRAY = new HardwareSpec.PeArray(16, 32, Dataflow.OUTPUT_STATIONARY, true, 0.8,
        Map.of(DataType.FP8, 2, DataType.INT8, 4));

    @Test
    void aTileOfATypeWithRateRTakesTheCyclesOfDepthKOverR() {
        assertEquals(ARRAY.sustainedCycles(128, 256, 32), ARRAY.sustainedCycles(128, 256, 64, DataType.FP8));
        assertEquals(ARRAY.sustainedCycles(128, 256, 16), ARRAY.sustainedCycles(128, 256, 64, DataType.INT8));
        // k not a multiple of the rate: the last partial dot product takes a whole cycle.
        assertEquals(ARRAY.sustainedCycles(128, 256, 33), ARRAY.sustainedCycles(128, 256, 65, DataType.FP8));
    }

    @Test
    void aTypeNotListedIssuesOneMacPerCycle() {
        assertEquals(ARRAY.sustainedCycles(128, 256, 64), ARRAY.sustainedCycles(128, 256, 64, DataType.FP16));
        assertEquals(1, ARRAY.macsPerCycle(DataType.BF16));
        assertEquals(4, ARRAY.fastestMacsPerCycle());
        HardwareSpec.PeArray plain = new HardwareSpec.PeArray(16, 32, Dataflow.OUTPUT_STATIONARY, true);
        assertEquals(1, plain.fastestMacsPerCycle());
        // Without a table the record prints as before (sweep keys hash this text).
        assertEquals("PeArray[rows=16, cols=32, dataflow=OUTPUT_STATIONARY, foldOverlap=true, sustainedFraction=1.0]",
            plain.toString());
    }
}

package dev.rafter.mapping;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A tile's cycles are its slowest lane's, over the shares {@link LaneSplit#shares} gives the lanes. */
class LaneSplitTest {
    @Test
    void cyclesAreTheSlowestShareOnEveryTileShape() {
        for (String hardware : List.of("a100", "h100")) {
            HardwareSpec.Core core = HardwareLoader.load(Path.of("models/hardware/" + hardware + ".yaml"), List.of())
                .core();
            for (long m : new long[] {1, 7, 16, 64, 100, 128, 333, 1024}) {
                for (long n : new long[] {1, 8, 17, 64, 128, 250, 4096}) {
                    for (long k : new long[] {1, 64, 129}) {
                        long slowest = 0;
                        for (long[] share : LaneSplit.shares(core, m, n)) {
                            slowest = Math.max(slowest, core.peArray().sustainedCycles(share[0], share[1], k,
                                DataType.FP16));
                        }
                        assertEquals(slowest, LaneSplit.cycles(core, m, n, k, DataType.FP16),
                            hardware + " " + m + " x " + n + " x " + k);
                    }
                }
            }
        }
    }
}

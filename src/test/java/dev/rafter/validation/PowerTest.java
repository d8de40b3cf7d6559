package dev.rafter.validation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The memory-bound board-power case of {@code validation/power.csv}: a GEMV streaming 512 MiB on the A100 with the
 * 40 GB board's HBM2 against the 225-248 W gpu-roofline measured on A100-SXM4-40GB at 1.37 TB/s (te42kyfo/gpu-benches
 * @1c36d50 gpu-roofline/alex_a100_40.txt). The counted actions fall short of it: the case stays a known gap, its
 * range that of the measurement, until the missing terms have sourced figures.
 */
class PowerTest {
    @Test
    void theMemoryBoundStreamKeepsTheMeasuredRangeAndSaysWhatItLacks() {
        List<Validation.Check> checks = new ArrayList<>();
        new Power(Path.of("validation")).run(checks, "memory_bound_stream_board_power"::equals);
        assertEquals(1, checks.size());
        Validation.Check c = checks.get(0);
        System.out.println(c.name() + ": " + c.comparison());
        assertEquals((225 + 248) / 2.0, c.expected(), 0, "the measured range, 225-248 W");
        assertTrue(c.comparison().startsWith("225.0 W <= average "), c.comparison());
        assertTrue(c.comparison().contains("<= 248.0 W (board "), "the parts, largest first: " + c.comparison());
        assertTrue(c.comparison().contains("hbm "), c.comparison());
        // Above the 110 W idle by the HBM2 device and PHY, short of the measurement: a known gap, not a pass.
        assertTrue(c.simulated() > 110 && c.simulated() < 225, "average " + c.simulated() + " W");
        assertFalse(c.passed());
        assertNotNull(c.knownGap());
        assertFalse(c.failed(), "reported as a known gap");
    }
}

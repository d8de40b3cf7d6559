package dev.rafter.validation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.plot.StudyCharts;
import dev.rafter.plot.XyChart;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The memory-technology studies pass as {@code rafter validate} runs them, print their numbers and draw a chart
 * each (one run of the studies for both, as they are slow).
 */
class MemoryStudiesTest {
    private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    @Test
    void theStudiesPassAndDrawTheirCharts() {
        List<Validation.Check> checks = new ArrayList<>();
        MemoryStudies studies = new MemoryStudies(Path.of("validation"));
        studies.run(checks);
        checks.forEach(c -> System.out.println(c.name() + ": " + c.comparison()));
        assertEquals(10, checks.size());
        for (Validation.Check c : checks) {
            assertTrue(c.passed(), c.name() + ": " + c.comparison());
        }

        List<Validation.Chart> charts = studies.charts();
        assertEquals(Validation.CHART_FILES, charts.stream().map(Validation.Chart::file).toList());
        for (Validation.Chart c : charts) {
            byte[] png = png(c.chart());
            assertArrayEquals(PNG_SIGNATURE, Arrays.copyOf(png, 8), c.file());
            assertTrue(png.length > 20_000, c.file() + " is only " + png.length + " bytes");
            assertArrayEquals(png, png(c.chart()), c.file() + ": the same chart draws the same bytes");
        }
        // The charts' data are the checked numbers: the batch-1 FC speed-up, the HBF step at the shortest latency.
        Validation.Check fcBatch1 = check(checks, "decode_nmp_fc_batch1");
        assertArrayEquals(new double[] {1, fcBatch1.simulated()}, studies.speedups().get(0).fc().get(0));
        Validation.Check vsSystem = check(checks, "decode_70b_hbf_vs_system");
        assertArrayEquals(new double[] {0.1, vsSystem.simulated()}, studies.latencies().get(0).steps().get(0));
        assertEquals(vsSystem.expected(), studies.latencies().get(0).systemStepS());
        Validation.Check clock = check(checks, "decode_stacked_clock0.6");
        assertEquals(1 / 0.6, clock.expected(), 1e-12);
        assertEquals(List.of(1.0, 0.8, 0.6), studies.stacked().get(0).clockFractions());
        assertEquals(7, studies.stacked().get(0).simulated().get(2).size());
    }

    private static Validation.Check check(List<Validation.Check> checks, String prefix) {
        return checks.stream().filter(c -> c.name().startsWith(prefix)).findFirst().orElseThrow();
    }

    private static byte[] png(XyChart chart) {
        return StudyCharts.png(chart.width(), chart.height(), chart::draw);
    }
}

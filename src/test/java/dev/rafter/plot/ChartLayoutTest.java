package dev.rafter.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Charts are pure functions of their data, so what a reader needs is checked without pixels: the ticks an axis
 * labels, and that no text leaves the image or covers another (boxes from the font's metrics).
 */
class ChartLayoutTest {
    @TempDir
    Path tmp;

    private static final String HEADER = "latency_s,prefill_latency_s,decode_latency_s,roofline_s,energy_j,"
        + "static_energy_j,dynamic_energy_j,edp_j_s,pe_util,hbm_util,ttft_s,tpot_mean_s,tokens_per_s";

    // ---- ticks ----

    @Test
    void aLogAxisOverLessThanADecadeLabelsEveryDigit() {
        // compare.png's case: 1.6 us .. 9 us measured, once one label per axis
        Axis a = Axis.of(1.6e-6, 9e-6, true, 0, 800);
        List<Double> ticks = a.ticks();
        assertEquals(List.of(2e-6, 3e-6, 4e-6, 5e-6, 6e-6, 7e-6, 8e-6, 9e-6, 1e-5), rounded(ticks));
    }

    @Test
    void aLogAxisOverLessThanTwiceItsLowestValueFallsBackToRoundSteps() {
        Axis a = Axis.of(3.1e-6, 4.4e-6, true, 0, 800); // 2.48 .. 5.5 us after the margin: only 3, 4 and 5 us
        assertEquals(List.of(2.5e-6, 3e-6, 3.5e-6, 4e-6, 4.5e-6, 5e-6, 5.5e-6), rounded(a.ticks()));
    }

    @Test
    void aLogAxisOverAFewDecadesLabelsOneTwoFive() {
        Axis a = Axis.of(1, 40, true, 0, 800); // 0.8 .. 50
        assertEquals(List.of(1.0, 2.0, 5.0, 10.0, 20.0, 50.0), rounded(a.ticks()));
    }

    @Test
    void aLogAxisOverManyDecadesLabelsPowersOfTenAtMostTen() {
        Axis roofline = Axis.of(0.08, 1e5, true, 0, 800);
        assertEquals(List.of(0.1, 1.0, 10.0, 100.0, 1e3, 1e4, 1e5), rounded(roofline.ticks()));
        // a measured time of 1e308 s (a typo) still gives a finite axis and a readable number of labels
        Axis huge = Axis.of(1e-6, 1e308, true, 0, 800);
        assertTrue(Double.isFinite(huge.hi()));
        List<Double> ticks = huge.ticks();
        assertTrue(ticks.size() >= Axis.MIN_TICKS && ticks.size() <= 10, ticks.toString());
        assertTrue(ticks.stream().allMatch(t -> t >= huge.lo() && t <= huge.hi()));
    }

    @Test
    void aLinearAxisLabelsRoundSteps() {
        assertEquals(List.of(0.0, 0.2, 0.4, 0.6, 0.8, 1.0), rounded(Axis.linearTicks(0, 1)));
        assertEquals(List.of(200.0, 400.0, 600.0, 800.0, 1000.0, 1200.0, 1400.0),
            rounded(Axis.linearTicks(150, 1450)));
    }

    @Test
    void tickLabelsThatWouldTouchAreThinned() {
        double[] centres = {0, 30, 60, 90, 120};
        assertEquals(List.of(0, 1, 2, 3, 4), Axis.fitting(centres, new double[] {20, 20, 20, 20, 20}, 8));
        assertEquals(List.of(0, 2, 4), Axis.fitting(centres, new double[] {40, 40, 40, 40, 40}, 8));
        assertEquals(List.of(0, 3), Axis.fitting(centres, new double[] {70, 70, 70, 70, 70}, 8));
    }

    @Test
    void tickLabelsStayShort() {
        assertEquals("0.003", XyChart.tickLabel(0.003));
        assertEquals("1400", XyChart.tickLabel(1400));
        assertEquals("1e+300", XyChart.tickLabel(1e300));
        assertEquals("2.5e-7", XyChart.tickLabel(2.5e-7));
    }

    private static List<Double> rounded(List<Double> ticks) {
        return ticks.stream().map(t -> Double.parseDouble(String.format(java.util.Locale.ROOT, "%.6g", t))).toList();
    }

    // ---- x-y charts ----

    /** A compare-like chart over less than a decade, with labelled points crowded together. */
    private static XyChart crowded() {
        XyChart chart = new XyChart(900, 720, "Simulated vs measured on a test device",
            new XyChart.AxisSpec("measured time", "s", true, true),
            new XyChart.AxisSpec("simulated time", "s", true, true));
        List<double[]> pts = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            pts.add(new double[] {2e-6 + i * 1e-7, 2.2e-6 + i * 1e-7});
        }
        chart.add(new XyChart.Series("y = x", Color.BLACK, XyChart.Style.LINE, 2, false,
            List.of(new double[] {1.5e-6, 1.5e-6}, new double[] {6e-6, 6e-6})));
        chart.add(new XyChart.Series("gemm (12)", XyChart.PALETTE[0], XyChart.Style.MARKERS, 1, false, pts));
        for (double[] p : pts.subList(0, 8)) {
            chart.label(new XyChart.PointLabel(p[0], p[1], "operator at " + Units.si(p[0], "s")));
        }
        return chart;
    }

    @Test
    void anXyChartKeepsItsTextInsideAndApart() throws Exception {
        XyChart chart = crowded();
        RecordingCanvas c = new RecordingCanvas();
        chart.draw(c);
        assertEquals(List.of(), c.outside(chart.width(), chart.height()));
        assertEquals(List.of(), c.overlaps());
        assertEquals(List.of(), c.covered());
        assertTrue(c.strings().contains("measured time (us), log scale"), c.strings().toString());
        long xTickLabels = c.texts().stream().filter(t -> !t.vertical() && t.box().getMinY() > chart.height() - 56
            && t.box().getMaxY() < chart.height() - 20).count();
        assertTrue(xTickLabels >= Axis.MIN_TICKS, "x tick labels: " + xTickLabels + " in " + c.strings());
        // the labels avoid each other and the legend
        List<Rectangle2D> boxes = chart.labelBoxes();
        assertEquals(8, boxes.size());
        for (int i = 0; i < boxes.size(); i++) {
            assertTrue(!RecordingCanvas.shrunk(boxes.get(i)).intersects(chart.legendBox()), "label " + i);
            for (int j = i + 1; j < boxes.size(); j++) {
                assertTrue(!RecordingCanvas.shrunk(boxes.get(i)).intersects(RecordingCanvas.shrunk(boxes.get(j))),
                    "labels " + i + " and " + j);
            }
        }
        // the same chart draws the same picture
        byte[] once = StudyCharts.png(chart.width(), chart.height(), chart::draw);
        byte[] again = StudyCharts.png(chart.width(), chart.height(), crowded()::draw);
        assertTrue(java.util.Arrays.equals(once, again));
        BufferedImage read = ImageIO.read(new ByteArrayInputStream(once));
        assertEquals(900, read.getWidth());
        assertEquals(720, read.getHeight());
    }

    @Test
    void aMeasuredTimeOf1e308StillDrawsAReadableChart() {
        XyChart chart = new XyChart(900, 720, "typo in the measured times",
            new XyChart.AxisSpec("measured time", "s", true, true),
            new XyChart.AxisSpec("simulated time", "s", true, true));
        chart.add(new XyChart.Series("gemm (2)", XyChart.PALETTE[0], XyChart.Style.MARKERS, 1, false,
            List.of(new double[] {2e-5, 2.04e-5}, new double[] {1e308, 2.04e-5})));
        RecordingCanvas c = new RecordingCanvas();
        chart.draw(c);
        Axis x = chart.xAxis(0, 800);
        assertTrue(x.at(1e308) > 700 && x.at(2e-5) < 100, x.at(1e308) + " " + x.at(2e-5));
        assertTrue(c.strings().contains("measured time (s), log scale"), "no prefix over 300 decades");
        assertTrue(c.strings().containsAll(List.of("1", "1e+32", "1e+288")), c.strings().toString());
        assertEquals(List.of(), c.outside(chart.width(), chart.height()));
        assertEquals(List.of(), c.overlaps());
    }

    // ---- heatmaps ----

    /** A sweep.csv over the given axes and values, every combination, EDP growing with the position. */
    private StudyTable sweep(String[] keys, String[][] values) throws Exception {
        List<String> lines = new ArrayList<>(List.of(String.join(",", keys) + "," + HEADER));
        List<List<String>> combos = new ArrayList<>(List.of(List.of()));
        for (String[] axis : values) {
            List<List<String>> next = new ArrayList<>();
            for (List<String> c : combos) {
                for (String v : axis) {
                    List<String> n = new ArrayList<>(c);
                    n.add(v);
                    next.add(n);
                }
            }
            combos = next;
        }
        int i = 0;
        for (List<String> c : combos) {
            double latency = 1e-3 * (1 + (i * 7 % 11));
            double energy = 0.1 + 0.01 * i++;
            lines.add(String.join(",", c) + "," + latency + ",," + latency + "," + latency / 2 + "," + energy + ","
                + energy / 4 + "," + energy * 3 / 4 + "," + energy * latency + ",0.5,0.5,," + latency + ","
                + 8 / latency);
        }
        Path csv = tmp.resolve("s" + lines.size() + keys.length + ".csv");
        Files.write(csv, lines);
        return StudyTable.read(csv);
    }

    private static String[] range(int n, int from, int factor) {
        String[] out = new String[n];
        long v = from;
        for (int i = 0; i < n; i++) {
            out[i] = Long.toString(v);
            v *= factor;
        }
        return out;
    }

    private static void assertReadable(Heatmap h, String what) {
        RecordingCanvas c = new RecordingCanvas();
        h.draw(c);
        assertEquals(List.of(), c.outside(h.width(), h.height()), what + ": text outside the image");
        assertEquals(List.of(), c.overlaps(), what + ": texts over each other");
        assertEquals(List.of(), c.covered(), what + ": texts under cells or the colour bar");
    }

    @Test
    void heatmapsOfAnyGridSizeKeepTheirTitlesInsideAndApart() throws Exception {
        String[] keys = {"core.local_buffer.capacity_kib", "clock_mhz"};
        int[][] grids = {{1, 1}, {2, 3}, {7, 7}, {12, 3}, {3, 12}};
        for (int[] g : grids) {
            StudyTable t = sweep(keys, new String[][] {range(g[0], 16, 2), range(g[1], 200, 2)});
            for (Measure.Metric metric : Measure.Metric.values()) {
                Heatmap h = Heatmap.of(t, keys[0], keys[1], Measure.of(t, metric, null));
                assertReadable(h, g[0] + "x" + g[1] + " " + metric);
            }
        }
    }

    @Test
    void panelsOfTwoByTwoGridsDoNotShareTheirTitles() throws Exception {
        String[] keys = {"core.local_buffer.capacity_kib", "clock_mhz", "memory.bandwidth_gb_per_s",
            "device_link.bandwidth_gb_per_s"};
        StudyTable t = sweep(keys, new String[][] {{"64", "128"}, {"600", "1000"}, {"2048", "4096"}, {"100", "200"}});
        Heatmap h = Heatmap.of(t, keys[0], keys[1], Measure.of(t, Measure.Metric.EDP, null));
        assertEquals(4, h.panels().size());
        assertReadable(h, "2x2 in four panels");
        StudyTable one = sweep(keys, new String[][] {{"64"}, {"600"}, {"2048", "4096", "8192"}, {"100"}});
        assertReadable(Heatmap.of(one, keys[0], keys[1], Measure.of(one, Measure.Metric.LATENCY, null)),
            "1x1 in three panels");
        // past 12 panels: one "best over the rest" panel with a footnote
        StudyTable many = sweep(keys, new String[][] {{"64", "128"}, {"600", "1000"}, range(4, 1024, 2),
            range(4, 100, 2)});
        Heatmap best = Heatmap.of(many, keys[0], keys[1], Measure.of(many, Measure.Metric.EDP, null));
        assertTrue(best.bestOverRest());
        assertReadable(best, "best over 16 combinations");
    }
}

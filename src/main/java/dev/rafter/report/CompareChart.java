package dev.rafter.report;

import dev.rafter.plot.StudyCharts;
import dev.rafter.plot.XyChart;
import java.awt.Color;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * compare.png: simulated against measured time, log-log, one point per compared operator coloured by kind, with
 * the y = x line (on it: exact; above: Rafter is slower than the device; below: faster) and the +-20% band.
 */
public final class CompareChart {
    private static final Color EXACT = new Color(0x33, 0x33, 0x33);
    private static final Color BAND = new Color(0xaa, 0xaa, 0xaa);

    private CompareChart() {}

    /** The drawing, null when no operator has both times (positive and finite, as a log axis needs). */
    public static XyChart chart(Comparison comparison, String title) {
        Map<String, List<double[]>> byKind = new LinkedHashMap<>();
        double lo = Double.MAX_VALUE;
        double hi = 0;
        for (Comparison.Miss m : comparison.points()) {
            if (!(m.measuredS() > 0 && m.simulatedS() > 0 && Double.isFinite(m.measuredS())
                && Double.isFinite(m.simulatedS()))) {
                continue;
            }
            byKind.computeIfAbsent(m.kind(), k -> new ArrayList<>()).add(new double[] {m.measuredS(), m.simulatedS()});
            lo = Math.min(lo, Math.min(m.measuredS(), m.simulatedS()));
            hi = Math.max(hi, Math.max(m.measuredS(), m.simulatedS()));
        }
        if (byKind.isEmpty()) {
            return null;
        }
        XyChart chart = new XyChart(900, 720, title, new XyChart.AxisSpec("measured time", "s", true, true),
            new XyChart.AxisSpec("simulated time", "s", true, true));
        // the diagonals span the points' range on both axes, so the square stays square and y = x is the diagonal
        double x0 = lo / 1.5;
        double x1 = Math.min(hi * 1.5, Double.MAX_VALUE / 1.25);
        chart.add(line("y = x", x0, x1, 1, EXACT, 2f));
        chart.add(line("+20%", x0, x1, 1.2, BAND, 1f));
        chart.add(line("-20%", x0, x1, 0.8, BAND, 1f));
        int i = 0;
        for (Map.Entry<String, List<double[]>> e : byKind.entrySet()) {
            chart.add(new XyChart.Series(e.getKey() + " (" + e.getValue().size() + ")",
                XyChart.PALETTE[i++ % XyChart.PALETTE.length], XyChart.Style.MARKERS, 1, false, e.getValue()));
        }
        return chart;
    }

    public static void write(Path png, Comparison comparison, String title) {
        XyChart chart = chart(comparison, title);
        if (chart == null) {
            return;
        }
        byte[] image = StudyCharts.png(chart.width(), chart.height(), chart::draw);
        AtomicFile.writeBytes(png, image);
    }

    private static XyChart.Series line(String name, double x0, double x1, double factor, Color colour, float width) {
        return new XyChart.Series(name, colour, XyChart.Style.LINE, width, false,
            List.of(new double[] {x0, Math.min(x0 * factor, Double.MAX_VALUE)},
                new double[] {x1, Math.min(x1 * factor, Double.MAX_VALUE)}));
    }
}

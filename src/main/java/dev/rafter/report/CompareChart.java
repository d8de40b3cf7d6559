package dev.rafter.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * compare.png: simulated against measured time, log-log, one point per compared operator coloured by kind, with
 * the y = x line (on it: exact; above: Rafter is slower than the device; below: faster) and the +-20% band.
 */
public final class CompareChart {
    private CompareChart() {}

    public static void write(Path png, Comparison comparison, String title) {
        Map<String, List<double[]>> byKind = new LinkedHashMap<>();
        double lo = Double.MAX_VALUE;
        double hi = 0;
        for (Comparison.Miss m : comparison.points()) {
            byKind.computeIfAbsent(m.kind(), k -> new ArrayList<>()).add(new double[] {m.measuredS(), m.simulatedS()});
            lo = Math.min(lo, Math.min(m.measuredS(), m.simulatedS()));
            hi = Math.max(hi, Math.max(m.measuredS(), m.simulatedS()));
        }
        if (byKind.isEmpty()) {
            return;
        }
        XYChart chart = new XYChartBuilder().width(900).height(720).title(title)
            .xAxisTitle("measured time (s)").yAxisTitle("simulated time (s)").build();
        chart.getStyler().setXAxisLogarithmic(true).setYAxisLogarithmic(true).setChartBackgroundColor(Color.WHITE)
            .setLegendPosition(Styler.LegendPosition.InsideSE).setMarkerSize(6);
        double x0 = lo / 1.5;
        double x1 = hi * 1.5;
        line(chart, "y = x", x0, x1, 1, new Color(0x33, 0x33, 0x33), 2f);
        line(chart, "+20%", x0, x1, 1.2, new Color(0xaa, 0xaa, 0xaa), 1f);
        line(chart, "-20%", x0, x1, 0.8, new Color(0xaa, 0xaa, 0xaa), 1f);
        Color[] colours = {new Color(0x1f, 0x77, 0xb4), new Color(0xff, 0x7f, 0x0e), new Color(0x2c, 0xa0, 0x2c),
            new Color(0xd6, 0x27, 0x28), new Color(0x94, 0x67, 0xbd), new Color(0x8c, 0x56, 0x4b),
            new Color(0xe3, 0x77, 0xc2), new Color(0x17, 0xbe, 0xcf), new Color(0xbc, 0xbd, 0x22)};
        int i = 0;
        for (Map.Entry<String, List<double[]>> e : byKind.entrySet()) {
            double[] xs = new double[e.getValue().size()];
            double[] ys = new double[xs.length];
            for (int j = 0; j < xs.length; j++) {
                xs[j] = e.getValue().get(j)[0];
                ys[j] = e.getValue().get(j)[1];
            }
            XYSeries s = chart.addSeries(e.getKey() + " (" + xs.length + ")", xs, ys);
            s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
            s.setMarker(SeriesMarkers.CIRCLE);
            s.setMarkerColor(colours[i++ % colours.length]);
        }
        AtomicFile.writeFile(png, tmp -> Files.write(tmp,
            BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG)));
    }

    private static void line(XYChart chart, String name, double x0, double x1, double factor, Color colour,
                             float width) {
        XYSeries s = chart.addSeries(name, new double[] {x0, x1}, new double[] {x0 * factor, x1 * factor});
        s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        s.setMarker(SeriesMarkers.NONE);
        s.setLineColor(colour);
        s.setLineStyle(new BasicStroke(width));
    }
}

package dev.rafter.roofline;

import dev.rafter.hw.HardwareSpec;
import dev.rafter.report.AtomicFile;
import dev.rafter.workload.Phase;
import java.awt.BasicStroke;
import java.awt.Color;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The log-log roofline chart of a device with operators as points (prefill and decode in two colours). Operators
 * with the same phase, intensity and attained FLOP/s (to three digits) are one point, so a million-row trace
 * stays a readable, bounded chart.
 */
public final class RooflineChart {
    private static final int MAX_POINTS_PER_PHASE = 20_000;

    private final HardwareSpec hw;
    private final Map<Phase, List<double[]>> points = new EnumMap<>(Phase.class);
    private final Set<String> seen = new HashSet<>();

    public RooflineChart(HardwareSpec hw) {
        this.hw = hw;
    }

    public void add(Phase phase, Roofline.Bound b) {
        if (b.flops() <= 0 || b.bytes() <= 0) {
            return;
        }
        double x = b.intensity();
        double y = b.flops() / b.seconds();
        List<double[]> list = points.computeIfAbsent(phase, p -> new ArrayList<>());
        if (list.size() >= MAX_POINTS_PER_PHASE) {
            return;
        }
        String key = phase.ordinal() + ":" + String.format("%.3g:%.3g", x, y);
        if (seen.add(key)) {
            list.add(new double[] {x, y});
        }
    }

    public void write(Path png) {
        XYChart chart = new XYChartBuilder().width(960).height(640)
            .title("Roofline: " + hw.name()).xAxisTitle("arithmetic intensity (FLOP/byte)")
            .yAxisTitle("attainable FLOP/s").build();
        chart.getStyler().setXAxisLogarithmic(true).setYAxisLogarithmic(true).setChartBackgroundColor(Color.WHITE)
            .setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideSE).setMarkerSize(5);

        double minX = 0.1;
        double maxX = 1e5;
        for (List<double[]> l : points.values()) {
            for (double[] p : l) {
                minX = Math.min(minX, p[0] / 2);
                maxX = Math.max(maxX, p[0] * 2);
            }
        }
        double bw = hw.memoryBytesPerS();
        roof(chart, "PE-array roof " + tflops(hw.peakFlopsPerS()), minX, maxX, hw.peakFlopsPerS(), bw,
            new Color(0x33, 0x33, 0x33));
        roof(chart, "vector roof " + tflops(hw.vectorFlopsPerS()), minX, maxX, hw.vectorFlopsPerS(), bw,
            new Color(0x99, 0x99, 0x99));
        Color[] colours = {new Color(0x1f, 0x77, 0xb4), new Color(0xff, 0x7f, 0x0e)};
        for (Map.Entry<Phase, List<double[]>> e : points.entrySet()) {
            List<double[]> l = e.getValue();
            double[] xs = new double[l.size()];
            double[] ys = new double[l.size()];
            for (int i = 0; i < l.size(); i++) {
                xs[i] = l.get(i)[0];
                ys[i] = l.get(i)[1];
            }
            XYSeries s = chart.addSeries(e.getKey().key() + " operators", xs, ys);
            s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
            s.setMarker(SeriesMarkers.CIRCLE);
            s.setMarkerColor(colours[e.getKey().ordinal() % colours.length]);
        }
        AtomicFile.writeFile(png, tmp -> java.nio.file.Files.write(tmp,
            BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG)));
    }

    private static void roof(XYChart chart, String name, double minX, double maxX, double peak, double bw,
                             Color colour) {
        double ridge = peak / bw;
        double x0 = Math.min(minX, ridge / 10);
        double[] xs = {x0, ridge, Math.max(maxX, ridge * 10)};
        double[] ys = {x0 * bw, peak, peak};
        XYSeries s = chart.addSeries(name, xs, ys);
        s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        s.setMarker(SeriesMarkers.NONE);
        s.setLineColor(colour);
        s.setLineStyle(new BasicStroke(2f));
    }

    private static String tflops(double f) {
        return String.format("%.1f TFLOP/s", f / 1e12);
    }
}

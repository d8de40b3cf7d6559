package dev.rafter.report;

import dev.rafter.sim.Simulation;
import dev.rafter.sim.trace.RunStats;
import dev.rafter.sim.trace.SliceKind;
import java.awt.Color;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * stalls.png: where the PE arrays' time went, per operator name (phase:name): stacked bars of the share of busy
 * time and of each wait reason (averaged over the arrays), labelled with the operator's total time, so a decode
 * operator of microseconds reads as clearly as a prefill one of milliseconds.
 */
public final class StallChart implements Simulation.OpListener {
    private static final int MAX_BARS = 30;
    private static final String[] SERIES = {"busy", "memory", "interconnect", "buffer full", "dependency", "dispatch",
        "idle"};
    private static final Color[] COLOURS = {new Color(0x2c, 0xa0, 0x2c), new Color(0xd6, 0x27, 0x28),
        new Color(0xff, 0x7f, 0x0e), new Color(0x94, 0x67, 0xbd), new Color(0x1f, 0x77, 0xb4),
        new Color(0x55, 0x55, 0x55), new Color(0xbb, 0xbb, 0xbb)};

    private final int arrays;
    private final Map<String, double[]> byName = new LinkedHashMap<>();

    public StallChart(int arrays) {
        this.arrays = arrays;
    }

    @Override
    public void finished(Simulation.OpResult r) {
        RunStats.Sums s = r.sums();
        double elapsed = (double) (r.endPs() - r.startPs()) * arrays;
        double[] v = byName.computeIfAbsent(r.op().phase().key() + ":" + r.op().name(), k -> new double[7]);
        double busy = s.peBusyPs;
        double memory = s.stallPs(SliceKind.STALL_MEMORY);
        double interconnect = s.stallPs(SliceKind.STALL_INTERCONNECT);
        double buffer = s.stallPs(SliceKind.STALL_BUFFER_FULL);
        double dependency = s.stallPs(SliceKind.STALL_DEPENDENCY);
        double dispatch = s.stallPs(SliceKind.STALL_DISPATCH);
        double idle = Math.max(0, elapsed - busy - memory - interconnect - buffer - dependency - dispatch);
        double[] add = {busy, memory, interconnect, buffer, dependency, dispatch, idle};
        for (int i = 0; i < add.length; i++) {
            v[i] += add[i] / arrays * 1e-9; // ps per array -> ms
        }
    }

    public void write(Path png) {
        List<Map.Entry<String, double[]>> rows = new ArrayList<>(byName.entrySet());
        rows.sort((a, b) -> Double.compare(total(b.getValue()), total(a.getValue())));
        if (rows.size() > MAX_BARS) {
            rows = rows.subList(0, MAX_BARS);
        }
        CategoryChart chart = new CategoryChartBuilder().width(Math.max(720, 240 + 70 * rows.size())).height(640)
            .title("Where the PE arrays' time went").xAxisTitle("operator (total time)")
            .yAxisTitle("share of the operator's time (%)").build();
        var style = chart.getStyler();
        style.setStacked(true);
        style.setXAxisLabelRotation(45);
        style.setLegendPosition(Styler.LegendPosition.OutsideE);
        style.setChartBackgroundColor(Color.WHITE);
        style.setSeriesColors(COLOURS);
        List<String> names = new ArrayList<>();
        for (Map.Entry<String, double[]> r : rows) {
            names.add(r.getKey() + " (" + dev.rafter.roofline.RooflineReport.time(total(r.getValue()) * 1e-3) + ")");
        }
        for (int i = 0; i < SERIES.length; i++) {
            List<Double> ys = new ArrayList<>();
            for (Map.Entry<String, double[]> r : rows) {
                double t = total(r.getValue());
                ys.add(t == 0 ? 0 : 100 * r.getValue()[i] / t);
            }
            chart.addSeries(SERIES[i], names, ys);
        }
        AtomicFile.writeFile(png, tmp -> Files.write(tmp,
            BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG)));
    }

    private static double total(double[] v) {
        double t = 0;
        for (double x : v) {
            t += x;
        }
        return t;
    }
}

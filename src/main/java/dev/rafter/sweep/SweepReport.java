package dev.rafter.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rafter.report.AtomicFile;
import dev.rafter.roofline.RooflineReport;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * sweep.csv (one row per point), sweep.png (latency, energy and energy-delay product against the first axis, one
 * line per combination of the other axes) and a printed table with the EDP optimum.
 */
public final class SweepReport {
    static final String[] METRICS = {"latency_s", "prefill_latency_s", "decode_latency_s", "roofline_s", "energy_j",
        "static_energy_j", "dynamic_energy_j", "edp_j_s", "pe_util", "hbm_util", "ttft_s", "tpot_mean_s", "tokens_per_s",
        "prefill_energy_j", "decode_energy_j"};

    private SweepReport() {}

    /** The metrics of one point, NaN where the run had no such figure (e.g. no decode phase, no energy model). */
    static double[] metrics(JsonNode s) {
        JsonNode e = s.get("energy_j");
        boolean hasEnergy = e != null && !e.isNull();
        return new double[] {s.get("latency_s").asDouble(), phase(s, "prefill"), phase(s, "decode"),
            s.get("roofline_s").asDouble(), hasEnergy ? e.get("total").asDouble() : Double.NaN,
            hasEnergy ? e.get("static").asDouble() : Double.NaN, hasEnergy ? e.get("dynamic").asDouble() : Double.NaN,
            hasEnergy ? s.get("edp_j_s").asDouble() : Double.NaN, s.get("utilisation").get("pe_array").asDouble(),
            s.get("utilisation").get("hbm").asDouble(), serving(s, "ttft_s"), tpot(s), serving(s, "tokens_per_s"),
            phase(s, "prefill", "energy_j"), phase(s, "decode", "energy_j")};
    }

    /** A serving figure of a point, NaN when the run had none (no such phase, or a trace without a batch). */
    private static double serving(JsonNode s, String key) {
        JsonNode v = s.path("serving").path(key);
        return v.isNumber() ? v.asDouble() : Double.NaN;
    }

    private static double tpot(JsonNode s) {
        JsonNode v = s.path("serving").path("tpot_s").path("mean");
        return v.isNumber() ? v.asDouble() : Double.NaN;
    }

    private static double phase(JsonNode s, String phase) {
        return phase(s, phase, "latency_s");
    }

    /** A figure of one phase of a point, NaN when the run had no such phase (or no energy model). */
    private static double phase(JsonNode s, String phase, String key) {
        JsonNode v = s.path("phases").path(phase).path(key);
        return v.isNumber() ? v.asDouble() : Double.NaN;
    }

    /** Writes sweep.csv and sweep.png into {@code dir}; messages name {@code out}, where they end up. */
    public static void write(SweepPlan plan, List<Sweep.Point> points, Path dir, Path out, PrintWriter log) {
        AtomicFile.write(dir.resolve("sweep.csv"), w -> {
            w.write(String.join(",", plan.paths()) + "," + String.join(",", METRICS) + "\n");
            for (Sweep.Point p : points) {
                StringBuilder sb = new StringBuilder(String.join(",", p.values().values()));
                for (double m : metrics(p.summary())) {
                    sb.append(',').append(Double.isNaN(m) ? "" : RooflineReport.num(m));
                }
                w.write(sb + "\n");
            }
        });
        chart(plan, points, dir.resolve("sweep.png"));
        Sweep.Point best = null;
        for (Sweep.Point p : points) {
            double edp = metrics(p.summary())[7];
            if (!Double.isNaN(edp) && (best == null || edp < metrics(best.summary())[7])) {
                best = p;
            }
        }
        log.printf("%n%-60s %12s %12s %12s%n", "point", "latency", "energy", "EDP (J s)");
        for (Sweep.Point p : points) {
            double[] m = metrics(p.summary());
            log.printf("%-60s %12s %12s %12.4g%s%n", plan.name(p.index()), RooflineReport.time(m[0]),
                Double.isNaN(m[4]) ? "-" : String.format("%.4g J", m[4]), m[7], p == best ? "  <- best EDP" : "");
        }
        log.printf("%nwrote %s, %s and %d point summaries in %s%n", out.resolve("sweep.csv"),
            out.resolve("sweep.png"), points.size(), out.resolve("points"));
        dev.rafter.plot.StudyCharts.afterSweep(plan.paths(), points.stream().map(Sweep.Point::values).toList(),
            points.stream().map(Sweep.Point::summary).toList(), out.resolve("plots"), log);
    }

    private static void chart(SweepPlan plan, List<Sweep.Point> points, Path png) {
        String[] titles = {"latency (s)", "energy (J)", "energy-delay product (J s)"};
        int[] metric = {0, 4, 7};
        List<BufferedImage> images = new ArrayList<>();
        for (int c = 0; c < titles.length; c++) {
            XYChart chart = new XYChartBuilder().width(900).height(360).title(titles[c] + " vs " + plan.paths().get(0))
                .xAxisTitle(plan.paths().get(0)).yAxisTitle(titles[c]).build();
            chart.getStyler().setChartBackgroundColor(Color.WHITE)
                .setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.OutsideE);
            Map<String, List<double[]>> lines = new LinkedHashMap<>();
            for (Sweep.Point p : points) {
                double x = number(p.values().get(plan.paths().get(0)), p.index());
                double y = metrics(p.summary())[metric[c]];
                if (Double.isNaN(y)) {
                    continue;
                }
                StringBuilder key = new StringBuilder();
                p.values().forEach((k, v) -> {
                    if (!k.equals(plan.paths().get(0))) {
                        key.append(key.length() == 0 ? "" : ", ").append(k).append('=').append(v);
                    }
                });
                lines.computeIfAbsent(key.length() == 0 ? "all" : key.toString(), k -> new ArrayList<>())
                    .add(new double[] {x, y});
            }
            if (lines.isEmpty()) {
                continue;
            }
            for (Map.Entry<String, List<double[]>> l : lines.entrySet()) {
                double[] xs = l.getValue().stream().mapToDouble(v -> v[0]).toArray();
                double[] ys = l.getValue().stream().mapToDouble(v -> v[1]).toArray();
                XYSeries s = chart.addSeries(l.getKey(), xs, ys);
                s.setMarker(SeriesMarkers.CIRCLE);
            }
            images.add(BitmapEncoder.getBufferedImage(chart));
        }
        int height = images.stream().mapToInt(BufferedImage::getHeight).sum();
        BufferedImage all = new BufferedImage(900, Math.max(1, height), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = all.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, all.getWidth(), all.getHeight());
        int y = 0;
        for (BufferedImage i : images) {
            g.drawImage(i, 0, y, null);
            y += i.getHeight();
        }
        g.dispose();
        AtomicFile.writeFile(png, tmp -> ImageIO.write(all, "png", tmp.toFile()));
    }

    /** The axis value as a number for the x axis; non-numeric values (e.g. a dataflow) use their position. */
    private static double number(String v, int index) {
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            return index;
        }
    }
}

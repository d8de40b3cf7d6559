package dev.rafter.sweep;

import dev.rafter.config.CsvWriter;
import com.fasterxml.jackson.databind.JsonNode;
import dev.rafter.plot.Canvas;
import dev.rafter.plot.XyChart;
import dev.rafter.report.AtomicFile;
import dev.rafter.roofline.RooflineReport;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * sweep.csv (one row per point), sweep.png (latency, energy and energy-delay product against the first axis, one
 * line per combination of the other axes; and cost or carbon when that is the {@link Metric}) and a printed table
 * with the optimum of the metric (EDP by default).
 */
public final class SweepReport {
    static final String[] METRICS = {"latency_s", "prefill_latency_s", "decode_latency_s", "roofline_s", "energy_j",
        "static_energy_j", "dynamic_energy_j", "edp_j_s", "pe_util", "hbm_util", "ttft_s", "tpot_mean_s", "tokens_per_s",
        "prefill_energy_j", "decode_energy_j"};

    /** Columns only a sweep with {@code --cost} has (every point then has a cost block). */
    static final String[] COST_METRICS = {"usd_per_million_tokens", "g_co2e_per_thousand_tokens"};

    private SweepReport() {}

    /** What the best point of a sweep minimises ({@code --metric}): a column of sweep.csv and its words. */
    public enum Metric {
        LATENCY("latency_s", "latency", "s", "latency"), ENERGY("energy_j", "energy", "J", "energy"),
        EDP("edp_j_s", "EDP", "J s", "EDP (J s)"),
        COST("usd_per_million_tokens", "cost", "USD per million tokens", "USD/M tok"),
        CARBON("g_co2e_per_thousand_tokens", "carbon", "g CO2e per thousand tokens", "gCO2e/k tok");

        final String column;
        final String words;
        final String unit;
        /** The printed table's heading. */
        final String heading;

        Metric(String column, String words, String unit, String heading) {
            this.column = column;
            this.words = words;
            this.unit = unit;
            this.heading = heading;
        }

        /** Whether only a sweep with {@code --cost} has this metric. */
        public boolean needsCost() {
            return this == COST || this == CARBON;
        }

        public static Metric parse(String text, String option) {
            for (Metric m : values()) {
                if (m.name().toLowerCase(Locale.ROOT).equals(text)) {
                    return m;
                }
            }
            throw new dev.rafter.config.InputException(option + ": expected latency, energy, edp, cost or carbon, got '"
                + dev.rafter.config.InputFiles.shorten(text) + "'");
        }

        /** This metric of a point's summary; NaN when it has none. */
        double of(JsonNode summary) {
            return switch (this) {
                case LATENCY -> metrics(summary)[0];
                case ENERGY -> metrics(summary)[4];
                case EDP -> metrics(summary)[7];
                case COST -> costMetrics(summary)[0];
                case CARBON -> costMetrics(summary)[1];
            };
        }
    }

    /** Cost per million tokens and g CO2e per thousand tokens of a point; NaN without a cost block or tokens. */
    static double[] costMetrics(JsonNode s) {
        JsonNode c = s.path("cost");
        double[] out = new double[COST_METRICS.length];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = c.path(COST_METRICS[i]);
            out[i] = v.isNumber() ? v.asDouble() : Double.NaN;
        }
        return out;
    }

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

    /**
     * Writes sweep.csv and sweep.png into {@code dir}; messages name {@code out}, where they end up; the printed
     * table marks the point with the least {@code metric}.
     */
    public static void write(SweepPlan plan, List<Sweep.Point> points, Path dir, Path out, PrintWriter log,
                             Metric metric) {
        // Points with a cost block come from a sweep with --cost (all of its points have one, merged or not).
        boolean costs = points.stream().anyMatch(p -> p.summary().has("cost"));
        AtomicFile.write(dir.resolve("sweep.csv"), w -> {
            w.write(CsvWriter.row(plan.paths()) + "," + String.join(",", METRICS)
                + (costs ? "," + String.join(",", COST_METRICS) : "") + "\n");
            for (Sweep.Point p : points) {
                StringBuilder sb = new StringBuilder(CsvWriter.row(p.values().values()));
                for (double m : metrics(p.summary())) {
                    sb.append(',').append(Double.isNaN(m) ? "" : RooflineReport.num(m));
                }
                if (costs) {
                    for (double m : costMetrics(p.summary())) {
                        sb.append(',').append(Double.isNaN(m) ? "" : RooflineReport.num(m));
                    }
                }
                w.write(sb + "\n");
            }
        });
        chart(plan, points, dir.resolve("sweep.png"), metric);
        Sweep.Point best = null;
        for (Sweep.Point p : points) {
            double v = metric.of(p.summary());
            if (!Double.isNaN(v) && (best == null || v < metric.of(best.summary()))) {
                best = p;
            }
        }
        boolean extra = metric.needsCost();
        log.printf("%n%-60s %12s %12s %12s%s%n", "point", "latency", "energy", "EDP (J s)",
            extra ? String.format(Locale.ROOT, " %12s", metric.heading) : "");
        for (Sweep.Point p : points) {
            double[] m = metrics(p.summary());
            double own = metric.of(p.summary());
            log.printf("%-60s %12s %12s %12.4g%s%s%n", plan.name(p.index()), RooflineReport.time(m[0]),
                Double.isNaN(m[4]) ? "-" : String.format(Locale.ROOT,
                    "%.4g J", m[4]), m[7], extra ? Double.isNaN(own) ? String.format(Locale.ROOT, " %12s", "-")
                    : String.format(Locale.ROOT, " %12.4g", own) : "", p == best ? "  <- best " + metric.words : "");
        }
        if (best == null && metric != Metric.EDP) {
            log.printf("no point has a %s (%s)%s%n", metric.words, metric.column, metric.needsCost()
                ? ": a trace has no output tokens to divide by" : "");
        }
        log.printf("%nwrote %s, %s and %d point summaries in %s%n", out.resolve("sweep.csv"),
            out.resolve("sweep.png"), points.size(), out.resolve("points"));
        dev.rafter.plot.StudyCharts.afterSweep(plan.paths(), points.stream().map(Sweep.Point::values).toList(),
            points.stream().map(Sweep.Point::summary).toList(), out.resolve("plots"), log);
    }

    /** sweep.png's three charts: latency, energy and EDP against the first axis, a line per other combination. */
    private static final String[][] CHARTS = {{"latency", "s"}, {"energy", "J"}, {"energy-delay product", "J s"}};
    private static final int[] CHART_METRICS = {0, 4, 7};
    private static final int CHART_WIDTH = 900;
    private static final int CHART_HEIGHT = 360;

    /** The charts of sweep.png, one per metric that some point has; pure functions of the points. */
    static List<XyChart> charts(List<String> axes, List<Map<String, String>> values, List<JsonNode> summaries) {
        return charts(axes, values, summaries, Metric.EDP);
    }

    /** As above, and a fourth chart of {@code metric} when it is cost or carbon (the others are drawn already). */
    static List<XyChart> charts(List<String> axes, List<Map<String, String>> values, List<JsonNode> summaries,
                                Metric metric) {
        String xKey = axes.get(0);
        List<String> xValues = new ArrayList<>();
        for (Map<String, String> v : values) {
            if (!xValues.contains(v.get(xKey))) {
                xValues.add(v.get(xKey));
            }
        }
        boolean numeric = xValues.stream().allMatch(SweepReport::isNumber);
        double[] xs = new double[values.size()];
        for (int i = 0; i < xs.length; i++) {
            String v = values.get(i).get(xKey);
            xs[i] = numeric ? Double.parseDouble(v) : xValues.indexOf(v);
        }
        double min = java.util.Arrays.stream(xs).min().orElse(0);
        double max = java.util.Arrays.stream(xs).max().orElse(1);
        boolean log = numeric && min > 0 && max / min >= 10;
        List<XyChart> out = new ArrayList<>();
        int count = CHARTS.length + (metric.needsCost() ? 1 : 0);
        for (int c = 0; c < count; c++) {
            String[] title = c < CHARTS.length ? CHARTS[c] : new String[] {metric.words, metric.unit};
            Map<String, List<double[]>> lines = new LinkedHashMap<>();
            for (int i = 0; i < values.size(); i++) {
                double y = c < CHARTS.length ? metrics(summaries.get(i))[CHART_METRICS[c]] : metric.of(summaries.get(i));
                if (Double.isNaN(y)) {
                    continue;
                }
                List<String> others = new ArrayList<>();
                values.get(i).forEach((k, v) -> {
                    if (!k.equals(xKey)) {
                        others.add(dev.rafter.plot.Units.namedValue(k, v));
                    }
                });
                lines.computeIfAbsent(others.isEmpty() ? "all points" : String.join(", ", others),
                    k -> new ArrayList<>()).add(new double[] {xs[i], y});
            }
            if (lines.isEmpty()) {
                continue;
            }
            XyChart chart = new XyChart(CHART_WIDTH, CHART_HEIGHT, title[0] + " vs "
                + dev.rafter.plot.Units.name(xKey), new XyChart.AxisSpec(dev.rafter.plot.Units.name(xKey),
                dev.rafter.plot.Units.unit(xKey), false, log), new XyChart.AxisSpec(title[0], title[1],
                true, false)).legend(XyChart.LegendPlace.OUTSIDE_RIGHT);
            if (xValues.size() <= MAX_VALUE_TICKS || !numeric) {
                chart.xTicks(xValues.stream().map(v -> numeric ? Double.parseDouble(v) : xValues.indexOf(v))
                    .map(Number::doubleValue).toList(), xValues);
            }
            int k = 0;
            for (Map.Entry<String, List<double[]>> l : lines.entrySet()) {
                List<double[]> sorted = new ArrayList<>(l.getValue());
                sorted.sort(java.util.Comparator.comparingDouble(p -> p[0]));
                chart.add(new XyChart.Series(lines.size() == 1 && l.getKey().equals("all points") ? null : l.getKey(),
                    XyChart.PALETTE[k++ % XyChart.PALETTE.length], XyChart.Style.LINE_AND_MARKERS, 1.5f, false,
                    sorted));
            }
            out.add(chart);
        }
        return out;
    }

    /** Most distinct values of the first axis that get a tick each; more get round-number ticks. */
    private static final int MAX_VALUE_TICKS = 16;

    private static void chart(SweepPlan plan, List<Sweep.Point> points, Path png, Metric metric) {
        List<XyChart> charts = charts(plan.paths(), points.stream().map(Sweep.Point::values).toList(),
            points.stream().map(Sweep.Point::summary).toList(), metric);
        int height = Math.max(1, charts.size() * CHART_HEIGHT);
        byte[] image = dev.rafter.plot.StudyCharts.png(CHART_WIDTH, height, canvas -> {
            for (int i = 0; i < charts.size(); i++) {
                charts.get(i).draw(Canvas.shifted(canvas, 0, i * CHART_HEIGHT));
            }
        });
        AtomicFile.writeBytes(png, image);
    }

    private static boolean isNumber(String v) {
        try {
            return Double.isFinite(Double.parseDouble(v));
        } catch (NumberFormatException e) {
            return false;
        }
    }
}

package dev.rafter.roofline;

import dev.rafter.hw.HardwareSpec;
import dev.rafter.plot.StudyCharts;
import dev.rafter.plot.XyChart;
import dev.rafter.report.AtomicFile;
import dev.rafter.workload.Operator;
import dev.rafter.workload.Phase;
import java.awt.Color;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The log-log roofline chart of a device with operators as points (prefill and decode in two colours), the
 * operator names with the most bound time labelled at their costliest point. Operators with the same phase,
 * intensity and attained FLOP/s (to three digits) are one point, so a million-row trace stays a readable, bounded
 * chart.
 */
public final class RooflineChart {
    private static final int MAX_POINTS_PER_PHASE = 20_000;
    /** How many operator names get a label: the costliest by bound time. */
    static final int LABELLED = 8;
    private static final Color PE_ROOF = new Color(0x33, 0x33, 0x33);
    private static final Color VECTOR_ROOF = new Color(0x99, 0x99, 0x99);
    private static final Color NEAR_MEMORY_ROOF = new Color(0x2c, 0xa0, 0x2c);
    private static final Color[] PHASE_COLOURS = {new Color(0x1f, 0x77, 0xb4), new Color(0xff, 0x7f, 0x0e)};
    /**
     * On a device with several memory tiers, points bound by tier t in phase p take colour 2t + p (prefill, decode),
     * and tier t's roof takes its decode points' colour.
     */
    private static final Color[] TIER_COLOURS = {new Color(0x98, 0xdf, 0x8a), new Color(0x2c, 0xa0, 0x2c),
        new Color(0xff, 0x98, 0x96), new Color(0xd6, 0x27, 0x28), new Color(0xc5, 0xb0, 0xd5),
        new Color(0x94, 0x67, 0xbd), new Color(0xc4, 0x9c, 0x94), new Color(0x8c, 0x56, 0x4b)};

    /** One operator name in one phase: its total bound time and its costliest operator's point. */
    private static final class Named {
        double seconds;
        double worst = -1;
        double x;
        double y;
    }

    private final HardwareSpec hw;
    private final String workload;
    private final Map<Phase, List<double[]>> points = new EnumMap<>(Phase.class);
    /** On a device with several memory tiers: memory-bound points by phase and binding tier, in order of arrival. */
    private final Map<String, List<double[]>> tierPoints = new LinkedHashMap<>();
    private final Map<String, Color> tierColours = new LinkedHashMap<>();
    /** On a device with near-memory units: the offloaded operators' points by phase. */
    private final Map<String, List<double[]>> nearMemoryPoints = new LinkedHashMap<>();
    private final Set<String> seen = new HashSet<>();
    private final Map<String, Named> names = new LinkedHashMap<>();
    private double totalSeconds;

    /** The chart of {@code workload} (its name for the title, e.g. "Llama-3-8B" or a trace file) on {@code hw}. */
    public RooflineChart(HardwareSpec hw, String workload) {
        this.hw = hw;
        this.workload = workload;
    }

    public void add(Operator op, Roofline.Bound b) {
        if (b.flops() <= 0 || b.bytes() <= 0) {
            return;
        }
        double x = b.intensity();
        double y = b.flops() / b.seconds();
        totalSeconds += b.seconds();
        Named n = names.computeIfAbsent(op.phase().key() + " " + op.name(), k -> new Named());
        n.seconds += b.seconds();
        if (b.seconds() > n.worst) {
            n.worst = b.seconds();
            n.x = x;
            n.y = y;
        }
        List<double[]> list = points.computeIfAbsent(op.phase(), p -> new ArrayList<>());
        String series = "";
        if (b.nearMemory()) {
            // Offloaded: its point sits under the near-memory roof, a series of its own.
            series = op.phase().key() + " operators on near-memory units";
            list = nearMemoryPoints.computeIfAbsent(series, k -> new ArrayList<>());
        } else if (hw.memoryTiers().size() > 1 && !b.computeBound()) {
            // The tier that binds is the chart's point: each (phase, tier) its own series.
            series = op.phase().key() + " operators bound by " + b.memoryTier();
            list = tierPoints.computeIfAbsent(series, k -> new ArrayList<>());
            tierColours.put(series, colour(hw.tierIndex(b.memoryTier()), op.phase()));
        }
        if (list.size() >= MAX_POINTS_PER_PHASE) {
            return;
        }
        String key = op.phase().ordinal() + ":" + series + String.format(Locale.ROOT, "%.3g:%.3g", x, y);
        if (seen.add(key)) {
            list.add(new double[] {x, y});
        }
    }

    /** "prefill", "decode" or "prefill and decode": the phases that have points. */
    private String phases() {
        return String.join(" and ", points.keySet().stream().map(Phase::key).toList());
    }

    /** The chart's title: workload, phases and device. */
    public String title() {
        return "Roofline: " + workload + (points.isEmpty() ? "" : ", " + phases()) + ", on " + hw.name();
    }

    /** The labels: the {@value #LABELLED} names with the most bound time, with their share of it. */
    List<XyChart.PointLabel> labels() {
        List<Map.Entry<String, Named>> ranked = new ArrayList<>(names.entrySet());
        ranked.sort(Comparator.comparingDouble((Map.Entry<String, Named> e) -> -e.getValue().seconds)
            .thenComparing(Map.Entry::getKey));
        boolean bothPhases = points.size() > 1;
        List<XyChart.PointLabel> out = new ArrayList<>();
        for (Map.Entry<String, Named> e : ranked.subList(0, Math.min(LABELLED, ranked.size()))) {
            String name = bothPhases ? e.getKey() : e.getKey().substring(e.getKey().indexOf(' ') + 1);
            long percent = Math.round(100 * e.getValue().seconds / totalSeconds);
            out.add(new XyChart.PointLabel(e.getValue().x, e.getValue().y,
                name + " " + (percent < 1 ? "<1" : Long.toString(percent)) + "%"));
        }
        return out;
    }

    /** The drawing, a pure function of what was added. */
    public XyChart chart() {
        XyChart chart = new XyChart(960, 640, title(),
            new XyChart.AxisSpec("arithmetic intensity", "FLOP/byte", false, true),
            new XyChart.AxisSpec("attainable performance", "FLOP/s", true, true));
        if (!names.isEmpty()) {
            chart.subtitle("labels: the " + Math.min(LABELLED, names.size()) + " operator names with the most bound"
                + " time, at their costliest operator, with their share of the bound time");
        }
        double minX = 0.1;
        double maxX = 1e5;
        List<List<double[]>> all = new ArrayList<>(points.values());
        all.addAll(tierPoints.values());
        all.addAll(nearMemoryPoints.values());
        for (List<double[]> l : all) {
            for (double[] p : l) {
                minX = Math.min(minX, p[0] / 2);
                maxX = Math.max(maxX, p[0] * 2);
            }
        }
        double bw = hw.memoryBytesPerS();
        chart.add(roof("PE-array roof " + tflops(hw.peakFlopsPerS()), minX, maxX, hw.peakFlopsPerS(), bw, PE_ROOF));
        chart.add(roof("vector roof " + tflops(hw.vectorFlopsPerS()), minX, maxX, hw.vectorFlopsPerS(), bw,
            VECTOR_ROOF));
        for (int t = 1; t < hw.memoryTiers().size(); t++) {
            HardwareSpec.MemoryTier tier = hw.memoryTiers().get(t);
            chart.add(new XyChart.Series(tier.name() + " memory roof " + String.format(Locale.ROOT, "%.2f TB/s",
                tier.memory().bytesPerSecond() / 1e12), colour(t, Phase.DECODE),
                XyChart.Style.LINE, 1, true, roof("", minX, maxX, hw.peakFlopsPerS(), tier.memory().bytesPerSecond(),
                PE_ROOF).points()));
        }
        dev.rafter.hw.NearMemorySpec units = dev.rafter.hw.NearMemorySpec.of(hw);
        if (units != null) {
            // The units' roof: their MACs over the bandwidth inside their channels (x: FLOPs per byte read).
            double internal = units.internalBytesPerS(hw);
            chart.add(roof(String.format(Locale.ROOT, "near-memory roof %s, %.1f TB/s inside %s",
                tflops(units.macFlopsPerS()), internal / 1e12, units.tier()), minX, maxX, units.macFlopsPerS(),
                internal, NEAR_MEMORY_ROOF));
        }
        for (Map.Entry<Phase, List<double[]>> e : points.entrySet()) {
            if (e.getValue().isEmpty()) {
                continue;
            }
            chart.add(new XyChart.Series(e.getKey().key() + " operators" + (tierPoints.isEmpty() ? ""
                : " bound by compute"),
                PHASE_COLOURS[e.getKey().ordinal() % PHASE_COLOURS.length], XyChart.Style.MARKERS, 1, false,
                e.getValue()));
        }
        for (Map.Entry<String, List<double[]>> e : tierPoints.entrySet()) {
            chart.add(new XyChart.Series(e.getKey(), tierColours.get(e.getKey()),
                XyChart.Style.MARKERS, 1, false, e.getValue()));
        }
        for (Map.Entry<String, List<double[]>> e : nearMemoryPoints.entrySet()) {
            chart.add(new XyChart.Series(e.getKey(), NEAR_MEMORY_ROOF, XyChart.Style.MARKERS, 1, false, e.getValue()));
        }
        labels().forEach(chart::label);
        return chart;
    }

    public void write(Path png) {
        XyChart chart = chart();
        byte[] image = StudyCharts.png(chart.width(), chart.height(), chart::draw);
        AtomicFile.writeBytes(png, image);
    }

    private static XyChart.Series roof(String name, double minX, double maxX, double peak, double bw, Color colour) {
        double ridge = peak / bw;
        double x0 = Math.min(minX, ridge / 10);
        return new XyChart.Series(name, colour, XyChart.Style.LINE, 2, false, List.of(new double[] {x0, x0 * bw},
            new double[] {ridge, peak}, new double[] {Math.max(maxX, ridge * 10), peak}));
    }

    private static Color colour(int tier, Phase phase) {
        return TIER_COLOURS[(2 * tier + phase.ordinal()) % TIER_COLOURS.length];
    }

    private static String tflops(double f) {
        return String.format(Locale.ROOT, "%.1f TFLOP/s", f / 1e12);
    }
}

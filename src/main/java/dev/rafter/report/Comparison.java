package dev.rafter.report;

import dev.rafter.sim.Simulation;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.TreeMap;

/**
 * Simulated against measured operator times: the signed error of each operator ((simulated - measured) /
 * measured), the mean absolute percentage error per kind and overall, and the shapes that miss most: operators of
 * one name and shape ({@link dev.rafter.workload.Operator#shape}) form a group, ranked by the time they miss in all
 * (|simulated - measured| summed over the group), so one shape repeated over the layers is one line, with its count
 * and the error of its total time. Keeps one record per group (up to {@value #MAX_GROUPS}; operators of shapes
 * beyond them are ranked alone) and the points of the chart, so memory stays bounded on long traces.
 */
public final class Comparison implements Simulation.OpListener {
    /** One compared operator. */
    public record Miss(long opId, String name, String kind, double simulatedS, double measuredS, double error) {}

    /**
     * Operators of one name and shape: how many, their summed simulated and measured times, and the first one's id.
     */
    public record Group(String name, String kind, String shape, long count, double simulatedS, double measuredS,
                        long firstOpId) {
        /** The error of the group's total time: simulated / measured - 1. */
        public double error() {
            return simulatedS / measuredS - 1;
        }

        /** The time the group misses in all, in seconds. */
        public double missedS() {
            return Math.abs(simulatedS - measuredS);
        }
    }

    private record GroupKey(String name, dev.rafter.workload.Operator.Shape shape) {}

    static final int MAX_GROUPS = 100_000;

    /** Where measured times come from: a measured-times file, or the trace itself. */
    public interface Measured {
        /** The measured time of an operator in seconds, or NaN. */
        double of(dev.rafter.workload.Operator op);

        /**
         * Why no operator matched, for a measured file (bad input: most likely the file of another trace); null for
         * a trace's own times, where none matching just means none was measured.
         */
        default String noMatch(long operators, long firstId, long lastId) {
            return null;
        }

        /** Rows of a measured file that matched no operator (0 for a trace's own times). */
        default int unmatchedRows() {
            return 0;
        }
    }

    private static final int WORST = 10;
    /** Points kept for compare.png (the first ones; a longer trace plots a prefix). */
    static final int MAX_POINTS = 200_000;

    private final Measured measured;
    private final List<Miss> points = new ArrayList<>();
    private final Map<String, double[]> byKind = new TreeMap<>();
    private final Map<GroupKey, double[]> groups = new java.util.HashMap<>();
    private final Map<GroupKey, Long> groupFirstId = new java.util.HashMap<>();
    /** Operators whose shape came after {@link #MAX_GROUPS} groups: the worst of them, each alone. */
    private final PriorityQueue<Group> ungrouped = new PriorityQueue<>(Comparator.comparingDouble(Group::missedS));
    private long operators;
    private long firstId = Long.MAX_VALUE;
    private long lastId = Long.MIN_VALUE;
    private double simulatedSum;
    private double measuredSum;

    private final int peArrays;
    private final double gapShare;

    /**
     * A profiler measures kernel durations: they hold a kernel's start-up and drain on the GPU but not the launch
     * gap before it, so an operator's simulated time is compared without the gap part of its dispatch waits. That
     * part is what CUDA graphs remove (the device's eager cost minus its graph cost, as a share of the cost charged;
     * none under graphs, or with a host modelled, when the device charges only its GPU-side part). {@code peArrays}: the arrays over which the trace spreads each dispatch wait.
     */
    public Comparison(Measured measured, dev.rafter.hw.HardwareSpec hw) {
        this.measured = measured;
        this.peArrays = hw.cores() * hw.core().peArrays();
        double charged = hw.deviceDispatchNs();
        this.gapShare = charged <= 0 ? 0 : Math.max(0, charged - hw.dispatch().graphNs()) / charged;
    }

    /** The operator's simulated time without the launch gaps before its kernels, in seconds. */
    public double kernelS(Simulation.OpResult r) {
        return r.latencyS()
            - gapShare * r.sums().stallPs(dev.rafter.sim.trace.SliceKind.STALL_DISPATCH) * 1e-12 / peArrays;
    }

    /** The error of an operator, or NaN when it has no measurement. */
    public double error(Simulation.OpResult r) {
        double m = measured.of(r.op());
        return Double.isNaN(m) ? Double.NaN : (kernelS(r) - m) / m;
    }

    @Override
    public void finished(Simulation.OpResult r) {
        operators++;
        firstId = Math.min(firstId, r.op().id());
        lastId = Math.max(lastId, r.op().id());
        double m = measured.of(r.op());
        if (Double.isNaN(m)) {
            return;
        }
        double kernel = kernelS(r);
        double e = (kernel - m) / m;
        double[] k = byKind.computeIfAbsent(r.op().kind().key(), x -> new double[2]);
        k[0]++;
        k[1] += Math.abs(e);
        simulatedSum += kernel;
        measuredSum += m;
        Miss miss = new Miss(r.op().id(), r.op().name(), r.op().kind().key(), kernel, m, e);
        if (points.size() < MAX_POINTS) {
            points.add(miss);
        }
        GroupKey key = new GroupKey(r.op().name(), r.op().shape());
        double[] g = groups.get(key);
        if (g == null && groups.size() >= MAX_GROUPS) {
            ungrouped.add(new Group(key.name(), r.op().kind().key(), shapeText(key.shape()), 1, kernel, m,
                r.op().id()));
            if (ungrouped.size() > WORST) {
                ungrouped.poll();
            }
            return;
        }
        if (g == null) {
            g = new double[3];
            groups.put(key, g);
            groupFirstId.put(key, r.op().id());
        }
        g[0]++;
        g[1] += kernel;
        g[2] += m;
    }

    /** A shape in a few words: batch x m x n x k for matrix kinds, rows x length or elements for vector ones. */
    static String shapeText(dev.rafter.workload.Operator.Shape s) {
        String dims;
        if (s.kind().isMatrix()) {
            dims = s.batch() + "x" + s.m() + "x" + s.n() + "x" + s.k() + (s.causal() ? " causal" : "");
        } else if (s.kind().isCollective()) {
            dims = s.elements() + " over " + s.n();
        } else if (s.m() > 0 && s.n() > 0) {
            dims = s.m() + "x" + s.n();
        } else {
            dims = Long.toString(s.elements());
        }
        return dims + " " + s.dataType().key();
    }

    /** When no operator matched a measured file: the one-line message of that bad input; else null. */
    public String noMatch() {
        return matched() > 0 || operators == 0 ? null : measured.noMatch(operators, firstId, lastId);
    }

    public long matched() {
        long n = 0;
        for (double[] k : byKind.values()) {
            n += (long) k[0];
        }
        return n;
    }

    /** Mean absolute percentage error over the matched operators, as a fraction. */
    public double mape() {
        double sum = 0;
        for (double[] k : byKind.values()) {
            sum += k[1];
        }
        return matched() == 0 ? Double.NaN : sum / matched();
    }

    /** Kind -> {operators, MAPE}. */
    public Map<String, double[]> byKind() {
        Map<String, double[]> out = new TreeMap<>();
        byKind.forEach((k, v) -> out.put(k, new double[] {v[0], v[1] / v[0]}));
        return out;
    }

    /** The matched operators' total simulated time over their total measured time, minus one. */
    public double totalError() {
        return measuredSum == 0 ? Double.NaN : simulatedSum / measuredSum - 1;
    }

    /** The compared operators kept for the chart, in run order. */
    public List<Miss> points() {
        return points;
    }

    /** The groups that miss the most time, worst first (at most ten). */
    public List<Group> worst() {
        List<Group> out = new ArrayList<>(ungrouped);
        for (Map.Entry<GroupKey, double[]> e : groups.entrySet()) {
            double[] g = e.getValue();
            GroupKey k = e.getKey();
            out.add(new Group(k.name(), k.shape().kind().key(), shapeText(k.shape()), (long) g[0], g[1], g[2],
                groupFirstId.get(k)));
        }
        out.sort(Comparator.comparingDouble((Group g) -> -g.missedS()).thenComparingLong(Group::firstOpId));
        return out.size() > WORST ? new ArrayList<>(out.subList(0, WORST)) : out;
    }

    /** The printed comparison: coverage, MAPE per kind, total error, the worst operators. */
    public List<String> lines() {
        List<String> out = new ArrayList<>();
        out.add(String.format(Locale.ROOT,
            "measured: %d of %d operators matched (%d rows of the measured file unused); MAPE "
            + "%.1f%%, total time %+.1f%%", matched(), operators, measured.unmatchedRows(), 100 * mape(),
            100 * totalError()));
        for (Map.Entry<String, double[]> e : byKind().entrySet()) {
            out.add(String.format(Locale.ROOT, "  %-16s %6d operators, MAPE %.1f%%", e.getKey(), (long) e.getValue()[0],
                100 * e.getValue()[1]));
        }
        if (!groups.isEmpty() || !ungrouped.isEmpty()) {
            out.add("worst operators by shape, most time missed first (count: simulated vs measured total time,"
                + " error, first op):");
            for (Group g : worst()) {
                out.add(String.format(Locale.ROOT, "  %-24s %-10s %-22s %4d x: %s vs %s, %+.1f%% (op %d)", g.name(),
                    g.kind(), g.shape(), g.count(), dev.rafter.roofline.RooflineReport.time(g.simulatedS()),
                    dev.rafter.roofline.RooflineReport.time(g.measuredS()), 100 * g.error(), g.firstOpId()));
            }
        }
        return out;
    }
}

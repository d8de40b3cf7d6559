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
 * measured), the mean absolute percentage error per kind and overall, and the operators that miss most. Keeps
 * only the worst few operators, so memory stays flat on long traces.
 */
public final class Comparison implements Simulation.OpListener {
    /** One compared operator. */
    public record Miss(long opId, String name, String kind, double simulatedS, double measuredS, double error) {}

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
    private final PriorityQueue<Miss> worst = new PriorityQueue<>(Comparator.comparingDouble(m -> Math.abs(m.error())));
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
        worst.add(miss);
        if (points.size() < MAX_POINTS) {
            points.add(miss);
        }
        if (worst.size() > WORST) {
            worst.poll();
        }
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

    public List<Miss> worst() {
        List<Miss> out = new ArrayList<>(worst);
        out.sort(Comparator.comparingDouble((Miss m) -> -Math.abs(m.error())).thenComparingLong(Miss::opId));
        return out;
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
        if (!worst.isEmpty()) {
            out.add("worst operators (error = simulated / measured - 1):");
            for (Miss m : worst()) {
                out.add(String.format(Locale.ROOT,
                    "  op %-6d %-24s %-10s simulated %s, measured %s, error %+.1f%%", m.opId(),
                    m.name(), m.kind(), dev.rafter.roofline.RooflineReport.time(m.simulatedS()),
                    dev.rafter.roofline.RooflineReport.time(m.measuredS()), 100 * m.error()));
            }
        }
        return out;
    }
}

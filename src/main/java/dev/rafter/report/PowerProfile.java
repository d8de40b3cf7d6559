package dev.rafter.report;

import dev.rafter.plot.StudyCharts;
import dev.rafter.plot.XyChart;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Power over a run: the device's static power plus each operator's dynamic energy spread evenly over the operator's
 * time, summed where operators overlap. A step function; its integral is the run's energy (static x time plus the
 * operators' dynamic energy). Feeds summary.json's peak power, trace.json's power counter and power.png.
 */
public final class PowerProfile {
    /** Operators kept at full resolution; beyond, neighbours are merged in pairs (energy kept, detail halved). */
    private static final int MAX_INTERVALS = 1 << 21;

    private final double staticW;
    private long[] starts = new long[1024];
    private long[] ends = new long[1024];
    private double[] joules = new double[1024];
    private int count;
    /**
     * The steps swept as operators arrive, while they run one after another (each starts at or after the previous
     * one's end): the sweep of {@link #stepsBySorting} done in the same order, so with the same sums, but in a
     * method the JIT has compiled long before the end of the run (a one-off sweep of a long run's million ends ran
     * interpreted, then on-stack compiled: about 0.1 s). Null once an operator overlaps the one before or the
     * operators are halved; then the steps are swept from the operators at the end.
     */
    private StepList swept = new StepList(1024);
    /** The time of the last ends and starts swept whose step is not yet taken (equal times make one step). */
    private long pendingAt;
    private boolean pending;
    private long lastEndPs;
    private double dynamic;
    private int active;

    public PowerProfile(double staticW) {
        this.staticW = staticW;
        swept.add(0, staticW);
    }

    /** An operator's dynamic energy over [startPs, endPs); operators arrive in the order they started. */
    void add(long startPs, long endPs, double dynamicJ) {
        if (count == starts.length) {
            if (count >= MAX_INTERVALS) {
                halve();
                swept = null;
            } else {
                starts = Arrays.copyOf(starts, count * 2);
                ends = Arrays.copyOf(ends, count * 2);
                joules = Arrays.copyOf(joules, count * 2);
            }
        }
        starts[count] = startPs;
        ends[count] = endPs;
        joules[count++] = dynamicJ;
        if (swept != null && endPs > startPs) {
            if (startPs < lastEndPs) {
                swept = null;
                return;
            }
            double w = dynamicJ / ((endPs - startPs) * 1e-12);
            sweep(startPs, w, 1);
            sweep(endPs, -w, -1);
            lastEndPs = endPs;
        }
    }

    /** One start (+w) or end (-w) at {@code atPs}, no earlier than those before it. */
    private void sweep(long atPs, double delta, int activeChange) {
        if (pending && atPs != pendingAt) {
            swept.add(pendingAt, watts());
        }
        pending = true;
        pendingAt = atPs;
        active += activeChange;
        dynamic += delta;
    }

    /** The power after the ends and starts swept so far. */
    private double watts() {
        // with nothing running the sum's rounding is dropped: exactly static power
        return active == 0 ? staticW : staticW + Math.max(0, dynamic);
    }

    private void halve() {
        int n = 0;
        for (int i = 0; i < count; i += 2) {
            int j = Math.min(i + 1, count - 1);
            starts[n] = Math.min(starts[i], starts[j]);
            ends[n] = Math.max(ends[i], ends[j]);
            joules[n++] = i == j ? joules[i] : joules[i] + joules[j];
        }
        count = n;
    }

    /**
     * The profile's steps from 0 to {@code endPs}, equal neighbours merged: step i is {@code watts(i)} from
     * {@code startPs(i)} until the next step (the last one until the end).
     */
    public Steps steps(long endPs) {
        if (swept == null) {
            return stepsBySorting(endPs);
        }
        StepList all = swept;
        // the steps are handed out as they are: a later call, or an operator added after, sweeps them again
        swept = null;
        if (pending) {
            all.add(pendingAt, watts());
        }
        // the run's end leaves out the steps from it on, one at 0 too: then the run is static power
        return endPs <= 0 ? new StepList(1).add(0, staticW).steps() : all.steps(endPs);
    }

    /**
     * The steps swept from all operators at once: every start and end in time order, equal times in the order the
     * operators arrived. {@link #steps} gives the same, from the sweep done as they arrived where it applies.
     */
    Steps stepsBySorting(long endPs) {
        // +W at each start, -W at each end; an operator of no duration adds nothing
        long[] at = new long[2 * count];
        double[] delta = new double[2 * count];
        boolean[] begins = new boolean[2 * count];
        int n = 0;
        for (int i = 0; i < count; i++) {
            if (ends[i] > starts[i]) {
                double w = joules[i] / ((ends[i] - starts[i]) * 1e-12);
                at[n] = starts[i];
                begins[n] = true;
                delta[n++] = w;
                at[n] = ends[i];
                delta[n++] = -w;
            }
        }
        int[] order = inTimeOrder(at, n);
        StepList out = new StepList(n + 1).add(0, staticW);
        double dynamicW = 0;
        int running = 0;
        for (int k = 0; k < n; ) {
            long t = at[order[k]];
            while (k < n && at[order[k]] == t) {
                running += begins[order[k]] ? 1 : -1;
                dynamicW += delta[order[k++]];
            }
            // with nothing running the sum's rounding is dropped: exactly static power
            double w = running == 0 ? staticW : staticW + Math.max(0, dynamicW);
            if (t >= endPs) {
                break;
            }
            out.add(t, w);
        }
        return out.steps();
    }

    /**
     * The indices 0..n-1 in the order of {@code at}, equal times in index order (the order their watts are summed
     * in). Operators run one after another arrive in that order already: then no sort (a boxed sort of a long
     * run's million events took a tenth of a second).
     */
    private static int[] inTimeOrder(long[] at, int n) {
        int[] order = new int[n];
        boolean sorted = true;
        for (int i = 0; i < n; i++) {
            order[i] = i;
            sorted &= i == 0 || at[i - 1] <= at[i];
        }
        if (sorted) {
            return order;
        }
        Integer[] boxed = new Integer[n];
        for (int i = 0; i < n; i++) {
            boxed[i] = i;
        }
        Arrays.sort(boxed, (a, b) -> Long.compare(at[a], at[b])); // stable: equal times keep index order
        for (int i = 0; i < n; i++) {
            order[i] = boxed[i];
        }
        return order;
    }

    /** Steps being built: a step at the last one's time replaces it, one of the last one's watts is merged into it. */
    private static final class StepList {
        private long[] startPs;
        private double[] watts;
        private int size;

        StepList(int capacity) {
            startPs = new long[Math.max(1, capacity)];
            watts = new double[startPs.length];
        }

        StepList add(long atPs, double w) {
            if (size > 0 && startPs[size - 1] == atPs) {
                watts[size - 1] = w;
            } else if (size == 0 || watts[size - 1] != w) {
                if (size == startPs.length) {
                    startPs = Arrays.copyOf(startPs, size * 2);
                    watts = Arrays.copyOf(watts, size * 2);
                }
                startPs[size] = atPs;
                watts[size++] = w;
            }
            return this;
        }

        Steps steps() {
            return new Steps(startPs, watts, size);
        }

        /** The steps that start before {@code endPs} (the first one, at 0, always). */
        Steps steps(long endPs) {
            int n = size;
            while (n > 1 && startPs[n - 1] >= endPs) {
                n--;
            }
            return new Steps(startPs, watts, n);
        }
    }

    /** The profile's steps: step i is {@code watts(i)} from {@code startPs(i)} until the next one's start. */
    public static final class Steps {
        private final long[] startPs;
        private final double[] watts;
        private final int size;

        private Steps(long[] startPs, double[] watts, int size) {
            this.startPs = startPs;
            this.watts = watts;
            this.size = size;
        }

        public int size() {
            return size;
        }

        public long startPs(int i) {
            return startPs[i];
        }

        public double watts(int i) {
            return watts[i];
        }

        /** The highest power of the profile, W. */
        public double peak() {
            double peak = 0;
            for (int i = 0; i < size; i++) {
                peak = Math.max(peak, watts[i]);
            }
            return peak;
        }
    }

    /**
     * power.png's bytes: the profile of a run that took time ({@code endPs > 0}) averaged over at most {@code bins}
     * equal spans, with the cap and TDP as lines.
     */
    public static byte[] png(Steps steps, long endPs, double tdpW, double capW, String title) {
        int bins = 1000;
        double[] energy = new double[bins];
        double binPs = (double) endPs / bins;
        for (int i = 0; i < steps.size(); i++) {
            long from = steps.startPs(i);
            long to = i + 1 < steps.size() ? steps.startPs(i + 1) : endPs;
            double w = steps.watts(i);
            for (int b = (int) Math.min(bins - 1, from / binPs); b < bins && b * binPs < to; b++) {
                double overlap = Math.min(to, (b + 1) * binPs) - Math.max(from, b * binPs);
                energy[b] += w * Math.max(0, overlap);
            }
        }
        List<double[]> points = new ArrayList<>();
        for (int b = 0; b < bins; b++) {
            double w = energy[b] / binPs;
            points.add(new double[] {b * binPs * 1e-12, w});
            points.add(new double[] {(b + 1) * binPs * 1e-12, w});
        }
        double seconds = endPs * 1e-12;
        XyChart chart = new XyChart(1100, 520, title, new XyChart.AxisSpec("time", "s", true, false),
            new XyChart.AxisSpec("power", "W", true, false))
            .subtitle(String.format(java.util.Locale.ROOT, "averaged over %d spans of %s; peak %.4g W",
                bins, dev.rafter.roofline.RooflineReport.time(seconds / bins), steps.peak()))
            .legend(XyChart.LegendPlace.OUTSIDE_RIGHT);
        chart.add(new XyChart.Series("power", XyChart.PALETTE[0], XyChart.Style.LINE, 1.5f, false, points));
        chart.add(new XyChart.Series("TDP", new java.awt.Color(0x99, 0x99, 0x99), XyChart.Style.LINE, 1f, true,
            List.of(new double[] {0, tdpW}, new double[] {seconds, tdpW})));
        if (capW != tdpW) {
            chart.add(new XyChart.Series("cap", new java.awt.Color(0xd6, 0x27, 0x28), XyChart.Style.LINE, 1f, true,
                List.of(new double[] {0, capW}, new double[] {seconds, capW})));
        }
        return StudyCharts.png(chart.width(), chart.height(), chart::draw);
    }
}

package dev.rafter.report;

import dev.rafter.plot.StudyCharts;
import dev.rafter.plot.XyChart;
import java.nio.file.Files;
import java.nio.file.Path;
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

    public PowerProfile(double staticW) {
        this.staticW = staticW;
    }

    /** An operator's dynamic energy over [startPs, endPs). */
    void add(long startPs, long endPs, double dynamicJ) {
        if (count == starts.length) {
            if (count >= MAX_INTERVALS) {
                halve();
            } else {
                starts = Arrays.copyOf(starts, count * 2);
                ends = Arrays.copyOf(ends, count * 2);
                joules = Arrays.copyOf(joules, count * 2);
            }
        }
        starts[count] = startPs;
        ends[count] = endPs;
        joules[count++] = dynamicJ;
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

    /** A step of the profile: {@code watts} from {@code startPs} until the next step (the last one until the end). */
    public record Step(long startPs, double watts) {}

    /** The profile's steps from 0 to {@code endPs}, equal neighbours merged. */
    public List<Step> steps(long endPs) {
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
        List<Step> out = new ArrayList<>();
        out.add(new Step(0, staticW));
        double dynamic = 0;
        int active = 0;
        for (int k = 0; k < n; ) {
            long t = at[order[k]];
            while (k < n && at[order[k]] == t) {
                active += begins[order[k]] ? 1 : -1;
                dynamic += delta[order[k++]];
            }
            // with nothing running the sum's rounding is dropped: exactly static power
            double w = active == 0 ? staticW : staticW + Math.max(0, dynamic);
            if (t >= endPs) {
                break;
            }
            Step last = out.get(out.size() - 1);
            if (last.startPs() == t) {
                out.set(out.size() - 1, new Step(t, w));
            } else if (last.watts() != w) {
                out.add(new Step(t, w));
            }
        }
        return out;
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

    /** The highest power of the profile, W. */
    public static double peak(List<Step> steps) {
        double peak = 0;
        for (Step s : steps) {
            peak = Math.max(peak, s.watts());
        }
        return peak;
    }

    /** power.png: the profile averaged over at most {@code bins} equal spans, with the cap and TDP as lines. */
    public static void write(Path png, List<Step> steps, long endPs, double tdpW, double capW, String title) {
        if (endPs <= 0) {
            return;
        }
        int bins = 1000;
        double[] energy = new double[bins];
        double binPs = (double) endPs / bins;
        for (int i = 0; i < steps.size(); i++) {
            long from = steps.get(i).startPs();
            long to = i + 1 < steps.size() ? steps.get(i + 1).startPs() : endPs;
            double w = steps.get(i).watts();
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
                bins, dev.rafter.roofline.RooflineReport.time(seconds / bins), peak(steps)))
            .legend(XyChart.LegendPlace.OUTSIDE_RIGHT);
        chart.add(new XyChart.Series("power", XyChart.PALETTE[0], XyChart.Style.LINE, 1.5f, false, points));
        chart.add(new XyChart.Series("TDP", new java.awt.Color(0x99, 0x99, 0x99), XyChart.Style.LINE, 1f, true,
            List.of(new double[] {0, tdpW}, new double[] {seconds, tdpW})));
        if (capW != tdpW) {
            chart.add(new XyChart.Series("cap", new java.awt.Color(0xd6, 0x27, 0x28), XyChart.Style.LINE, 1f, true,
                List.of(new double[] {0, capW}, new double[] {seconds, capW})));
        }
        byte[] image = StudyCharts.png(chart.width(), chart.height(), chart::draw);
        AtomicFile.writeFile(png, tmp -> Files.write(tmp, image));
    }
}

package dev.rafter.plot;

import java.util.ArrayList;
import java.util.List;

/**
 * A chart axis: its range, whether logarithmic, where a value lands in pixels ({@code from} is where {@code lo}
 * lands, {@code to} where {@code hi} does), and which values get a labelled tick. A logarithmic axis labels enough
 * values to read one off: powers of ten over many decades, 1-2-5 over a few, every digit within about a decade,
 * and evenly spaced round values where even that gives fewer than {@value #MIN_TICKS}.
 */
public record Axis(double lo, double hi, boolean log, double from, double to) {
    /** Fewest labelled ticks an axis aims for. */
    static final int MIN_TICKS = 4;
    /** Most powers of ten labelled on a long logarithmic axis (more: every second, third... one). */
    private static final int MAX_DECADE_TICKS = 10;

    /**
     * An axis over {@code min..max} with a margin: logarithmic when {@code log} is asked for and every value is
     * positive, linear otherwise. Values near the largest double stay finite.
     */
    public static Axis of(double min, double max, boolean log, double from, double to) {
        if (log && min > 0) {
            double lo = min / 1.25;
            double hi = Math.min(max * 1.25, Double.MAX_VALUE);
            if (!(hi > lo)) {
                hi = lo * 2;
            }
            return new Axis(lo, hi, true, from, to);
        }
        double pad = max > min ? (max - min) * 0.08 : Math.max(Math.abs(max) * 0.1, 1e-30);
        return new Axis(Math.max(min > 0 ? 0 : min - pad, min - pad), max + pad, false, from, to);
    }

    /** Logarithmic when the values span ten times or more (and are all positive), as the study charts decide. */
    public static Axis auto(double min, double max, double from, double to) {
        return of(min, max, min > 0 && max / min >= 10, from, to);
    }

    /** The pixel where {@code v} lands. */
    public double at(double v) {
        if (!log) {
            return from + (v - lo) / (hi - lo) * (to - from);
        }
        // hi / lo overflows on an axis from 1e-6 to 1e308: then logs are subtracted instead
        double t = Double.isFinite(hi / lo) ? Math.log(v / lo) / Math.log(hi / lo)
            : (Math.log(v) - Math.log(lo)) / (Math.log(hi) - Math.log(lo));
        return from + t * (to - from);
    }

    /** Whether {@code v} can be drawn on this axis (a logarithmic one has no place for zero or less). */
    public boolean shows(double v) {
        return Double.isFinite(v) && (!log || v > 0);
    }

    /** How many powers of ten the axis spans (0 for a linear one). */
    public double decades() {
        return log ? Math.log10(hi) - Math.log10(lo) : 0;
    }

    /** The values that get a labelled tick, ascending. */
    public List<Double> ticks() {
        if (!log) {
            return linearTicks(lo, hi);
        }
        List<Double> decades = mantissas(new int[] {1});
        if (decades.size() >= MIN_TICKS) {
            int every = (decades.size() + MAX_DECADE_TICKS - 1) / MAX_DECADE_TICKS;
            List<Double> out = new ArrayList<>();
            for (double v : decades) {
                if (Math.round(Math.log10(v)) % every == 0) {
                    out.add(v);
                }
            }
            return out;
        }
        List<Double> oneTwoFive = mantissas(new int[] {1, 2, 5});
        if (oneTwoFive.size() >= MIN_TICKS) {
            return oneTwoFive;
        }
        List<Double> digits = mantissas(new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
        return digits.size() >= MIN_TICKS ? digits : linearTicks(lo, hi);
    }

    /** Unlabelled grid values of a logarithmic axis: every digit of every decade (none on a linear axis). */
    public List<Double> minorTicks() {
        return log && decades() < 40 ? mantissas(new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9}) : List.of();
    }

    /** {@code f x 10^e} for each {@code f} and every decade that lies within the axis. */
    private List<Double> mantissas(int[] factors) {
        List<Double> out = new ArrayList<>();
        for (int e = (int) Math.floor(Math.log10(lo)); e <= (int) Math.ceil(Math.log10(hi)); e++) {
            for (int f : factors) {
                double v = f * Math.pow(10, e);
                if (v >= lo && v <= hi) {
                    out.add(v);
                }
            }
        }
        return out;
    }

    /** Round values (1, 2 or 5 times a power of ten apart) about a sixth of the range apart. */
    static List<Double> linearTicks(double lo, double hi) {
        List<Double> out = new ArrayList<>();
        double raw = (hi - lo) / 6;
        if (!(raw > 0) || !Double.isFinite(raw)) {
            out.add(lo);
            return out;
        }
        double mag = Math.pow(10, Math.floor(Math.log10(raw)));
        double step = raw / mag < 1.5 ? mag : raw / mag < 3.5 ? 2 * mag : raw / mag < 7.5 ? 5 * mag : 10 * mag;
        for (double v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
            out.add(Math.abs(v) < step * 1e-9 ? 0 : v);
        }
        return out;
    }

    /**
     * Which of the tick labels centred at {@code centres} (ascending or descending) with {@code widths} to draw so
     * that no two come closer than {@code gap} pixels: all of them if they fit, else every second, third... one.
     */
    public static List<Integer> fitting(double[] centres, double[] widths, double gap) {
        for (int every = 1; every <= Math.max(1, centres.length); every++) {
            List<Integer> kept = new ArrayList<>();
            for (int i = 0; i < centres.length; i += every) {
                kept.add(i);
            }
            boolean fits = true;
            for (int k = 1; k < kept.size() && fits; k++) {
                int a = kept.get(k - 1);
                int b = kept.get(k);
                fits = Math.abs(centres[b] - centres[a]) >= (widths[a] + widths[b]) / 2 + gap;
            }
            if (fits) {
                return kept;
            }
        }
        return List.of(0);
    }
}

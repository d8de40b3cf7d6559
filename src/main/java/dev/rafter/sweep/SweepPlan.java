package dev.rafter.sweep;

import dev.rafter.config.InputException;
import dev.rafter.config.InputFiles;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The points of a sweep: the Cartesian product of {@code --vary path=v1,v2,...} axes, first axis slowest. */
public record SweepPlan(List<String> paths, List<List<String>> values) {

    public static SweepPlan parse(List<String> varies) {
        if (varies.isEmpty()) {
            throw new InputException("--vary: give at least one axis, e.g. --vary clock_mhz=600,1000,1400");
        }
        List<String> paths = new ArrayList<>();
        List<List<String>> values = new ArrayList<>();
        for (String v : varies) {
            int eq = v.indexOf('=');
            if (eq <= 0 || eq == v.length() - 1) {
                throw new InputException("--vary " + InputFiles.shorten(v)
                    + ": expected PATH=v1,v2,..., e.g. clock_mhz=600,1000");
            }
            String path = v.substring(0, eq).trim();
            if (paths.contains(path)) {
                throw new InputException("--vary " + InputFiles.shorten(v) + ": '" + path + "' is varied twice");
            }
            List<String> vs = new ArrayList<>();
            for (String x : v.substring(eq + 1).split(",", -1)) {
                if (x.isBlank()) {
                    throw new InputException("--vary " + InputFiles.shorten(v) + ": empty value in the list");
                }
                for (String earlier : vs) {
                    if (sameValue(earlier, x.trim())) {
                        throw new InputException("--vary " + InputFiles.shorten(v) + ": value '"
                            + InputFiles.shorten(x.trim()) + "' is given twice" + (earlier.equals(x.trim()) ? ""
                                : " (as '" + InputFiles.shorten(earlier) + "': the same number)"));
                    }
                }
                vs.add(x.trim());
            }
            paths.add(path);
            values.add(vs);
        }
        SweepPlan plan = new SweepPlan(paths, values);
        long n = plan.count();
        if (n > MAX_POINTS) {
            throw new InputException("--vary: " + String.join(" x ", values.stream().map(x -> "" + x.size()).toList())
                + " = " + n + " points, beyond the limit of " + MAX_POINTS + " per sweep");
        }
        return plan;
    }

    private static final java.util.regex.Pattern NUMBER =
        java.util.regex.Pattern.compile("[+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?");

    /** Whether two values of an axis name the same point: numbers by value (1000, 1000.0 and 1e3 are one). */
    static boolean sameValue(String a, String b) {
        if (a.equals(b)) {
            return true;
        }
        if (NUMBER.matcher(a).matches() && NUMBER.matcher(b).matches()) {
            return new java.math.BigDecimal(a).compareTo(new java.math.BigDecimal(b)) == 0;
        }
        return false;
    }

    /** Points of one sweep: every point's device is loaded and checked before the first runs. */
    public static final long MAX_POINTS = 100_000;

    /** The number of points, with overflow checked (Long.MAX_VALUE stands for "beyond any count"). */
    public long count() {
        long n = 1;
        for (List<String> v : values) {
            try {
                n = Math.multiplyExact(n, (long) v.size());
            } catch (ArithmeticException e) {
                return Long.MAX_VALUE;
            }
        }
        return n;
    }

    /** The number of points of a parsed plan (at most {@link #MAX_POINTS}). */
    public int size() {
        return (int) Math.min(count(), Integer.MAX_VALUE);
    }

    /** Point {@code i}: path -> value, in axis order. */
    public Map<String, String> point(int i) {
        Map<String, String> out = new LinkedHashMap<>();
        int rest = i;
        int[] index = new int[paths.size()];
        for (int a = paths.size() - 1; a >= 0; a--) {
            index[a] = rest % values.get(a).size();
            rest /= values.get(a).size();
        }
        for (int a = 0; a < paths.size(); a++) {
            out.put(paths.get(a), values.get(a).get(index[a]));
        }
        return out;
    }

    /** {@code --set} assignments of point {@code i}. */
    public List<String> assignments(int i) {
        List<String> out = new ArrayList<>();
        point(i).forEach((k, v) -> out.add(k + "=" + v));
        return out;
    }

    /**
     * A file-name-safe name of the point, e.g. {@code clock_mhz-1000__core.local_buffer.capacity_kib-64}. When a
     * value had to be changed to be safe, or the name would be long, it is cut and ends with a hash of the exact
     * point, so names stay unique and below file-system limits.
     */
    public String name(int i) {
        StringBuilder raw = new StringBuilder();
        point(i).forEach((k, v) -> raw.append(raw.length() == 0 ? "" : "__").append(k).append('-').append(v));
        String safe = raw.toString().replaceAll("[^A-Za-z0-9._-]", "_");
        if (safe.equals(raw.toString()) && safe.length() <= MAX_NAME) {
            return safe;
        }
        String hash = SweepKey.sha256(raw.toString()).substring(0, 16);
        return safe.substring(0, Math.min(safe.length(), MAX_NAME - 17)) + "~" + hash;
    }

    /** Longest point name: a file name is at most 255 bytes, and ".json" and temporary suffixes are added. */
    static final int MAX_NAME = 160;
}

package dev.rafter.sweep;

import dev.rafter.config.InputException;
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
                throw new InputException("--vary " + v + ": expected PATH=v1,v2,..., e.g. clock_mhz=600,1000");
            }
            String path = v.substring(0, eq).trim();
            if (paths.contains(path)) {
                throw new InputException("--vary " + v + ": '" + path + "' is varied twice");
            }
            List<String> vs = new ArrayList<>();
            for (String x : v.substring(eq + 1).split(",")) {
                if (x.isBlank()) {
                    throw new InputException("--vary " + v + ": empty value in the list");
                }
                vs.add(x.trim());
            }
            paths.add(path);
            values.add(vs);
        }
        return new SweepPlan(paths, values);
    }

    public int size() {
        int n = 1;
        for (List<String> v : values) {
            n *= v.size();
        }
        return n;
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

    /** A file-name-safe name of the point, e.g. {@code clock_mhz-1000__core.local_buffer.capacity_kib-64}. */
    public String name(int i) {
        StringBuilder sb = new StringBuilder();
        point(i).forEach((k, v) -> sb.append(sb.length() == 0 ? "" : "__").append(k).append('-')
            .append(v.replaceAll("[^A-Za-z0-9._-]", "_")));
        return sb.toString();
    }
}

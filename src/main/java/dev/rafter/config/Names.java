package dev.rafter.config;

import java.util.Collection;

/** Finds the valid name nearest to a misspelt one, for "did you mean" hints. */
public final class Names {
    private Names() {}

    public static String nearest(String wrong, Collection<String> valid) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : valid) {
            int d = distance(wrong, candidate);
            if (d < bestDistance) {
                bestDistance = d;
                best = candidate;
            }
        }
        return best;
    }

    /** " (did you mean 'x'?)" or "" when nothing is close enough to help. */
    public static String hint(String wrong, Collection<String> valid) {
        String best = nearest(wrong, valid);
        if (best == null) {
            return "";
        }
        int d = distance(wrong, best);
        return d <= Math.max(2, best.length() / 2) ? " (did you mean '" + best + "'?)" : "";
    }

    public static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}

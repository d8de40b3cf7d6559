package dev.rafter.config;

/**
 * Value checks used by config records in their constructors. Each names the key (relative to its section); the
 * loader adds the section path and the file, so a user sees e.g. {@code a100.yaml: core.pe_array.rows: ...}.
 */
public final class Check {
    private Check() {}

    public static long intIn(String key, long value, long min, long max) {
        if (value < min || value > max) {
            throw new InputException(key + ": expected an integer in [" + min + ", " + max + "], got " + value);
        }
        return value;
    }

    public static int intIn(String key, int value, int min, int max) {
        return (int) intIn(key, (long) value, min, (long) max);
    }

    /** A number in (min, max] when {@code exclusiveMin}, else [min, max]. NaN is rejected. */
    public static double numberIn(String key, double value, double min, double max, boolean exclusiveMin) {
        boolean low = exclusiveMin ? value > min : value >= min;
        if (!(low && value <= max)) {
            throw new InputException(key + ": expected a number " + (exclusiveMin ? "> " : ">= ") + fmt(min)
                + " and <= " + fmt(max) + ", got " + fmt(value));
        }
        return value;
    }

    public static double positive(String key, double value, double max) {
        return numberIn(key, value, 0, max, true);
    }

    public static String nonBlank(String key, String value) {
        if (value == null || value.isBlank()) {
            throw new InputException(key + ": expected a non-empty string");
        }
        return value;
    }

    public static String fmt(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return Double.toString(v);
    }
}

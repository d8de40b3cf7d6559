package dev.rafter.plot;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Words and units for chart labels, derived from the key names alone (Rafter's keys carry their unit as a suffix):
 * {@code clock_mhz} or {@code core.clock_mhz} -> "clock (MHz)", {@code core.local_buffer.capacity_kib} -> "local
 * buffer capacity (KiB)", {@code memory.bandwidth_gb_per_s} -> "memory bandwidth (GB/s)", {@code run.batch} ->
 * "batch". A key with no known suffix has no unit. Values are printed with SI prefixes to three digits.
 */
public final class Units {
    private Units() {}

    /** Suffix -> unit, longest suffixes first so {@code _gb_per_s} wins over {@code _s}. */
    private static final List<String[]> SUFFIXES = List.of(
        new String[] {"_bytes_per_cycle", "B/cycle"}, new String[] {"_flops_per_lane_per_cycle", "FLOP/cycle"},
        new String[] {"_tb_per_s", "TB/s"}, new String[] {"_gb_per_s", "GB/s"}, new String[] {"_mb_per_s", "MB/s"},
        new String[] {"_gbps", "Gb/s"}, new String[] {"_per_s", "/s"}, new String[] {"_per_cycle", "/cycle"},
        new String[] {"_cycles", "cycles"}, new String[] {"_bytes", "B"}, new String[] {"_bits", "bit"},
        new String[] {"_ghz", "GHz"}, new String[] {"_mhz", "MHz"}, new String[] {"_khz", "kHz"},
        new String[] {"_hz", "Hz"}, new String[] {"_tib", "TiB"}, new String[] {"_gib", "GiB"},
        new String[] {"_mib", "MiB"}, new String[] {"_kib", "KiB"}, new String[] {"_tb", "TB"},
        new String[] {"_gb", "GB"}, new String[] {"_mb", "MB"}, new String[] {"_kb", "kB"},
        new String[] {"_ps", "ps"}, new String[] {"_ns", "ns"}, new String[] {"_us", "us"}, new String[] {"_ms", "ms"},
        new String[] {"_s", "s"}, new String[] {"_pj", "pJ"}, new String[] {"_nj", "nJ"}, new String[] {"_j", "J"},
        new String[] {"_mw", "mW"}, new String[] {"_w", "W"}, new String[] {"_mv", "mV"}, new String[] {"_v", "V"},
        new String[] {"_nm", "nm"}, new String[] {"_pct", "%"}, new String[] {"_percent", "%"});

    /** Leading path segments that say where a key lives but not what it is. */
    private static final Set<String> SCOPES = Set.of("core", "run", "model");

    /** Words that are a quantity already: "bytes_per_cycle" reads as words ("bytes per cycle"), not as a unit. */
    private static final Set<String> QUANTITIES = Set.of("bytes", "bits", "flops", "flops_per_lane");

    /** The suffix entry that gives a leaf its unit, or null. */
    private static String[] suffix(String leaf) {
        for (String[] s : SUFFIXES) {
            if (leaf.endsWith(s[0]) && leaf.length() > s[0].length()) {
                return QUANTITIES.contains(leaf.substring(0, leaf.length() - s[0].length())) ? null : s;
            }
        }
        return null;
    }

    /** The unit of a key from its suffix, or null when it has none. */
    public static String unit(String key) {
        String[] s = suffix(leaf(key));
        return s == null ? null : s[1];
    }

    /** What the key measures, in words, without its unit: "local buffer capacity". */
    public static String name(String key) {
        String[] parts = key.split("\\.");
        String leaf = stripUnit(parts[parts.length - 1]);
        String parent = parts.length >= 2 ? parts[parts.length - 2] : null;
        String words = (parent == null || SCOPES.contains(parent) ? "" : parent + " ") + leaf;
        return words.replace('_', ' ').trim();
    }

    /** An axis title: "local buffer capacity (KiB)", or the name alone for a key without unit. */
    public static String axisTitle(String key) {
        String unit = unit(key);
        return unit == null ? name(key) : name(key) + " (" + unit + ")";
    }

    /** One value of a key as a short label: "64 KiB", "1400 MHz", "batch 8". */
    public static String valueLabel(String key, String value) {
        String unit = unit(key);
        return unit == null ? stripUnit(leaf(key)).replace('_', ' ') + " " + value : value + " " + unit;
    }

    /** A key and its value in words: "memory bandwidth 4096 GB/s", "batch 8". */
    public static String namedValue(String key, String value) {
        String unit = unit(key);
        return name(key) + " " + value + (unit == null ? "" : " " + unit);
    }

    private static String leaf(String key) {
        return key.substring(key.lastIndexOf('.') + 1);
    }

    private static String stripUnit(String leaf) {
        String[] s = suffix(leaf);
        return s == null ? leaf : leaf.substring(0, leaf.length() - s[0].length());
    }

    private static final String[] PREFIXES = {"p", "n", "u", "m", "", "k", "M", "G", "T"};

    /**
     * {@code v} in {@code unit} with an SI prefix and three significant digits: 3.282e-5, "J s" -> "32.8 uJ s";
     * 0 -> "0 J s"; NaN -> "-".
     */
    public static String si(double v, String unit) {
        if (Double.isNaN(v)) {
            return "-";
        }
        if (v == 0 || Double.isInfinite(v)) {
            return (v == 0 ? "0" : Double.toString(v)) + " " + unit;
        }
        double rounded = new BigDecimal(v).round(new MathContext(3)).doubleValue();
        int exp = (int) Math.floor(Math.log10(Math.abs(rounded)) / 3);
        exp = Math.max(-4, Math.min(4, exp));
        double scaled = rounded / Math.pow(1000, exp);
        String digits = new BigDecimal(scaled).round(new MathContext(3)).stripTrailingZeros().toPlainString();
        return digits + " " + PREFIXES[exp + 4] + unit;
    }

    /** A power of a thousand and its prefix, so that values up to {@code maxAbs} read as 1..999. */
    public record Prefix(double factor, String prefix) {
        public String unit(String unit) {
            return prefix + unit;
        }
    }

    public static Prefix prefixFor(double maxAbs) {
        if (!(maxAbs > 0) || Double.isInfinite(maxAbs)) {
            return new Prefix(1, "");
        }
        int exp = (int) Math.floor(Math.log10(maxAbs) / 3 + 1e-9);
        exp = Math.max(-4, Math.min(4, exp));
        return new Prefix(Math.pow(1000, exp), PREFIXES[exp + 4]);
    }

    /** A plain number to three significant digits (tick labels of unitless axes). */
    public static String plain(double v) {
        return new BigDecimal(v).round(new MathContext(3)).stripTrailingZeros().toPlainString()
            .toLowerCase(Locale.ROOT);
    }
}

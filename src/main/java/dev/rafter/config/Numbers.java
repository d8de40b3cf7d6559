package dev.rafter.config;

import java.util.regex.Pattern;

/**
 * Decimal numbers as a person writes them in a cell, an option or a value with its unit apart: digits with an
 * optional sign, point and exponent ({@code 12}, {@code -0.5}, {@code 2.5e-3}), and the words {@code NaN} and
 * {@code Infinity} (left to the caller's range check, which names them). Java's own parser also takes a type suffix
 * and hexadecimal ({@code 1d}, {@code 2f}, {@code 0x1p3}): {@code --duration 1d} would be one second, not a day, so
 * every number Rafter reads from text goes through here instead.
 */
public final class Numbers {
    private static final Pattern DECIMAL =
        Pattern.compile("[+-]?(NaN|Infinity|([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?)");

    private Numbers() {}

    /**
     * As {@link Long#parseLong}, for ASCII digits only: Java's also reads fullwidth and Arabic-Indic digits, and a
     * file's numbers are ASCII (no blanks around it either: the caller strips a cell).
     */
    public static long parseLong(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) > 0x7f) {
                throw new NumberFormatException(text);
            }
        }
        return Long.parseLong(text);
    }

    /** As {@link Double#parseDouble} (blanks around it ignored), for decimal text only. */
    public static double parseDouble(String text) {
        String t = text.trim();
        if (!DECIMAL.matcher(t).matches()) {
            throw new NumberFormatException("not a decimal number: '" + text + "'");
        }
        return Double.parseDouble(t);
    }
}

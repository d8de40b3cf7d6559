package dev.rafter.report;

import dev.rafter.config.CsvWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * A line of a CSV file built as UTF-8 bytes: a long run writes hundreds of thousands of rows, and building them
 * as text that a writer then encodes cost more than simulating the reused operators they describe.
 */
final class ByteLine {
    private byte[] bytes = new byte[512];
    private int length;
    private final byte[] digits = new byte[20];

    ByteLine clear() {
        length = 0;
        return this;
    }

    private void room(int more) {
        if (length + more > bytes.length) {
            bytes = java.util.Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + more));
        }
    }

    ByteLine append(byte[] b) {
        room(b.length);
        System.arraycopy(b, 0, bytes, length, b.length);
        length += b.length;
        return this;
    }

    /** An ASCII character. */
    ByteLine append(char c) {
        room(1);
        bytes[length++] = (byte) c;
        return this;
    }

    /** "00" to "99": two digits per division (as {@link Long#toString(long)} does). */
    private static final byte[] PAIRS = new byte[200];

    static {
        for (int i = 0; i < 100; i++) {
            PAIRS[2 * i] = (byte) ('0' + i / 10);
            PAIRS[2 * i + 1] = (byte) ('0' + i % 10);
        }
    }

    /**
     * {@code v} in decimal, as {@link Long#toString(long)} writes it: two digits per division, in int arithmetic
     * once the rest fits (every row of ops.csv writes five numbers; a division per digit was a fifth of the cost of
     * a reused operator).
     */
    ByteLine append(long v) {
        if (v == Long.MIN_VALUE) {
            return append(Long.toString(v));
        }
        if (v < 0) {
            append('-');
            v = -v;
        }
        int d = digits.length;
        while (v > Integer.MAX_VALUE) {
            long q = v / 100;
            int pair = (int) (v - q * 100);
            digits[--d] = PAIRS[2 * pair + 1];
            digits[--d] = PAIRS[2 * pair];
            v = q;
        }
        int i = (int) v;
        while (i >= 100) {
            int q = i / 100;
            int pair = i - q * 100;
            digits[--d] = PAIRS[2 * pair + 1];
            digits[--d] = PAIRS[2 * pair];
            i = q;
        }
        if (i >= 10) {
            digits[--d] = PAIRS[2 * i + 1];
            digits[--d] = PAIRS[2 * i];
        } else {
            digits[--d] = (byte) ('0' + i);
        }
        room(digits.length - d);
        System.arraycopy(digits, d, bytes, length, digits.length - d);
        length += digits.length - d;
        return this;
    }

    /** {@code text} in UTF-8. */
    ByteLine append(String text) {
        int n = text.length();
        room(n);
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (c >= 0x80) {
                return append(text.getBytes(StandardCharsets.UTF_8)); // overwrites what this loop put
            }
            bytes[length + i] = (byte) c;
        }
        length += n;
        return this;
    }

    /** {@code text} as one CSV cell ({@link CsvWriter#cell(String)}: quoted only where it must be). */
    ByteLine cell(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == ',' || c == '"' || c == '\n' || c == '\r') {
                return append(CsvWriter.cell(text));
            }
        }
        return append(text);
    }

    /** The line so far, as bytes. */
    byte[] toBytes() {
        return java.util.Arrays.copyOf(bytes, length);
    }

    void writeTo(OutputStream out) {
        try {
            out.write(bytes, 0, length);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

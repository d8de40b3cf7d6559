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

    /** {@code v} in decimal, as {@link Long#toString(long)} writes it. */
    ByteLine append(long v) {
        if (v == Long.MIN_VALUE) {
            return append(Long.toString(v));
        }
        if (v < 0) {
            append('-');
            v = -v;
        }
        int d = digits.length;
        do {
            digits[--d] = (byte) ('0' + v % 10);
            v /= 10;
        } while (v != 0);
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

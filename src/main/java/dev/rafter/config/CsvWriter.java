package dev.rafter.config;

/**
 * The one CSV writer of Rafter (RFC 4180, as {@link CsvReader} reads it): a cell is quoted only when it must be (it
 * holds a comma, a quote or a line break), with any quote inside doubled, so files of plain names stay as they were.
 * It appends to a {@link StringBuilder}: rows are built beside numbers on hot paths (one row per operator).
 */
public final class CsvWriter {
    private CsvWriter() {}

    /** Appends {@code text} as one cell, quoted only if it holds a comma, a quote or a line break. */
    public static StringBuilder cell(StringBuilder out, String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == ',' || c == '"' || c == '\n' || c == '\r') {
                return quoted(out, text);
            }
        }
        return out.append(text);
    }

    /** {@code text} as one cell (see {@link #cell(StringBuilder, String)}). */
    public static String cell(String text) {
        return cell(new StringBuilder(text.length() + 2), text).toString();
    }

    /** Appends {@code text} in quotes whatever it holds (for columns that have always been quoted). */
    public static StringBuilder quoted(StringBuilder out, String text) {
        out.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '"') {
                out.append('"');
            }
            out.append(c);
        }
        return out.append('"');
    }

    /** The cells joined by commas, each as {@link #cell(StringBuilder, String)} writes it. */
    public static String row(Iterable<String> cells) {
        StringBuilder out = new StringBuilder();
        boolean first = true;
        for (String c : cells) {
            if (!first) {
                out.append(',');
            }
            first = false;
            cell(out, c);
        }
        return out.toString();
    }
}

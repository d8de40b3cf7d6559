package dev.rafter.config;

import de.siegmar.fastcsv.reader.AbstractBaseCsvCallbackHandler;
import de.siegmar.fastcsv.reader.CommentStrategy;
import de.siegmar.fastcsv.reader.CsvParseException;
import de.siegmar.fastcsv.reader.RecordType;
import java.io.FilterReader;
import java.io.IOException;
import java.io.Reader;
import java.util.Arrays;
import java.util.Iterator;

/**
 * The one CSV reader of Rafter (RFC 4180, through FastCSV): fields may be quoted, a quoted field may hold commas,
 * doubled quotes and line breaks. Rows come with the line they start on, so messages can say {@code file:line}.
 * Skipped: empty and blank lines, and lines starting with {@code #} (comments); a UTF-8 byte-order mark at the
 * start is dropped. A malformed quoted field (text after the closing quote, a quote never closed) or a field longer
 * than {@code maxFieldChars} is an {@link InputException} naming the file and line.
 *
 * <p>The reader is handed an open {@link Reader} (the caller chooses how strictly to decode) and does not close it; a
 * failure to read it comes out as FastCSV gives it, an {@link java.io.UncheckedIOException}.
 */
public final class CsvReader {
    /** One row: its cells (unquoted, not stripped; null for a comment) and the line it starts on (1-based). */
    public record Row(String[] cells, long line) {}

    private final String name;
    private final int maxFieldChars;
    private final String what;
    private final LastChar input;
    private final Iterator<Row> rows;
    private final Cells handler = new Cells();
    private boolean first = true;
    private long lastLine;

    /**
     * Reads {@code in}, naming it {@code name} in messages; a field over {@code maxFieldChars} is bad input (a file
     * of another kind, e.g. binary, fails fast), with {@code what} saying what the file should have been.
     */
    public CsvReader(Reader in, String name, int maxFieldChars, String what) {
        this.name = name;
        this.maxFieldChars = maxFieldChars;
        this.what = what;
        this.input = new LastChar(in);
        this.rows = de.siegmar.fastcsv.reader.CsvReader.builder()
            // Comments are read (and skipped here) so that the handler knows which record was the file's last.
            .commentStrategy(CommentStrategy.READ)
            .skipEmptyLines(true)
            // Rafter's readers check the number of cells themselves, to say which columns were expected.
            .allowExtraFields(true)
            .allowMissingFields(true)
            .maxBufferSize(Math.max(maxFieldChars, 1 << 16))
            .build(handler, input)
            .iterator();
    }

    /** The next row, or null at the end. Blank lines and comments are skipped. */
    public Row next() {
        while (true) {
            Row row;
            try {
                if (!rows.hasNext()) {
                    return null;
                }
                row = rows.next();
            } catch (CsvParseException e) {
                throw malformed(e);
            }
            lastLine = row.line();
            if (row.cells() == null) {
                continue; // a comment line
            }
            if (handler.lastQuoted && !rowsLeft() && input.lastNonNewline != '"') {
                throw InputException.located(name + ":" + row.line() + ": a quoted field is not closed (expected a"
                    + " closing \" before the end of the file)");
            }
            String[] cells = row.cells();
            if (first) {
                first = false;
                if (cells.length > 0 && !cells[0].isEmpty() && cells[0].charAt(0) == '\uFEFF') {
                    cells[0] = cells[0].substring(1); // UTF-8 byte-order mark (files saved by Excel or Windows tools)
                }
            }
            if (cells.length == 1 && cells[0].isBlank()) {
                continue;
            }
            for (String c : cells) {
                if (c.length() > maxFieldChars) {
                    throw tooLong(row.line());
                }
            }
            return row;
        }
    }

    /** The line the last row returned starts on (0 before the first). */
    public long line() {
        return lastLine;
    }

    /** Whether more rows follow the one just returned (the parser reads ahead only when asked). */
    private boolean rowsLeft() {
        try {
            return rows.hasNext();
        } catch (CsvParseException e) {
            throw malformed(e);
        }
    }

    private InputException malformed(CsvParseException e) {
        for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
            if (c instanceof InputException reading) {
                return reading; // the input itself failed (InputFiles.newReader: a byte that is not UTF-8), not a field
            }
        }
        String why = e.getCause() instanceof CsvParseException c ? c.getMessage() : e.getMessage();
        long line = startLine(e.getMessage());
        if (why != null && why.startsWith("The maximum buffer size")) {
            return tooLong(line);
        }
        return InputException.located(name + ":" + line + ": malformed quoted field (" + why + "); expected a"
            + " field in double quotes to end at a comma or line end, with any \" inside doubled");
    }

    private InputException tooLong(long line) {
        return InputException.located(name + ":" + line + ": line longer than " + maxFieldChars
            + " characters (is this " + what + "?)");
    }

    /** FastCSV names the line a failed record started on in its message; the last row's end is the fallback. */
    private long startLine(String message) {
        String marker = "started in line ";
        int at = message == null ? -1 : message.indexOf(marker);
        if (at >= 0) {
            int end = at + marker.length();
            while (end < message.length() && Character.isDigit(message.charAt(end))) {
                end++;
            }
            try {
                return Long.parseLong(message.substring(at + marker.length(), end));
            } catch (NumberFormatException ignored) {
                // fall through
            }
        }
        return lastLine + 1;
    }

    /** Collects a record's fields as strings, and whether the last field was quoted (to find a quote not closed). */
    private static final class Cells extends AbstractBaseCsvCallbackHandler<Row> {
        private String[] fields = new String[16];
        private int count;
        boolean lastQuoted;

        @Override
        protected void handleBegin(long startingLineNumber) {
            count = 0;
            lastQuoted = false;
        }

        @Override
        protected void handleField(int fieldIdx, char[] buf, int offset, int len, boolean quoted) {
            if (count == fields.length) {
                fields = Arrays.copyOf(fields, count * 2);
            }
            fields[count++] = new String(buf, offset, len);
            lastQuoted = quoted;
        }

        @Override
        protected Row buildRecord() {
            if (getRecordType() != RecordType.DATA) {
                lastQuoted = false;
                return new Row(null, getStartingLineNumber());
            }
            return new Row(Arrays.copyOf(fields, count), getStartingLineNumber());
        }
    }

    /**
     * Remembers the last character read that is not a line break: a file whose last row ends inside a quoted field
     * (a quote never closed) does not end with a quote, which is how {@link #next()} tells it from a closed one.
     */
    private static final class LastChar extends FilterReader {
        int lastNonNewline = -1;

        LastChar(Reader in) {
            super(in);
        }

        @Override
        public int read(char[] buf, int off, int len) throws IOException {
            int n = in.read(buf, off, len);
            for (int i = off + n - 1; i >= off; i--) {
                if (buf[i] != '\n' && buf[i] != '\r') {
                    lastNonNewline = buf[i];
                    break;
                }
            }
            return n;
        }

        @Override
        public int read() throws IOException {
            int c = in.read();
            if (c >= 0 && c != '\n' && c != '\r') {
                lastNonNewline = c;
            }
            return c;
        }
    }
}

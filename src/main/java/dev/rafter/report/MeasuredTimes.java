package dev.rafter.report;

import dev.rafter.config.CsvReader;
import dev.rafter.config.InputException;
import dev.rafter.workload.Operator;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Measured operator times to set beside the simulation ({@code --measured M.csv}). A CSV with a header that names
 * {@code measured_s} and either {@code op_id} (one row per operator of the trace) or the shape columns
 * {@code kind,batch,m,n,k,elements} (one row per shape: every operator of that shape gets it, as for a GEMM sweep
 * measured on a real device). Other columns (names, notes, dtypes) are ignored. Rows that match no operator are
 * counted, not an error; two rows for the same key are.
 */
public final class MeasuredTimes implements Comparison.Measured {
    private static final String[] SHAPE = {"kind", "batch", "m", "n", "k", "elements"};

    /** Longest cell read: far beyond any name or number, small enough to fail fast on a binary file. */
    private static final int MAX_CELL_CHARS = 1 << 20;

    private final Map<Long, Double> byId = new HashMap<>();
    private final Map<String, Double> byShape = new HashMap<>();
    private final java.util.Set<Object> used = new java.util.HashSet<>();
    private final boolean shapes;

    private final String name;

    private MeasuredTimes(String name, boolean shapes) {
        this.name = name;
        this.shapes = shapes;
    }

    public static MeasuredTimes read(Path file) {
        String name = file.toString();
        // A measured file has a line per operator at most: a few hundred MB covers the longest traces.
        try (BufferedReader in = dev.rafter.config.InputFiles.newReader(file, 1L << 30)) {
            CsvReader csv = new CsvReader(in, name, MAX_CELL_CHARS, "a CSV of measured times");
            CsvReader.Row headerRow = csv.next();
            if (headerRow == null) {
                throw new InputException(name + ": file is empty, expected a CSV header with measured_s");
            }
            List<String> cols = new ArrayList<>();
            for (String c : headerRow.cells()) {
                cols.add(c.trim().toLowerCase(Locale.ROOT));
            }
            int measured = cols.indexOf("measured_s");
            if (measured < 0) {
                throw new InputException(name + ":" + headerRow.line() + ": no measured_s column (header: "
                    + String.join(",", headerRow.cells()).trim() + ")");
            }
            int id = cols.indexOf("op_id");
            int[] shape = new int[SHAPE.length];
            boolean hasShape = true;
            for (int i = 0; i < SHAPE.length; i++) {
                shape[i] = cols.indexOf(SHAPE[i]);
                hasShape &= shape[i] >= 0;
            }
            if (id < 0 && !hasShape) {
                throw new InputException(name + ":" + headerRow.line() + ": expected an op_id column or the shape"
                    + " columns " + String.join(",", SHAPE));
            }
            MeasuredTimes out = new MeasuredTimes(name, id < 0);
            CsvReader.Row row;
            while ((row = csv.next()) != null) {
                long n = row.line();
                String[] f = row.cells();
                if (f.length != cols.size()) {
                    throw new InputException(name + ":" + n + ": expected " + cols.size() + " columns, got "
                        + f.length);
                }
                double t = number(name, n, "measured_s", f[measured]);
                if (!(t > 0) || Double.isInfinite(t)) {
                    throw new InputException(name + ":" + n + ": measured_s: expected a time > 0 in seconds, got "
                        + f[measured].trim());
                }
                if (id >= 0) {
                    long key = whole(name, n, "op_id", f[id]);
                    if (out.byId.put(key, t) != null) {
                        throw new InputException(name + ":" + n + ": op_id " + key + " measured twice");
                    }
                } else {
                    StringBuilder key = new StringBuilder(f[shape[0]].trim().toLowerCase(Locale.ROOT));
                    for (int i = 1; i < SHAPE.length; i++) {
                        String cell = f[shape[i]].trim();
                        key.append(':').append(cell.isEmpty() ? 0 : whole(name, n, SHAPE[i], cell));
                    }
                    if (out.byShape.put(key.toString(), t) != null) {
                        throw new InputException(name + ":" + n + ": shape " + key + " measured twice");
                    }
                }
            }
            return out;
        } catch (NoSuchFileException e) {
            throw new InputException(name + ": file not found");
        } catch (IOException e) {
            throw new InputException(name + ": cannot read (" + e.getMessage() + ")");
        } catch (java.io.UncheckedIOException e) {
            throw new InputException(name + ": cannot read (" + e.getCause().getMessage() + ")");
        }
    }

    /** An id or a dimension: a whole number >= 0 (op_id 0.5 must not silently match op 0). */
    private static long whole(String file, long line, String column, String cell) {
        double v = number(file, line, column, cell);
        if (!(v >= 0) || v != Math.rint(v) || v >= 0x1p63) {
            throw new InputException(file + ":" + line + ": " + column + ": expected a whole number >= 0, got '"
                + cell.trim() + "'");
        }
        return (long) v;
    }

    private static double number(String file, long line, String column, String cell) {
        try {
            return dev.rafter.config.Numbers.parseDouble(cell);
        } catch (NumberFormatException e) {
            throw new InputException(file + ":" + line + ": " + column + ": expected a number, got '" + cell.trim()
                + "'");
        }
    }

    /** The measured time of an operator, or NaN when the file has none for it. */
    @Override
    public double of(Operator op) {
        Object key = shapes ? op.kind().key() + ":" + op.batch() + ":" + op.m() + ":" + op.n() + ":" + op.k() + ":"
            + op.elements() : (Object) op.id();
        Double t = shapes ? byShape.get(key) : byId.get(op.id());
        if (t == null) {
            return Double.NaN;
        }
        used.add(key);
        return t;
    }

    @Override
    public String noMatch(long operators, long firstId, long lastId) {
        int rows = shapes ? byShape.size() : byId.size();
        String expected = shapes
            ? "the kind,batch,m,n,k,elements of an operator of the run (as ops.csv lists them)"
            : "op_id values of the run's " + operators + " operators (" + firstId + " to " + lastId
                + ", as ops.csv lists them)";
        return name + ": none of its " + rows + " row" + (rows == 1 ? "" : "s") + " matches an operator; expected "
            + expected;
    }

    /** Rows of the file that matched no operator so far. */
    @Override
    public int unmatchedRows() {
        return (shapes ? byShape.size() : byId.size()) - used.size();
    }
}

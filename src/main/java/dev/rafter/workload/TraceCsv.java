package dev.rafter.workload;

import dev.rafter.config.CsvReader;
import dev.rafter.config.CsvWriter;
import dev.rafter.config.InputException;
import dev.rafter.config.InputFiles;
import dev.rafter.config.Section;
import dev.rafter.hw.DataType;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * The operator-trace CSV of DESIGN.md: written by {@code lower}, read (streaming, strictly) by {@code --trace}.
 *
 * <p>The reader is driven by the header: every {@link Column} is found by name (in any order), a required column
 * that is missing or a column it does not know is an error naming it. Cells follow RFC 4180 ({@link CsvReader}): a
 * name in double quotes may hold commas, doubled quotes and line breaks, and the writer quotes such names. It accepts
 * what real files hold: a UTF-8 byte-order mark, CRLF line ends, blank and {@code #} comment lines, and empty cells
 * where a field does not apply to the kind ({@code elements} of a GEMM; {@code batch, m, n, k} of a vector op that
 * gives {@code elements} alone). It rejects, naming the line and column: control characters (e.g. NUL bytes), lines
 * over {@link #MAX_LINE_CHARS} characters, a malformed quoted field, a vector row whose {@code m x n} disagrees with
 * {@code elements}, and dependencies on op ids that are not earlier ops of the trace.
 *
 * <p>A {@code grouped_gemm} (one kernel over groups that share n and k, each with its own rows and its own B: a
 * mixture of experts' FFN as vLLM's fused_moe runs it) writes {@code batch} = the number of groups and {@code m} =
 * each group's rows, {@code ;}-separated in group order (e.g. {@code 3;5;1} for three groups), every group at least
 * one row; {@code elements} is empty.
 */
public final class TraceCsv {
    public static final String HEADER = "op_id,name,kind,phase,layer,step,batch,m,n,k,elements,data_type,deps";

    /** What {@code lower} and {@code import} write: {@link #HEADER} and the optional mask and B-operand type. */
    public static final String WRITTEN_HEADER = HEADER + ",mask,b_data_type";

    /** Longest line read (characters): far beyond any real row, small enough to fail fast on a binary file. */
    public static final int MAX_LINE_CHARS = 1 << 20;

    /**
     * The columns the reader knows, by header name. An optional column may be absent from a file: {@code
     * measured_s}, the operator's measured time on a real device in seconds (written by {@code rafter import},
     * empty where not measured); {@code mask}, {@code causal} for an attention operator with the causal mask (empty
     * or {@code none}: no mask); {@code b_data_type}, the storage type of the B operand (weights, K and V; empty: the
     * row's {@code data_type}); {@code kernel}, the name of the library kernel that ran a GEMM (written by
     * {@code rafter import} where the profile names one Rafter reads, {@link GemmKernel#fromName}; empty: none).
     * {@link Operator} fields come from these.
     */
    public enum Column {
        OP_ID(true), NAME(true), KIND(true), PHASE(true), LAYER(true), STEP(true), BATCH(true), M(true), N(true),
        K(true), ELEMENTS(true), DATA_TYPE(true), DEPS(true), MEASURED_S(false), MASK(false), B_DATA_TYPE(false),
        KERNEL(false);

        private final boolean required;

        Column(boolean required) {
            this.required = required;
        }

        public boolean required() {
            return required;
        }

        public String key() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private static final Column[] COLUMNS = Column.values();
    private static final Column[] MATRIX_SHAPE = {Column.BATCH, Column.M, Column.N, Column.K};

    private TraceCsv() {}

    public static void writeHeader(Writer w) throws IOException {
        w.write(WRITTEN_HEADER);
        w.write('\n');
    }

    /**
     * The header with the named kernels and a trailing {@code measured_s} column (an imported trace's kernels and
     * measured times).
     */
    public static void writeHeaderWithMeasured(Writer w) throws IOException {
        w.write(WRITTEN_HEADER);
        w.write(",kernel,measured_s\n");
    }

    /** Writes one row with its named kernel (empty for none) and its measured time (an empty cell for NaN). */
    public static void writeRow(Writer w, Operator op, double measuredS) throws IOException {
        StringBuilder sb = new StringBuilder(128);
        row(sb, op);
        sb.append(',');
        if (op.kernel() != null) {
            CsvWriter.cell(sb, op.kernel().name());
        }
        sb.append(',');
        if (!Double.isNaN(measuredS)) {
            sb.append(measuredS);
        }
        sb.append('\n');
        w.write(sb.toString());
    }

    /** Writes one row; vector operators give their row shape in {@code m, n} (0 when unknown). */
    public static void writeRow(Writer w, Operator op) throws IOException {
        StringBuilder sb = new StringBuilder(96);
        row(sb, op);
        sb.append('\n');
        w.write(sb.toString());
    }

    private static void row(StringBuilder sb, Operator op) {
        sb.append(op.id()).append(',');
        CsvWriter.cell(sb, op.name()).append(',').append(op.kind().key()).append(',')
            .append(op.phase().key()).append(',').append(op.layer()).append(',').append(op.step()).append(',')
            .append(op.batch()).append(',');
        if (op.kind() == OpKind.GROUPED_GEMM && !op.segments().isEmpty()) {
            for (int g = 0; g < op.segments().size(); g++) {
                sb.append(g > 0 ? ";" : "").append(op.segments().get(g).m());
            }
        } else {
            sb.append(op.m());
        }
        sb.append(',').append(op.n()).append(',').append(op.k())
            .append(',').append(op.elements()).append(',').append(op.dataType().key()).append(',');
        for (int i = 0; i < op.deps().length; i++) {
            if (i > 0) {
                sb.append(';');
            }
            sb.append(op.deps()[i]);
        }
        sb.append(',').append(op.causal() ? "causal" : "").append(',');
        if (op.operandBType() != op.dataType()) {
            sb.append(op.operandBType().key());
        }
    }

    /** Whether the trace's header has a {@code measured_s} column (false for a file that is not a trace CSV). */
    public static boolean hasMeasuredColumn(Path file) {
        try (BufferedReader r = InputFiles.newReader(file, Long.MAX_VALUE)) {
            CsvReader.Row header = new CsvReader(r, file.toString(), MAX_LINE_CHARS, "a trace CSV").next();
            if (header == null) {
                return false;
            }
            for (String c : header.cells()) {
                if (c.strip().equals(Column.MEASURED_S.key())) {
                    return true;
                }
            }
            return false;
        } catch (IOException | UncheckedIOException | InputException e) {
            return false; // the reader reports what is wrong with the file when it reads it
        }
    }

    /** Streams the operators of a trace file to {@code out}, rejecting the first bad line with file:line. */
    public static long read(Path file, Consumer<Operator> out) {
        return read(file, out, null);
    }

    /**
     * As {@link #read(Path, Consumer)}; {@code measured}, when given, also receives each operator with its
     * {@code measured_s} (NaN when the file has no such column or the cell is empty), before {@code out} does.
     */
    public static long read(Path file, Consumer<Operator> out, java.util.function.ObjDoubleConsumer<Operator> measured) {
        String name = file.toString();
        try (BufferedReader r = InputFiles.newReader(file, Long.MAX_VALUE)) {
            CsvReader csv = new CsvReader(r, name, MAX_LINE_CHARS, "a trace CSV");
            CsvReader.Row header = csv.next();
            if (header == null) {
                throw InputException.located(name + ": empty trace, expected the header '" + HEADER + "'");
            }
            Rows rows;
            try {
                rows = new Rows(header.cells());
            } catch (InputException e) {
                throw e.at(name + ":" + header.line());
            }
            long count = 0;
            CsvReader.Row row;
            while ((row = csv.next()) != null) {
                Operator op;
                try {
                    op = rows.parse(row.cells());
                } catch (InputException e) {
                    throw e.at(name + ":" + row.line());
                }
                if (measured != null) {
                    measured.accept(op, rows.measured);
                }
                out.accept(op);
                count++;
            }
            if (count == 0) {
                throw InputException.located(name + ": the trace has a header but no operators");
            }
            return count;
        } catch (NoSuchFileException e) {
            throw InputException.located(name + ": file not found");
        } catch (IOException e) {
            throw InputException.located(name + ": cannot read trace (" + e.getMessage() + ")");
        } catch (UncheckedIOException e) {
            throw InputException.located(name + ": cannot read trace (" + e.getCause().getMessage() + ")");
        }
    }

    /** Parses rows against the columns of one header; remembers the ids seen so far for {@code deps}. */
    private static final class Rows {
        private final int[] index = new int[COLUMNS.length];
        private final String[] names;
        private final SeenIds seen = new SeenIds();
        private long lastId = -1;
        /** The last row's measured_s (NaN when absent). */
        double measured = Double.NaN;

        Rows(String[] header) {
            names = header.clone();
            controlCharacters(names, null);
            Arrays.fill(index, -1);
            for (int i = 0; i < names.length; i++) {
                String n = names[i].strip();
                names[i] = n;
                Column c = column(n);
                if (c == null) {
                    throw new InputException("expected the header '" + HEADER + "': unknown column '" + n + "'");
                }
                if (index[c.ordinal()] >= 0) {
                    throw new InputException("expected the header '" + HEADER + "': column '" + n
                        + "' appears twice");
                }
                index[c.ordinal()] = i;
            }
            for (Column c : COLUMNS) {
                if (c.required() && index[c.ordinal()] < 0) {
                    throw new InputException("expected the header '" + HEADER + "': column '" + c.key()
                        + "' is missing");
                }
            }
        }

        private static Column column(String name) {
            for (Column c : COLUMNS) {
                if (c.key().equals(name)) {
                    return c;
                }
            }
            return null;
        }

        /**
         * Control characters (e.g. NUL bytes) are rejected naming the column; tab is kept, and so are line breaks,
         * which a cell can only hold in quotes (an operator name read from a profile).
         */
        private static void controlCharacters(String[] cells, String[] columnNames) {
            for (int column = 0; column < cells.length; column++) {
                String cell = cells[column];
                for (int i = 0; i < cell.length(); i++) {
                    char ch = cell.charAt(i);
                    if (ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r' || ch == 0x7f) {
                        String what = ch == 0 ? "a NUL byte"
                            : String.format(java.util.Locale.ROOT, "a control character (U+%04X)", (int) ch);
                        if (columnNames == null) {
                            throw new InputException("the header contains " + what);
                        }
                        String where = column < columnNames.length ? columnNames[column] : "column " + (column + 1);
                        throw new InputException(where + ": contains " + what);
                    }
                }
            }
        }

        Operator parse(String[] f) {
            controlCharacters(f, names);
            if (f.length != names.length) {
                throw new InputException("expected " + names.length + " comma-separated columns ("
                    + String.join(",", names) + "), got " + f.length);
            }
            long id = nonNegative(f, Column.OP_ID);
            if (id <= lastId) {
                throw new InputException("op_id: ids must increase, got " + id + " after " + lastId);
            }
            String name = cell(f, Column.NAME);
            if (name.isEmpty()) {
                throw new InputException("name: expected a non-empty operator name");
            }
            OpKind kind = Section.parseChoice(cell(f, Column.KIND), OpKind.class,
                m -> new InputException("kind: " + m));
            Phase phase = Section.parseChoice(cell(f, Column.PHASE), Phase.class,
                m -> new InputException("phase: " + m));
            long layer = integer(f, Column.LAYER);
            if (layer < Lowering.NO_LAYER || layer > Integer.MAX_VALUE) {
                throw new InputException("layer: expected -1 (no layer) or a layer index, got " + layer);
            }
            long step = nonNegative(f, Column.STEP);
            if (phase == Phase.PREFILL && step != 0) {
                throw new InputException("step: a prefill operator has step 0 (step numbers decode steps), got "
                    + step);
            }
            // Shape cells may be empty where they do not apply to the kind: empty reads as 0 ("not given").
            long batch = shape(f, Column.BATCH);
            long[] groupRows = kind == OpKind.GROUPED_GEMM ? groupRows(cell(f, Column.M), batch) : null;
            long m = groupRows != null ? Arrays.stream(groupRows).max().getAsLong() : shape(f, Column.M);
            long n = shape(f, Column.N);
            long k = shape(f, Column.K);
            long elements = shape(f, Column.ELEMENTS);
            DataType dt = Section.parseChoice(cell(f, Column.DATA_TYPE), DataType.class,
                e -> new InputException("data_type: " + e));
            long[] deps = deps(cell(f, Column.DEPS), id);
            measured = measuredSeconds(f);
            // Bounds far beyond any real operator that keep every derived count inside Java's int range.
            within("batch", batch, MAX_BATCH);
            within("m", m, kind.isVector() ? MAX_ELEMENTS : MAX_DIMENSION);
            within("n", n, MAX_DIMENSION);
            within("k", k, MAX_DIMENSION);
            within("elements", elements, MAX_ELEMENTS);
            switch (kind) {
                case GEMM, GROUPED_GEMM, ATTENTION, FLASH_ATTENTION -> {
                    if (!kind.isAttention() && elements != 0) {
                        throw new InputException("elements: does not apply to kind " + kind.key() + " (its size is "
                            + "batch, m, n, k); expected it empty or 0, got " + elements);
                    }
                    long[] dims = {batch, m, n, k};
                    for (int i = 0; i < dims.length; i++) {
                        if (dims[i] <= 0) {
                            throw new InputException(MATRIX_SHAPE[i].key() + ": must be > 0 for kind " + kind.key());
                        }
                    }
                    if (kind.isAttention() && elements > 0 && (m % elements != 0 || elements > n)) {
                        throw new InputException("elements: the query tokens of an attention must divide m (" + m
                            + ") and not exceed n (" + n + "), got " + elements);
                    }
                }
                case ALL_REDUCE, ALL_GATHER, REDUCE_SCATTER, ALL_TO_ALL -> {
                    if (elements <= 0 || n < 2) {
                        throw new InputException(kind.key() + " needs elements > 0 and n (devices) >= 2");
                    }
                }
                default -> elements = vectorElements(kind, m, n, elements);
            }
            lastId = id;
            seen.add(id);
            boolean causal = causal(f, kind);
            DataType bType = optionalType(f, dt);
            if (groupRows != null) {
                Operator grouped = Operator.groupedGemm(id, name, phase, (int) layer,
                    (int) Math.min(step, Integer.MAX_VALUE), groupRows, n, k, dt, bType);
                return new Operator(id, name, kind, phase, grouped.layer(), grouped.step(), batch, m, n, k, 0, dt,
                    deps, false, bType, grouped.segments());
            }
            Operator op = new Operator(id, name, kind, phase, (int) layer, (int) Math.min(step, Integer.MAX_VALUE),
                batch, m, n, k, elements, dt, deps, causal, bType);
            GemmKernel kernel = kernel(f, kind);
            return kernel == null ? op : op.withKernel(kernel);
        }

        /** The optional kernel cell: empty, or the name of a GEMM kernel Rafter reads, on a gemm row. */
        private GemmKernel kernel(String[] f, OpKind kind) {
            int i = index[Column.KERNEL.ordinal()];
            if (i < 0 || f[i].isBlank()) {
                return null;
            }
            String v = f[i].strip();
            if (kind != OpKind.GEMM) {
                throw new InputException("kernel: only a gemm names the kernel that ran it, not " + kind.key());
            }
            GemmKernel kernel = GemmKernel.fromName(v);
            if (kernel == null) {
                throw new InputException("kernel: expected a cuBLAS sm<A>_xmma_gemm_..._tilesize<M>x<N>x<K>_... or "
                    + "CUTLASS cutlass_<A>_..._<M>x<N>_<K>x<stages>_<layout>_align<a> name, got '" + v + "'");
            }
            return kernel;
        }

        /** The optional mask cell: causal, or none / empty. Only attention kinds take a mask. */
        private boolean causal(String[] f, OpKind kind) {
            int i = index[Column.MASK.ordinal()];
            String v = i < 0 ? "" : f[i].strip();
            if (v.isEmpty() || v.equals("none")) {
                return false;
            }
            if (!v.equals("causal")) {
                throw new InputException("mask: expected causal, none or empty, got '" + v + "'");
            }
            if (!kind.isAttention()) {
                throw new InputException("mask: causal applies to attention and flash_attention only, not "
                    + kind.key());
            }
            return true;
        }

        /** The optional b_data_type cell: empty means the row's data type. */
        private DataType optionalType(String[] f, DataType dt) {
            int i = index[Column.B_DATA_TYPE.ordinal()];
            if (i < 0 || f[i].isBlank()) {
                return dt;
            }
            return Section.parseChoice(f[i].strip(), DataType.class, e -> new InputException("b_data_type: " + e));
        }

        /** The optional measured_s cell: NaN when the column is absent or the cell empty, else a time > 0. */
        private double measuredSeconds(String[] f) {
            int i = index[Column.MEASURED_S.ordinal()];
            if (i < 0 || f[i].isBlank()) {
                return Double.NaN;
            }
            double t;
            try {
                t = dev.rafter.config.Numbers.parseDouble(f[i].strip());
            } catch (NumberFormatException e) {
                throw new InputException("measured_s: expected a time in seconds, got '" + f[i].strip() + "'");
            }
            if (!(t > 0) || Double.isInfinite(t)) {
                throw new InputException("measured_s: expected a time > 0 in seconds, got '" + f[i].strip() + "'");
            }
            return t;
        }

        /** A vector op's elements: m x n when it gives its row shape (and elements, if given, must agree). */
        private static long vectorElements(OpKind kind, long m, long n, long elements) {
            if (m == 0 && n == 0) {
                if (elements <= 0) {
                    throw new InputException("elements: must be > 0 for kind " + kind.key()
                        + " (or give the row shape m rows of n)");
                }
                return elements;
            }
            if (m == 0 || n == 0) {
                throw new InputException((m == 0 ? "m" : "n") + ": a vector op's row shape needs both m (rows) and"
                    + " n (row length) > 0, or neither");
            }
            if (m > MAX_ELEMENTS / n) {
                throw new InputException("m: " + m + " rows of " + n + " is beyond the supported " + MAX_ELEMENTS
                    + " elements");
            }
            if (elements != 0 && elements != m * n) {
                throw new InputException("elements: " + elements + " disagrees with m x n = " + m + " x " + n
                    + " = " + m * n);
            }
            return m * n;
        }

        private String cell(String[] f, Column c) {
            return f[index[c.ordinal()]].strip();
        }

        private long integer(String[] f, Column c) {
            String text = cell(f, c);
            try {
                return dev.rafter.config.Numbers.parseLong(text);
            } catch (NumberFormatException e) {
                throw new InputException(c.key() + ": expected an integer, got '" + text + "'");
            }
        }

        private long nonNegative(String[] f, Column c) {
            long v = integer(f, c);
            if (v < 0) {
                throw new InputException(c.key() + ": expected an integer >= 0, got " + v);
            }
            return v;
        }

        /** A shape cell: an integer >= 0, or empty (0) where it does not apply to the kind. */
        private long shape(String[] f, Column c) {
            String text = cell(f, c);
            if (text.isEmpty()) {
                return 0;
            }
            long v;
            try {
                v = dev.rafter.config.Numbers.parseLong(text);
            } catch (NumberFormatException e) {
                throw new InputException(c.key() + ": expected an integer, got '" + text + "'");
            }
            if (v < 0) {
                throw new InputException(c.key() + ": expected an integer >= 0, got " + v);
            }
            return v;
        }

        /**
         * A grouped GEMM's m cell: {@code groups} rows counts, {@code ;}-separated, each at least 1 (checked here so
         * the message names the cell, not a group).
         */
        private static long[] groupRows(String text, long groups) {
            String[] parts = text.split(";", -1);
            if (groups <= 0 || parts.length != groups) {
                throw new InputException("m: a grouped_gemm gives each of its batch (" + groups + ") groups' rows, "
                    + "';'-separated (e.g. 3;5;1), got '" + text + "'");
            }
            long[] rows = new long[parts.length];
            for (int g = 0; g < parts.length; g++) {
                try {
                    rows[g] = dev.rafter.config.Numbers.parseLong(parts[g].strip());
                } catch (NumberFormatException e) {
                    rows[g] = -1;
                }
                if (rows[g] < 1 || rows[g] > MAX_DIMENSION) {
                    throw new InputException("m: group " + g + " of the grouped_gemm expected rows from 1 to "
                        + MAX_DIMENSION + ", got '" + parts[g].strip() + "'");
                }
            }
            return rows;
        }

        private long[] deps(String t, long id) {
            if (t.isEmpty()) {
                return Operator.NO_DEPS;
            }
            String[] parts = t.split(";", -1);
            long[] deps = new long[parts.length];
            for (int i = 0; i < parts.length; i++) {
                try {
                    deps[i] = dev.rafter.config.Numbers.parseLong(parts[i].strip());
                } catch (NumberFormatException e) {
                    throw new InputException("deps: expected ';'-separated op ids, got '" + t + "'");
                }
                if (deps[i] < 0 || deps[i] >= id) {
                    throw new InputException("deps: op " + deps[i] + " is not an earlier op of this trace");
                }
                if (!seen.contains(deps[i])) {
                    throw new InputException("deps: op " + deps[i] + " is not an op of this trace");
                }
            }
            return deps;
        }
    }

    /** The op ids read so far (strictly increasing), kept as ranges of consecutive ids: one range for most traces. */
    private static final class SeenIds {
        private long[] starts = new long[8];
        private long[] ends = new long[8];
        private int ranges;

        void add(long id) {
            if (ranges > 0 && ends[ranges - 1] == id - 1) {
                ends[ranges - 1] = id;
                return;
            }
            if (ranges == starts.length) {
                starts = Arrays.copyOf(starts, ranges * 2);
                ends = Arrays.copyOf(ends, ranges * 2);
            }
            starts[ranges] = id;
            ends[ranges] = id;
            ranges++;
        }

        boolean contains(long id) {
            int lo = 0;
            int hi = ranges - 1;
            while (lo <= hi) {
                int mid = (lo + hi) >>> 1;
                if (ends[mid] < id) {
                    lo = mid + 1;
                } else if (starts[mid] > id) {
                    hi = mid - 1;
                } else {
                    return true;
                }
            }
            return false;
        }
    }

    static final long MAX_BATCH = 1L << 20;
    static final long MAX_DIMENSION = 1L << 24;
    static final long MAX_ELEMENTS = 1L << 44;

    private static void within(String column, long value, long max) {
        if (value > max) {
            throw new InputException(column + ": " + value + " is beyond the supported " + max);
        }
    }
}

package dev.rafter.workload;

import dev.rafter.config.InputException;
import dev.rafter.config.Section;
import dev.rafter.hw.DataType;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.function.Consumer;

/** The operator-trace CSV of DESIGN.md: written by {@code lower}, read (streaming, strictly) by {@code --trace}. */
public final class TraceCsv {
    public static final String HEADER = "op_id,name,kind,phase,layer,step,batch,m,n,k,elements,data_type,deps";
    private static final String[] COLUMNS = HEADER.split(",");

    private TraceCsv() {}

    public static void writeHeader(Writer w) throws IOException {
        w.write(HEADER);
        w.write('\n');
    }

    public static void writeRow(Writer w, Operator op) throws IOException {
        StringBuilder sb = new StringBuilder(96);
        sb.append(op.id()).append(',').append(op.name()).append(',').append(op.kind().key()).append(',')
            .append(op.phase().key()).append(',').append(op.layer()).append(',').append(op.step()).append(',')
            .append(op.batch()).append(',').append(op.m()).append(',').append(op.n()).append(',').append(op.k())
            .append(',').append(op.elements()).append(',').append(op.dataType().key()).append(',');
        for (int i = 0; i < op.deps().length; i++) {
            if (i > 0) {
                sb.append(';');
            }
            sb.append(op.deps()[i]);
        }
        sb.append('\n');
        w.write(sb.toString());
    }

    /** Streams the operators of a trace file to {@code out}, rejecting the first bad line with file:line. */
    public static long read(Path file, Consumer<Operator> out) {
        String name = file.toString();
        try (BufferedReader r = Files.newBufferedReader(file)) {
            String header = r.readLine();
            if (header == null) {
                throw new InputException(name + ": empty trace, expected the header '" + HEADER + "'");
            }
            if (!header.strip().equals(HEADER)) {
                throw new InputException(name + ":1: expected the header '" + HEADER + "'");
            }
            long lineNo = 1;
            long count = 0;
            long lastId = -1;
            String line;
            while ((line = r.readLine()) != null) {
                lineNo++;
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                Operator op;
                try {
                    op = parse(line, lastId);
                } catch (InputException e) {
                    throw e.at(name + ":" + lineNo);
                }
                lastId = op.id();
                out.accept(op);
                count++;
            }
            if (count == 0) {
                throw new InputException(name + ": the trace has a header but no operators");
            }
            return count;
        } catch (NoSuchFileException e) {
            throw new InputException(name + ": file not found");
        } catch (IOException e) {
            throw new InputException(name + ": cannot read trace (" + e.getMessage() + ")");
        } catch (UncheckedIOException e) {
            throw new InputException(name + ": cannot read trace (" + e.getCause().getMessage() + ")");
        }
    }

    static Operator parse(String line, long lastId) {
        String[] f = line.split(",", -1);
        if (f.length != COLUMNS.length) {
            throw new InputException("expected " + COLUMNS.length + " comma-separated columns (" + HEADER + "), got "
                + f.length);
        }
        long id = integer(f, 0);
        if (id <= lastId) {
            throw new InputException("op_id: ids must increase, got " + id + " after " + lastId);
        }
        String name = f[1].strip();
        if (name.isEmpty()) {
            throw new InputException("name: expected a non-empty operator name");
        }
        OpKind kind = Section.parseChoice(f[2].strip(), OpKind.class, m -> new InputException("kind: " + m));
        Phase phase = Section.parseChoice(f[3].strip(), Phase.class, m -> new InputException("phase: " + m));
        long layer = integer(f, 4);
        if (layer < Lowering.NO_LAYER || layer > Integer.MAX_VALUE) {
            throw new InputException("layer: expected -1 (no layer) or a layer index, got " + layer);
        }
        long step = nonNegative(f, 5);
        long batch = nonNegative(f, 6);
        long m = nonNegative(f, 7);
        long n = nonNegative(f, 8);
        long k = nonNegative(f, 9);
        long elements = nonNegative(f, 10);
        DataType dt = Section.parseChoice(f[11].strip(), DataType.class, e -> new InputException("data_type: " + e));
        long[] deps = deps(f[12], id);
        // Bounds far beyond any real operator that keep every derived count inside Java's int range.
        within("batch", batch, MAX_BATCH);
        within("m", m, MAX_DIMENSION);
        within("n", n, MAX_DIMENSION);
        within("k", k, MAX_DIMENSION);
        within("elements", elements, MAX_ELEMENTS);
        switch (kind) {
            case GEMM, ATTENTION -> {
                for (int i = 6; i <= 9; i++) {
                    if (Long.parseLong(f[i].strip()) <= 0) {
                        throw new InputException(COLUMNS[i] + ": must be > 0 for kind " + kind.key());
                    }
                }
            }
            case ALL_REDUCE -> {
                if (elements <= 0 || n < 2) {
                    throw new InputException("all_reduce needs elements > 0 and n (devices) >= 2");
                }
            }
            default -> {
                if (elements <= 0) {
                    throw new InputException("elements: must be > 0 for kind " + kind.key());
                }
            }
        }
        return new Operator(id, name, kind, phase, (int) layer, (int) Math.min(step, Integer.MAX_VALUE), batch, m, n,
            k, elements, dt, deps);
    }

    static final long MAX_BATCH = 1L << 20;
    static final long MAX_DIMENSION = 1L << 24;
    static final long MAX_ELEMENTS = 1L << 44;

    private static void within(String column, long value, long max) {
        if (value > max) {
            throw new InputException(column + ": " + value + " is beyond the supported " + max);
        }
    }

    private static long integer(String[] f, int column) {
        String text = f[column].strip();
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new InputException(COLUMNS[column] + ": expected an integer, got '" + text + "'");
        }
    }

    private static long nonNegative(String[] f, int column) {
        long v = integer(f, column);
        if (v < 0) {
            throw new InputException(COLUMNS[column] + ": expected an integer >= 0, got " + v);
        }
        return v;
    }

    private static long[] deps(String text, long id) {
        String t = text.strip();
        if (t.isEmpty()) {
            return Operator.NO_DEPS;
        }
        String[] parts = t.split(";");
        long[] deps = new long[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                deps[i] = Long.parseLong(parts[i].strip());
            } catch (NumberFormatException e) {
                throw new InputException("deps: expected ';'-separated op ids, got '" + t + "'");
            }
            if (deps[i] < 0 || deps[i] >= id) {
                throw new InputException("deps: op " + deps[i] + " is not an earlier op of this trace");
            }
        }
        return deps;
    }
}

package dev.rafter.sim.trace;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import dev.rafter.workload.Operator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;

/**
 * Writes Chrome trace-event JSON (opens in ui.perfetto.dev) event by event: metadata, slices, operators and counter
 * points, with times in microseconds at picosecond resolution. One writer serves a device's trace
 * ({@link PerfettoSink}) and a system's (one process per device and one for the fabric), so both files read alike.
 */
public final class TraceEventWriter {
    /**
     * Escapes names for JSON strings completely (quote, backslash, every control character), so a name read from a
     * profile cannot break the file; plain names come out unchanged.
     */
    private static final JsonStringEncoder JSON = JsonStringEncoder.getInstance();

    private final Writer out;
    private final StringBuilder line = new StringBuilder(160);
    private boolean first = true;

    /** Starts the document on {@code out}. */
    public TraceEventWriter(Writer out) {
        this.out = out;
        write("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
    }

    /** A metadata event: {@code process_name}, {@code process_sort_index} or {@code thread_name}. */
    public void meta(String what, int pid, int tid, String value) {
        StringBuilder arg = new StringBuilder();
        if (what.equals("process_sort_index")) {
            arg.append("\"sort_index\":").append(value);
        } else {
            JSON.quoteAsString(value, arg.append("\"name\":\""));
            arg.append('"');
        }
        event("{\"ph\":\"M\",\"name\":\"" + what + "\",\"pid\":" + pid + ",\"tid\":" + tid + ",\"args\":{" + arg
            + "}}");
    }

    /** A component's busy interval. */
    public void slice(int pid, int tid, SliceKind kind, long opId, long startPs, long endPs, long amount) {
        line.setLength(0);
        line.append("{\"ph\":\"X\",\"name\":\"").append(kind.label()).append("\",\"pid\":").append(pid)
            .append(",\"tid\":").append(tid).append(",\"ts\":");
        micros(line, startPs);
        line.append(",\"dur\":");
        micros(line, endPs - startPs);
        line.append(",\"args\":{\"op\":").append(opId).append(",\"amount\":")
            .append(amount).append("}}");
        event(line);
    }

    /** An operator's span, labelled with its id, phase and name. */
    public void operator(int pid, int tid, Operator op, long startPs, long endPs) {
        line.setLength(0);
        line.append("{\"ph\":\"X\",\"name\":\"").append(op.id()).append(' ').append(op.phase().key()).append(':');
        JSON.quoteAsString(op.name(), line);
        line.append("\",\"pid\":").append(pid).append(",\"tid\":").append(tid).append(",\"ts\":");
        micros(line, startPs);
        line.append(",\"dur\":");
        micros(line, endPs - startPs);
        line.append(",\"args\":{\"op\":").append(op.id()).append(",\"kind\":\"").append(op.kind().key())
            .append("\",\"layer\":").append(op.layer()).append(",\"step\":").append(op.step()).append("}}");
        event(line);
    }

    /** A point of a counter track: {@code value} from {@code ps} until the next point of the same name. */
    public void counter(int pid, String name, long ps, double value) {
        line.setLength(0);
        line.append("{\"ph\":\"C\",\"name\":\"");
        JSON.quoteAsString(name, line);
        line.append("\",\"pid\":").append(pid).append(",\"ts\":");
        micros(line, ps);
        line.append(",\"args\":{\"value\":").append(Double.isFinite(value) ? Double.toString(value) : "0")
            .append("}}");
        event(line);
    }

    /** Ends the JSON document. */
    public void close() {
        write("\n]}\n");
    }

    /** Appends ps as microseconds with six decimals, without String.format on the hot path. */
    private static void micros(StringBuilder sb, long ps) {
        sb.append(ps / 1_000_000).append('.');
        String frac = Long.toString(ps % 1_000_000);
        for (int i = frac.length(); i < 6; i++) {
            sb.append('0');
        }
        sb.append(frac);
    }

    private void event(CharSequence json) {
        write(first ? "" : ",\n");
        first = false;
        write(json);
    }

    private void write(CharSequence s) {
        try {
            out.append(s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

package dev.rafter.sim.trace;

import dev.rafter.sim.ClockDomain;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;

/** Streams events.csv: one row per slice, times in ps and core cycles. */
public final class CsvEventSink implements TraceSink {
    public static final String HEADER = "track,kind,core,op_id,event,start_ps,end_ps,start_cycle,end_cycle,amount";

    private final Writer out;
    private final ClockDomain core;
    private final StringBuilder line = new StringBuilder(128);

    public CsvEventSink(Writer out, ClockDomain core) {
        this.out = out;
        this.core = core;
        write(HEADER + "\n");
    }

    @Override
    public void slice(Track track, SliceKind kind, long opId, long startPs, long endPs, long amount) {
        line.setLength(0);
        line.append(track.name()).append(',').append(track.kind().name().toLowerCase(java.util.Locale.ROOT))
            .append(',').append(track.core()).append(',').append(opId).append(',').append(kind.label()).append(',')
            .append(startPs).append(',').append(endPs).append(',').append((long) Math.floor(core.cycles(startPs)))
            .append(',').append((long) Math.ceil(core.cycles(endPs))).append(',').append(amount).append('\n');
        write(line);
    }

    /** One row per operator on the track {@code operators}, with the operator's name as the event. */
    @Override
    public void operator(dev.rafter.workload.Operator op, long startPs, long endPs) {
        line.setLength(0);
        line.append("operators,operator,-1,").append(op.id()).append(',');
        dev.rafter.config.CsvWriter.cell(line, op.name()).append(',')
            .append(startPs).append(',').append(endPs).append(',').append((long) Math.floor(core.cycles(startPs)))
            .append(',').append((long) Math.ceil(core.cycles(endPs))).append(",0\n");
        write(line);
    }

    private void write(CharSequence s) {
        try {
            out.append(s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

package dev.rafter.sim.trace;

import java.util.List;

/** Forwards each slice to several sinks, in order. */
public final class TeeSink implements TraceSink {
    private final TraceSink[] sinks;

    public TeeSink(List<TraceSink> sinks) {
        this.sinks = sinks.toArray(TraceSink[]::new);
    }

    @Override
    public void slice(Track track, SliceKind kind, long opId, long startPs, long endPs, long amount) {
        for (TraceSink s : sinks) {
            s.slice(track, kind, opId, startPs, endPs, amount);
        }
    }

    @Override
    public void count(Track track, SliceKind kind, long opId, long amount) {
        for (TraceSink s : sinks) {
            s.count(track, kind, opId, amount);
        }
    }

    @Override
    public void operator(dev.rafter.workload.Operator op, long startPs, long endPs) {
        for (TraceSink s : sinks) {
            s.operator(op, startPs, endPs);
        }
    }

    @Override
    public boolean wants(long opId) {
        for (TraceSink s : sinks) {
            if (s.wants(opId)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void close() {
        for (TraceSink s : sinks) {
            s.close();
        }
    }
}

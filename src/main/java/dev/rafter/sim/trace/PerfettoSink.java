package dev.rafter.sim.trace;

import java.io.Writer;
import java.util.List;

/**
 * Streams Chrome trace-event JSON (opens in ui.perfetto.dev): one process per core plus one for the memory
 * system, one thread (track) per PE array, DMA slot, HBM channel, global buffer and interconnect port. Times are
 * in microseconds with picosecond resolution.
 */
public final class PerfettoSink implements TraceSink {
    private static final int MEMORY_PID = 100_000;
    /** The process holding the operators track, sorted first. */
    private static final int OPERATORS_PID = 100_001;
    /** The process of the host's tracks (its CPU, and the device's waits for launches). */
    private static final int HOST_PID = 100_002;
    /** The process holding counter tracks (power), sorted after the operators. */
    private static final int COUNTERS_PID = 100_003;
    private boolean countersNamed;

    /**
     * The end of the last operator on each operators track: operators that overlap ({@code --order dependencies})
     * go to the first track free at their start, as Perfetto draws overlapping slices on one track wrongly.
     */
    private long[] operatorTrackEnds = {Long.MIN_VALUE};
    private final TraceEventWriter events;

    public PerfettoSink(Writer out, List<Track> tracks) {
        this.events = new TraceEventWriter(out);
        meta("process_name", OPERATORS_PID, 0, "operators");
        meta("process_sort_index", OPERATORS_PID, 0, "-1");
        meta("thread_name", OPERATORS_PID, 0, "operators");
        java.util.Set<Integer> named = new java.util.HashSet<>();
        for (Track t : tracks) {
            int pid = pid(t);
            if (named.add(pid)) {
                meta("process_name", pid, 0, pid == MEMORY_PID ? "memory system" : pid == HOST_PID ? "host"
                    : "core " + t.core());
                meta("process_sort_index", pid, 0, Integer.toString(pid));
            }
            meta("thread_name", pid, t.id(), t.name());
        }
    }

    private static int pid(Track t) {
        if (t.core() < 0) {
            return t.kind().name().equals("host") ? HOST_PID : MEMORY_PID;
        }
        return t.core();
    }

    private void meta(String what, int pid, int tid, String value) {
        events.meta(what, pid, tid, value);
    }

    @Override
    public void slice(Track track, SliceKind kind, long opId, long startPs, long endPs, long amount) {
        events.slice(pid(track), track.id(), kind, opId, startPs, endPs, amount);
    }

    @Override
    public void operator(dev.rafter.workload.Operator op, long startPs, long endPs) {
        // Operators arrive in the order they end, so a track is free when its last operator ended by this start.
        int tid = 0;
        while (tid < operatorTrackEnds.length && operatorTrackEnds[tid] > startPs) {
            tid++;
        }
        if (tid == operatorTrackEnds.length) {
            operatorTrackEnds = java.util.Arrays.copyOf(operatorTrackEnds, tid + 1);
            meta("thread_name", OPERATORS_PID, tid, "operators " + (tid + 1));
        }
        operatorTrackEnds[tid] = endPs;
        events.operator(OPERATORS_PID, tid, op, startPs, endPs);
    }

    /**
     * A point of a counter track (Perfetto draws it as a step graph): {@code value} from {@code ps} until the next
     * point of the same name. Counters sit in a process of their own, after the operators.
     */
    public void counter(String name, long ps, double value) {
        if (!countersNamed) {
            countersNamed = true;
            meta("process_name", COUNTERS_PID, 0, "counters");
            meta("process_sort_index", COUNTERS_PID, 0, "0");
        }
        events.counter(COUNTERS_PID, name, ps, value);
    }

    @Override
    public void close() {
        events.close();
    }
}

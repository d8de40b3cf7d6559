package dev.rafter.sim.component;

import dev.rafter.sim.Scheduler;
import dev.rafter.sim.steady.Counters;
import dev.rafter.sim.steady.Digest;
import dev.rafter.sim.steady.Frame;
import dev.rafter.sim.steady.Jump;
import dev.rafter.sim.steady.Periodic;
import dev.rafter.sim.trace.SliceKind;
import dev.rafter.sim.trace.TraceSink;
import dev.rafter.sim.trace.Track;

/**
 * One memory channel, the {@code simple} memory model. Parameters: bandwidth (bytes/s, independent of the core clock) and access latency.
 * Port: {@link #access}. Statistics (via the trace): bytes read and written, busy time. Requests queue in arrival
 * order; a request completes its access latency after its data has crossed the channel. The address is ignored.
 */
public final class SimpleChannel implements MemoryChannel, Periodic {
    private final Scheduler scheduler;
    private final TraceSink sink;
    private final Track track;
    private final Server server;
    private final long latencyPs;
    private final long[] start = new long[1];

    public SimpleChannel(Scheduler scheduler, TraceSink sink, Track track, double bytesPerSecond, long latencyPs) {
        this.scheduler = scheduler;
        this.sink = sink;
        this.track = track;
        this.server = new Server(1e12 / bytesPerSecond);
        this.latencyPs = latencyPs;
    }

    @Override
    public void access(long opId, long address, long bytes, boolean write, Runnable done) {
        scheduler.at(serve(opId, address, bytes, write, (Completion) null), done);
    }

    @Override
    public long serve(long opId, long address, long bytes, boolean write, Completion done) {
        long end = server.reserve(scheduler.now(), bytes, start);
        sink.slice(track, write ? SliceKind.HBM_WRITE : SliceKind.HBM_READ, opId, start[0], end, bytes);
        return end + latencyPs;
    }

    @Override
    public long bytesMoved() {
        return server.bytes;
    }

    /** Its whole state is when its queue frees: the address plays no part. */
    @Override
    public void digest(Frame frame, Digest out) {
        server.digest(frame, out);
    }

    @Override
    public void shift(Jump jump) {
        server.shift(jump.timePs());
    }

    @Override
    public void counters(Counters counters) {
        server.counters(counters);
    }
}

package dev.rafter.sim.component;

import dev.rafter.sim.Scheduler;
import dev.rafter.sim.message.LinkTransfer;
import dev.rafter.sim.trace.SliceKind;
import dev.rafter.sim.trace.TraceSink;
import dev.rafter.sim.trace.Track;

/**
 * One direction of a wire or a switch port: a first-come-first-served bandwidth resource. Parameters: bandwidth
 * (bytes/s). Port: {@link #serve}, a {@link LinkTransfer} arriving now. Statistics (via the trace): bytes on the
 * wire, busy time. It has no latency of its own: the latency of a wire belongs to the wiring ({@link Route}), as
 * in SST, so one link can sit on routes of different lengths.
 */
public final class Link {
    private final Scheduler scheduler;
    private final TraceSink sink;
    private final Track track;
    private final Server server;
    private final long[] start = new long[1];

    public Link(double bytesPerSecond, Scheduler scheduler, TraceSink sink, Track track) {
        if (!(bytesPerSecond > 0) || Double.isInfinite(bytesPerSecond)) {
            throw new IllegalArgumentException("link bandwidth must be positive and finite, got " + bytesPerSecond);
        }
        this.scheduler = scheduler;
        this.sink = sink;
        this.track = track;
        this.server = new Server(1e12 / bytesPerSecond);
    }

    /** Queues {@code transfer} behind what arrived before it; returns when its last byte has left. */
    long serve(LinkTransfer transfer) {
        long end = server.reserve(scheduler.now(), transfer.bytes(), start);
        sink.slice(track, SliceKind.TRANSFER, transfer.opId(), start[0], end, transfer.bytes());
        return end;
    }

    /** Bytes this link has carried (for the conservation checks). */
    public long bytesMoved() {
        return server.bytes;
    }
}

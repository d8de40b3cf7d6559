package dev.rafter.sim.component;

import dev.rafter.hw.HardwareSpec;
import dev.rafter.sim.Scheduler;
import dev.rafter.sim.message.LinkTransfer;
import dev.rafter.sim.trace.SliceKind;
import dev.rafter.sim.trace.TraceSink;
import dev.rafter.sim.trace.Track;

/**
 * The device's links to its tensor-parallel peers. Parameters: egress bandwidth (bytes/s per direction, all links
 * together). Port: {@link #send}, with the hop latency of the collective protocol in use (it belongs to the path
 * the message takes, so the caller's plan supplies it). The peers run the same program at the same time, so the
 * device's own egress stands for the whole group: what it sends in a step it also receives. Statistics (via the
 * trace): bytes on the wire, busy time.
 */
public final class DeviceLink {
    private final Scheduler scheduler;
    private final TraceSink sink;
    private final Track track;
    private final Server server;
    private final long[] start = new long[1];

    public DeviceLink(HardwareSpec.DeviceLink spec, Scheduler scheduler, TraceSink sink, Track track) {
        this.scheduler = scheduler;
        this.sink = sink;
        this.track = track;
        this.server = new Server(1e12 / spec.bytesPerSecond());
    }

    /**
     * Sends {@code transfer.bytes()} on the wire (first come, first served); {@code done} runs {@code hopPs} after
     * the last byte left, when the peers (and so this device's inbound data) have it.
     */
    public void send(LinkTransfer transfer, long hopPs, Runnable done) {
        long end = server.reserve(scheduler.now(), transfer.bytes(), start);
        sink.slice(track, SliceKind.TRANSFER, transfer.opId(), start[0], end, transfer.bytes());
        scheduler.at(end + hopPs, done);
    }

    public long bytesSent() {
        return server.bytes;
    }
}

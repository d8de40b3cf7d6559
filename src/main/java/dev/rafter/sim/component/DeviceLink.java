package dev.rafter.sim.component;

import dev.rafter.hw.HardwareSpec;
import dev.rafter.sim.Scheduler;
import dev.rafter.sim.message.LinkTransfer;
import dev.rafter.sim.trace.SliceKind;
import dev.rafter.sim.trace.TraceSink;
import dev.rafter.sim.trace.Track;

/**
 * The device's links to its tensor-parallel peers. Parameters: egress bandwidth (bytes/s, all links together),
 * per-message latency, topology. Port: {@link #send}. The peers run the same program at the same time, so the
 * device's own egress stands for the whole group: what it sends in a step it also receives. Statistics (via the
 * trace): bytes sent, busy time.
 */
public final class DeviceLink {
    private final Scheduler scheduler;
    private final TraceSink sink;
    private final Track track;
    private final Server server;
    private final long latencyPs;
    private final HardwareSpec.Topology topology;
    private final long[] start = new long[1];

    public DeviceLink(HardwareSpec.DeviceLink spec, Scheduler scheduler, TraceSink sink, Track track) {
        this.scheduler = scheduler;
        this.sink = sink;
        this.track = track;
        this.server = new Server(1e12 / spec.bytesPerSecond());
        this.latencyPs = Math.round(spec.latencyNs() * 1000);
        this.topology = spec.topology();
    }

    /** Sends {@code bytes} to the peers; {@code done} runs when they (and so this device's inbound data) arrive. */
    public void send(LinkTransfer transfer, Runnable done) {
        long end = server.reserve(scheduler.now(), transfer.bytes(), start);
        sink.slice(track, SliceKind.TRANSFER, transfer.opId(), start[0], end, transfer.bytes());
        scheduler.at(end + latencyPs, done);
    }

    /**
     * Steps of an all-reduce over {@code devices}: a ring runs reduce-scatter then all-gather, 2 (p - 1) steps of
     * 1/p of the tensor each; fully connected links send to all peers at once, 2 steps of (p - 1)/p.
     */
    public int allReduceSteps(int devices) {
        return topology == HardwareSpec.Topology.RING ? 2 * (devices - 1) : 2;
    }

    public long allReduceStepBytes(long tensorBytes, int devices) {
        return topology == HardwareSpec.Topology.RING ? ceilDiv(tensorBytes, devices)
            : ceilDiv(tensorBytes * (devices - 1), devices);
    }

    public long bytesSent() {
        return server.bytes;
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}

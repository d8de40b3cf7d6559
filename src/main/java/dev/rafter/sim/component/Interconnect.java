package dev.rafter.sim.component;

import dev.rafter.sim.Scheduler;
import dev.rafter.sim.steady.Counters;
import dev.rafter.sim.steady.Digest;
import dev.rafter.sim.steady.Frame;
import dev.rafter.sim.steady.Jump;
import dev.rafter.sim.steady.Periodic;
import dev.rafter.sim.message.CoreTransfer;
import dev.rafter.sim.trace.SliceKind;
import dev.rafter.sim.trace.TraceSink;
import dev.rafter.sim.trace.Track;

/**
 * The global buffer's core-side bandwidth (shared by all cores) and the interconnect's per-core ports. A transfer
 * between the global buffer and a core holds the shared buffer port and the core's port at once (cut-through):
 * it ends when the slower of the two has moved its bytes, then the link latency (which belongs to the wiring)
 * elapses. Both queue first come, first served, so contention between cores emerges at the shared port.
 * Statistics (via the trace): bytes and busy time per port and at the global buffer.
 */
public final class Interconnect implements Periodic {
    private final Scheduler scheduler;
    private final TraceSink sink;
    private final Server global;
    private final Track globalTrack;
    private final Server[] ports;
    private final Track[] portTracks;
    private final long latencyPs;
    private final long[] start = new long[1];

    public Interconnect(Scheduler scheduler, TraceSink sink, double globalPsPerByte, Track globalTrack,
                        double portPsPerByte, Track[] portTracks, long latencyPs) {
        this.scheduler = scheduler;
        this.sink = sink;
        this.global = new Server(globalPsPerByte);
        this.globalTrack = globalTrack;
        this.portTracks = portTracks;
        this.ports = new Server[portTracks.length];
        for (int i = 0; i < ports.length; i++) {
            ports[i] = new Server(portPsPerByte);
        }
        this.latencyPs = latencyPs;
    }

    /** Carries a transfer between the global buffer and a core; {@code done} runs on arrival. */
    public void transfer(CoreTransfer transfer, Runnable done) {
        scheduler.at(reserve(transfer), done);
    }

    /**
     * Reserves a transfer and returns its arrival time, without an event: a caller that only needs the data by a
     * known time (a core's prefetch) saves the event.
     */
    public long reserve(CoreTransfer transfer) {
        long opId = transfer.opId();
        int core = transfer.core();
        long bytes = transfer.bytes();
        boolean store = transfer instanceof CoreTransfer.ResultStore;
        long now = scheduler.now();
        long globalEnd = global.reserve(now, bytes, start);
        sink.slice(globalTrack, SliceKind.TRANSFER, opId, start[0], globalEnd, bytes);
        Server port = ports[core];
        long portEnd = port.reserve(now, bytes, start);
        long end = Math.max(portEnd, globalEnd);
        if (end > portEnd) {
            port.reserveUntil(end);
        }
        sink.slice(portTracks[core], store ? SliceKind.STORE : SliceKind.LOAD, opId, start[0], end, bytes);
        return end + latencyPs;
    }

    @Override
    public void digest(Frame frame, Digest out) {
        global.digest(frame, out);
        for (Server p : ports) {
            p.digest(frame, out);
        }
    }

    @Override
    public void shift(Jump jump) {
        global.shift(jump.timePs());
        for (Server p : ports) {
            p.shift(jump.timePs());
        }
    }

    @Override
    public void counters(Counters counters) {
        global.counters(counters);
        for (Server p : ports) {
            p.counters(counters);
        }
    }

    public long globalBytes() {
        return global.bytes;
    }

    public long portBytes() {
        long b = 0;
        for (Server p : ports) {
            b += p.bytes;
        }
        return b;
    }
}

package dev.rafter.sim.component;

import dev.rafter.sim.component.ComponentKind.Parameter;
import dev.rafter.sim.component.ComponentKind.Placement;
import dev.rafter.sim.component.ComponentKind.Port;
import dev.rafter.sim.component.ComponentKind.Scope;
import dev.rafter.sim.component.ComponentKind.Statistic;
import dev.rafter.sim.component.ComponentKind.Utilisation;
import dev.rafter.energy.EnergyUse;
import java.util.List;
import java.util.Set;

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
    /** The declaration the catalogue reads. */
    public static final ComponentKind KIND = new ComponentKind("device_link",
        "the links to the other devices of a tensor-parallel group",
        new Placement(Scope.DEVICE, hw -> 1, (core, i) -> "device_link"),
        List.of(Parameter.number("device_link.bandwidth_gb_per_s", "GB/s", 1e-3, 1e6, null, "per device"),
            Parameter.number("device_link.latency_ns", "ns", 0, 1e9, null, "per hop, without a cost table"),
            Parameter.choice("device_link.topology", List.of("ring", "fully_connected", "switch"), null,
                "how the devices connect")),
        List.of(new Port("send", Port.Direction.IN, List.of(LinkTransfer.class), "collective hops")),
        List.of(Statistic.ofAll("bytes", "B", Statistic.Measure.AMOUNT, Statistic.Combine.SUM,
            "bytes on the wire")),
        new Utilisation("device_link", List.of("bytes"), hw -> hw.deviceLink().bytesPerSecond(), false),
        new EnergyUse("device_link", (a, c) -> 8.0 * c.count("device_link", "bytes") * a.model().linkPjPerBit()
            * 1e-12, EnergyUse.NO_LEAKAGE),
        in -> new DeviceLink(in.hardware().deviceLink(), in.scheduler(), in.sink(), in.track()));

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

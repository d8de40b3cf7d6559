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
    /**
     * A core's DMA slot: its port on the interconnect, through which tiles load into and results store from the
     * core's local buffer (so the local buffer's energy is charged here).
     */
    public static final ComponentKind CORE_PORT = new ComponentKind("dma",
        "a core's DMA slot: its interconnect port into the local buffer",
        new Placement(Scope.CORE, hw -> 1, (core, i) -> "core" + core + ".dma"),
        List.of(Parameter.number("interconnect.bytes_per_cycle", "B/cycle", 1, 1 << 20, null, "per core port"),
            Parameter.number("interconnect.latency_cycles", "cycles", 0, 1_000_000, null,
                "global buffer to core"),
            Parameter.number("core.local_buffer.capacity_kib", "KiB", 1.0 / 1024, 1 << 24, null, "local SRAM"),
            Parameter.number("core.local_buffer.bytes_per_cycle", "B/cycle", 1, 1 << 20, null,
                "local SRAM port")),
        List.of(new Port("transfer", Port.Direction.IN, List.of(CoreTransfer.class),
            "tile loads and result stores of its core")),
        List.of(Statistic.of("load_bytes", "B", Statistic.Measure.AMOUNT,
                java.util.EnumSet.complementOf(java.util.EnumSet.of(SliceKind.STORE)), Statistic.Combine.SUM,
                "bytes loaded into the core"),
            Statistic.of("store_bytes", "B", Statistic.Measure.AMOUNT, Set.of(SliceKind.STORE),
                Statistic.Combine.SUM, "result bytes stored from the core"),
            Statistic.ofAll("busy_ps", "ps", Statistic.Measure.DURATION, Statistic.Combine.BUSY_FRACTION,
                "time moving data")),
        new Utilisation("interconnect", List.of("load_bytes", "store_bytes"),
            hw -> (double) hw.cores() * hw.interconnect().bytesPerCycle() * hw.clockHz(), true),
        new EnergyUse("local_buffer", Interconnect::localBufferJ, a -> a.hardware().cores()
            * a.model().sramLeakageW(a.hardware().core().localBuffer().capacityKib()) * a.voltageRatio()),
        null);

    /**
     * The declaration the catalogue reads: the crossbar that joins the global buffer's port (its track) to the
     * cores' DMA slots (theirs), with the latency of the wire to the cores ({@link Wiring}).
     */
    public static final ComponentKind KIND = new ComponentKind("interconnect",
        "joins the global buffer's port to the cores' DMA slots; a transfer holds both at once (cut-through)",
        new Placement(Scope.DEVICE, hw -> 1, null),
        List.of(),
        List.of(new Port("transfer", Port.Direction.IN, List.of(CoreTransfer.class),
                "tile loads and result stores of the cores"),
            new Port("buffer", Port.Direction.OUT, List.of(CoreTransfer.class), "the global buffer's port"),
            new Port("cores", Port.Direction.OUT, List.of(CoreTransfer.class), "each core's DMA slot")),
        List.of(), null, null, Interconnect::build);

    private static Interconnect build(ComponentKind.Instance in) {
        dev.rafter.hw.HardwareSpec hw = in.hardware();
        return new Interconnect(in.scheduler(), in.sink(), globalPsPerByte(hw, hw.clockMhz()),
            in.peers().tracks("buffer").get(0), portPsPerByte(hw, hw.clockMhz()),
            in.peers().tracks("cores").toArray(new Track[0]), in.peers().latencyPs("cores"));
    }

    /** The global buffer's side: its bytes per cycle at {@code mhz}, as ps per byte. */
    private static double globalPsPerByte(dev.rafter.hw.HardwareSpec hw, double mhz) {
        return 1e6 / mhz / hw.globalBuffer().bytesPerCycle();
    }

    /** A core's port feeds its local buffer: the narrower of the two sets the per-core rate, as ps per byte. */
    private static double portPsPerByte(dev.rafter.hw.HardwareSpec hw, double mhz) {
        return 1e6 / mhz / Math.min(hw.interconnect().bytesPerCycle(), hw.core().localBuffer().bytesPerCycle());
    }

    /** Loads are written into the local buffer and read into the arrays; results written, then read out. */
    private static double localBufferJ(dev.rafter.energy.EnergyAccount a, EnergyUse.Counts c) {
        double write = a.model().sramWriteToRead();
        double readPjPerByte = a.model().sramReadPjPer64b(a.hardware().core().localBuffer().capacityKib()) / 8;
        double bytes = c.count("dma", "load_bytes") + c.count("dma", "store_bytes");
        return bytes * readPjPerByte * (1 + write) * a.dynamicPj();
    }

    private final Scheduler scheduler;
    private final TraceSink sink;
    private final Server global;
    private final Track globalTrack;
    private final Server[] ports;
    private final Track[] portTracks;
    private long latencyPs;
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

    /**
     * Runs the next operator's transfers at {@code at} (its operating point): the rates of {@code hw} are per
     * cycle, and so is the wire's latency to the cores ({@code latencyPs}, at that clock).
     */
    public void clock(dev.rafter.hw.HardwareSpec hw, dev.rafter.sim.ClockDomain at, long latencyPs) {
        global.rate(globalPsPerByte(hw, at.mhz()));
        for (Server p : ports) {
            p.rate(portPsPerByte(hw, at.mhz()));
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
        return reserve(transfer.opId(), transfer.core(), transfer.bytes(),
            transfer instanceof CoreTransfer.ResultStore);
    }

    /**
     * {@link #reserve(CoreTransfer)} of a core's operand load, taken apart: a core issues one per chunk, most of them
     * early in a run, while its code is still interpreted and a message object per load is paid in full.
     */
    public long reserveLoad(long opId, int core, long bytes) {
        return reserve(opId, core, bytes, false);
    }

    private long reserve(long opId, int core, long bytes, boolean store) {
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

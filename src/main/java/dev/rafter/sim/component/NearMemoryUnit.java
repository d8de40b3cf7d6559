package dev.rafter.sim.component;

import dev.rafter.energy.EnergyUse;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.hw.NearMemorySpec;
import dev.rafter.mapping.NearMemoryOffload;
import dev.rafter.sim.Scheduler;
import dev.rafter.sim.component.ComponentKind.Parameter;
import dev.rafter.sim.component.ComponentKind.Placement;
import dev.rafter.sim.component.ComponentKind.Port;
import dev.rafter.sim.component.ComponentKind.Scope;
import dev.rafter.sim.component.ComponentKind.Statistic;
import dev.rafter.sim.component.ComponentKind.Utilisation;
import dev.rafter.sim.trace.SliceKind;
import dev.rafter.sim.trace.TraceSink;
import dev.rafter.sim.trace.Track;
import java.util.List;
import java.util.Set;

/**
 * Near-memory units: a compute unit beside each channel of one memory tier (HBM-PIM, GDDR6-AiM), placed by a
 * hardware file's {@code components:} entry ({@link NearMemorySpec}). An offloaded operator's streamed operand is
 * split evenly over the units; each reads its share from its channel's arrays at the internal bandwidth while its
 * MACs run, then its vector work, and the operator ends when the unit with the largest share is done. The units work
 * in lockstep on equal shares, so one track shows them all; its slice's amount is the MACs, and the bytes read
 * inside the channels and the vector FLOPs are counted beside it. Operators queue first come first served.
 */
public final class NearMemoryUnit {
    public static final ComponentKind KIND = new ComponentKind(NearMemorySpec.KIND,
        "compute units beside each channel of a memory tier (processing near memory); decode GEMVs and attention over"
            + " the KV cache go there while faster than the cores",
        new Placement(Scope.DEVICE, null, (core, i) -> "near-memory units"),
        List.of(Parameter.file("preset", "none", "a preset with the other parameters (models/nmp/*.yaml)"),
            new Parameter("beside", "tier", Double.NaN, Double.NaN, List.of(), null,
                "the memory tier whose channels the units sit beside (one unit per channel)"),
            Parameter.number("clock_mhz", "MHz", 1, 100_000, null, "the units' clock"),
            Parameter.number("macs_per_cycle", "MACs/cycle", 0.001, 1e6, null, "per unit"),
            Parameter.number("vector_flops_per_cycle", "FLOP/cycle", 0.001, 1e6, null,
                "per unit (an attention's softmax)"),
            Parameter.number("internal_bandwidth_ratio", "x", 0.001, 1e4, null,
                "a unit's bandwidth to its channel's arrays over the channel's own"),
            Parameter.number("pj_per_mac", "pJ", 0, 1e4, null, "energy of a MAC on a unit"),
            Parameter.number("pj_per_internal_byte", "pJ/B", 0, 1e4, null,
                "energy of a byte read from the arrays into a unit"),
            Parameter.choice("offload", NearMemorySpec.OFFLOAD_CHOICES, NearMemorySpec.OFFLOAD_CHOICES.get(0),
                "operator kinds sent to the units where their roofline bound is below the cores'")),
        List.of(new Port("run", Port.Direction.IN, List.of(), "offloaded operators from the device (a call)")),
        List.of(Statistic.ofAll("busy_ps", "ps", Statistic.Measure.DURATION, Statistic.Combine.BUSY_FRACTION,
                "time the units compute"),
            Statistic.of("macs", "MACs", Statistic.Measure.AMOUNT, Set.of(SliceKind.COMPUTE), Statistic.Combine.SUM,
                "multiply-accumulates on the units"),
            Statistic.of("vector_flops", "FLOPs", Statistic.Measure.AMOUNT, Set.of(SliceKind.NEAR_MEMORY_VECTOR),
                Statistic.Combine.SUM, "vector FLOPs on the units"),
            Statistic.of("internal_bytes", "B", Statistic.Measure.AMOUNT, Set.of(SliceKind.NEAR_MEMORY_READ),
                Statistic.Combine.SUM, "bytes the units read inside their channels (not on the channels' buses)")),
        new Utilisation("near_memory", List.of("internal_bytes"),
            hw -> NearMemorySpec.of(hw).internalBytesPerS(hw), true),
        new EnergyUse("near_memory", (a, c) -> {
            NearMemorySpec spec = NearMemorySpec.of(a.hardware());
            // A vector FLOP is charged as half a MAC (one of its two operations): no figure of its own is published.
            return (c.count(NearMemorySpec.KIND, "macs") * spec.pjPerMac()
                + c.count(NearMemorySpec.KIND, "vector_flops") * spec.pjPerMac() / 2
                + c.count(NearMemorySpec.KIND, "internal_bytes") * spec.pjPerInternalByte()) * 1e-12;
        }, EnergyUse.NO_LEAKAGE),
        in -> new NearMemoryUnit(NearMemorySpec.of(in.hardware()), in.hardware(), in.track(), in.sink(),
            in.scheduler()));

    private final NearMemorySpec spec;
    private final Track track;
    private final TraceSink sink;
    private final Scheduler scheduler;
    private final double psPerInternalByte;
    private long freeAt;

    NearMemoryUnit(NearMemorySpec spec, HardwareSpec hw, Track track, TraceSink sink, Scheduler scheduler) {
        this.spec = spec;
        this.track = track;
        this.sink = sink;
        this.scheduler = scheduler;
        this.psPerInternalByte = 1e12 * spec.units() / spec.internalBytesPerS(hw);
    }

    /** Runs {@code work} of operator {@code opId} on the units; {@code done} runs when the last unit finishes. */
    public void run(long opId, NearMemoryOffload.Work work, Runnable done) {
        int units = spec.units();
        long bytes = share(work.internalBytes(), units);
        long macs = share(work.macs(), units);
        long vector = share(work.vectorFlops(), units);
        double computePs = 1e12 * (macs / spec.macsPerCycle() + vector / spec.vectorFlopsPerCycle()) / spec.clockHz();
        long duration = (long) Math.ceil(Math.max(bytes * psPerInternalByte, computePs));
        long now = scheduler.now();
        long start = Math.max(now, freeAt);
        freeAt = start + duration;
        sink.slice(track, SliceKind.COMPUTE, opId, start, freeAt, work.macs());
        sink.count(track, SliceKind.NEAR_MEMORY_READ, opId, work.internalBytes());
        if (work.vectorFlops() > 0) {
            sink.count(track, SliceKind.NEAR_MEMORY_VECTOR, opId, work.vectorFlops());
        }
        scheduler.schedule(freeAt - now, done);
    }

    /** The largest of {@code units} near-equal shares of {@code total}. */
    private static long share(long total, int units) {
        return (total + units - 1) / units;
    }
}

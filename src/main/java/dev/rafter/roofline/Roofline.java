package dev.rafter.roofline;

import dev.rafter.hw.CollectivePlan;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.mapping.NearMemoryOffload;
import dev.rafter.mapping.TensorPlacement;
import dev.rafter.mapping.TensorRole;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;

/**
 * The analytic roofline bound of an operator on a device (Williams, Waterman, Patterson 2009): compute time at
 * the peak of the unit that runs it (PE arrays for matrix kinds, at the rate of the operator's data type; vector
 * unit otherwise), memory time for the
 * minimum bytes at memory bandwidth, and the larger of the two. A collective's memory time also covers its
 * device-link transfer: the cheapest algorithm's per-call latency plus its payload at the full link bandwidth
 * ({@link CollectivePlan#lowerBoundS}); its additions are fused into the data movement (as NCCL's kernels reduce in
 * registers while copying), so it has no compute bound of its own.
 */
public final class Roofline {
    private final HardwareSpec hw;
    private final TensorPlacement.Policy placement;
    private final NearMemoryOffload nearMemory;

    public Roofline(HardwareSpec hw) {
        this(hw, TensorPlacement.FIRST_TIER);
    }

    /**
     * With memory tiers, the memory time is per tier: each operand's bytes go to the tier its role is placed on
     * (a GEMM's B operand is weights, an attention's K and V the KV cache, everything else activations), each tier
     * moves its bytes at its own bandwidth, the tiers in parallel; the slowest tier binds.
     */
    public Roofline(HardwareSpec hw, TensorPlacement.Policy placement) {
        this.hw = hw;
        this.placement = placement;
        this.nearMemory = NearMemoryOffload.of(hw, placement);
    }

    /** The device's near-memory units' offload, or null without units. */
    public NearMemoryOffload nearMemory() {
        return nearMemory;
    }

    public HardwareSpec hardware() {
        return hw;
    }

    /**
     * The operator's bound on the cores, or, on a device with near-memory units that can run it
     * ({@link NearMemoryOffload#work}), on the units where their bound is lower: this is the offload policy, so
     * an operator goes to the units while its arithmetic intensity is below where their roof crosses the cores'.
     */
    public Bound of(Operator op) {
        return of(op, 0);
    }

    /**
     * The bound of an operator that finds {@code residentBytes} of its activations in a global buffer that kept
     * them from the operators before ({@code global_buffer.keeps_contents}): those bytes do not come from memory,
     * so the memory time counts only the rest (a lower bound still: the buffer's own port is not counted).
     */
    public Bound of(Operator op, long residentBytes) {
        return withCoresBound(op, onCores(op, residentBytes));
    }

    /**
     * The bound of an operator on a device whose global buffer is write-back as well as kept between kernels: it
     * finds {@code residentBytes} of its activations there, its result stays there, and it writes {@code
     * writtenBackBytes} of evicted results to memory instead ({@link dev.rafter.mapping.L2Residency#lastWrittenBack}).
     */
    public Bound ofWritingBack(Operator op, long residentBytes, long writtenBackBytes) {
        return withCoresBound(op, onCores(op, residentBytes + op.outputBytes() - writtenBackBytes));
    }

    private Bound withCoresBound(Operator op, Bound cores) {
        NearMemoryOffload.Work w = nearMemory == null ? null : nearMemory.work(op);
        if (w == null) {
            return cores;
        }
        Bound units = new Bound(cores.flops(), cores.bytes(), nearMemory.computeS(w), nearMemory.memoryS(hw, w),
            nearMemory.spec().tier(), true);
        return units.seconds() < cores.seconds() ? units : cores;
    }

    /** The bound on the cores, {@code notFromMemory} of the operator's bytes moving no DRAM bytes. */
    private Bound onCores(Operator op, long notFromMemory) {
        double flops = op.flops();
        double bytes = op.minBytes();
        double fromMemory = bytes - notFromMemory;
        double peak = op.kind().isMatrix() ? hw.peakFlopsPerS(op.dataType()) : hw.vectorFlopsPerS();
        double compute = op.kind().isCollective() ? 0 : flops / peak;
        int streamed = placement.regionOf(streamedRole(op)).tier();
        int rest = placement.regionOf(TensorRole.ACTIVATIONS).tier();
        double memory;
        int tier;
        if (streamed == rest) {
            // One tier holds every operand (always so with one memory): all the bytes at its bandwidth.
            tier = streamed;
            memory = fromMemory / (tier == 0 ? hw.memoryBytesPerS() : tierBytesPerS(tier));
        } else {
            double streamedBytes = streamedBytes(op);
            double onStreamed = streamedBytes / tierBytesPerS(streamed);
            double onRest = (fromMemory - streamedBytes) / tierBytesPerS(rest);
            tier = onStreamed >= onRest ? streamed : rest;
            memory = Math.max(onStreamed, onRest);
        }
        if (op.kind().isCollective()) {
            memory = Math.max(memory, allReduceSeconds(op));
        }
        return new Bound(flops, bytes, compute, memory, hw.memoryTiers().get(tier).name());
    }

    private double tierBytesPerS(int tier) {
        return hw.memoryTiers().get(tier).memory().bytesPerSecond();
    }

    /** The role of the operand an operator streams beside its activations: as the mapping places its stages. */
    static TensorRole streamedRole(Operator op) {
        return switch (op.kind()) {
            case GEMM, GROUPED_GEMM -> TensorRole.WEIGHTS;
            case ATTENTION, FLASH_ATTENTION -> TensorRole.KV_CACHE;
            default -> TensorRole.ACTIVATIONS;
        };
    }

    /** The minimum bytes of that operand (of {@link Operator#minBytes}): a GEMM's B, an attention's K and V. */
    static double streamedBytes(Operator op) {
        double bb = op.operandBType().bytes();
        return switch (op.kind()) {
            case GEMM, GROUPED_GEMM -> op.batch() * (bb * (double) op.k() * op.n()); // each group's B once
            case ATTENTION, FLASH_ATTENTION -> op.batch() * (bb * 2.0 * op.n() * op.k());
            default -> 0;
        };
    }

    double allReduceSeconds(Operator op) {
        return CollectivePlan.lowerBoundS(hw.deviceLink(), op.kind().collective(),
            op.elements() * op.dataType().bytes(), (int) op.n());
    }

    /** One operator's bound. */
    /** {@code memoryTier}: the tier whose bytes over its bandwidth give {@code memoryS}. */
    /** {@code nearMemory}: the operator runs on the near-memory units beside {@code memoryTier}. */
    public record Bound(double flops, double bytes, double computeS, double memoryS, String memoryTier,
                        boolean nearMemory) {
        public Bound(double flops, double bytes, double computeS, double memoryS, String memoryTier) {
            this(flops, bytes, computeS, memoryS, memoryTier, false);
        }

        public double seconds() {
            return Math.max(computeS, memoryS);
        }

        public double intensity() {
            return bytes == 0 ? 0 : flops / bytes;
        }

        public boolean computeBound() {
            return computeS >= memoryS;
        }

        public String bound() {
            return computeBound() ? "compute" : "memory";
        }
    }
}

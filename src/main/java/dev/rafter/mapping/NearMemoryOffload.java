package dev.rafter.mapping;

import dev.rafter.hw.HardwareSpec;
import dev.rafter.hw.NearMemorySpec;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;

/**
 * What an operator would ask of a device's near-memory units ({@link NearMemorySpec}): the operand it streams from
 * the units' channels (a GEMM's weights, an attention's K and V), its MACs and vector FLOPs, and the small operand
 * the cores send down (a GEMM's activations, an attention's queries) and the result they read back over the
 * ordinary path. Whether it goes there is the roofline's choice ({@code Roofline#of}): when the units' bound is
 * below the cores', i.e. while its arithmetic intensity is below where the two roofs cross.
 */
public final class NearMemoryOffload {
    /**
     * An operator's work on the units: {@code internalBytes} read beside the arrays, {@code macs} and
     * {@code vectorFlops} computed there, {@code operandBytes} written to the units' tier first and
     * {@code resultBytes} read back after.
     */
    public record Work(long internalBytes, long macs, long vectorFlops, long operandBytes, long resultBytes) {}

    private final NearMemorySpec spec;
    private final TensorPlacement.Policy placement;

    private NearMemoryOffload(NearMemorySpec spec, TensorPlacement.Policy placement) {
        this.spec = spec;
        this.placement = placement;
    }

    /** The device's offload, or null if it has no near-memory units. */
    public static NearMemoryOffload of(HardwareSpec hw, TensorPlacement.Policy placement) {
        NearMemorySpec spec = NearMemorySpec.of(hw);
        return spec == null ? null : new NearMemoryOffload(spec, placement);
    }

    public NearMemorySpec spec() {
        return spec;
    }

    /**
     * The work of {@code op} on the units, or null where they cannot run it: a kind the policy does not offload, or
     * whose streamed operand lies on another tier than the units'.
     */
    public Work work(Operator op) {
        long b = op.dataType().bytes();
        long bb = op.operandBType().bytes();
        if (op.kind() == OpKind.GEMM && spec.offloads(NearMemorySpec.Offload.GEMV) && on(TensorRole.WEIGHTS)) {
            return new Work(op.batch() * op.k() * op.n() * bb, op.batch() * op.m() * op.n() * op.k(), 0,
                op.batch() * op.m() * op.k() * b, op.batch() * op.m() * op.n() * b);
        }
        if (op.kind().isAttention() && op.segments().isEmpty() && spec.offloads(NearMemorySpec.Offload.ATTENTION)
            && on(TensorRole.KV_CACHE)) {
            // Of its 4k + 5 FLOPs per score, 4k are the QK^T and context MACs (2 FLOPs each), 5 the softmax's.
            double flops = op.flops();
            long macs = Math.round(flops * 2.0 * op.k() / (4.0 * op.k() + 5));
            return new Work(op.batch() * 2 * op.n() * op.k() * bb, macs, Math.round(flops - 2.0 * macs),
                op.batch() * op.m() * op.k() * b, op.batch() * op.m() * op.k() * b);
        }
        return null;
    }

    private boolean on(TensorRole role) {
        return placement.regionOf(role).tier() == spec.tierIndex();
    }

    /** The units' compute time for {@code w}: MACs and vector FLOPs one after the other at the units' peaks. */
    public double computeS(Work w) {
        return 2.0 * w.macs() / spec.macFlopsPerS() + w.vectorFlops() / spec.vectorFlopsPerS();
    }

    /**
     * The units' memory time for {@code w}: the streamed operand at their internal bandwidth, or the operand and
     * result over the tier's channels, whichever is longer.
     */
    public double memoryS(HardwareSpec hw, Work w) {
        double external = hw.memoryTiers().get(spec.tierIndex()).memory().bytesPerSecond();
        return Math.max(w.internalBytes() / spec.internalBytesPerS(hw),
            (w.operandBytes() + w.resultBytes()) / external);
    }
}

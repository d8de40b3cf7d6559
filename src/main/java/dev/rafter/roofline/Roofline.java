package dev.rafter.roofline;

import dev.rafter.hw.CollectivePlan;
import dev.rafter.hw.HardwareSpec;
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

    public Roofline(HardwareSpec hw) {
        this.hw = hw;
    }

    public HardwareSpec hardware() {
        return hw;
    }

    public Bound of(Operator op) {
        double flops = op.flops();
        double bytes = op.minBytes();
        double peak = op.kind().isMatrix() ? hw.peakFlopsPerS(op.dataType()) : hw.vectorFlopsPerS();
        double compute = op.kind().isCollective() ? 0 : flops / peak;
        double memory = bytes / hw.memoryBytesPerS();
        if (op.kind().isCollective()) {
            memory = Math.max(memory, allReduceSeconds(op));
        }
        return new Bound(flops, bytes, compute, memory);
    }

    double allReduceSeconds(Operator op) {
        return CollectivePlan.lowerBoundS(hw.deviceLink(), op.kind().collective(),
            op.elements() * op.dataType().bytes(), (int) op.n());
    }

    /** One operator's bound. */
    public record Bound(double flops, double bytes, double computeS, double memoryS) {
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

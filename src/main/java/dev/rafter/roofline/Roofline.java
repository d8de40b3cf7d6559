package dev.rafter.roofline;

import dev.rafter.hw.HardwareSpec;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;

/**
 * The analytic roofline bound of an operator on a device (Williams, Waterman, Patterson 2009): compute time at
 * the peak of the unit that runs it (PE arrays for matrix kinds, vector unit otherwise), memory time for the
 * minimum bytes at memory bandwidth, and the larger of the two. An all-reduce's memory time also covers its
 * device-link transfer: 2 (p-1)/p of the tensor leaves each device (reduce-scatter then all-gather), at the
 * device's link bandwidth, plus one link latency per step (2 (p-1) steps on a ring, 2 when fully connected).
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
        double peak = op.kind().isMatrix() ? hw.peakFlopsPerS() : hw.vectorFlopsPerS();
        double compute = flops / peak;
        double memory = bytes / hw.memoryBytesPerS();
        if (op.kind() == OpKind.ALL_REDUCE) {
            memory = Math.max(memory, allReduceSeconds(op));
        }
        return new Bound(flops, bytes, compute, memory);
    }

    double allReduceSeconds(Operator op) {
        int p = (int) op.n();
        double tensorBytes = (double) op.elements() * op.dataType().bytes();
        double transfer = 2.0 * (p - 1) / p * tensorBytes / hw.deviceLink().bytesPerSecond();
        int steps = hw.deviceLink().topology() == HardwareSpec.Topology.RING ? 2 * (p - 1) : 2;
        return transfer + steps * hw.deviceLink().latencyNs() * 1e-9;
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

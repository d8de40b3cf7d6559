package dev.rafter.sim.component;

import dev.rafter.hw.HardwareSpec;
import dev.rafter.sim.ClockDomain;
import dev.rafter.sim.trace.SliceKind;
import dev.rafter.sim.trace.TraceSink;
import dev.rafter.sim.trace.Track;

/**
 * A core's vector unit. Parameters: lanes x flops per lane per cycle; it reads and writes its operands in the
 * local buffer at the buffer's bytes per cycle. Port: {@link #compute}. Statistics (via the trace): busy cycles
 * and FLOPs. A chunk takes the longer of its FLOPs at full width and its local-buffer traffic.
 */
public final class VectorUnit {
    private final int flopsPerCycle;
    private final int bufferBytesPerCycle;
    private final TraceSink sink;
    private final Track track;

    public VectorUnit(HardwareSpec.Core spec, TraceSink sink, Track track) {
        this.flopsPerCycle = spec.vectorUnit().lanes() * spec.vectorUnit().flopsPerLanePerCycle();
        this.bufferBytesPerCycle = spec.localBuffer().bytesPerCycle();
        this.sink = sink;
        this.track = track;
    }

    /** Runs {@code flops} over {@code bytes} of local-buffer traffic from {@code startPs}; returns its cycles. */
    public long compute(long opId, long startPs, long flops, long bytes, ClockDomain clock) {
        long cycles = Math.max(ceilDiv(flops, flopsPerCycle), ceilDiv(bytes, bufferBytesPerCycle));
        if (cycles > 0) {
            sink.slice(track, SliceKind.COMPUTE, opId, startPs, startPs + clock.ps(cycles), flops);
        }
        return cycles;
    }

    public static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}

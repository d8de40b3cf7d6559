package dev.rafter.sim.component;

import dev.rafter.hw.HardwareSpec;
import dev.rafter.sim.trace.SliceKind;
import dev.rafter.sim.trace.TraceSink;
import dev.rafter.sim.trace.Track;

/**
 * One systolic PE array. Parameters: rows x cols, dataflow, fold overlap, sustained fraction (from the hardware
 * model). Port: {@link #compute}. Statistics (via the trace): busy cycles and MACs. Tile timing is the SCALE-Sim
 * fold model (or its overlapped variant), exactly, issued at the array's sustained rate: a tile of F fold cycles
 * takes ceil(F / sustained fraction) cycles (F itself at the default fraction 1).
 */
public final class PeArray {
    private final HardwareSpec.PeArray spec;
    private final TraceSink sink;
    private final Track track;

    public PeArray(HardwareSpec.PeArray spec, TraceSink sink, Track track) {
        this.spec = spec;
        this.sink = sink;
        this.track = track;
    }

    /** Computes an m x n x k tile from {@code startPs}; returns its cycles (0 for an empty share). */
    public long compute(long opId, long startPs, long m, long n, long k, dev.rafter.sim.ClockDomain clock) {
        return compute(opId, startPs, m, n, k, m * n * k, clock);
    }

    /**
     * As above, counting {@code usefulMacs} in the trace: fewer than m x n x k where the tile is padded to a
     * library shape (the padding occupies the array but computes nothing anyone reads).
     */
    public long compute(long opId, long startPs, long m, long n, long k, long usefulMacs,
                        dev.rafter.sim.ClockDomain clock) {
        long cycles = spec.sustainedCycles(m, n, k);
        if (cycles > 0) {
            sink.slice(track, SliceKind.COMPUTE, opId, startPs, startPs + clock.ps(cycles), usefulMacs);
        }
        return cycles;
    }

    public Track track() {
        return track;
    }
}

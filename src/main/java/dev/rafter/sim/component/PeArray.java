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
        if (m != lastM || n != lastN || k != lastK || clock != lastClock) {
            lastCycles = spec.sustainedCycles(m, n, k);
            lastPs = clock.ps(lastCycles);
            lastM = m;
            lastN = n;
            lastK = k;
            lastClock = clock;
        }
        if (lastCycles > 0) {
            sink.slice(track, SliceKind.COMPUTE, opId, startPs, startPs + lastPs, usefulMacs);
        }
        return lastCycles;
    }

    // The last tile shape's timing: consecutive chunks nearly always have the same shape, and the fold model is
    // dozens of divisions.
    private long lastM = -1;
    private long lastN;
    private long lastK;
    private dev.rafter.sim.ClockDomain lastClock;
    private long lastCycles;
    private long lastPs;

    public Track track() {
        return track;
    }
}

package dev.rafter.sim.trace;

import java.util.Arrays;

/**
 * Forwards slices to the event sinks and, while armed, keeps those of one operator (times relative to its start)
 * so that a later operator of the same shape can emit them again, shifted, instead of being simulated. A recording
 * is abandoned (and the operator stays one to simulate) when it grows beyond its limit or holds a slice of another
 * operator.
 */
public final class SliceRecorder implements TraceSink {
    /** One operator's slices, times relative to its start. Immutable once finished. */
    public static final class Recording {
        private final Track[] tracks;
        private final SliceKind[] kinds;
        private final long[] times;
        private final long[] amounts;
        private final int size;

        private Recording(Track[] tracks, SliceKind[] kinds, long[] times, long[] amounts, int size) {
            this.tracks = tracks;
            this.kinds = kinds;
            this.times = times;
            this.amounts = amounts;
            this.size = size;
        }

        public int size() {
            return size;
        }
    }

    private final TraceSink target;
    private final int limit;
    private boolean armed;
    private long opId;
    private long originPs;
    private Track[] tracks = new Track[0];
    private SliceKind[] kinds = new SliceKind[0];
    private long[] times = new long[0];
    private long[] amounts = new long[0];
    private int size;

    /** {@code limit}: the most slices one recording keeps. */
    public SliceRecorder(TraceSink target, int limit) {
        this.target = target;
        this.limit = limit;
    }

    /** Starts recording operator {@code opId}, which began at {@code originPs}. */
    public void arm(long opId, long originPs) {
        this.armed = true;
        this.opId = opId;
        this.originPs = originPs;
        this.size = 0;
    }

    /** Ends the recording; null when it was abandoned. */
    public Recording finish() {
        if (!armed) {
            return null;
        }
        armed = false;
        return new Recording(Arrays.copyOf(tracks, size), Arrays.copyOf(kinds, size), Arrays.copyOf(times, 2 * size),
            Arrays.copyOf(amounts, size), size);
    }

    /** Stops recording without keeping anything. */
    public void disarm() {
        armed = false;
    }

    /** Emits {@code r}'s slices as operator {@code newOpId}'s, starting at {@code originPs}. */
    public void replay(Recording r, long newOpId, long originPs) {
        for (int i = 0; i < r.size; i++) {
            target.slice(r.tracks[i], r.kinds[i], newOpId, originPs + r.times[2 * i], originPs + r.times[2 * i + 1],
                r.amounts[i]);
        }
    }

    @Override
    public void slice(Track track, SliceKind kind, long sliceOpId, long startPs, long endPs, long amount) {
        target.slice(track, kind, sliceOpId, startPs, endPs, amount);
        if (!armed) {
            return;
        }
        if (sliceOpId != opId || size == limit) {
            armed = false;
            return;
        }
        if (size == tracks.length) {
            int grown = Math.min(limit, Math.max(64, size * 2));
            tracks = Arrays.copyOf(tracks, grown);
            kinds = Arrays.copyOf(kinds, grown);
            times = Arrays.copyOf(times, 2 * grown);
            amounts = Arrays.copyOf(amounts, grown);
        }
        tracks[size] = track;
        kinds[size] = kind;
        times[2 * size] = startPs - originPs;
        times[2 * size + 1] = endPs - originPs;
        amounts[size] = amount;
        size++;
    }

    @Override
    public void operator(dev.rafter.workload.Operator op, long startPs, long endPs) {
        target.operator(op, startPs, endPs);
    }

    @Override
    public boolean wants(long opId) {
        return target.wants(opId);
    }

    @Override
    public void close() {
        target.close();
    }
}

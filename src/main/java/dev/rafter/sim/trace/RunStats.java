package dev.rafter.sim.trace;

import java.util.List;

/**
 * The counting sink: always attached, it derives every figure of summary.json and ops.csv from the slices, for
 * the whole run and for the operators in progress. One operator at a time ({@link #beginOperator}) is the fast path;
 * operators that overlap ({@link #start}/{@link #finish}) each get their own sums, found by the slice's op id.
 */
public final class RunStats implements TraceSink {
    /** Sums over one interval of the run (the whole run, or one operator). */
    public static final class Sums {
        public long peBusyPs;
        public final long[] peStallPs = new long[SliceKind.values().length];
        public long macs;
        public long hbmReadBytes;
        public long hbmWriteBytes;
        public long hbmBusyPs;
        public long globalBytes;
        public long globalBusyPs;
        public long portBytes;
        public long portBusyPs;
        public long coreLoadBytes;
        public long coreStoreBytes;
        public long vectorBusyPs;
        public long vectorFlops;
        public long linkBytes;

        void add(Track track, SliceKind kind, long durationPs, long amount) {
            switch (track.kind()) {
                case PE_ARRAY -> {
                    if (kind == SliceKind.COMPUTE) {
                        peBusyPs += durationPs;
                        macs += amount;
                    } else {
                        peStallPs[kind.ordinal()] += durationPs;
                    }
                }
                case HBM_CHANNEL -> {
                    hbmBusyPs += durationPs;
                    if (kind == SliceKind.HBM_WRITE) {
                        hbmWriteBytes += amount;
                    } else {
                        hbmReadBytes += amount;
                    }
                }
                case GLOBAL_BUFFER -> {
                    globalBytes += amount;
                    globalBusyPs += durationPs;
                }
                case VECTOR_UNIT -> {
                    vectorBusyPs += durationPs;
                    vectorFlops += amount;
                }
                case DEVICE_LINK -> linkBytes += amount;
                case DMA, INTERCONNECT_PORT -> {
                    portBytes += amount;
                    portBusyPs += durationPs;
                    if (kind == SliceKind.STORE) {
                        coreStoreBytes += amount;
                    } else {
                        coreLoadBytes += amount;
                    }
                }
            }
        }

        /** {@code this + sign * other}, field by field (exact: integer sums). */
        Sums combine(Sums other, int sign) {
            long[] mine = values();
            long[] theirs = other.values();
            Sums r = new Sums();
            int[] i = {0};
            r.counters(v -> mine[i[0]] + sign * theirs[i[0]++]);
            return r;
        }

        /** The sums in {@link #counters} order. */
        private long[] values() {
            long[] out = new long[FIELDS];
            int[] i = {0};
            counters(v -> {
                out[i[0]++] = v;
                return v;
            });
            return out;
        }

        /** The number of sums: the scalar fields and the stall kinds. */
        private static final int FIELDS = 14 + SliceKind.values().length;

        /** Visits every sum, the one list of them (combining; fast-forwarding multiplies a repetition's growth). */
        void counters(dev.rafter.sim.steady.Counters c) {
            peBusyPs = c.next(peBusyPs);
            for (int i = 0; i < peStallPs.length; i++) {
                peStallPs[i] = c.next(peStallPs[i]);
            }
            macs = c.next(macs);
            hbmReadBytes = c.next(hbmReadBytes);
            hbmWriteBytes = c.next(hbmWriteBytes);
            hbmBusyPs = c.next(hbmBusyPs);
            globalBytes = c.next(globalBytes);
            globalBusyPs = c.next(globalBusyPs);
            portBytes = c.next(portBytes);
            portBusyPs = c.next(portBusyPs);
            coreLoadBytes = c.next(coreLoadBytes);
            coreStoreBytes = c.next(coreStoreBytes);
            vectorBusyPs = c.next(vectorBusyPs);
            vectorFlops = c.next(vectorFlops);
            linkBytes = c.next(linkBytes);
        }

        /** A copy of these sums. */
        public Sums copy() {
            return combine(new Sums(), 1);
        }

        /** What was added to the run's sums since {@code earlier} (a copy taken then). */
        public Sums since(Sums earlier) {
            return combine(earlier, -1);
        }

        /** The counters energy is charged for, over {@code seconds}. */
        public dev.rafter.energy.EnergyAccount.Activity activity(double seconds) {
            return new dev.rafter.energy.EnergyAccount.Activity(macs, vectorFlops, coreLoadBytes, coreStoreBytes,
                hbmReadBytes, hbmWriteBytes, linkBytes, seconds);
        }

        public long stallPs(SliceKind kind) {
            return peStallPs[kind.ordinal()];
        }
    }

    // The run's sums are earlier + current while current is counted: each slice is added once, to the running
    // operator's sums or (another operator's, e.g. a write that lands late) to earlier's.
    private Sums earlier = new Sums();
    private Sums current = new Sums();
    /** Whether current's slices are not in earlier (false for a reused operator's shared sums). */
    private boolean currentCounted = true;
    private long currentOp = -1;
    /** Operators running beside each other ({@link #start}), their sums at the same index; few at a time. */
    private long[] overlapping = new long[4];
    private Sums[] overlappingSums = new Sums[4];
    private int overlappingCount;
    private final int peArrays;

    public RunStats(List<Track> tracks) {
        this.peArrays = (int) tracks.stream().filter(t -> t.kind() == Track.Kind.PE_ARRAY).count();
    }

    /** Starts attributing slices to {@code opId}; returns the sums of the operator before it. */
    public Sums beginOperator(long opId) {
        Sums previous = current;
        fold();
        current = new Sums();
        currentCounted = true;
        currentOp = opId;
        return previous;
    }

    /** Moves the running operator's sums into earlier's (it is over). */
    private void fold() {
        if (currentCounted) {
            earlier = earlier.combine(current, 1);
            currentCounted = false;
        }
    }

    /**
     * Starts attributing slices of {@code opId} to its own sums while other operators may be running; the sums of
     * the operators already running are left as they are. {@link #finish} ends it.
     */
    public void start(long opId) {
        if (overlappingCount == overlapping.length) {
            overlapping = java.util.Arrays.copyOf(overlapping, overlappingCount * 2);
            overlappingSums = java.util.Arrays.copyOf(overlappingSums, overlappingCount * 2);
        }
        overlapping[overlappingCount] = opId;
        overlappingSums[overlappingCount++] = new Sums();
    }

    /** Ends an operator begun with {@link #start}: its sums join the run's, and are returned. */
    public Sums finish(long opId) {
        for (int i = 0; i < overlappingCount; i++) {
            if (overlapping[i] == opId) {
                Sums own = overlappingSums[i];
                earlier = earlier.combine(own, 1);
                overlappingCount--;
                overlapping[i] = overlapping[overlappingCount];
                overlappingSums[i] = overlappingSums[overlappingCount];
                overlappingSums[overlappingCount] = null;
                return own;
            }
        }
        throw new IllegalStateException("operator " + opId + " was not started");
    }

    @Override
    public void slice(Track track, SliceKind kind, long opId, long startPs, long endPs, long amount) {
        long d = endPs - startPs;
        if (opId == currentOp && currentCounted) {
            current.add(track, kind, d, amount);
            return;
        }
        for (int i = 0; i < overlappingCount; i++) {
            if (overlapping[i] == opId) {
                overlappingSums[i].add(track, kind, d, amount);
                return;
            }
        }
        earlier.add(track, kind, d, amount);
    }

    /**
     * Accounts operator {@code opId} without its slices, from a simulated twin's sums: {@code totalDelta} is what
     * the twin added to the run's total, {@code own} its own sums, which become the operator's (shared by every
     * twin: nothing adds to them, as no slice of a reused operator is counted). Exact, since every figure is a sum.
     */
    public void replay(long opId, Sums totalDelta, Sums own) {
        fold();
        currentOp = opId;
        current = own;
        earlier = earlier.combine(totalDelta, 1);
    }

    /** Visits the run's sums and the running operators'. */
    public void counters(dev.rafter.sim.steady.Counters c) {
        earlier.counters(c);
        current.counters(c);
        for (int i = 0; i < overlappingCount; i++) {
            overlappingSums[i].counters(c);
        }
    }

    /** The run's sums so far (a new object). */
    public Sums total() {
        Sums t = currentCounted ? earlier.combine(current, 1) : earlier.copy();
        for (int i = 0; i < overlappingCount; i++) {
            t = t.combine(overlappingSums[i], 1);
        }
        return t;
    }

    public Sums current() {
        return current;
    }

    public int peArrays() {
        return peArrays;
    }
}

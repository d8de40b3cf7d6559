package dev.rafter.sim.trace;

import dev.rafter.energy.EnergyUse;
import dev.rafter.sim.component.Catalogue;
import dev.rafter.sim.component.ComponentKind;
import dev.rafter.sim.component.PeArray;
import java.util.List;

/**
 * The counting sink and the statistics registry of one device: always attached, it adds every slice to the
 * statistics its track's kind declares ({@link Catalogue}), for the whole run and for the operators in progress;
 * summary.json, ops.csv and the energy account read them by name. One operator at a time ({@link #beginOperator})
 * is the fast path; operators that overlap ({@link #start}/{@link #finish}) each get their own sums, found by the
 * slice's op id.
 */
public final class RunStats implements TraceSink {
    /**
     * Sums over one interval of the run (the whole run, or one operator): one value per slot of the statistics
     * registry ({@link Catalogue}), i.e. per (component kind, statistic), over all instances of the kind.
     */
    public static final class Sums implements EnergyUse.Counts {
        private final long[] values;

        Sums(int slots) {
            this.values = new long[slots];
        }

        private Sums(long[] values) {
            this.values = values;
        }

        void add(Track track, SliceKind kind, long durationPs, long amount) {
            int k = kind.ordinal();
            values[track.durationSlot[k]] += durationPs;
            values[track.amountSlot[k]] += amount;
        }

        /** {@link #add} of a count: no duration (the PE arrays count their padded MACs with every chunk). */
        void addAmount(Track track, SliceKind kind, long amount) {
            values[track.amountSlot[kind.ordinal()]] += amount;
        }

        /** {@code this + sign * other}, slot by slot (exact: integer sums). */
        Sums combine(Sums other, int sign) {
            long[] out = java.util.Arrays.copyOf(values, Math.max(values.length, other.values.length));
            for (int i = 0; i < other.values.length; i++) {
                out[i] += sign * other.values[i];
            }
            return new Sums(out);
        }

        /**
         * {@code this + other}: in place where it fits (sums only this registry holds; saves an array per
         * operator), else as a new object.
         */
        public Sums plus(Sums other) {
            if (other.values.length > values.length) {
                return combine(other, 1);
            }
            for (int i = 0; i < other.values.length; i++) {
                values[i] += other.values[i];
            }
            return this;
        }

        /** Visits every sum (fast-forwarding multiplies a repetition's growth). */
        void counters(dev.rafter.sim.steady.Counters c) {
            for (int i = 0; i < values.length; i++) {
                values[i] = c.next(values[i]);
            }
        }

        /** The sum in registry slot {@code slot} ({@link Catalogue#slot}); 0 for a kind registered since. */
        public long at(int slot) {
            return slot < values.length ? values[slot] : 0;
        }

        /** A kind's statistic, summed over its instances. */
        public long get(ComponentKind kind, String statistic) {
            return at(Catalogue.slot(kind, statistic));
        }

        @Override
        public long count(String component, String statistic) {
            ComponentKind kind = Catalogue.kind(component);
            return kind == null ? 0 : get(kind, statistic);
        }

        /** Whether {@code other} holds the same sums, slot by slot (a slot one of them lacks counts as 0). */
        public boolean sameValues(Sums other) {
            if (other == this) {
                return true;
            }
            int n = Math.max(values.length, other.values.length);
            for (int i = 0; i < n; i++) {
                if (at(i) != other.at(i)) {
                    return false;
                }
            }
            return true;
        }

        /** A hash of the sums that agrees with {@link #sameValues} (trailing zero slots do not change it). */
        public int valuesHash() {
            int h = 1;
            int end = values.length;
            while (end > 0 && values[end - 1] == 0) {
                end--;
            }
            for (int i = 0; i < end; i++) {
                h = 31 * h + Long.hashCode(values[i]);
            }
            return h;
        }

        /** A copy of these sums. */
        public Sums copy() {
            return new Sums(values.clone());
        }

        /** What was added to the run's sums since {@code earlier} (a copy taken then). */
        public Sums since(Sums earlier) {
            return combine(earlier, -1);
        }

        /** The counts energy is charged for, over {@code seconds}. */
        public dev.rafter.energy.EnergyAccount.Activity activity(double seconds) {
            return new dev.rafter.energy.EnergyAccount.Activity(this, seconds);
        }

        /** The PE arrays' time in a stall (or idle) slice kind, summed over the arrays. */
        public long stallPs(SliceKind kind) {
            return at(PE_ARRAY_DURATION[kind.ordinal()]);
        }

        /** Where the PE arrays' slice durations count (built in: fixed once the catalogue is loaded). */
        private static final int[] PE_ARRAY_DURATION = Catalogue.slots(PeArray.KIND).duration();
    }

    // The run's sums are earlier + current while current is counted: each slice is added once, to the running
    // operator's sums or (another operator's, e.g. a write that lands late) to earlier's.
    private final int slots = Catalogue.slotCount();
    /** Held by this registry alone (never handed out), so it may grow in place. */
    private Sums earlier = new Sums(slots);
    private Sums current = new Sums(slots);
    /** Whether current's slices are not in earlier (false for a reused operator's shared sums). */
    private boolean currentCounted = true;
    private long currentOp = -1;
    /** Operators running beside each other ({@link #start}), their sums at the same index; few at a time. */
    private long[] overlapping = new long[4];
    private Sums[] overlappingSums = new Sums[4];
    private int overlappingCount;
    private final int peArrays;

    public RunStats(List<Track> tracks) {
        this.peArrays = (int) tracks.stream().filter(t -> t.kind() == PeArray.KIND).count();
    }

    /** Starts attributing slices to {@code opId}; returns the sums of the operator before it. */
    public Sums beginOperator(long opId) {
        Sums previous = current;
        fold();
        current = new Sums(slots);
        currentCounted = true;
        currentOp = opId;
        return previous;
    }

    /** Moves the running operator's sums into earlier's (it is over). */
    private void fold() {
        if (currentCounted) {
            earlier = earlier.plus(current);
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
        overlappingSums[overlappingCount++] = new Sums(slots);
    }

    /** Ends an operator begun with {@link #start}: its sums join the run's, and are returned. */
    public Sums finish(long opId) {
        for (int i = 0; i < overlappingCount; i++) {
            if (overlapping[i] == opId) {
                Sums own = overlappingSums[i];
                earlier = earlier.plus(own);
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

    /** As {@link #slice} of no duration. */
    @Override
    public void count(Track track, SliceKind kind, long opId, long amount) {
        if (opId == currentOp && currentCounted) {
            current.addAmount(track, kind, amount);
            return;
        }
        slice(track, kind, opId, 0, 0, amount);
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
        earlier = earlier.plus(totalDelta);
    }

    /**
     * Accounts part of the running operator from a simulated twin's sums (a replayed collective's memory traffic,
     * while the operator's other slices are still counted live): {@code own} joins the operator's sums and
     * {@code totalDelta} (which holds {@code own}) the run's. Exact, since every figure is a sum.
     */
    public void addReplayed(Sums totalDelta, Sums own) {
        current = current.combine(own, 1);
        earlier = earlier.plus(totalDelta.since(own));
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

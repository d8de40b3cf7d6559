package dev.rafter.sim;

import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.function.Consumer;
import nl.tudelft.simulation.dsol.SimRuntimeException;
import nl.tudelft.simulation.dsol.eventlists.EventListInterface;
import nl.tudelft.simulation.dsol.experiment.SingleReplication;
import nl.tudelft.simulation.dsol.formalisms.eventscheduling.SimEventInterface;
import nl.tudelft.simulation.dsol.model.AbstractDsolModel;
import nl.tudelft.simulation.dsol.simulators.DevsSimulator;
import org.djutils.logger.CategoryLogger;

/**
 * The only class that touches DSOL (4.3.2, pinned in the pom). It runs one replication synchronously on the
 * caller's thread, rethrows the first model exception, and never hangs: the run ends when the model's own events
 * are drained. Speed-ups measured on DSOL 4.3.2 (a 2-core machine, JDK 17): the model's events wait in a binary heap over primitive
 * arrays (time, key, action: no event object per event) in DSOL's exact order (time, then priority, then creation
 * id), beside DSOL's own list for its own events; and a {@code scheduleEvent} that skips the eager trace string
 * DSOL builds for every event.
 */
public final class Kernel implements Scheduler {
    /** DSOL's NORMAL_PRIORITY; 0 and 11 are reserved for end-of-run and warm-up. */
    private static final short PRIORITY = 5;
    /** Far beyond any run, so DSOL's own end-of-replication event never fires before the model's events. */
    private static final long RUN_LENGTH_PS = Long.MAX_VALUE / 4;

    static {
        CategoryLogger.setLogLevelAll(ch.qos.logback.classic.Level.WARN);
        CategoryLogger.setLogLevel(CategoryLogger.CAT_ALWAYS, ch.qos.logback.classic.Level.WARN);
    }

    private static final java.util.concurrent.atomic.AtomicLong RUNS = new java.util.concurrent.atomic.AtomicLong();

    private static final Object LIFECYCLE = new Object();

    private final BatchSimulator simulator;

    public Kernel() {
        synchronized (LIFECYCLE) {
            simulator = new BatchSimulator();
        }
    }
    private long now;
    private long sequence;
    private long executed;

    @Override
    public long now() {
        return now;
    }

    @Override
    public void schedule(long delayPs, Runnable action) {
        if (delayPs < 0) {
            throw new IllegalStateException("cannot schedule " + delayPs + " ps in the past");
        }
        if (delayPs > RUN_LENGTH_PS - now) {
            // A backstop behind RunLimits: a duration too long for the clock fails here, before it could wrap.
            throw dev.rafter.config.InputException.located("simulated time beyond " + RUN_LENGTH_PS + " ps (about "
                + RUN_LENGTH_PS / 1_000_000_000_000_000L + " ks), the most the simulator represents: a clock_mhz or"
                + " bandwidth far too low for the work");
        }
        model.add(now + delayPs, ((long) (15 - PRIORITY) << 58) | sequence++, action);
    }

    /**
     * Fast-forwarding: writes every pending model event in the order they will run (time, then creation), with its
     * time from now and its own digest; an event that cannot digest itself, or a pending event of DSOL's own before
     * the end of the run, makes the digest incomplete.
     */
    public void digestPending(dev.rafter.sim.steady.Frame frame, dev.rafter.sim.steady.Digest out) {
        SimEventInterface<Long> foreign = simulator.events().isEmpty() ? null : simulator.events().first();
        if (foreign != null && foreign.getAbsoluteExecutionTime() < RUN_LENGTH_PS) {
            out.opaque();
            return;
        }
        int[] order = model.inRunOrder(now);
        out.add(order.length);
        for (int i : order) {
            out.add(model.timeAt(i) - now);
            if (model.actionAt(i) instanceof dev.rafter.sim.steady.Periodic p) {
                p.digest(frame, out);
            } else {
                out.opaque();
                return;
            }
        }
    }

    /** Fast-forwarding: moves the clock and every pending event {@code jump.timePs()} later, and each event's state. */
    public void shift(dev.rafter.sim.steady.Jump jump) {
        now += jump.timePs();
        model.shiftTimes(jump.timePs());
        for (int i = 0; i < model.size(); i++) {
            ((dev.rafter.sim.steady.Periodic) model.actionAt(i)).shift(jump);
        }
    }

    /** Events executed by the last {@link #run}. */
    public long events() {
        return executed;
    }

    /**
     * Builds the model with {@code build} (which schedules its first events) and runs until no model event is
     * pending. Returns the time of the last event in ps. A model exception is rethrown as it was thrown.
     */
    public long run(Consumer<Scheduler> build) {
        now = 0;
        sequence = 0;
        executed = 0;
        model.clear();
        // DSOL keeps replications in one JVM-wide naming context that is not safe for concurrent use: parallel
        // runs (sweeps) take distinct ids and set up and tear down one at a time; only the event loop runs in
        // parallel.
        SingleReplication<Long> replication;
        synchronized (LIFECYCLE) {
            replication = new SingleReplication<>("rafter-" + RUNS.incrementAndGet(), 0L, 0L, RUN_LENGTH_PS);
        }
        try {
            synchronized (LIFECYCLE) {
                foreign = new DsolEventList();
                simulator.setEventList(foreign);
                simulator.initialize(new Model(simulator, () -> build.accept(this)), replication);
            }
            return drain();
        } finally {
            synchronized (LIFECYCLE) {
                simulator.cleanUp();
                replication.removeFromContext();
            }
        }
    }

    /**
     * Runs model events until none is left, and DSOL's own events (e.g. the warm-up at time 0) in their place;
     * DSOL's end-of-run event (far in the future) stays unrun.
     */
    private long drain() {
        DsolEventList foreign = this.foreign;
        long last = now;
        while (true) {
            // DSOL's own events are few (its end of run lies beyond every model event): one field read says none
            // is due.
            if (foreign.firstTime() < RUN_LENGTH_PS) {
                SimEventInterface<Long> f = foreign.first();
                if (model.size() == 0 || less(f.getAbsoluteExecutionTime(), foreignKey(f), model.firstTime(),
                    model.firstKey())) {
                    foreign.removeFirst();
                    f.execute();
                    continue;
                }
            }
            if (model.size() == 0) {
                break;
            }
            Runnable next = model.pollFirst();
            now = model.polledTime();
            last = now;
            executed++;
            next.run();
        }
        return last;
    }

    private DsolEventList foreign = new DsolEventList();

    private static long foreignKey(SimEventInterface<Long> e) {
        return ((long) (15 - e.getPriority()) << 58) | e.getId();
    }

    private final ModelQueue model = new ModelQueue();

    /**
     * The model's pending events in DSOL's order (time, then (15 - priority) << 58 | creation), over primitive arrays
     * with no event object per event: an event scheduled no earlier than the latest one queued in order joins a
     * sorted ring at its end (most do: a computation's end lies a fixed time after its start), any other goes into a
     * binary heap; the first event is the earlier of the two heads.
     */
    static final class ModelQueue {
        private Runnable[] actions = new Runnable[1024];
        private long[] times = new long[1024];
        private long[] keys = new long[1024];
        private int heapSize;
        private Runnable[] ringActions = new Runnable[1024];
        private long[] ringTimes = new long[1024];
        private long[] ringKeys = new long[1024];
        private int ringHead;
        private int ringSize;

        int size() {
            return heapSize + ringSize;
        }

        void add(long t, long k, Runnable action) {
            if (ringSize == 0 || t >= ringTimes[(ringHead + ringSize - 1) & (ringTimes.length - 1)]) {
                // Keys grow with creation, so an equal time sorts after the ring's last event too.
                if (ringSize == ringTimes.length) {
                    growRing();
                }
                int at = (ringHead + ringSize++) & (ringTimes.length - 1);
                ringActions[at] = action;
                ringTimes[at] = t;
                ringKeys[at] = k;
                return;
            }
            if (heapSize == actions.length) {
                actions = Arrays.copyOf(actions, heapSize * 2);
                times = Arrays.copyOf(times, heapSize * 2);
                keys = Arrays.copyOf(keys, heapSize * 2);
            }
            int i = heapSize++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (less(t, k, times[parent], keys[parent])) {
                    actions[i] = actions[parent];
                    times[i] = times[parent];
                    keys[i] = keys[parent];
                    i = parent;
                } else {
                    break;
                }
            }
            actions[i] = action;
            times[i] = t;
            keys[i] = k;
        }

        private void growRing() {
            int n = ringTimes.length;
            Runnable[] a = new Runnable[2 * n];
            long[] t = new long[2 * n];
            long[] k = new long[2 * n];
            for (int i = 0; i < ringSize; i++) {
                int from = (ringHead + i) & (n - 1);
                a[i] = ringActions[from];
                t[i] = ringTimes[from];
                k[i] = ringKeys[from];
            }
            ringActions = a;
            ringTimes = t;
            ringKeys = k;
            ringHead = 0;
        }

        private boolean ringFirst() {
            return heapSize == 0 || (ringSize > 0 && less(ringTimes[ringHead], ringKeys[ringHead],
                times[0], keys[0]));
        }

        long firstTime() {
            return ringFirst() ? ringTimes[ringHead] : times[0];
        }

        long firstKey() {
            return ringFirst() ? ringKeys[ringHead] : keys[0];
        }

        /** The time of the event {@link #pollFirst} returned last. */
        long polledTime() {
            return polledTime;
        }

        private long polledTime;

        Runnable pollFirst() {
            if (ringFirst()) {
                polledTime = ringTimes[ringHead];
                Runnable r = ringActions[ringHead];
                ringActions[ringHead] = null;
                ringHead = (ringHead + 1) & (ringTimes.length - 1);
                ringSize--;
                return r;
            }
            Runnable first = actions[0];
            polledTime = times[0];
            int n = --heapSize;
            if (n > 0) {
                Runnable e = actions[n];
                long t = times[n];
                long k = keys[n];
                actions[n] = null;
                int i = 0;
                int half = n >>> 1;
                while (i < half) {
                    int child = 2 * i + 1;
                    int right = child + 1;
                    if (right < n && less(times[right], keys[right], times[child], keys[child])) {
                        child = right;
                    }
                    if (!less(times[child], keys[child], t, k)) {
                        break;
                    }
                    actions[i] = actions[child];
                    times[i] = times[child];
                    keys[i] = keys[child];
                    i = child;
                }
                actions[i] = e;
                times[i] = t;
                keys[i] = k;
            } else {
                actions[0] = null;
            }
            return first;
        }

        /** Entry {@code i} of {@link #size} in no particular order: the heap's, then the ring's. */
        long timeAt(int i) {
            return i < heapSize ? times[i] : ringTimes[(ringHead + i - heapSize) & (ringTimes.length - 1)];
        }

        long keyAt(int i) {
            return i < heapSize ? keys[i] : ringKeys[(ringHead + i - heapSize) & (ringTimes.length - 1)];
        }

        Runnable actionAt(int i) {
            return i < heapSize ? actions[i] : ringActions[(ringHead + i - heapSize) & (ringTimes.length - 1)];
        }

        /** Moves every entry {@code dt} later (both orders stay). */
        void shiftTimes(long dt) {
            for (int i = 0; i < heapSize; i++) {
                times[i] += dt;
            }
            for (int i = 0; i < ringSize; i++) {
                ringTimes[(ringHead + i) & (ringTimes.length - 1)] += dt;
            }
        }

        void clear() {
            Arrays.fill(actions, 0, heapSize, null);
            Arrays.fill(ringActions, null);
            heapSize = 0;
            ringSize = 0;
            ringHead = 0;
        }

        /**
         * Positions of the pending events in the order they run: by time (a primitive sort of time and position
         * packed in one long where they fit), then by creation within equal times.
         */
        int[] inRunOrder(long now) {
            int n = size();
            long span = 0;
            for (int i = 0; i < n; i++) {
                span = Math.max(span, timeAt(i) - now);
            }
            Integer[] boxed = null;
            int[] order = new int[n];
            if (n >= (1 << 20) || span >= (1L << 42)) {
                boxed = new Integer[n];
                for (int i = 0; i < n; i++) {
                    boxed[i] = i;
                }
                Arrays.sort(boxed, (a, b) -> timeAt(a) != timeAt(b) ? Long.compare(timeAt(a), timeAt(b))
                    : Long.compare(keyAt(a), keyAt(b)));
                for (int i = 0; i < n; i++) {
                    order[i] = boxed[i];
                }
                return order;
            }
            long[] packed = new long[n];
            for (int i = 0; i < n; i++) {
                packed[i] = (timeAt(i) - now) << 20 | i;
            }
            Arrays.sort(packed);
            for (int i = 0; i < n; i++) {
                order[i] = (int) (packed[i] & ((1 << 20) - 1));
            }
            // Equal times: by creation (insertion sort; such runs are short).
            for (int i = 1; i < n; i++) {
                int e = order[i];
                int j = i - 1;
                while (j >= 0 && timeAt(order[j]) == timeAt(e) && keyAt(order[j]) > keyAt(e)) {
                    order[j + 1] = order[j];
                    j--;
                }
                order[j + 1] = e;
            }
            return order;
        }
    }

    private static final class Model extends AbstractDsolModel<Long, DevsSimulator<Long>> {
        private static final long serialVersionUID = 1L;
        private final transient Runnable construct;

        Model(DevsSimulator<Long> simulator, Runnable construct) {
            super(simulator);
            this.construct = construct;
        }

        @Override
        public void constructModel() throws SimRuntimeException {
            construct.run();
        }
    }

    /** DevsSimulator whose loop runs on the caller's thread. */
    private static final class BatchSimulator extends DevsSimulator<Long> {
        private static final long serialVersionUID = 1L;

        BatchSimulator() {
            super("rafter");
        }

        long now() {
            return simulatorTime == null ? 0L : simulatorTime;
        }

        EventListInterface<Long> events() {
            return eventList;
        }

        /** Skips DSOL's per-event trace string; the time check is kept. */
        @Override
        public SimEventInterface<Long> scheduleEvent(SimEventInterface<Long> event) {
            if (event.getAbsoluteExecutionTime() < now()) {
                throw new SimRuntimeException("event in the past");
            }
            eventList.add(event);
            return event;
        }

    }

    /** Whether (t1, k1) runs before (t2, k2): by time, then key. */
    static boolean less(long t1, long k1, long t2, long k2) {
        return t1 < t2 || (t1 == t2 && k1 < k2);
    }

    /**
     * DSOL's own events (its warm-up and end-of-run events: a handful), in DSOL's order by (time, (15 - priority)
     * << 58 | id), in a sorted list; the model's events never come here ({@link ModelQueue}).
     */
    static final class DsolEventList implements EventListInterface<Long> {
        private final java.util.ArrayList<SimEventInterface<Long>> events = new java.util.ArrayList<>();
        /** The first event's time, kept with every change (Long.MAX_VALUE: none). */
        private long firstTime = Long.MAX_VALUE;

        long firstTime() {
            return firstTime;
        }

        private <T> T changed(T result) {
            firstTime = events.isEmpty() ? Long.MAX_VALUE : events.get(0).getAbsoluteExecutionTime();
            return result;
        }

        @Override
        public void add(SimEventInterface<Long> event) {
            long t = event.getAbsoluteExecutionTime();
            long k = foreignKey(event);
            int i = events.size();
            while (i > 0 && less(t, k, events.get(i - 1).getAbsoluteExecutionTime(), foreignKey(events.get(i - 1)))) {
                i--;
            }
            events.add(i, event);
            changed(null);
        }

        @Override
        public SimEventInterface<Long> removeFirst() {
            if (events.isEmpty()) {
                throw new NoSuchElementException();
            }
            return changed(events.remove(0));
        }

        @Override
        public SimEventInterface<Long> first() {
            return events.isEmpty() ? null : events.get(0);
        }

        @Override
        public boolean contains(SimEventInterface<Long> event) {
            return events.contains(event);
        }

        @Override
        public boolean remove(SimEventInterface<Long> event) {
            return changed(events.remove(event));
        }

        @Override
        public void clear() {
            events.clear();
            changed(null);
        }

        @Override
        public boolean isEmpty() {
            return events.isEmpty();
        }

        @Override
        public int size() {
            return events.size();
        }

        @Override
        public Iterator<SimEventInterface<Long>> iterator() {
            return java.util.List.copyOf(events).iterator();
        }
    }
}

package dev.rafter.sim;

import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.function.Consumer;
import nl.tudelft.simulation.dsol.SimRuntimeException;
import nl.tudelft.simulation.dsol.eventlists.EventListInterface;
import nl.tudelft.simulation.dsol.experiment.Replication;
import nl.tudelft.simulation.dsol.experiment.SingleReplication;
import nl.tudelft.simulation.dsol.formalisms.eventscheduling.SimEvent;
import nl.tudelft.simulation.dsol.formalisms.eventscheduling.SimEventInterface;
import nl.tudelft.simulation.dsol.model.AbstractDsolModel;
import nl.tudelft.simulation.dsol.model.DsolModel;
import nl.tudelft.simulation.dsol.simulators.DevsSimulator;
import nl.tudelft.simulation.dsol.simulators.ReplicationState;
import nl.tudelft.simulation.dsol.simulators.RunState;
import nl.tudelft.simulation.dsol.simulators.SimulatorInterface;
import org.djutils.event.EventType;
import org.djutils.logger.CategoryLogger;

/**
 * The only class that touches DSOL (4.3.2, pinned in the pom). DSOL's own simulator loop ({@code DevsSimulator.run},
 * started by {@code runUpTo}) executes every event, on the caller's thread; the run rethrows the first model
 * exception and never hangs: it ends when the model's events are drained. Speed-ups measured on DSOL 4.3.2 (a
 * 2-core machine, JDK 17): DSOL's event list is {@link EventList}, whose model events wait in a queue over primitive
 * arrays (time, key, action: no event object per event) in DSOL's exact order (time, then priority, then creation
 * id), and which hands DSOL's loop one reused event view at a time; a {@code scheduleEvent} that skips the eager
 * trace string DSOL builds for every event; and one DSOL event per distinct time: the model events due at the time
 * DSOL's loop reached run with the first, in DSOL's order ({@link EventList#runDueAt}), so its lock, clock update
 * and two looks at the first event are paid per time, not per event (a third fewer in real runs, 57% fewer in the
 * bench's pattern).
 */
public final class Kernel implements Scheduler {
    /** DSOL's NORMAL_PRIORITY; 0 and 11 are reserved for end-of-run and warm-up. */
    private static final short PRIORITY = 5;
    /** The latest time a model event may have: far beyond any run. */
    private static final long RUN_LENGTH_PS = Long.MAX_VALUE / 4;
    /**
     * The replication's end, 1 ps after the latest model event: DSOL's loop runs up to it, not including it, so every
     * model event runs and DSOL's own end-of-replication event (which would jump the clock) never does.
     */
    private static final long END_PS = RUN_LENGTH_PS + 1;

    static {
        CategoryLogger.setLogLevelAll(ch.qos.logback.classic.Level.WARN);
        CategoryLogger.setLogLevel(CategoryLogger.CAT_ALWAYS, ch.qos.logback.classic.Level.WARN);
    }

    private static final java.util.concurrent.atomic.AtomicLong RUNS = new java.util.concurrent.atomic.AtomicLong();

    private static final Object LIFECYCLE = new Object();

    private final BatchSimulator simulator;
    private final EventList events = new EventList(this);
    private final ModelQueue model = events.model;

    public Kernel() {
        synchronized (LIFECYCLE) {
            simulator = new BatchSimulator();
            simulator.setEventList(events);
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
            throw beyondTheClock();
        }
        model.add(now + delayPs, ((long) (15 - PRIORITY) << 58) | sequence++, action);
    }

    @Override
    public long reserveOrder() {
        return ((long) (15 - PRIORITY) << 58) | sequence++;
    }

    @Override
    public void atInOrder(long timePs, long order, Runnable action) {
        if (timePs < now) {
            throw new IllegalStateException("cannot schedule at " + timePs + " ps, before now (" + now + " ps)");
        }
        model.add(timePs, order, action);
    }

    @Override
    public boolean ranBefore(long timePs, long order) {
        return less(timePs, order, now, model.polledKey());
    }

    /** Components holding deferred events ({@link #holdsDeferred}), for this run. */
    private final java.util.ArrayList<Runnable> deferring = new java.util.ArrayList<>();

    @Override
    public void holdsDeferred(Runnable schedule) {
        deferring.add(schedule);
    }

    /** Has every deferred event scheduled (or applied, where it would have run already). */
    private void scheduleDeferred() {
        for (int i = 0; i < deferring.size(); i++) {
            deferring.get(i).run();
        }
    }

    /** A backstop behind RunLimits: a duration too long for the clock fails here, before it could wrap. */
    private static RuntimeException beyondTheClock() {
        return dev.rafter.config.InputException.located("simulated time beyond " + RUN_LENGTH_PS + " ps (about "
            + RUN_LENGTH_PS / 1_000_000_000_000_000L + " ks), the most the simulator represents: a clock_mhz or"
            + " bandwidth far too low for the work");
    }

    /**
     * Fast-forwarding: writes every pending model event in the order they will run (time, then creation), with its
     * time from now and its own digest; an event that cannot digest itself, or a pending event of DSOL's own before
     * the end of the run, makes the digest incomplete.
     */
    public void digestPending(dev.rafter.sim.steady.Frame frame, dev.rafter.sim.steady.Digest out) {
        scheduleDeferred();
        if (events.dsolFirstTime() < END_PS) {
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
        scheduleDeferred();
        long latest = now;
        for (int i = 0; i < model.size(); i++) {
            latest = Math.max(latest, model.timeAt(i));
        }
        // DSOL's loop stops at the end of the replication: no event may be moved past it.
        if (jump.timePs() > RUN_LENGTH_PS - latest) {
            throw beyondTheClock();
        }
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
        SingleReplication<Long> replication = start(build);
        try {
            simulator.runUpTo(END_PS);
            Exception failure = simulator.failure;
            if (failure != null) {
                throw Kernel.<RuntimeException>rethrow(failure);
            }
            return now;
        } finally {
            simulator.failure = null;
            release(replication);
        }
    }

    /** A fresh replication with the model built by {@code build}, ready to run (released again if building fails). */
    private SingleReplication<Long> start(Consumer<Scheduler> build) {
        now = 0;
        sequence = 0;
        executed = 0;
        deferring.clear();
        // DSOL keeps replications in one JVM-wide naming context that is not safe for concurrent use: parallel
        // runs (sweeps, threads simulating ahead) take distinct ids and enter and leave it one at a time.
        SingleReplication<Long> replication;
        synchronized (LIFECYCLE) {
            replication = new SingleReplication<>("rafter-" + RUNS.incrementAndGet(), 0L, 0L, END_PS);
        }
        try {
            // Clears the event list, then builds the model, then queues DSOL's own warm-up and end-of-replication
            // events (BatchSimulator.initialize: no shared state, so kernels on other threads set up meanwhile).
            simulator.initialize(new Model(simulator, () -> build.accept(this)), replication);
        } catch (RuntimeException | Error e) {
            release(replication);
            throw e;
        }
        return replication;
    }

    /**
     * Builds the model with {@code build} and hands back a stepping run: the caller runs the model's events one at a
     * time ({@link Stepping#runNext}) and may schedule more on this kernel between them, so that another loop can
     * interleave with this one. Events run in exactly the order {@link #run} would run them (time, then scheduling
     * order), through DSOL's own step. Close the run to release DSOL's replication.
     */
    public Stepping stepping(Consumer<Scheduler> build) {
        SingleReplication<Long> replication = start(build);
        events.stepping = true;
        return new Stepping(replication);
    }

    private void release(SingleReplication<Long> replication) {
        events.stepping = false;
        simulator.cleanUp();
        synchronized (LIFECYCLE) {
            replication.removeFromContext();
        }
        model.clear();
    }

    /**
     * Builds the model with {@code build} and hands back a run that lasts: each {@link Continuing#runFrom} starts
     * more work at the clock's time and runs DSOL's loop until no model event is pending, and the clock and the
     * model's state carry on to the next; one replication for them all. How a thread simulating operators ahead
     * keeps one device for operator after operator ({@link Ahead}). Close it to release DSOL's replication.
     */
    public Continuing continuing(Consumer<Scheduler> build) {
        return new Continuing(start(build));
    }

    /** A run of this kernel's model that goes on by parts (see {@link #continuing}). */
    public final class Continuing implements AutoCloseable {
        private final SingleReplication<Long> replication;
        private boolean closed;

        private Continuing(SingleReplication<Long> replication) {
            this.replication = replication;
        }

        /**
         * Runs {@code work} now, and every event it leads to, until none is pending; returns the time of the last. A
         * model exception is rethrown as it was thrown, and the run cannot go on after it.
         */
        public long runFrom(Runnable work) {
            if (closed) {
                throw new IllegalStateException("the run is closed");
            }
            schedule(0, work);
            // DSOL's loop leaves its clock at the end it ran up to: it resumes from the model's time.
            simulator.resumeAt(now);
            simulator.runUpTo(END_PS);
            Exception failure = simulator.failure;
            if (failure != null) {
                simulator.failure = null;
                close();
                throw Kernel.<RuntimeException>rethrow(failure);
            }
            return now;
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                release(replication);
            }
        }
    }

    /** A run of this kernel's model that its caller advances event by event (see {@link #stepping}). */
    public final class Stepping implements AutoCloseable {
        private final SingleReplication<Long> replication;
        private boolean closed;

        private Stepping(SingleReplication<Long> replication) {
            this.replication = replication;
        }

        /** When the next model event runs; {@link Long#MAX_VALUE} when none is pending. */
        public long nextEventPs() {
            return events.drained() ? Long.MAX_VALUE : model.firstTime();
        }

        /**
         * Runs the next model event alone (DSOL's own events due before it run first, as in {@link Kernel#run}). A
         * model exception is rethrown as it was thrown.
         */
        public void runNext() {
            if (closed || events.drained()) {
                throw new IllegalStateException("no model event is pending");
            }
            while (events.dsolFirst()) {
                simulator.step();
            }
            simulator.step();
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                release(replication);
            }
        }
    }

    /** Throws {@code t} as it is (a model's exception may be any, and reaches the caller unwrapped). */
    @SuppressWarnings("unchecked")
    private static <E extends Throwable> E rethrow(Throwable t) throws E {
        throw (E) t;
    }

    /**
     * The model's pending events in DSOL's order (time, then (15 - priority) << 58 | creation), over primitive arrays
     * with no event object per event: an event scheduled no earlier than the latest one queued in order joins a
     * sorted ring at its end (most do: a computation's end lies a fixed time after its start), any other goes into a
     * binary heap; the first event is the earlier of the two heads.
     */
    static final class ModelQueue {
        // Object[], not Runnable[]: a store into an array of an interface type is checked against the stored value's
        // class, which C2 speculates from the classes seen at that store; every new event class then deoptimised
        // the cores' compiled paths that inline add (Core.startCompute was compiled by C2 three times over in the
        // Llama-3-8B run). Into an Object[] any value goes unchecked.
        private Object[] actions = new Object[1024];
        private long[] times = new long[1024];
        private long[] keys = new long[1024];
        private int heapSize;
        private Object[] ringActions = new Object[1024];
        private long[] ringTimes = new long[1024];
        private long[] ringKeys = new long[1024];
        private int ringHead;
        private int ringSize;

        int size() {
            return heapSize + ringSize;
        }

        void add(long t, long k, Runnable action) {
            int last = (ringHead + ringSize - 1) & (ringTimes.length - 1);
            if (ringSize == 0 || t > ringTimes[last] || (t == ringTimes[last] && k > ringKeys[last])) {
                // Keys grow with creation, so an equal time nearly always sorts after the ring's last event too (not
                // a deferred event's, whose key was taken earlier: Scheduler.reserveOrder).
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
            Object[] a = new Object[2 * n];
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

        Runnable firstAction() {
            return (Runnable) (ringFirst() ? ringActions[ringHead] : actions[0]);
        }

        /** The time of the event {@link #pollFirst} returned last. */
        long polledTime() {
            return polledTime;
        }

        /** The key of the event {@link #pollFirst} returned last. */
        long polledKey() {
            return polledKey;
        }

        private long polledTime;
        private long polledKey;

        /** The first event if it is due at {@code t}, removed as {@link #pollFirst} removes it; else null. */
        Runnable pollFirstAt(long t) {
            if (ringFirst()) {
                return ringSize > 0 && ringTimes[ringHead] == t ? pollFirst() : null;
            }
            return times[0] == t ? pollFirst() : null;
        }

        Runnable pollFirst() {
            if (ringFirst()) {
                polledTime = ringTimes[ringHead];
                polledKey = ringKeys[ringHead];
                Runnable r = (Runnable) ringActions[ringHead];
                ringActions[ringHead] = null;
                ringHead = (ringHead + 1) & (ringTimes.length - 1);
                ringSize--;
                return r;
            }
            Runnable first = (Runnable) actions[0];
            polledTime = times[0];
            polledKey = keys[0];
            int n = --heapSize;
            if (n > 0) {
                Object e = actions[n];
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
            return (Runnable) (i < heapSize ? actions[i]
                : ringActions[(ringHead + i - heapSize) & (ringTimes.length - 1)]);
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

    /**
     * A DevsSimulator for batch runs: DSOL's own loop ({@code run}) runs on the caller's thread, and a model exception
     * stops it and is kept for {@link Kernel#run} to rethrow.
     */
    private static final class BatchSimulator extends DevsSimulator<Long> {
        private static final long serialVersionUID = 1L;
        /** The first exception an event threw in the current run. */
        transient Exception failure;

        BatchSimulator() {
            super("rafter");
        }

        /**
         * DSOL's initialize (Simulator's and DevsSimulator's, as in 4.3.2) without its worker thread: DSOL starts
         * one per replication and polls it with sleep(1) until it idles, about 2 ms of every run (a sweep point, a
         * serving step's timing, an operator simulated ahead), and a batch run never hands it the loop ({@link
         * #startImpl}). What the rest does is done here alike: the event list cleared, the replication and model
         * taken, the clock at the replication's start, the model built, then DSOL's own warm-up and
         * end-of-replication events queued. (DSOL's methods to call on initialize are none: Rafter adds none.)
         */
        @Override
        public void initialize(DsolModel<Long, ? extends SimulatorInterface<Long>> dsolModel,
                               Replication<Long> dsolReplication, boolean cleanUp) {
            if (isStartingOrRunning()) {
                throw new SimRuntimeException("Cannot initialize a running simulator");
            }
            synchronized (semaphore) {
                eventList.clear();
                replication = dsolReplication;
                model = dsolModel;
                simulatorTime = dsolReplication.getStartTime();
                dsolModel.getOutputStatistics().clear();
                dsolModel.constructModel();
                runState = RunState.INITIALIZED;
                replicationState = ReplicationState.INITIALIZED;
                runflag = false;
                scheduleEvent(new SimEvent<>(dsolReplication.getWarmupTime(), (short) 11, this, "warmup", null));
                scheduleEvent(new SimEvent<>(dsolReplication.getEndTime(), (short) 0, this, "endReplication", null));
            }
        }

        /** Sets DSOL's clock to {@code timePs}, where a continued run ({@link Continuing}) resumes. */
        void resumeAt(long timePs) {
            simulatorTime = timePs;
        }

        /**
         * DSOL hands the loop to its worker thread here and returns at once; a batch run takes the worker's steps on
         * the caller's thread instead, so the run is over when {@code runUpTo} returns and an Error reaches the caller.
         */
        @Override
        public void startImpl() {
            if (!isInitialized()) {
                throw new SimRuntimeException("Cannot start an uninitialized simulator");
            }
            runState = RunState.STARTED;
            replicationState = ReplicationState.STARTED;
            try {
                run();
            } finally {
                runState = RunState.STOPPED;
            }
        }

        /**
         * DSOL's default logs the exception and pauses, which leaves a batch run waiting forever: stop the loop and
         * keep the first exception as it was thrown.
         */
        @Override
        protected void handleSimulationException(Exception e) {
            if (failure == null) {
                failure = e;
            }
            stopImpl();
        }

        /**
         * DSOL's loop announces every change of its clock as a new event object, then looks (under a lock) for
         * listeners. Nobody can listen here: this simulator is private to its kernel, which adds no listener.
         */
        @Override
        public <C extends Comparable<C>> void fireUnverifiedTimedEvent(EventType eventType, Object value, C time) {
        }

        /** Skips DSOL's per-event trace string; the time check is kept. */
        @Override
        public SimEventInterface<Long> scheduleEvent(SimEventInterface<Long> event) {
            if (event.getAbsoluteExecutionTime() < (simulatorTime == null ? 0L : simulatorTime)) {
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

    private static long dsolKey(SimEventInterface<Long> e) {
        return ((long) (15 - e.getPriority()) << 58) | e.getId();
    }

    /**
     * DSOL's event list for one kernel. The model's events wait in a {@link ModelQueue} (Kernel.schedule adds them
     * there directly, with no event object); DSOL's own events (its warm-up and end-of-replication events: a handful)
     * in a sorted list; both in DSOL's order by (time, (15 - priority) << 58 | id). DSOL's loop is handed a model
     * event as a reused view: one for {@link #first}, one for {@link #removeFirst}.
     */
    static final class EventList implements EventListInterface<Long> {
        final ModelQueue model = new ModelQueue();
        private final java.util.ArrayList<SimEventInterface<Long>> dsol = new java.util.ArrayList<>();
        /** The first of DSOL's own events, kept with every change (time Long.MAX_VALUE: none). */
        private long dsolFirstTime = Long.MAX_VALUE;
        private long dsolFirstKey;
        private final ModelEvent peeked;
        /** A stepping run ({@link Kernel#stepping}): each DSOL step runs one model event, not its time's batch. */
        boolean stepping;
        private final ModelEvent polled;
        /** DSOL's clock is a Long: the last time boxed is reused, one box per distinct time rather than per call. */
        private long boxedTime;
        private Long boxed = 0L;

        EventList(Kernel kernel) {
            peeked = new ModelEvent(kernel, this);
            polled = new ModelEvent(kernel, this);
        }

        long dsolFirstTime() {
            return dsolFirstTime;
        }

        /** Whether no model event is pending, once the kernel's deferred ones are scheduled. */
        private boolean drained() {
            if (model.size() > 0) {
                return false;
            }
            polled.kernel.scheduleDeferred();
            return model.size() == 0;
        }

        /**
         * Runs the model events due at {@code t}, in order, while one is first: exactly the events DSOL's loop would
         * take next, one by one, since its clock stays at {@code t} and its own events (compared at every step) go
         * first where they are due. An event that throws ends the batch as it would end DSOL's loop.
         */
        void runDueAt(long t) {
            if (stepping) {
                return;
            }
            ModelQueue q = model;
            Kernel kernel = polled.kernel;
            // DSOL's own events lie at 0 and at the end of the run: the full comparison only where one is due by t.
            while (dsolFirstTime > t || q.size() == 0 || q.firstTime() != t || !dsolFirst()) {
                Runnable next = q.pollFirstAt(t);
                if (next == null) {
                    return;
                }
                kernel.executed++;
                next.run();
            }
        }

        Long box(long t) {
            if (t != boxedTime) {
                boxedTime = t;
                boxed = t;
            }
            return boxed;
        }

        private boolean dsolFirst() {
            if (drained()) {
                return !dsol.isEmpty();
            }
            long t = model.firstTime();
            return dsolFirstTime < t || (dsolFirstTime == t && dsolFirstKey < model.firstKey());
        }

        private void dsolChanged() {
            dsolFirstTime = dsol.isEmpty() ? Long.MAX_VALUE : dsol.get(0).getAbsoluteExecutionTime();
            dsolFirstKey = dsol.isEmpty() ? 0 : dsolKey(dsol.get(0));
        }

        @Override
        public SimEventInterface<Long> first() {
            if (dsolFirst()) {
                return dsol.get(0);
            }
            if (model.size() == 0) {
                return null;
            }
            return peeked.at(model.firstTime(), model.firstKey(), model.firstAction());
        }

        @Override
        public SimEventInterface<Long> removeFirst() {
            if (dsolFirst()) {
                SimEventInterface<Long> e = dsol.remove(0);
                dsolChanged();
                return e;
            }
            if (model.size() == 0) {
                throw new NoSuchElementException();
            }
            Runnable action = model.pollFirst();
            return polled.at(model.polledTime(), model.polledKey(), action);
        }

        /** DSOL schedules its own events here; a model event's view (if given back) rejoins the model's queue. */
        @Override
        public void add(SimEventInterface<Long> event) {
            if (event instanceof ModelEvent m) {
                model.add(m.time, m.key, m.action);
                return;
            }
            long t = event.getAbsoluteExecutionTime();
            long k = dsolKey(event);
            int i = dsol.size();
            while (i > 0 && less(t, k, dsol.get(i - 1).getAbsoluteExecutionTime(), dsolKey(dsol.get(i - 1)))) {
                i--;
            }
            dsol.add(i, event);
            dsolChanged();
        }

        /** Only DSOL's own events are objects that can be found or cancelled; Rafter never cancels its events. */
        @Override
        public boolean contains(SimEventInterface<Long> event) {
            return dsol.contains(event);
        }

        @Override
        public boolean remove(SimEventInterface<Long> event) {
            boolean removed = dsol.remove(event);
            dsolChanged();
            return removed;
        }

        @Override
        public void clear() {
            model.clear();
            dsol.clear();
            dsolChanged();
        }

        @Override
        public boolean isEmpty() {
            return drained() && dsol.isEmpty();
        }

        @Override
        public int size() {
            return model.size() + dsol.size();
        }

        /** A snapshot: DSOL's own events, then a view of each model event in the order they run. */
        @Override
        public Iterator<SimEventInterface<Long>> iterator() {
            java.util.List<SimEventInterface<Long>> all = new java.util.ArrayList<>(dsol);
            Kernel kernel = polled.kernel;
            for (int i : model.inRunOrder(kernel.now)) {
                all.add(new ModelEvent(kernel, this).at(model.timeAt(i), model.keyAt(i), model.actionAt(i)));
            }
            return java.util.Collections.unmodifiableList(all).iterator();
        }
    }

    /** A model event as DSOL sees it: a view, reused for event after event, of one entry of the model's queue. */
    static final class ModelEvent implements SimEventInterface<Long> {
        private final Kernel kernel;
        private final EventList list;
        private long time;
        private long key;
        private Runnable action;

        ModelEvent(Kernel kernel, EventList list) {
            this.kernel = kernel;
            this.list = list;
        }

        ModelEvent at(long t, long k, Runnable a) {
            time = t;
            key = k;
            action = a;
            return this;
        }

        /**
         * Runs this event, then every model event due at the same time that DSOL's loop would run next: one DSOL event
         * per distinct time instead of one per event (its lock, clock boxing and two looks at the first event).
         */
        @Override
        public void execute() {
            Runnable run = action;
            long t = time;
            kernel.now = t;
            kernel.executed++;
            run.run();
            list.runDueAt(t);
        }

        @Override
        public Long getAbsoluteExecutionTime() {
            return list.box(time);
        }

        @Override
        public short getPriority() {
            return (short) (15 - (key >>> 58));
        }

        @Override
        public long getId() {
            return key & ((1L << 58) - 1);
        }
    }
}

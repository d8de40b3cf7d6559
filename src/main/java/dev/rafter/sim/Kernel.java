package dev.rafter.sim;

import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.function.Consumer;
import nl.tudelft.simulation.dsol.SimRuntimeException;
import nl.tudelft.simulation.dsol.eventlists.EventListInterface;
import nl.tudelft.simulation.dsol.experiment.SingleReplication;
import nl.tudelft.simulation.dsol.formalisms.eventscheduling.LambdaSimEvent;
import nl.tudelft.simulation.dsol.formalisms.eventscheduling.SimEventInterface;
import nl.tudelft.simulation.dsol.model.AbstractDsolModel;
import nl.tudelft.simulation.dsol.simulators.DevsSimulator;
import org.djutils.logger.CategoryLogger;

/**
 * The only class that touches DSOL (4.3.2, pinned in the pom). It runs one replication synchronously on the
 * caller's thread, rethrows the first model exception, and never hangs: the run ends when the model's own events
 * are drained. Two measured speed-ups from reference/dsol.md: a binary-heap event list with primitive keys (DSOL's
 * exact ordering: time, then priority, then creation id) and a {@code scheduleEvent} that skips the eager trace
 * string DSOL builds for every event.
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

    private final BatchSimulator simulator = new BatchSimulator();
    private long pending;
    private long executed;

    @Override
    public long now() {
        return simulator.now();
    }

    @Override
    public void schedule(long delayPs, Runnable action) {
        if (delayPs < 0) {
            throw new IllegalStateException("cannot schedule " + delayPs + " ps in the past");
        }
        pending++;
        simulator.add(new LambdaSimEvent<>(simulator.now() + delayPs, PRIORITY, () -> {
            pending--;
            executed++;
            action.run();
        }));
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
        pending = 0;
        executed = 0;
        SingleReplication<Long> replication = new SingleReplication<>("rafter", 0L, 0L, RUN_LENGTH_PS);
        Model model = new Model(simulator, () -> build.accept(this));
        try {
            simulator.setEventList(new HeapEventList());
            simulator.initialize(model, replication);
            return simulator.drain(() -> pending > 0);
        } finally {
            simulator.cleanUp();
            replication.removeFromContext();
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

        void add(SimEventInterface<Long> event) {
            eventList.add(event);
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

        long drain(java.util.function.BooleanSupplier modelPending) {
            long last = now();
            while (modelPending.getAsBoolean() && !eventList.isEmpty()) {
                SimEventInterface<Long> event = eventList.removeFirst();
                simulatorTime = event.getAbsoluteExecutionTime();
                last = simulatorTime;
                try {
                    event.execute();
                } catch (SimRuntimeException e) {
                    Throwable cause = e.getCause();
                    if (cause instanceof RuntimeException re) {
                        throw re;
                    }
                    throw e;
                }
            }
            return last;
        }
    }

    /**
     * Binary min-heap keyed by (time, (15 - priority) << 58 | id): the same order as DSOL's own lists, without
     * boxing or tree walks on the hot path.
     */
    static final class HeapEventList implements EventListInterface<Long> {
        private SimEventInterface<Long>[] events = newArray(1024);
        private long[] times = new long[1024];
        private long[] keys = new long[1024];
        private int size;

        @SuppressWarnings("unchecked")
        private static SimEventInterface<Long>[] newArray(int n) {
            return (SimEventInterface<Long>[]) new SimEventInterface<?>[n];
        }

        @Override
        public void add(SimEventInterface<Long> event) {
            if (size == events.length) {
                events = Arrays.copyOf(events, size * 2);
                times = Arrays.copyOf(times, size * 2);
                keys = Arrays.copyOf(keys, size * 2);
            }
            long t = event.getAbsoluteExecutionTime();
            long k = ((long) (15 - event.getPriority()) << 58) | event.getId();
            int i = size++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (less(t, k, times[parent], keys[parent])) {
                    events[i] = events[parent];
                    times[i] = times[parent];
                    keys[i] = keys[parent];
                    i = parent;
                } else {
                    break;
                }
            }
            events[i] = event;
            times[i] = t;
            keys[i] = k;
        }

        private static boolean less(long t1, long k1, long t2, long k2) {
            return t1 < t2 || (t1 == t2 && k1 < k2);
        }

        @Override
        public SimEventInterface<Long> removeFirst() {
            if (size == 0) {
                throw new NoSuchElementException();
            }
            SimEventInterface<Long> first = events[0];
            size--;
            if (size > 0) {
                SimEventInterface<Long> e = events[size];
                long t = times[size];
                long k = keys[size];
                events[size] = null;
                int i = 0;
                int half = size >>> 1;
                while (i < half) {
                    int child = 2 * i + 1;
                    int right = child + 1;
                    if (right < size && less(times[right], keys[right], times[child], keys[child])) {
                        child = right;
                    }
                    if (!less(times[child], keys[child], t, k)) {
                        break;
                    }
                    events[i] = events[child];
                    times[i] = times[child];
                    keys[i] = keys[child];
                    i = child;
                }
                events[i] = e;
                times[i] = t;
                keys[i] = k;
            } else {
                events[0] = null;
            }
            return first;
        }

        @Override
        public SimEventInterface<Long> first() {
            return size == 0 ? null : events[0];
        }

        @Override
        public boolean contains(SimEventInterface<Long> event) {
            for (int i = 0; i < size; i++) {
                if (events[i] == event) {
                    return true;
                }
            }
            return false;
        }

        @Override
        public boolean remove(SimEventInterface<Long> event) {
            // Rafter never cancels events; DSOL only removes its own end event when a replication is cut short.
            for (int i = 0; i < size; i++) {
                if (events[i] == event) {
                    SimEventInterface<Long>[] rest = Arrays.copyOf(events, size);
                    clear();
                    for (SimEventInterface<Long> r : rest) {
                        if (r != event) {
                            add(r);
                        }
                    }
                    return true;
                }
            }
            return false;
        }

        @Override
        public void clear() {
            Arrays.fill(events, 0, size, null);
            size = 0;
        }

        @Override
        public boolean isEmpty() {
            return size == 0;
        }

        @Override
        public int size() {
            return size;
        }

        @Override
        public Iterator<SimEventInterface<Long>> iterator() {
            return Arrays.asList(Arrays.copyOf(events, size)).iterator();
        }
    }
}

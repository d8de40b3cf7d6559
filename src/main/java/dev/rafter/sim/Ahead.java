package dev.rafter.sim;

import dev.rafter.hw.HardwareSpec;
import dev.rafter.sim.StreamScan.Scanned;
import dev.rafter.workload.Operator;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongPredicate;
import java.util.function.Predicate;

/**
 * Simulates the operators ahead of the running one on other threads, each distinct shape once, alone: each thread
 * keeps one device and one kernel run for every operator it simulates ({@link Simulation.Solo}), and every kernel
 * finds the device in the same state ({@link Device#settle}), so an operator simulated ahead runs exactly as it
 * would in the stream, and the stream takes its result as it takes an identical operator's ({@link
 * Simulation#reuse}). Looks at most {@link #WINDOW} operators ahead, with at most {@link #IN_FLIGHT_PER_THREAD}
 * shapes per thread waiting or running, so memory stays flat however long the stream.
 */
final class Ahead implements Iterator<Operator>, AutoCloseable {
    /** Operators read ahead of the running one. */
    static final int WINDOW = 4096;
    /**
     * Shapes per thread waiting or being simulated: a few, so that a thread finishes the next shapes the stream
     * needs while the stream replays the operators between them (Llama-3-8B's decode: one new attention shape a
     * step, 448 operators apart), and then has the next ones queued rather than idling.
     */
    static final int IN_FLIGHT_PER_THREAD = 4;

    private final Iterator<Operator> stream;
    /** Shapes handed to the threads, in the order they were read; a poison job per thread ends them. */
    private final BlockingQueue<Job> jobs = new LinkedBlockingQueue<>();
    private final int maxInFlight;
    /** Shapes (with what they find resident) the stream already holds a result for (read on this thread only). */
    private final Predicate<Simulation.ReuseKey> known;
    /** Whether an operator's slices are wanted (then they are recorded alone too). */
    private final LongPredicate slicesWanted;
    /** The operators read ahead, each with what it will find; the first is the one the stream takes next. */
    private final ArrayDeque<Scanned> buffer = new ArrayDeque<>();
    /** Those of them {@link #submit} has not looked at yet. */
    private final ArrayDeque<Scanned> unscanned = new ArrayDeque<>();
    /** The operator the stream took last, with what it will find. */
    private Scanned taken;
    /**
     * What each operator read ahead finds in the global buffer, and its key: a function of the operators alone, so an
     * operator simulated ahead finds what it will find in the stream.
     */
    private final StreamScan scan;
    /** Whether operators see what the ones before left in the global buffer (as the stream's simulation does). */
    private final boolean l2Residency;
    private final Map<Simulation.ReuseKey, Job> inFlight = new HashMap<>();
    private final AtomicLong events = new AtomicLong();
    private final AtomicLong skippedStages = new AtomicLong();
    private final int threads;
    private final HardwareSpec hw;
    private final dev.rafter.mapping.TensorPlacement.Policy placement;
    /** Whether any operator's slices may be wanted (then the simulations ahead can record them). */
    private final boolean recording;
    /** The stream's own device for shapes it simulates while it waits for one a thread ahead runs (null: none yet). */
    private Simulation.Solo helper;

    /**
     * A shape to simulate: {@code op} finding and writing back what {@code key} says; {@code claimed} once a thread
     * ahead starts it or the stream takes it back; null op: the end.
     */
    private record Job(Operator op, Simulation.ReuseKey key, boolean record,
                       CompletableFuture<Simulation.Replay> result, AtomicBoolean claimed) {
        Job(Operator op, Simulation.ReuseKey key, boolean record) {
            this(op, key, record, new CompletableFuture<>(), new AtomicBoolean());
        }

        /** Whether the caller may simulate it: nobody did nor does. */
        boolean claim() {
            return claimed.compareAndSet(false, true);
        }
    }

    private static final Job END = new Job(null, null, false);

    Ahead(HardwareSpec hw, dev.rafter.mapping.TensorPlacement.Policy placement, boolean l2Residency,
          Iterator<Operator> stream,
          int threads, Predicate<Simulation.ReuseKey> known, LongPredicate slicesWanted, boolean recording) {
        this.l2Residency = l2Residency;
        this.scan = new StreamScan(hw, placement, l2Residency);
        this.stream = stream;
        this.known = known;
        this.slicesWanted = slicesWanted;
        this.threads = threads;
        this.hw = hw;
        this.placement = placement;
        this.recording = recording;
        this.maxInFlight = IN_FLIGHT_PER_THREAD * threads;
        for (int i = 0; i < threads; i++) {
            Thread t = new Thread(this::simulateJobs, "rafter-ahead");
            t.setDaemon(true);
            t.start();
        }
        fill();
    }

    @Override
    public boolean hasNext() {
        return !buffer.isEmpty();
    }

    @Override
    public Operator next() {
        taken = buffer.removeFirst();
        if (!unscanned.isEmpty() && unscanned.peekFirst() == taken) {
            unscanned.removeFirst();
        }
        fill();
        return taken.op();
    }

    /**
     * What {@code op}, the operator the stream took last, finds and its key: computed as the stream computes them, in
     * the stream's order, so a stream whose operators start in the order it takes them (strict order) need not
     * compute them again.
     */
    Scanned taken(Operator op) {
        if (taken == null || taken.op() != op) {
            throw new IllegalStateException("operator " + op.id() + " started out of the order it was read in");
        }
        return taken;
    }

    /** Dirty bytes the global buffer holds after the operators read so far (all of them, once the stream ends). */
    long l2Dirty() {
        return scan.dirty();
    }

    /**
     * The result of {@code shape} simulated ahead, waiting for it if it is running; null when it was not simulated
     * ahead, or no thread has started it yet: then the stream simulates it itself rather than wait for the shapes
     * queued before it. A model error of that simulation is thrown as it was thrown. More simulations start at the
     * next operator, once the stream has kept this result (before, the shape would look unknown and start again).
     */
    Simulation.Replay take(Simulation.ReuseKey shape) {
        Job job = inFlight.remove(shape);
        if (job == null || job.claim()) {
            return null;
        }
        CompletableFuture<Simulation.Replay> f = job.result();
        // A thread ahead runs it: meanwhile the stream simulates the next shapes that no thread has started.
        while (!f.isDone()) {
            Job next = nextUnclaimed();
            if (next == null) {
                break;
            }
            helper = simulate(helper, next);
        }
        return Futures.join(f, "waiting for an operator simulated ahead");
    }

    /** Forgets a simulation of {@code shape} the stream no longer needs (it holds a result already). */
    void drop(Simulation.ReuseKey shape) {
        Job job = inFlight.remove(shape);
        if (job != null) {
            job.claim();
        }
    }

    /** Events simulated ahead, and stages fast-forwarded there. */
    long events() {
        return events.get();
    }

    long skippedStages() {
        return skippedStages.get();
    }

    private void fill() {
        while (buffer.size() < WINDOW && stream.hasNext()) {
            Scanned scanned = scan.next(stream.next());
            buffer.addLast(scanned);
            unscanned.addLast(scanned);
        }
        submit();
    }

    /** Starts simulations of the shapes ahead that nobody has a result for yet, while threads are free. */
    private void submit() {
        while (inFlight.size() < maxInFlight && !unscanned.isEmpty()) {
            Scanned next = unscanned.removeFirst();
            Operator op = next.op();
            Simulation.ReuseKey shape = next.key();
            if (op.kind().isCollective() || known.test(shape) || inFlight.containsKey(shape)) {
                continue;
            }
            Job job = new Job(op, shape, slicesWanted.test(op.id()));
            inFlight.put(shape, job);
            jobs.add(job);
        }
    }

    /**
     * One thread's work: the shapes handed to it, in turn, on one device ({@link Simulation.Solo}); a fresh one after
     * a model error, which the stream gets where it takes that shape.
     */
    private void simulateJobs() {
        Simulation.Solo solo = null;
        try {
            for (Job job = jobs.take(); job != END; job = jobs.take()) {
                if (!job.claim()) {
                    continue; // taken back: the stream simulated it, or found a result already
                }
                solo = simulate(solo, job);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (solo != null) {
                solo.close();
            }
        }
    }

    /** The first shape handed to the threads that none has started, claimed; null if none. */
    private Job nextUnclaimed() {
        for (Job job : jobs) {
            if (job != END && job.claim()) {
                return job;
            }
        }
        return null;
    }

    /**
     * Simulates {@code job} on {@code solo} (a new one where null) and completes it, with its result or the model
     * error it ran into; returns the solo to go on with (null after an error: the next job starts a fresh one).
     */
    private Simulation.Solo simulate(Simulation.Solo solo, Job job) {
        try {
            if (solo == null) {
                solo = new Simulation(hw).placement(placement).l2Residency(l2Residency).new Solo(recording);
            }
            long eventsBefore = solo.events();
            long skippedBefore = solo.skippedStages();
            Simulation.Replay replay = solo.simulate(job.op(), job.key(), job.record());
            events.addAndGet(solo.events() - eventsBefore);
            skippedStages.addAndGet(solo.skippedStages() - skippedBefore);
            job.result().complete(replay);
            return solo;
        } catch (RuntimeException | Error e) {
            if (solo != null) {
                solo.close();
            }
            job.result().completeExceptionally(e);
            return null;
        }
    }

    /** Ends the threads once they finish what they run now; the shapes still waiting are not simulated. */
    @Override
    public void close() {
        if (helper != null) {
            helper.close();
        }
        jobs.clear();
        for (int i = 0; i < threads; i++) {
            jobs.add(END);
        }
    }
}

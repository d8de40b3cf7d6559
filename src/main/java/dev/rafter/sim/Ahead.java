package dev.rafter.sim;

import dev.rafter.hw.HardwareSpec;
import dev.rafter.sim.trace.TraceSink;
import dev.rafter.workload.Operator;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongPredicate;
import java.util.function.Predicate;

/**
 * Simulates the operators ahead of the running one on other threads, each distinct shape once, alone on a fresh
 * device: every kernel finds the device in the same state ({@link Device#settle}), so an operator simulated alone
 * runs exactly as it would in the stream, and the stream takes its result as it takes an identical operator's
 * ({@link Simulation#reuse}). Looks at most {@link #WINDOW} operators ahead, with at most two simulations per
 * thread in flight, so memory stays flat however long the stream.
 */
final class Ahead implements Iterator<Operator>, AutoCloseable {
    /** Operators read ahead of the running one. */
    static final int WINDOW = 4096;

    private final HardwareSpec hw;
    private final dev.rafter.mapping.TensorPlacement.Policy placement;
    private final Iterator<Operator> stream;
    private final ExecutorService pool;
    private final int maxInFlight;
    /** Shapes (with what they find resident) the stream already holds a result for (read on this thread only). */
    private final Predicate<Simulation.ReuseKey> known;
    /** Whether an operator's slices are wanted (then they are recorded alone too). */
    private final LongPredicate slicesWanted;
    private final ArrayDeque<Operator> buffer = new ArrayDeque<>();
    private final ArrayDeque<Scanned> unscanned = new ArrayDeque<>();
    /**
     * What the global buffer holds as the stream reaches each operator read ahead (null where it keeps nothing): a
     * function of the operators alone ({@link dev.rafter.mapping.L2Residency#run}), so an operator simulated ahead
     * finds what it will find in the stream.
     */
    private final dev.rafter.mapping.L2Residency l2;
    private final dev.rafter.roofline.Roofline roofline;

    /**
     * An operator read ahead and not yet looked at, with the bytes of its inputs it will find resident and of
     * evicted results it will write back.
     */
    private record Scanned(Operator op, long resident, long writtenBack) {}
    /** Whether operators see what the ones before left in the global buffer (as the stream's simulation does). */
    private final boolean l2Residency;
    private final Map<Simulation.ReuseKey, Future<Simulation.Replay>> inFlight = new HashMap<>();
    private final AtomicLong events = new AtomicLong();
    private final AtomicLong skippedStages = new AtomicLong();

    Ahead(HardwareSpec hw, dev.rafter.mapping.TensorPlacement.Policy placement, boolean l2Residency,
          Iterator<Operator> stream,
          int threads, Predicate<Simulation.ReuseKey> known, LongPredicate slicesWanted) {
        this.hw = hw;
        this.l2Residency = l2Residency;
        this.l2 = l2Residency && hw.globalBuffer().keepsContents()
            ? new dev.rafter.mapping.L2Residency(hw.globalBuffer().capacityBytes()) : null;
        this.roofline = new dev.rafter.roofline.Roofline(hw, placement);
        this.placement = placement;
        this.stream = stream;
        this.known = known;
        this.slicesWanted = slicesWanted;
        this.maxInFlight = 2 * threads;
        this.pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "rafter-ahead");
            t.setDaemon(true);
            return t;
        });
        fill();
    }

    @Override
    public boolean hasNext() {
        return !buffer.isEmpty();
    }

    @Override
    public Operator next() {
        Operator op = buffer.removeFirst();
        if (!unscanned.isEmpty() && unscanned.peekFirst().op() == op) {
            unscanned.removeFirst();
        }
        fill();
        return op;
    }

    /**
     * The result of {@code shape} simulated ahead, waiting for it if it is still running; null when it was not
     * simulated ahead. A model error of that simulation is thrown as it was thrown. More simulations start at the
     * next operator, once the stream has kept this result (before, the shape would look unknown and start again).
     */
    Simulation.Replay take(Simulation.ReuseKey shape) {
        Future<Simulation.Replay> f = inFlight.remove(shape);
        if (f == null) {
            return null;
        }
        return Futures.join(f, "waiting for an operator simulated ahead");
    }

    /** Forgets a simulation of {@code shape} the stream no longer needs (it holds a result already). */
    void drop(Simulation.ReuseKey shape) {
        Future<Simulation.Replay> f = inFlight.remove(shape);
        if (f != null) {
            f.cancel(false);
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
            Operator op = stream.next();
            buffer.addLast(op);
            boolean onCores = !op.kind().isCollective() && !roofline.of(op).nearMemory();
            if (l2 == null || !onCores) {
                unscanned.addLast(new Scanned(op, 0, 0));
            } else {
                long resident = l2.run(op);
                unscanned.addLast(new Scanned(op, resident, l2.lastWrittenBack()));
            }
        }
        submit();
    }

    /** Starts simulations of the shapes ahead that nobody has a result for yet, while threads are free. */
    private void submit() {
        while (inFlight.size() < maxInFlight && !unscanned.isEmpty()) {
            Scanned next = unscanned.removeFirst();
            Operator op = next.op();
            Simulation.ReuseKey shape = new Simulation.ReuseKey(op.shape(), next.resident(), next.writtenBack());
            if (op.kind().isCollective() || known.test(shape) || inFlight.containsKey(shape)) {
                continue;
            }
            boolean record = slicesWanted.test(op.id());
            inFlight.put(shape, pool.submit(() -> alone(op, shape, record)));
        }
    }

    /**
     * Simulates {@code op} alone on a fresh device, finding in the global buffer and writing back what {@code key}
     * says; its slices recorded when {@code record}.
     */
    private Simulation.Replay alone(Operator op, Simulation.ReuseKey key, boolean record) {
        Simulation solo = new Simulation(hw).placement(placement).l2Residency(l2Residency)
            .firstResident(key.residentBytes(), key.writtenBackBytes());
        TraceSink sink = record ? (track, kind, opId, startPs, endPs, amount) -> { } : null;
        Simulation.Result r = solo.runAlone(op, sink, result -> { });
        events.addAndGet(r.events());
        skippedStages.addAndGet(r.fastForwardedStages());
        return solo.replayOf(key);
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}

package dev.rafter.sim;

import dev.rafter.hw.HardwareSpec;
import dev.rafter.sim.trace.TraceSink;
import dev.rafter.workload.Operator;
import dev.rafter.workload.OperatorSource;
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
    /** Shapes the stream already holds a result for (read on this thread only). */
    private final Predicate<Operator.Shape> known;
    /** Whether an operator's slices are wanted (then they are recorded alone too). */
    private final LongPredicate slicesWanted;
    private final ArrayDeque<Operator> buffer = new ArrayDeque<>();
    private final ArrayDeque<Operator> unscanned = new ArrayDeque<>();
    private final Map<Operator.Shape, Future<Simulation.Replay>> inFlight = new HashMap<>();
    private final AtomicLong events = new AtomicLong();
    private final AtomicLong skippedStages = new AtomicLong();

    Ahead(HardwareSpec hw, dev.rafter.mapping.TensorPlacement.Policy placement, Iterator<Operator> stream,
          int threads, Predicate<Operator.Shape> known, LongPredicate slicesWanted) {
        this.hw = hw;
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
        if (unscanned.peekFirst() == op) {
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
    Simulation.Replay take(Operator.Shape shape) {
        Future<Simulation.Replay> f = inFlight.remove(shape);
        if (f == null) {
            return null;
        }
        return Futures.join(f, "waiting for an operator simulated ahead");
    }

    /** Forgets a simulation of {@code shape} the stream no longer needs (it holds a result already). */
    void drop(Operator.Shape shape) {
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
            unscanned.addLast(op);
        }
        submit();
    }

    /** Starts simulations of the shapes ahead that nobody has a result for yet, while threads are free. */
    private void submit() {
        while (inFlight.size() < maxInFlight && !unscanned.isEmpty()) {
            Operator op = unscanned.removeFirst();
            Operator.Shape shape = op.shape();
            if (op.kind().isCollective() || known.test(shape) || inFlight.containsKey(shape)) {
                continue;
            }
            boolean record = slicesWanted.test(op.id());
            inFlight.put(shape, pool.submit(() -> alone(op, record)));
        }
    }

    /** Simulates {@code op} alone on a fresh device; its slices recorded when {@code record}. */
    private Simulation.Replay alone(Operator op, boolean record) {
        Simulation solo = new Simulation(hw).placement(placement);
        TraceSink sink = record ? (track, kind, opId, startPs, endPs, amount) -> { } : null;
        Simulation.Result r = solo.run(OperatorSource.of(op), sink, result -> { });
        events.addAndGet(r.events());
        skippedStages.addAndGet(r.fastForwardedStages());
        return solo.replayOf(op.shape());
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}

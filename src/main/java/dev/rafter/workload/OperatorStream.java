package dev.rafter.workload;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Turns a push-style {@link OperatorSource} into a pull-style iterator with bounded memory: a producer thread
 * fills a small queue while the simulator takes operators one at a time. Order is preserved; an exception of the
 * source (e.g. a bad trace line) is rethrown by the consumer at the point it occurred. Operators cross in batches
 * ({@link #BATCH}): a hand-over per operator cost more than replaying a reused one.
 */
public final class OperatorStream implements Iterator<Operator>, AutoCloseable {
    private static final Object END = new Object();
    /** Operators handed over at once. */
    private static final int BATCH = 256;

    /** Batches (Operator[], the last one possibly short), then END or the source's exception. */
    private final BlockingQueue<Object> queue = new ArrayBlockingQueue<>(16);
    private final Thread producer;
    /** The batch being taken from, and the place in it. */
    private Operator[] batch = new Operator[0];
    private int at;
    /** What followed the last batch (END or an exception), once reached; null before. */
    private Object last;

    public OperatorStream(OperatorSource source) {
        producer = new Thread(() -> {
            Operator[] filling = new Operator[BATCH];
            int[] count = {0};
            Operator[][] current = {filling};
            try {
                source.forEach(op -> {
                    current[0][count[0]++] = op;
                    if (count[0] == BATCH) {
                        put(current[0]);
                        current[0] = new Operator[BATCH];
                        count[0] = 0;
                    }
                });
                flush(current[0], count[0]);
                put(END);
            } catch (Stopped s) {
                // consumer closed the stream early
            } catch (RuntimeException | Error e) {
                try {
                    flush(current[0], count[0]);
                    put(e);
                } catch (Stopped ignored) {
                    // consumer gone
                }
            }
        }, "rafter-operators");
        producer.setDaemon(true);
        producer.start();
    }

    private static final class Stopped extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Stopped() {
            super(null, null, false, false);
        }
    }

    /** Hands over the first {@code count} operators of {@code filling}, if any. */
    private void flush(Operator[] filling, int count) {
        if (count > 0) {
            put(count == BATCH ? filling : java.util.Arrays.copyOf(filling, count));
        }
    }

    private void put(Object o) {
        try {
            queue.put(o);
        } catch (InterruptedException e) {
            throw new Stopped();
        }
    }

    @Override
    public boolean hasNext() {
        while (at == batch.length && last == null) {
            Object o;
            try {
                o = queue.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while reading operators", e);
            }
            if (o instanceof Operator[] b) {
                batch = b;
                at = 0;
            } else {
                last = o;
            }
        }
        if (at < batch.length) {
            return true;
        }
        if (last instanceof RuntimeException e) {
            throw e;
        }
        if (last instanceof Error e) {
            throw e;
        }
        return false;
    }

    @Override
    public Operator next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        Operator op = batch[at];
        batch[at++] = null;
        return op;
    }

    @Override
    public void close() {
        producer.interrupt();
    }
}

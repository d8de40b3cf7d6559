package dev.rafter.workload;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Turns a push-style {@link OperatorSource} into a pull-style iterator with bounded memory: a producer thread
 * fills a small queue while the simulator takes operators one at a time. Order is preserved; an exception of the
 * source (e.g. a bad trace line) is rethrown by the consumer at the point it occurred.
 */
public final class OperatorStream implements Iterator<Operator>, AutoCloseable {
    private static final Object END = new Object();

    private final BlockingQueue<Object> queue = new ArrayBlockingQueue<>(4096);
    private final Thread producer;
    private Object next;

    public OperatorStream(OperatorSource source) {
        producer = new Thread(() -> {
            try {
                source.forEach(op -> put(op));
                put(END);
            } catch (Stopped s) {
                // consumer closed the stream early
            } catch (RuntimeException | Error e) {
                try {
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

    private void put(Object o) {
        try {
            queue.put(o);
        } catch (InterruptedException e) {
            throw new Stopped();
        }
    }

    @Override
    public boolean hasNext() {
        if (next == null) {
            try {
                next = queue.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while reading operators", e);
            }
        }
        if (next instanceof RuntimeException e) {
            throw e;
        }
        if (next instanceof Error e) {
            throw e;
        }
        return next != END;
    }

    @Override
    public Operator next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        Operator op = (Operator) next;
        next = null;
        return op;
    }

    @Override
    public void close() {
        producer.interrupt();
    }
}

package dev.rafter.sim;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/** Waiting for work run on another thread, its failure thrown as it was thrown there. */
public final class Futures {
    private Futures() {}

    /** The result of {@code f}; its exception or error rethrown as is; {@code what} names the wait if interrupted. */
    public static <T> T join(Future<T> f, String what) {
        try {
            return f.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(what + " interrupted", e);
        }
    }
}

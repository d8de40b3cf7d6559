package dev.rafter.sweep;

/**
 * An engine could not run the points, for a reason outside Rafter and outside the input (a cluster that stopped the
 * job, lost every executor or cannot be reached any more). Reported in one line with exit code 1; the points that
 * finished are saved, so {@code --resume} goes on from them.
 */
public final class EngineFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public EngineFailure(String message, Throwable cause) {
        super(message, cause);
    }
}

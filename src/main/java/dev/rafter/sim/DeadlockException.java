package dev.rafter.sim;

import java.util.List;

/** The event list drained while work was left: names the components still waiting. */
public final class DeadlockException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public DeadlockException(long timePs, List<String> waiting) {
        super("deadlock at " + timePs + " ps: " + String.join("; ", waiting.subList(0, Math.min(6, waiting.size())))
            + (waiting.size() > 6 ? "; and " + (waiting.size() - 6) + " more" : ""));
    }
}

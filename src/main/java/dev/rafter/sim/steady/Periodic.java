package dev.rafter.sim.steady;

/**
 * A component or pending event that can take part in a fast-forward: it writes what decides its future into a
 * digest (relative to the frame: two states one repetition apart must write the same values), and moves itself
 * ahead by a jump. An event without this interface makes a moment unfit for fast-forwarding.
 */
public interface Periodic {
    void digest(Frame frame, Digest out);

    void shift(Jump jump);

    /** Visits the running totals (none by default). */
    default void counters(Counters counters) {}
}

package dev.rafter.sim;

/**
 * All that components see of the simulation kernel: the current time and the ability to run an action later.
 * Time is a {@code long} in picoseconds.
 */
public interface Scheduler {
    long now();

    /** Runs {@code action} {@code delayPs} picoseconds from now (0 = later at this same instant, FIFO). */
    void schedule(long delayPs, Runnable action);

    /** Runs {@code action} at absolute time {@code timePs} (not before now). */
    default void at(long timePs, Runnable action) {
        schedule(timePs - now(), action);
    }

    /**
     * Deferring an event: takes now the place in the order of events that {@link #at} would give an event scheduled
     * now, for a component that may never need the event (its effect stays inside the component, which applies it
     * itself when something next looks: see {@link #ranBefore}) and otherwise schedules it with {@link #atInOrder}.
     */
    long reserveOrder();

    /** Schedules {@code action} at {@code timePs} in the place {@code order} taken by {@link #reserveOrder}. */
    void atInOrder(long timePs, long order, Runnable action);

    /** Whether an event at {@code timePs} in place {@code order} would have run by now (before the running event). */
    boolean ranBefore(long timePs, long order);

    /**
     * Registers {@code schedule}, which schedules (or applies) the events its component has deferred; run before
     * anything reads the pending events (fast-forwarding's digest) and when none is pending (the run would end).
     */
    void holdsDeferred(Runnable schedule);
}

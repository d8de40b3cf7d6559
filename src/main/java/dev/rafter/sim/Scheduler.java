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
}

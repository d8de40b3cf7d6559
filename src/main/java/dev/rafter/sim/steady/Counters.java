package dev.rafter.sim.steady;

/**
 * Visits the running totals of a component in a fixed order ({@code total = counters.next(total)}): once to
 * take a snapshot, once to add the growth of one repetition times the repetitions skipped. Exact: the totals are
 * integers.
 */
@FunctionalInterface
public interface Counters {
    long next(long value);
}

/**
 * What fast-forwarding needs of the components and of the pending events ({@link dev.rafter.sim.FastForward}):
 * a {@link Digest} of everything that decides the future, taken relative to a {@link Frame}; a {@link Jump} that
 * moves state many repetitions ahead; and the {@link Counters} whose growth over one repetition is multiplied.
 */
package dev.rafter.sim.steady;

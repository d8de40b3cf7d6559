package dev.rafter.sim.steady;

/**
 * The reference a digest is taken against, so that two moments one repetition apart digest the same: times count
 * from {@code nowPs}, stage indices from {@code stage} (the next stage the global buffer will load), each core's
 * work indices from {@code works[core]} (its first work of that stage or later), and result addresses modulo
 * {@code addressPeriod} (the memory interleave's period: addresses congruent modulo it split over the channels
 * alike).
 */
public record Frame(long nowPs, int stage, int[] works, long addressPeriod) {
    /** A time as seen from now; 0 for any moment already past where only "is it past" matters. */
    public long untilPs(long timePs) {
        return Math.max(0, timePs - nowPs);
    }
}

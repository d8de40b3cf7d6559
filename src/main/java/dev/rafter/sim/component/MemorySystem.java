package dev.rafter.sim.component;

import dev.rafter.mapping.Region;
import dev.rafter.sim.message.MemoryAccess;

/**
 * A device's memory: one {@link MemoryController} per tier (tier 0 the hardware file's {@code memory:}, then its
 * {@code memory_tiers:}), each access sent to the controller of its region's tier. Results are written where the
 * placement put the activations ({@link #results}).
 */
public final class MemorySystem {
    private final MemoryController[] tiers;
    private final Region results;

    public MemorySystem(MemoryController[] tiers, Region results) {
        if (results.tier() >= tiers.length) {
            throw new IllegalArgumentException("results placed on tier " + results.tier() + " of " + tiers.length);
        }
        this.tiers = tiers.clone();
        this.results = results;
    }

    /** Serves an access on its region's tier; {@code done} runs once it has completed. */
    public void transfer(MemoryAccess access, Runnable done) {
        tiers[access.region().tier()].transfer(access, done);
    }

    public MemoryController tier(int index) {
        return tiers[index];
    }

    public int tierCount() {
        return tiers.length;
    }

    /** Where results (activations) are written. */
    public Region results() {
        return results;
    }

    /** Where core {@code core}'s first result of an operator is written (see {@link MemoryController}). */
    public long firstResultAddress(int core) {
        return tiers[results.tier()].firstResultAddress(core);
    }

    /** Where the result after one of {@code bytes} at {@code address} is written. */
    public long afterResult(long address, long bytes) {
        return tiers[results.tier()].afterResult(address, bytes);
    }

    /** Brings every tier's channels to the state every kernel finds. */
    public void settle() {
        for (MemoryController t : tiers) {
            for (MemoryChannel c : t.channels()) {
                c.settle();
            }
        }
    }

    /** Bytes every channel of every tier moved. */
    public long bytesMoved() {
        long sum = 0;
        for (MemoryController t : tiers) {
            for (MemoryChannel c : t.channels()) {
                sum += c.bytesMoved();
            }
        }
        return sum;
    }
}

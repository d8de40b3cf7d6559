package dev.rafter.sim.component;

import dev.rafter.mapping.Region;
import dev.rafter.mapping.TensorRole;
import java.util.List;
import dev.rafter.sim.message.MemoryAccess;

/**
 * A device's memory: one {@link MemoryController} per tier (tier 0 the hardware file's {@code memory:}, then its
 * {@code memory_tiers:}), each access sent to the controller of its region's tier. Results are written where the
 * placement put the activations ({@link #results}).
 */
public final class MemorySystem {
    /**
     * The declaration the catalogue reads: the device's memory controllers, one per tier over that tier's channels
     * (wired in tier order, {@link Wiring}), showing every access to the taps wired to it. It has no track: its
     * tiers' channels have theirs.
     */
    public static final ComponentKind KIND = new ComponentKind("memory_controller",
        "the memory controllers, one per tier: each interleaves its tier's channels; an access goes to its region's"
            + " tier",
        new ComponentKind.Placement(ComponentKind.Scope.DEVICE, hw -> 1, null),
        List.of(),
        List.of(new ComponentKind.Port("access", ComponentKind.Port.Direction.IN, List.of(MemoryAccess.class),
                "stage fills, result writes, collective reads and writes"),
            new ComponentKind.Port("channels", ComponentKind.Port.Direction.OUT, List.of(MemoryAccess.class),
                "each tier's channels, one wire per tier"),
            new ComponentKind.Port("taps", ComponentKind.Port.Direction.OUT, List.of(MemoryAccess.class),
                "registered kinds that see every access as it arrives")),
        List.of(), null, null, MemorySystem::build);

    private static MemorySystem build(ComponentKind.Instance in) {
        MemoryController.Tap[] taps = in.peers().all("taps", MemoryController.Tap.class)
            .toArray(new MemoryController.Tap[0]);
        List<List<MemoryChannel>> channels = in.peers().byWire("channels", MemoryChannel.class);
        MemoryController[] tiers = new MemoryController[channels.size()];
        for (int t = 0; t < tiers.length; t++) {
            // Every tier's controller shows its accesses to the same taps: each access reaches one controller.
            tiers[t] = new MemoryController(channels.get(t).toArray(new MemoryChannel[0]), in.scheduler(), taps);
        }
        return new MemorySystem(tiers, in.placement().regionOf(TensorRole.ACTIVATIONS));
    }

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

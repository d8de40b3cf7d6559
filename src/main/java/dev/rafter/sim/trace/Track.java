package dev.rafter.sim.trace;

import java.util.Objects;

/**
 * One timeline of the trace: an instance of a component kind (a PE array, a DMA slot, an HBM channel...).
 * Overlapping slices never share a track. It carries where its slices count in the statistics registry, resolved
 * once from its kind's declaration, so the counting sink adds a slice with two array stores.
 */
public final class Track {
    private final int id;
    private final TrackKind kind;
    private final int core;
    private final int index;
    private final String name;
    /** Per {@link SliceKind} ordinal: the registry slot its duration and its amount add to (0: none). */
    final int[] durationSlot;
    final int[] amountSlot;

    /**
     * {@code core} is -1 for a track of the device (memory, global buffer, links); {@code durationSlot} and {@code
     * amountSlot} are its kind's registry slots, per {@link SliceKind} ordinal (the catalogue's, which makes tracks).
     */
    public Track(int id, TrackKind kind, int core, int index, String name, int[] durationSlot, int[] amountSlot) {
        this.id = id;
        this.kind = Objects.requireNonNull(kind);
        this.core = core;
        this.index = index;
        this.name = name;
        this.durationSlot = durationSlot;
        this.amountSlot = amountSlot;
    }

    public int id() {
        return id;
    }

    public TrackKind kind() {
        return kind;
    }

    public int core() {
        return core;
    }

    public int index() {
        return index;
    }

    public String name() {
        return name;
    }

    @Override
    public String toString() {
        return "Track[" + id + " " + kind.name() + " " + name + "]";
    }
}

package dev.rafter.sim.steady;

import java.util.Arrays;

/** A growable sequence of longs, compared exactly; its 64-bit hash only finds candidates. */
public final class Digest {
    private long[] values = new long[256];
    private int size;
    private boolean opaque;

    /** Marks the digest as missing something it cannot express: the moment is not fit for fast-forwarding. */
    public void opaque() {
        opaque = true;
    }

    /** Whether nothing was left out. */
    public boolean complete() {
        return !opaque;
    }

    public void add(long v) {
        if (size == values.length) {
            values = Arrays.copyOf(values, size * 2);
        }
        values[size++] = v;
    }

    public void add(boolean b) {
        add(b ? 1 : 0);
    }

    public void clear() {
        size = 0;
        opaque = false;
    }

    public int size() {
        return size;
    }

    public Digest copy() {
        Digest d = new Digest();
        d.values = Arrays.copyOf(values, size);
        d.size = size;
        return d;
    }

    public long[] toArray() {
        return Arrays.copyOf(values, size);
    }

    public long hash() {
        long h = 0x9E3779B97F4A7C15L;
        for (int i = 0; i < size; i++) {
            h = (h ^ values[i]) * 0xBF58476D1CE4E5B9L;
            h ^= h >>> 31;
        }
        return h ^ size;
    }

    /** Exactly the same values. */
    public boolean sameAs(Digest other) {
        return Arrays.equals(values, 0, size, other.values, 0, other.size);
    }

}

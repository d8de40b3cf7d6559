package dev.rafter.importer;

import java.util.Arrays;

/**
 * Compact growable arrays and open-addressing maps of primitives for the Kineto importer, so the state it keeps
 * per event is a few machine words (memory bounded by the number of ops and kernels, not by the file size, and far
 * below what boxed collections would take).
 */
final class KinetoArrays {
    private KinetoArrays() {}

    /** A growable array of longs. */
    static final class Longs {
        private long[] a = new long[64];
        private int size;

        void add(long v) {
            if (size == a.length) {
                a = Arrays.copyOf(a, a.length * 2);
            }
            a[size++] = v;
        }

        long get(int i) {
            return a[i];
        }

        void set(int i, long v) {
            a[i] = v;
        }

        int size() {
            return size;
        }
    }

    /** A growable array of ints. */
    static final class Ints {
        private int[] a = new int[64];
        private int size;

        void add(int v) {
            if (size == a.length) {
                a = Arrays.copyOf(a, a.length * 2);
            }
            a[size++] = v;
        }

        int get(int i) {
            return a[i];
        }

        void set(int i, int v) {
            a[i] = v;
        }

        int size() {
            return size;
        }
    }

    /** A growable array of bytes. */
    static final class Bytes {
        private byte[] a = new byte[64];
        private int size;

        void add(int v) {
            if (size == a.length) {
                a = Arrays.copyOf(a, a.length * 2);
            }
            a[size++] = (byte) v;
        }

        int get(int i) {
            return a[i];
        }

        int size() {
            return size;
        }
    }

    /** A map from long keys to long values (open addressing, linear probing); absent keys read as a default. */
    static final class LongLongMap {
        private static final long EMPTY = Long.MIN_VALUE;
        private long[] keys;
        private long[] values;
        private int size;

        LongLongMap() {
            keys = new long[64];
            values = new long[64];
            Arrays.fill(keys, EMPTY);
        }

        /** Stores {@code value} for {@code key} ({@code key} must not be Long.MIN_VALUE). */
        void put(long key, long value) {
            if (2 * (size + 1) > keys.length) {
                grow();
            }
            int i = slot(keys, key);
            if (keys[i] == EMPTY) {
                keys[i] = key;
                size++;
            }
            values[i] = value;
        }

        long get(long key, long absent) {
            int i = slot(keys, key);
            return keys[i] == EMPTY ? absent : values[i];
        }

        boolean contains(long key) {
            return keys[slot(keys, key)] != EMPTY;
        }

        int size() {
            return size;
        }

        private void grow() {
            long[] oldKeys = keys;
            long[] oldValues = values;
            keys = new long[oldKeys.length * 2];
            values = new long[oldKeys.length * 2];
            Arrays.fill(keys, EMPTY);
            for (int j = 0; j < oldKeys.length; j++) {
                if (oldKeys[j] != EMPTY) {
                    int i = slot(keys, oldKeys[j]);
                    keys[i] = oldKeys[j];
                    values[i] = oldValues[j];
                }
            }
        }

        private static int slot(long[] keys, long key) {
            long h = key * 0x9E3779B97F4A7C15L;
            int mask = keys.length - 1;
            int i = (int) (h ^ (h >>> 32)) & mask;
            while (keys[i] != EMPTY && keys[i] != key) {
                i = (i + 1) & mask;
            }
            return i;
        }
    }

    /** Compares two indices. */
    interface IndexOrder {
        int compare(int a, int b);
    }

    /** Sorts {@code items} in place, stably, by {@code order} (merge sort on int arrays: no boxing). */
    static void sort(int[] items, IndexOrder order) {
        int n = items.length;
        int[] a = items;
        int[] b = new int[n];
        for (int width = 1; width < n; width *= 2) {
            for (int lo = 0; lo < n; lo += 2 * width) {
                int mid = Math.min(lo + width, n);
                int hi = Math.min(lo + 2 * width, n);
                int i = lo;
                int j = mid;
                int k = lo;
                while (i < mid && j < hi) {
                    b[k++] = order.compare(a[j], a[i]) < 0 ? a[j++] : a[i++];
                }
                while (i < mid) {
                    b[k++] = a[i++];
                }
                while (j < hi) {
                    b[k++] = a[j++];
                }
            }
            int[] t = a;
            a = b;
            b = t;
        }
        if (a != items) {
            System.arraycopy(a, 0, items, 0, n);
        }
    }
}

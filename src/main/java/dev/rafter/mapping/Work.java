package dev.rafter.mapping;

/**
 * One unit of a core's tile program: a sequence of chunks, each loaded from a global-buffer stage into the local
 * buffer, computed, and (for some chunks) stored. The core controller runs any kind of work the same way; only
 * the compute step differs (PE arrays for {@link MatrixTile}, the vector unit for {@link VectorTile}, which also
 * adds split-K partial sums).
 */
public sealed interface Work permits MatrixTile, VectorTile {
    int chunks();

    /** The global-buffer stage chunk {@code j} reads. */
    int stage(int j);

    /** Operand bytes loaded into the local buffer for chunk {@code j}; freed when its compute ends. */
    long loadBytes(int j, int elementBytes);

    /** Result bytes reserved with chunk {@code j}'s load and freed once stored (0: nothing). */
    long reserveBytes(int j, int elementBytes);

    /** Result bytes stored after chunk {@code j} is computed (0: none). */
    long storeBytes(int j, int elementBytes);

    /** How many of its chunks store a result. */
    default int storingChunks(int elementBytes) {
        int n = 0;
        for (int j = 0; j < chunks(); j++) {
            if (storeBytes(j, elementBytes) > 0) {
                n++;
            }
        }
        return n;
    }

    /** Chunk loads a core keeps in flight or waiting to compute by default: double buffering. */
    int DOUBLE_BUFFERED = 2;

    /**
     * How many of its chunk loads a core keeps in flight or waiting to compute while it works on this work: a
     * GEMM main loop's pipeline stages ({@link MatrixTile}); double buffering for the rest.
     */
    default int loadsInFlight() {
        return DOUBLE_BUFFERED;
    }

    /** Whether this work is {@code earlier} again, only {@code stages} global-buffer stages later. */
    boolean repeats(Work earlier, int stages);
}

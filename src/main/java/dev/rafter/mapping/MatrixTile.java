package dev.rafter.mapping;

/**
 * One output tile of m x n computed over K in local chunks on the PE arrays; chunk j (depth {@link #chunkK})
 * uses stage {@code firstStage + j / chunksPerStage}. Its accumulator is reserved with the first chunk and stored
 * after the last.
 */
public record MatrixTile(int firstStage, int m, int n, long k, int localK, int chunksPerStage) implements Work {
    @Override
    public int chunks() {
        return (int) ((k + localK - 1) / localK);
    }

    public int chunkK(int j) {
        return (int) Math.min(localK, k - (long) j * localK);
    }

    @Override
    public int stage(int j) {
        return firstStage + j / chunksPerStage;
    }

    @Override
    public long loadBytes(int j, int e) {
        long kc = chunkK(j);
        return ((long) m * kc + kc * n) * e;
    }

    @Override
    public long reserveBytes(int j, int e) {
        return j == 0 ? (long) m * n * e : 0;
    }

    @Override
    public long storeBytes(int j, int e) {
        return j == chunks() - 1 ? (long) m * n * e : 0;
    }
}

package dev.rafter.mapping;

/**
 * The split-K reduction of {@code elements} outputs in one chunk on the vector unit: it loads {@code partials} fp32
 * partial sums per output from stage {@code stage}, adds them ({@code partials - 1} FLOPs per output) and stores
 * each output once in the operator's data type.
 */
public record ReductionTile(int stage, long elements, int partials) implements Work {
    /** Bytes of one partial sum: fp32 accumulators. */
    public static final int PARTIAL_BYTES = 4;

    @Override
    public int chunks() {
        return 1;
    }

    @Override
    public int stage(int j) {
        return stage;
    }

    @Override
    public long loadBytes(int j, int e) {
        return elements * partials * PARTIAL_BYTES;
    }

    @Override
    public long reserveBytes(int j, int e) {
        return storeBytes(j, e);
    }

    @Override
    public long storeBytes(int j, int e) {
        return elements * e;
    }

    public long flops() {
        return elements * (partials - 1);
    }
}

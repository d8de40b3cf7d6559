package dev.rafter.mapping;

/**
 * A run of {@code elements} of a vector operator in one chunk on the vector unit, in one memory pass: its inputs
 * ({@code inputsPerElement} operands) are loaded from stage {@code stage}; if the pass writes
 * ({@code outputsPerElement} > 0) its outputs are stored right after. {@code flops} run on the vector lanes,
 * {@code specialFunctions} (exp, tanh, reciprocal, rsqrt) on the special-function units. For
 * {@code exposedLatencyCycles} after its computation the core waits on a memory round trip that depends on it (a
 * norm's normalise loads, issued once its row statistics are known) and that nothing else on the core hides.
 */
public record VectorTile(int stage, long elements, int inputsPerElement, int outputsPerElement, long flops,
                         long specialFunctions, long exposedLatencyCycles) implements Work {
    public VectorTile {
        if (exposedLatencyCycles < 0) {
            throw new IllegalArgumentException("exposed latency " + exposedLatencyCycles + " < 0");
        }
    }

    /** A tile whose core waits on nothing after its computation. */
    public VectorTile(int stage, long elements, int inputsPerElement, int outputsPerElement, long flops,
                      long specialFunctions) {
        this(stage, elements, inputsPerElement, outputsPerElement, flops, specialFunctions, 0);
    }

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
        return elements * inputsPerElement * e;
    }

    @Override
    public long reserveBytes(int j, int e) {
        return storeBytes(j, e);
    }

    @Override
    public long storeBytes(int j, int e) {
        return elements * outputsPerElement * e;
    }

    @Override
    public boolean repeats(Work earlier, int stages) {
        return earlier instanceof VectorTile t && stage == t.stage + stages && elements == t.elements
            && inputsPerElement == t.inputsPerElement && outputsPerElement == t.outputsPerElement && flops == t.flops
            && specialFunctions == t.specialFunctions && exposedLatencyCycles == t.exposedLatencyCycles;
    }
}

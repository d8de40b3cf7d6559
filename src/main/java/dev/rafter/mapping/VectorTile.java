package dev.rafter.mapping;

import dev.rafter.workload.OpKind;

/**
 * A run of {@code elements} of a vector operator in one chunk on the vector unit: its inputs are loaded from
 * stage {@code stage}, its outputs stored right after.
 */
public record VectorTile(int stage, long elements, OpKind kind) implements Work {
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
        return elements * kind.inputsPerElement() * e;
    }

    @Override
    public long reserveBytes(int j, int e) {
        return storeBytes(j, e);
    }

    @Override
    public long storeBytes(int j, int e) {
        return elements * kind.outputsPerElement() * e;
    }

    public long flops() {
        return elements * kind.flopsPerElement();
    }
}

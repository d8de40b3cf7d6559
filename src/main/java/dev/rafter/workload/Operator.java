package dev.rafter.workload;

import dev.rafter.hw.DataType;

/**
 * One row of an operator trace (DESIGN.md): per-device shapes. Shape fields by kind:
 * <ul>
 *   <li>{@code gemm}: {@code batch} independent (m x k) * (k x n) products.</li>
 *   <li>{@code attention}: fused attention, {@code batch} = sequences x KV heads, {@code m} = query rows per KV head
 *       (query tokens x heads per KV group), {@code n} = KV length, {@code k} = head dimension.</li>
 *   <li>vector kinds: {@code m} rows of {@code n} elements ({@code elements} = m x n per operand); row-wise kinds
 *       (softmax, norms) reduce along each row. {@code m} and {@code n} are 0 when a trace gives {@code elements}
 *       alone (pure elementwise ops, or traces written before row shapes): the row structure is then unknown and
 *       the operator is run as one streaming pass over all cores.</li>
 *   <li>{@code all_reduce}: {@code elements} per device, {@code n} = devices in the group.</li>
 * </ul>
 * {@code deps} are earlier op ids this op waits for; empty means "after the previous op".
 */
public record Operator(long id, String name, OpKind kind, Phase phase, int layer, int step, long batch, long m,
                       long n, long k, long elements, DataType dataType, long[] deps) {

    public static final long[] NO_DEPS = new long[0];

    public static Operator gemm(long id, String name, Phase phase, int layer, int step, long batch, long m, long n,
                                long k, DataType dt) {
        return new Operator(id, name, OpKind.GEMM, phase, layer, step, batch, m, n, k, 0, dt, NO_DEPS);
    }

    public static Operator vector(long id, String name, OpKind kind, Phase phase, int layer, int step,
                                  long elements, DataType dt) {
        return new Operator(id, name, kind, phase, layer, step, 0, 0, 0, 0, elements, dt, NO_DEPS);
    }

    /** A vector operator of {@code rows} rows of {@code rowLength} elements. */
    public static Operator rows(long id, String name, OpKind kind, Phase phase, int layer, int step, long rows,
                                long rowLength, DataType dt) {
        return new Operator(id, name, kind, phase, layer, step, 0, rows, rowLength, 0,
            Math.multiplyExact(rows, rowLength), dt, NO_DEPS);
    }

    /** A vector operator whose row shape is known ({@code m} rows of {@code n}). */
    public boolean hasRowShape() {
        return kind.isVector() && m > 0 && n > 0;
    }

    public static Operator allReduce(long id, String name, Phase phase, int layer, int step, long elements,
                                     int devices, DataType dt) {
        return new Operator(id, name, OpKind.ALL_REDUCE, phase, layer, step, 0, 0, devices, 0, elements, dt,
            NO_DEPS);
    }

    /** FLOPs: 2 per MAC for matrix kinds; fused attention counts QK^T and context GEMMs plus 5 per score. */
    public double flops() {
        return switch (kind) {
            case GEMM -> 2.0 * batch * m * n * k;
            case ATTENTION -> 4.0 * batch * m * n * k + 5.0 * batch * m * n;
            case ALL_REDUCE -> (double) elements * (n - 1) / n * kind.flopsPerElement();
            default -> (double) elements * kind.flopsPerElement();
        };
    }

    /**
     * Minimum bytes moved to and from memory: each operand read once, the result written once. Fused attention
     * reads Q, K and V and writes the context (the scores never leave the chip).
     */
    public double minBytes() {
        double b = dataType.bytes();
        return switch (kind) {
            case GEMM -> b * batch * ((double) m * k + (double) k * n + (double) m * n);
            case ATTENTION -> b * batch * (2.0 * m * k + 2.0 * n * k);
            default -> b * elements * (kind.inputsPerElement() + kind.outputsPerElement());
        };
    }
}

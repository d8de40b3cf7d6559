package dev.rafter.workload;

import dev.rafter.hw.DataType;
import java.util.List;

/**
 * One row of an operator trace (DESIGN.md): per-device shapes. Shape fields by kind:
 * <ul>
 *   <li>{@code gemm}: {@code batch} independent (m x k) * (k x n) products.</li>
 *   <li>{@code attention} (run unfused: the scores go through memory) and {@code flash_attention} (run fused, the
 *       scores stay on chip): {@code batch} = sequences x KV heads, {@code m} = query rows per KV head (query tokens
 *       x heads per KV group, token-major: row r is query token r / group), {@code n} = KV length, {@code k} = head
 *       dimension, {@code elements} = query tokens per sequence (0: unknown, taken as {@code m}, one head per KV
 *       head). The query tokens are the last positions of the KV sequence; with {@link #causal} token t of q sees
 *       keys 0 .. n - q + t only.</li>
 *   <li>vector kinds: {@code m} rows of {@code n} elements ({@code elements} = m x n per operand); row-wise kinds
 *       (softmax, norms) reduce along each row. {@code m} and {@code n} are 0 when a trace gives {@code elements}
 *       alone (pure elementwise ops, or traces written before row shapes): the row structure is then unknown and
 *       the operator is run as one streaming pass over all cores.</li>
 *   <li>{@code all_reduce}: {@code elements} per device, {@code n} = devices in the group.</li>
 * </ul>
 * {@code deps} are earlier op ids this op waits for; empty means "after the previous op".
 *
 * <p>{@code causal} (attention kinds only): the causal mask, whose masked scores are neither counted nor, where a
 * whole tile is masked, computed. {@code operandBType}: the data type of the second operand, whose bytes it moves:
 * a GEMM's B (the weights of a projection, K of the scores, V of the context) and an attention's K and V (the KV
 * cache); the A operand, the results and the arithmetic stay in {@code dataType} (weight-only or KV-cache
 * quantisation: the kernel dequantises on chip).
 *
 * <p>{@code segments} ({@code flash_attention} only; empty for every other operator): a variable-length attention,
 * one kernel over several groups of sequences each with its own query rows and KV length (the paged or varlen
 * kernel of a serving engine's step). Each {@link Segment} is a group of items of one shape; the operator's own
 * {@code batch}, {@code m}, {@code n} and {@code elements} are those of the first segment, so a reader of the plain
 * shape sees a valid part of the work, while {@link #flops}, {@link #minBytes} and the mapping cover them all.
 *
 * <p>{@code kernel} ({@code gemm} only; null for the rest and wherever no trace named it): the library kernel a
 * replayed trace recorded for this GEMM, shown beside the mapping's own tile (see {@link GemmKernel}); part of its
 * shape, so a reused operator reports its own kernel.
 */
public record Operator(long id, String name, OpKind kind, Phase phase, int layer, int step, long batch, long m,
                       long n, long k, long elements, DataType dataType, long[] deps, boolean causal,
                       DataType operandBType, List<Segment> segments, GemmKernel kernel) {

    public static final long[] NO_DEPS = new long[0];

    /** A group of a variable-length attention: {@code batch} items of {@code m} rows over {@code n} keys. */
    public record Segment(long batch, long m, long n, long queryTokens) {
        public Segment {
            if (batch < 0 || m < 0 || n < 0 || queryTokens < 0) {
                throw new IllegalArgumentException("an attention segment's sizes are not negative, got " + batch
                    + ", " + m + ", " + n + ", " + queryTokens);
            }
        }
    }

    public Operator {
        if (operandBType == null) {
            operandBType = dataType;
        }
        segments = segments == null ? List.of() : List.copyOf(segments);
        if (!segments.isEmpty() && kind != OpKind.FLASH_ATTENTION && kind != OpKind.GROUPED_GEMM) {
            throw new IllegalArgumentException("only flash_attention and grouped_gemm run over segments, not " + kind);
        }
        if (kernel != null && kind != OpKind.GEMM) {
            throw new IllegalArgumentException("only a gemm names the library kernel that ran it, not " + kind);
        }
    }

    /** An operator without a named kernel (every operator but a replayed trace's GEMMs). */
    public Operator(long id, String name, OpKind kind, Phase phase, int layer, int step, long batch, long m, long n,
                    long k, long elements, DataType dataType, long[] deps, boolean causal, DataType operandBType,
                    List<Segment> segments) {
        this(id, name, kind, phase, layer, step, batch, m, n, k, elements, dataType, deps, causal, operandBType,
            segments, null);
    }

    /** This GEMM as run by the named library kernel. */
    public Operator withKernel(GemmKernel named) {
        return new Operator(id, name, kind, phase, layer, step, batch, m, n, k, elements, dataType, deps, causal,
            operandBType, segments, named);
    }

    /** An operator over one shape (no segments). */
    public Operator(long id, String name, OpKind kind, Phase phase, int layer, int step, long batch, long m, long n,
                    long k, long elements, DataType dataType, long[] deps, boolean causal, DataType operandBType) {
        this(id, name, kind, phase, layer, step, batch, m, n, k, elements, dataType, deps, causal, operandBType,
            List.of());
    }

    /** An operator without a mask whose operands are all of {@code dataType}. */
    public Operator(long id, String name, OpKind kind, Phase phase, int layer, int step, long batch, long m, long n,
                    long k, long elements, DataType dataType, long[] deps) {
        this(id, name, kind, phase, layer, step, batch, m, n, k, elements, dataType, deps, false, dataType);
    }

    /** A GEMM whose B operand (weights or KV cache) is stored as {@code bType}. */
    public static Operator gemm(long id, String name, Phase phase, int layer, int step, long batch, long m, long n,
                                long k, DataType dt, DataType bType) {
        return gemm(id, name, phase, layer, step, batch, m, n, k, dt, bType, NO_DEPS);
    }

    /** A GEMM whose B operand is stored as {@code bType}, waiting for {@code deps}. */
    public static Operator gemm(long id, String name, Phase phase, int layer, int step, long batch, long m, long n,
                                long k, DataType dt, DataType bType, long[] deps) {
        return new Operator(id, name, OpKind.GEMM, phase, layer, step, batch, m, n, k, 0, dt, deps, false, bType);
    }

    /** Fused (flash) attention of {@code queryTokens} per sequence; see the class comment for the shape. */
    public static Operator flashAttention(long id, String name, Phase phase, int layer, int step, long batch, long m,
                                          long n, long k, long queryTokens, boolean causal, DataType dt,
                                          DataType kvType) {
        return new Operator(id, name, OpKind.FLASH_ATTENTION, phase, layer, step, batch, m, n, k, queryTokens, dt,
            NO_DEPS, causal, kvType);
    }

    /**
     * One fused attention kernel over several groups ({@code parts}, at least two; a single group is
     * {@link #flashAttention}): the step of a serving engine whose sequences have different new tokens and KV lengths.
     */
    public static Operator variableLengthAttention(long id, String name, Phase phase, int layer, int step,
                                                   List<Segment> parts, long k, boolean causal, DataType dt,
                                                   DataType kvType) {
        if (parts.size() < 2) {
            throw new IllegalArgumentException("a variable-length attention needs two or more segments");
        }
        Segment first = parts.get(0);
        return new Operator(id, name, OpKind.FLASH_ATTENTION, phase, layer, step, first.batch(), first.m(), first.n(),
            k, first.queryTokens(), dt, NO_DEPS, causal, kvType, parts);
    }

    /**
     * One grouped GEMM kernel ({@link OpKind#GROUPED_GEMM}) over {@code rows.length} groups (at least one), group g
     * an (rows[g] x k) * (k x n) product with its own B in {@code bType}. Each group is a segment of batch 1; the
     * operator's {@code batch} is the number of groups and its {@code m} the largest group's rows, so batch x m x n
     * bounds the work while {@link #flops} and {@link #minBytes} count the real rows of each group.
     */
    public static Operator groupedGemm(long id, String name, Phase phase, int layer, int step, long[] rows, long n,
                                       long k, DataType dt, DataType bType) {
        if (rows.length == 0) {
            throw new IllegalArgumentException("a grouped GEMM needs at least one group");
        }
        List<Segment> groups = new java.util.ArrayList<>(rows.length);
        long largest = 0;
        for (long r : rows) {
            if (r < 1) {
                throw new IllegalArgumentException("a grouped GEMM's groups have at least one row, got " + r);
            }
            groups.add(new Segment(1, r, n, 0));
            largest = Math.max(largest, r);
        }
        return new Operator(id, name, OpKind.GROUPED_GEMM, phase, layer, step, rows.length, largest, n, k, 0, dt,
            NO_DEPS, false, bType, groups);
    }

    /** Rows of item {@code item} of a GEMM: a grouped GEMM's group's own rows, else {@code m}. */
    public long rowsOf(long item) {
        return kind == OpKind.GROUPED_GEMM && !segments.isEmpty() ? segments.get((int) item).m() : m;
    }

    /** The segments this operator runs: its own shape alone when it has none. */
    public List<Segment> parts() {
        return segments.isEmpty() ? List.of(new Segment(batch, m, n, queryTokens())) : segments;
    }

    /** Segment {@code s} as an operator of its own (same id, kind and types). */
    public Operator part(Segment s) {
        return new Operator(id, name, kind, phase, layer, step, s.batch(), s.m(), s.n(), k, s.queryTokens(), dataType,
            deps, causal, operandBType);
    }

    /**
     * Everything an operator's simulation depends on: its kind, shape, data types and mask; not its id, name,
     * phase, layer, step or deps. Two operators with equal shapes run identically on a drained device.
     */
    public record Shape(OpKind kind, long batch, long m, long n, long k, long elements, DataType dataType,
                        boolean causal, DataType operandBType, List<Segment> segments, GemmKernel kernel) {
        // Written out: every operator of a run is looked up by its shape, and the generated record methods
        // (method handles) cost more than the rest of replaying a reused operator. Same meaning as the generated ones.
        @Override
        public boolean equals(Object o) {
            return o == this || o instanceof Shape s && kind == s.kind && batch == s.batch && m == s.m && n == s.n
                && k == s.k && elements == s.elements && dataType == s.dataType && causal == s.causal
                && operandBType == s.operandBType && java.util.Objects.equals(segments, s.segments)
                && java.util.Objects.equals(kernel, s.kernel);
        }

        @Override
        public int hashCode() {
            int h = java.util.Objects.hashCode(kind);
            h = 31 * h + Long.hashCode(batch);
            h = 31 * h + Long.hashCode(m);
            h = 31 * h + Long.hashCode(n);
            h = 31 * h + Long.hashCode(k);
            h = 31 * h + Long.hashCode(elements);
            h = 31 * h + java.util.Objects.hashCode(dataType);
            h = 31 * h + Boolean.hashCode(causal);
            h = 31 * h + java.util.Objects.hashCode(operandBType);
            h = 31 * h + java.util.Objects.hashCode(segments);
            return 31 * h + java.util.Objects.hashCode(kernel);
        }

        /** Whether {@code op}'s shape equals this one ({@code equals(op.shape())}, without building it). */
        public boolean matches(Operator op) {
            return kind == op.kind && batch == op.batch && m == op.m && n == op.n && k == op.k
                && elements == op.elements && dataType == op.dataType && causal == op.causal
                && operandBType == op.operandBType && java.util.Objects.equals(segments, op.segments)
                && java.util.Objects.equals(kernel, op.kernel);
        }
    }

    public Shape shape() {
        return new Shape(kind, batch, m, n, k, elements, dataType, causal, operandBType, segments, kernel);
    }

    /** Whether {@code other}'s shape equals this one's ({@code shape().equals(other.shape())}, without building them). */
    public boolean sameShape(Operator other) {
        return other == this || kind == other.kind && batch == other.batch && m == other.m && n == other.n
            && k == other.k && elements == other.elements && dataType == other.dataType && causal == other.causal
            && operandBType == other.operandBType && segments.equals(other.segments)
            && java.util.Objects.equals(kernel, other.kernel);
    }

    /** Query tokens per sequence of an attention operator (m when not given). */
    public long queryTokens() {
        return elements > 0 ? elements : m;
    }

    /**
     * Scores an attention operator computes per item (sequence x KV head): m x n without a mask; with the causal
     * mask exactly the unmasked triangle, group x (q (n - q) + q (q + 1) / 2) for q query tokens at the end of n.
     */
    public double scoresPerItem() {
        long q = queryTokens();
        if (!causal || q > n || q <= 0 || m % q != 0) {
            return (double) m * n;
        }
        double group = (double) (m / q);
        return group * ((double) q * (n - q) + (double) q * (q + 1) / 2.0);
    }

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
        return rows(id, name, kind, phase, layer, step, rows, rowLength, dt, NO_DEPS);
    }

    /** A vector operator of {@code rows} rows of {@code rowLength} elements, waiting for {@code deps}. */
    public static Operator rows(long id, String name, OpKind kind, Phase phase, int layer, int step, long rows,
                                long rowLength, DataType dt, long[] deps) {
        return new Operator(id, name, kind, phase, layer, step, 0, rows, rowLength, 0,
            Math.multiplyExact(rows, rowLength), dt, deps);
    }

    /** A vector operator whose row shape is known ({@code m} rows of {@code n}). */
    public boolean hasRowShape() {
        return kind.isVector() && m > 0 && n > 0;
    }

    public static Operator allReduce(long id, String name, Phase phase, int layer, int step, long elements,
                                     int devices, DataType dt) {
        return collective(id, name, OpKind.ALL_REDUCE, phase, layer, step, elements, devices, dt);
    }

    /** A collective of {@code kind} over {@code devices} devices, {@code elements} per device (see OpKind). */
    public static Operator collective(long id, String name, OpKind kind, Phase phase, int layer, int step,
                                      long elements, int devices, DataType dt) {
        if (!kind.isCollective()) {
            throw new IllegalArgumentException(kind + " is not a collective");
        }
        return new Operator(id, name, kind, phase, layer, step, 0, 0, devices, 0, elements, dt, NO_DEPS);
    }

    /**
     * FLOPs: 2 per MAC for matrix kinds; attention counts QK^T and context GEMMs plus 5 per score (the softmax), over
     * the unmasked scores only ({@link #scoresPerItem}).
     */
    public double flops() {
        if (!segments.isEmpty()) {
            return segments.stream().mapToDouble(s -> part(s).flops()).sum();
        }
        return switch (kind) {
            case GEMM, GROUPED_GEMM -> 2.0 * batch * m * n * k;
            case ATTENTION, FLASH_ATTENTION -> (4.0 * k + 5.0) * batch * scoresPerItem();
            case ALL_REDUCE, REDUCE_SCATTER -> (double) elements * (n - 1) / n * kind.flopsPerElement();
            case ALL_GATHER, ALL_TO_ALL -> 0;
            default -> (double) elements * kind.flopsPerElement();
        };
    }

    /**
     * Bytes of the activations this operator reads, each input tensor once: the output of the operators before it (a
     * GEMM's or an attention's A, every input of a vector operator); a GEMM's B and an attention's K and V are
     * weights and KV cache, a gather reads a table, and a collective reads outside the cores (0).
     */
    public long activationInputBytes() {
        if (!segments.isEmpty()) {
            return sumOverSegments(Operator::activationInputBytes);
        }
        if (kind.isCollective()) {
            return 0;
        }
        return switch (kind) {
            case GEMM, GROUPED_GEMM, ATTENTION, FLASH_ATTENTION -> batch * m * k * dataType.bytes();
            case GATHER -> 0; // rows of a table (an embedding's weights), not a result
            default -> elements * kind.inputsPerElement() * dataType.bytes();
        };
    }

    /** Bytes of the tensor this operator writes (its result), as {@link #minBytes} counts it; 0 for a collective. */
    public long outputBytes() {
        if (!segments.isEmpty()) {
            return sumOverSegments(Operator::outputBytes);
        }
        if (kind.isCollective()) {
            return 0;
        }
        return switch (kind) {
            case GEMM, GROUPED_GEMM -> batch * m * n * dataType.bytes();
            case ATTENTION, FLASH_ATTENTION -> batch * m * k * dataType.bytes();
            default -> elements * kind.outputsPerElement() * dataType.bytes();
        };
    }

    /** {@code of} summed over the parts of a segmented operator. */
    private long sumOverSegments(java.util.function.ToLongFunction<Operator> of) {
        long sum = 0;
        for (Segment s : segments) {
            sum += of.applyAsLong(part(s));
        }
        return sum;
    }

    /**
     * Minimum bytes moved to and from memory: each operand read once, the result written once. Fused attention
     * reads Q, K and V and writes the context (the scores never leave the chip). B operands (weights, K and V) in
     * their own data type.
     */
    public double minBytes() {
        if (!segments.isEmpty()) {
            return segments.stream().mapToDouble(s -> part(s).minBytes()).sum();
        }
        double b = dataType.bytes();
        double bb = operandBType.bytes();
        return switch (kind) {
            case GEMM, GROUPED_GEMM -> batch * (b * ((double) m * k + (double) m * n) + bb * (double) k * n);
            case ATTENTION, FLASH_ATTENTION -> batch * (b * 2.0 * m * k + bb * 2.0 * n * k);
            case ALL_REDUCE, ALL_GATHER, REDUCE_SCATTER, ALL_TO_ALL -> {
                long bytes = elements * dataType.bytes();
                yield (double) kind.collective().readBytes(bytes, (int) n) + kind.collective().writeBytes(bytes, (int) n);
            }
            default -> b * elements * (kind.inputsPerElement() + kind.outputsPerElement());
        };
    }
}

package dev.rafter.importer;

import dev.rafter.config.InputException;
import dev.rafter.hw.DataType;
import dev.rafter.importer.AtenOps.Family;
import dev.rafter.workload.OpKind;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Maps one PyTorch op of a Kineto trace (its name and its {@code Input Dims}, {@code Input type} and
 * {@code Concrete Inputs}) to a Rafter operator shape, or says why it cannot. Pure code; one instance per import
 * (it caches the family of each op name).
 *
 * <h2>What maps to what</h2>
 * <ul>
 *   <li><b>GEMM</b>: {@code aten::mm} ([m,k] x [k,n]), {@code addmm} / {@code _addmm_activation} ([bias], [m,k],
 *       [k,n]), {@code bmm} ([B,m,k] x [B,k,n]), {@code baddbmm} / {@code addbmm} (bias first), {@code matmul}
 *       (PyTorch's rules: 1-D operands gain a unit dimension, a 2-D right operand folds the left one's leading
 *       dimensions into m, otherwise the leading dimensions broadcast into the batch), {@code linear} ([..., k],
 *       [n, k], [n]: leading dimensions folded into m), {@code mv} / {@code addmv} (n = 1), {@code _scaled_mm} and
 *       {@code _int_mm} ([m,k] x [k,n]). The dtype is the left operand's (fp8 for {@code _scaled_mm}).</li>
 *   <li><b>Attention</b> (fused: batch = sequences x KV heads, m = query rows per KV head, n = KV length, k = head
 *       dimension): {@code scaled_dot_product_attention}, the {@code _scaled_dot_product_*} ops and
 *       {@code _cudnn_attention_forward} take [..., heads, seq, d] (grouped-query attention when the key has fewer
 *       heads than the query);
 *       {@code _flash_attention_forward}, {@code _efficient_attention_forward} and FlashAttention's
 *       {@code flash_attn::_flash_attn_forward} take [batch, seq, heads, d]; their variable-length forms
 *       ([tokens, heads, d] with cumulative sequence offsets) are read as that many sequences of the average
 *       length. The causal flag and a left window are read from the op's Concrete Inputs where its schema puts them
 *       ({@link #MASK_ARGUMENTS}); without them the full score matrix is counted.</li>
 *   <li><b>Row-wise</b> (m rows of n): softmax / log-softmax (n = the size of the {@code dim} argument),
 *       {@code layer_norm} / {@code native_layer_norm} and {@code rms_norm} / {@code _fused_rms_norm} (n = the
 *       product of the normalised dimensions); custom ops whose name holds {@code rms_norm} / {@code rmsnorm} or
 *       {@code layer_norm} / {@code layernorm} (vLLM's, SGLang's) normalise the last dimension of their largest
 *       tensor.</li>
 *   <li><b>Activations</b>: {@code gelu}, {@code silu} (elements of the input); serving frameworks' fused kernels
 *       ({@code silu_and_mul}, fused residual-add + RMSNorm, rope, the KV-cache write, paged attention, fused MoE,
 *       sampling) by the table and rules of {@link AtenOps} (the class comment there).</li>
 *   <li><b>Elementwise</b>: binary and ternary arithmetic and comparisons as {@code elementwise} (two inputs, one
 *       output per element of the broadcast result); unary math, scans ({@code cumsum}), and binary ops with one
 *       tensor operand (a scalar other), as {@code unary}; copies and casts ({@code copy_}, {@code clone},
 *       {@code _to_copy}, {@code fill_}) and concatenation ({@code cat}, {@code stack}: elements of the result; the
 *       trace records no dtype for a tensor list, so the importer gives these the trace's most common dtype and
 *       says so) as {@code copy}.</li>
 *   <li><b>Reductions</b> ({@code sum}, {@code mean}, {@code amax}, {@code argmax}, {@code norm}, ...: elements of
 *       the input; {@code max}/{@code min} of two tensors is elementwise) as {@code reduction}; <b>indexed
 *       reads</b> ({@code embedding}, {@code index_select}, {@code gather}: elements of the result) as
 *       {@code gather}.</li>
 *   <li><b>Collectives</b> ({@code record_param_comms}, {@code nccl:*}, {@code c10d::*}): {@code Collective name},
 *       {@code In msg nelems} (elements per device), {@code Group size}, {@code dtype}: all-reduce, all-gather (its
 *       size: the gathered output, In msg nelems x group), reduce-scatter and all-to-all map to their kinds;
 *       broadcast and point-to-point have no Rafter kind yet and stay unmapped under their collective name.</li>
 * </ul>
 * Ops on dtypes Rafter does not model (int64, int32, bool, fp64, complex, fp4) are unmapped; a dtype text PyTorch
 * never writes is bad input.
 */
final class KinetoMapper {
    /** Why an op did or did not map. */
    enum Outcome {
        MAPPED,
        /** Not an op the importer knows. */
        UNKNOWN_OP,
        /** A known op recorded without {@code Input Dims} (the profiler ran without record_shapes). */
        NO_SHAPES,
        /** A dtype Rafter does not model; {@link Result#detail} names it. */
        DTYPE_NOT_MODELLED,
        /** Shapes that do not fit the op's signature, empty tensors, or sizes beyond Rafter's bounds. */
        SHAPE_NOT_UNDERSTOOD,
        /** A collective op without its own collective args: the enclosing op's tell. */
        COLLECTIVE_UNRESOLVED,
        /** A collective Rafter has no kind for; {@link Result#detail} is its canonical name. */
        COLLECTIVE_NOT_MODELLED,
        /** A collective over fewer than 2 devices (nothing to communicate). */
        SINGLE_DEVICE
    }

    /** The outcome of one mapping (reused). */
    static final class Result {
        Outcome outcome;
        OpKind kind;
        long batch;
        long m;
        long n;
        long k;
        long elements;
        /** Whether a vector op's row shape (m rows of n) is given; else elements alone. */
        boolean rows;
        DataType dataType;
        String detail;
        /** Attention read with its causal mask (from the op's is_causal / causal argument). */
        boolean causal;
        /**
         * The trace does not record the dtype (a tensor list's elements: {@code Input type} says only
         * {@code TensorList}); {@link #dataType} is null and the importer gives the trace's most common one.
         */
        boolean dtypeAssumed;

        void reset() {
            outcome = Outcome.UNKNOWN_OP;
            kind = null;
            batch = 0;
            m = 0;
            n = 0;
            k = 0;
            elements = 0;
            rows = false;
            dataType = null;
            detail = null;
            causal = false;
            dtypeAssumed = false;
        }
    }

    // Rafter's bounds on a trace row (as workload.TraceCsv checks them), so an imported trace reads back.
    private static final long MAX_BATCH = 1L << 20;
    private static final long MAX_DIMENSION = 1L << 24;
    private static final long MAX_ELEMENTS = 1L << 44;

    /** The families this importer maps: Kineto's {@code Input Dims} hold no output shape for a convolution. */
    private static final Set<Family> MAPPED = EnumSet.complementOf(EnumSet.of(Family.CONVOLUTION,
        Family.CONVOLUTION_GENERAL, Family.CONVOLUTION_BACKWARD, Family.BATCH_NORM));

    private static final Map<String, DataType> MODELLED = new HashMap<>();
    private static final Set<String> NOT_MODELLED = Set.of("double", "Double", "float64", "long int", "long",
        "Long", "int64", "long long", "int", "Int", "int32", "short int", "short", "Short", "int16", "unsigned char",
        "Byte", "uint8", "bool", "Bool", "c10::qint32", "c10::quint8", "c10::quint4x2", "c10::quint2x4",
        "unsigned short", "unsigned int", "unsigned long", "uint16", "uint32", "uint64", "UInt16", "UInt32",
        "UInt64", "ComplexHalf", "ComplexFloat", "ComplexDouble");
    private static final Set<String> NOT_TENSOR = Set.of("", "Scalar", "ScalarList", "TensorList", "GenericList",
        "Device", "Layout", "ScalarType", "MemoryFormat", "String", "None", "Stream", "Generator", "Storage");

    static {
        for (String s : List.of("float", "Float", "float32")) {
            MODELLED.put(s, DataType.FP32);
        }
        for (String s : List.of("c10::Half", "Half", "half", "float16")) {
            MODELLED.put(s, DataType.FP16);
        }
        for (String s : List.of("c10::BFloat16", "BFloat16", "bfloat16")) {
            MODELLED.put(s, DataType.BF16);
        }
        for (String s : List.of("signed char", "Char", "int8", "c10::qint8", "QInt8")) {
            MODELLED.put(s, DataType.INT8);
        }
    }

    /** How a dtype text reads. */
    enum DtypeClass { MODELLED, NOT_MODELLED, NOT_TENSOR, UNKNOWN }

    static DtypeClass classify(String t) {
        if (t == null) {
            return DtypeClass.NOT_TENSOR;
        }
        if (dataType(t) != null) {
            return DtypeClass.MODELLED;
        }
        if (NOT_MODELLED.contains(t) || t.startsWith("c10::complex") || t.startsWith("c10::Float4_")
            || t.startsWith("Float4_") || t.startsWith("c10::bits") || t.startsWith("Bits")
            || t.startsWith("c10::Float8_e8m0") || t.startsWith("Float8_e8m0")) {
            return DtypeClass.NOT_MODELLED;
        }
        if (NOT_TENSOR.contains(t) || t.endsWith("List") || t.endsWith("[]") || t.endsWith("?")) {
            return DtypeClass.NOT_TENSOR;
        }
        return DtypeClass.UNKNOWN;
    }

    /** The Rafter dtype of a PyTorch dtype text, or null. */
    static DataType dataType(String t) {
        DataType d = MODELLED.get(t);
        if (d != null) {
            return d;
        }
        if ((t.startsWith("c10::Float8_") || t.startsWith("Float8_") || t.startsWith("float8_"))
            && !t.contains("e8m0")) {
            return DataType.FP8;
        }
        return null;
    }

    private final Map<String, Family> families = new HashMap<>();
    private final Result r = new Result();

    /** The family of an op name (cached). */
    Family family(String name) {
        return families.computeIfAbsent(name, KinetoMapper::familyOf);
    }

    private static Family familyOf(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        if (name.equals("record_param_comms") || lower.startsWith("nccl:") || lower.startsWith("rccl:")
            || lower.startsWith("gloo:") || lower.startsWith("c10d::")) {
            return Family.COLLECTIVE;
        }
        if (name.startsWith("aten::")) {
            Family f = AtenOps.of(name);
            return MAPPED.contains(f) ? f : Family.NONE;
        }
        return AtenOps.serving(name);
    }

    /**
     * Maps {@code name} with its {@code args}. The result is reused by the next call. Throws InputException (without
     * a place: the caller adds the file and event) for a dtype text PyTorch never writes on a tensor the op uses.
     */
    Result map(String name, KinetoArgs a) {
        r.reset();
        Family f = family(name);
        if (f == Family.NONE) {
            return r;
        }
        if (f == Family.COLLECTIVE) {
            if (a.collectiveName == null) {
                r.outcome = Outcome.COLLECTIVE_UNRESOLVED;
                return r;
            }
            return collective(a.collectiveName, a.inMsgElements, a.groupSize, a.collectiveDtype);
        }
        if (!a.hasDims) {
            r.outcome = Outcome.NO_SHAPES;
            return r;
        }
        try {
            switch (f) {
                case MM -> gemm(a, 0, 1, false);
                case ADDMM -> gemm(a, 1, 2, false);
                case BMM -> gemm(a, 0, 1, true);
                case BADDBMM -> gemm(a, 1, 2, true);
                case MATMUL -> matmul(a);
                case LINEAR -> linear(a);
                case MV -> mv(a, 0);
                case ADDMV -> mv(a, 1);
                case ATTENTION_BHSD -> attentionHeadsFirst(a);
                case ATTENTION_BSHD -> attentionSequenceFirst(a);
                case SOFTMAX -> softmax(a);
                case LAYERNORM -> norm(a, OpKind.LAYERNORM);
                case RMSNORM -> norm(a, OpKind.RMSNORM);
                case LAYERNORM_LAST -> normLast(a, OpKind.LAYERNORM);
                case RMSNORM_LAST -> normLast(a, OpKind.RMSNORM);
                case GELU -> activation(a, OpKind.GELU, false);
                case SILU -> activation(a, OpKind.SILU, false);
                case GELU_AND_MUL -> activation(a, OpKind.GELU_AND_MUL, true);
                case SILU_AND_MUL -> activation(a, OpKind.SILU_AND_MUL, true);
                case ADD_RMSNORM_LAST -> normLast(a, OpKind.ADD_RMSNORM);
                case ROPE -> rope(a);
                case KV_CACHE_WRITE -> kvCacheWrite(a);
                case PAGED_ATTENTION -> pagedAttention(a);
                case ATTENTION_PAGED_PREFILL -> pagedPrefill(a);
                case MOE -> moe(a);
                case SAMPLING -> sampling(a);
                case BINARY, POINTWISE -> pointwise(a);
                case COPY -> firstTensor(a, OpKind.COPY);
                case REDUCTION -> reduction(a);
                case INDEX_SELECT -> indexSelect(a);
                case EMBEDDING -> embedding(a);
                case GATHER -> gather(a);
                case CAT -> cat(a);
                default -> throw new IllegalStateException(f.name());
            }
            if (r.kind == OpKind.ATTENTION) {
                mask(name, a);
            }
        } catch (NotUnderstood e) {
            r.reset();
            r.outcome = Outcome.SHAPE_NOT_UNDERSTOOD;
            r.detail = e.getMessage();
        } catch (NotModelled e) {
            r.reset();
            r.outcome = Outcome.DTYPE_NOT_MODELLED;
            r.detail = e.getMessage();
        } catch (ArithmeticException e) {
            r.reset();
            r.outcome = Outcome.SHAPE_NOT_UNDERSTOOD;
            r.detail = "sizes overflow";
        }
        return r;
    }

    /** Maps a collective by its args (as {@code record_param_comms} gives them). */
    Result collective(String collectiveName, long elements, long groupSize, String dtype) {
        r.reset();
        String canonical = canonicalCollective(collectiveName);
        OpKind kind = switch (canonical) {
            case "all_reduce" -> OpKind.ALL_REDUCE;
            case "all_gather" -> OpKind.ALL_GATHER;
            case "reduce_scatter" -> OpKind.REDUCE_SCATTER;
            case "all_to_all" -> OpKind.ALL_TO_ALL;
            default -> null;
        };
        if (kind == null) {
            r.outcome = Outcome.COLLECTIVE_NOT_MODELLED;
            r.detail = canonical;
            return r;
        }
        if (groupSize < 2) {
            r.outcome = Outcome.SINGLE_DEVICE;
            r.detail = canonical;
            return r;
        }
        // Rafter's size is nccl-tests': an all-gather's gathered output ("In msg nelems" is each rank's part).
        long size = kind == OpKind.ALL_GATHER && groupSize <= MAX_ELEMENTS && elements <= MAX_ELEMENTS / groupSize
            ? elements * groupSize : elements;
        if (elements <= 0 || size > MAX_ELEMENTS || groupSize > Integer.MAX_VALUE) {
            r.outcome = Outcome.SHAPE_NOT_UNDERSTOOD;
            r.detail = canonical + " of " + elements + " elements over " + groupSize + " devices";
            return r;
        }
        String t = dtype == null ? "" : dtype;
        DtypeClass c = classify(t);
        if (c == DtypeClass.UNKNOWN) {
            throw new InputException("unknown dtype '" + t + "' of " + collectiveName);
        }
        if (c != DtypeClass.MODELLED) {
            r.outcome = Outcome.DTYPE_NOT_MODELLED;
            r.detail = t.isEmpty() ? "no dtype" : t;
            return r;
        }
        r.outcome = Outcome.MAPPED;
        r.kind = kind;
        r.elements = size;
        r.n = groupSize;
        r.dataType = dataType(t);
        return r;
    }

    /** all_reduce, all_gather, reduce_scatter, all_to_all, broadcast, ... from PyTorch's collective names. */
    static String canonicalCollective(String name) {
        String s = name.toLowerCase(Locale.ROOT).replace("_", "");
        if (s.contains("allreduce")) {
            return "all_reduce";
        }
        if (s.contains("allgather")) {
            return "all_gather";
        }
        if (s.contains("reducescatter")) {
            return "reduce_scatter";
        }
        if (s.contains("alltoall")) {
            return "all_to_all";
        }
        if (s.contains("broadcast")) {
            return "broadcast";
        }
        String clean = name.replaceAll("[^A-Za-z0-9_:]", "");
        return clean.isEmpty() ? "unnamed" : clean;
    }

    /** A shape the op's signature does not explain. */
    private static final class NotUnderstood extends RuntimeException {
        private static final long serialVersionUID = 1L;

        NotUnderstood(String message) {
            super(message, null, false, false);
        }
    }

    /** A dtype Rafter does not model. */
    private static final class NotModelled extends RuntimeException {
        private static final long serialVersionUID = 1L;

        NotModelled(String dtype) {
            super(dtype, null, false, false);
        }
    }

    // ---------------------------------------------------------------- arguments

    /** The shape of tensor argument {@code i}, or null when it is not a tensor. */
    private static long[] tensor(KinetoArgs a, int i) {
        if (i >= a.dims.size()) {
            return null;
        }
        long[] d = a.dims.get(i);
        if (d == null || d == KinetoArgs.LIST) {
            return null;
        }
        DtypeClass c = classify(a.type(i));
        if (c == DtypeClass.NOT_TENSOR && !(a.types.isEmpty() && d.length > 0)) {
            return null;
        }
        return d;
    }

    private static long[] required(KinetoArgs a, int i, String what) {
        long[] d = tensor(a, i);
        if (d == null) {
            throw new NotUnderstood("no " + what + " tensor at argument " + i);
        }
        return d;
    }

    /** The modelled dtype of tensor argument {@code i}; NotModelled or InputException otherwise. */
    private static DataType dtypeOf(KinetoArgs a, int i) {
        String t = a.type(i);
        switch (classify(t)) {
            case MODELLED -> {
                return dataType(t);
            }
            case UNKNOWN -> throw new InputException("unknown dtype '" + t + "' in 'Input type' (argument " + i + ")");
            case NOT_MODELLED -> throw new NotModelled(t);
            default -> throw new NotModelled(a.types.isEmpty() ? "dtype not recorded" : "no dtype");
        }
    }

    /**
     * The dtype of the first tensor argument whose dtype Rafter models (a comparison's bool mask or an index tensor
     * does not decide); NotModelled names the first tensor's dtype when none is modelled.
     */
    private static DataType firstModelledDtype(KinetoArgs a) {
        String first = null;
        for (int i = 0; i < a.dims.size(); i++) {
            if (tensor(a, i) == null) {
                continue;
            }
            String t = a.type(i);
            DtypeClass c = classify(t);
            if (c == DtypeClass.UNKNOWN) {
                throw new InputException("unknown dtype '" + t + "' in 'Input type' (argument " + i + ")");
            }
            if (c == DtypeClass.MODELLED) {
                return dataType(t);
            }
            if (first == null) {
                first = t.isEmpty() ? "dtype not recorded" : t;
            }
        }
        throw first == null ? new NotUnderstood("no tensor argument") : new NotModelled(first);
    }

    private static long numel(long[] d) {
        long n = 1;
        for (long v : d) {
            n = Math.multiplyExact(n, v);
        }
        return n;
    }

    private static long product(long[] d, int from, int to) {
        long n = 1;
        for (int i = from; i < to; i++) {
            n = Math.multiplyExact(n, d[i]);
        }
        return n;
    }

    // ---------------------------------------------------------------- matrix ops

    private void gemm(KinetoArgs a, int left, int right, boolean batched) {
        long[] x = required(a, left, "left matrix");
        long[] w = required(a, right, "right matrix");
        int rank = batched ? 3 : 2;
        if (x.length != rank || w.length != rank) {
            throw new NotUnderstood("expected " + rank + "-D operands, got " + x.length + "-D and " + w.length + "-D");
        }
        long batch = batched ? x[0] : 1;
        if (batched && w[0] != batch) {
            throw new NotUnderstood("batch " + x[0] + " vs " + w[0]);
        }
        if (x[rank - 1] != w[rank - 2]) {
            throw new NotUnderstood("inner dimensions " + x[rank - 1] + " vs " + w[rank - 2]);
        }
        setGemm(batch, x[rank - 2], w[rank - 1], x[rank - 1], dtypeOf(a, left));
    }

    private void matmul(KinetoArgs a) {
        long[] x = required(a, 0, "left");
        long[] w = required(a, 1, "right");
        if (x.length == 0 || w.length == 0) {
            throw new NotUnderstood("0-D operand");
        }
        DataType dt = dtypeOf(a, 0);
        long k = x[x.length - 1];
        long kw = w.length == 1 ? w[0] : w[w.length - 2];
        if (k != kw) {
            throw new NotUnderstood("inner dimensions " + k + " vs " + kw);
        }
        long n = w.length == 1 ? 1 : w[w.length - 1];
        if (w.length <= 2) {
            // A 1-D or 2-D right operand: PyTorch folds the left operand's leading dimensions into one mm.
            setGemm(1, product(x, 0, x.length - 1), n, k, dt);
            return;
        }
        long m = x.length == 1 ? 1 : x[x.length - 2];
        long[] lx = x.length <= 2 ? new long[0] : java.util.Arrays.copyOf(x, x.length - 2);
        long[] lw = java.util.Arrays.copyOf(w, w.length - 2);
        setGemm(numel(broadcast(lx, lw)), m, n, k, dt);
    }

    private void linear(KinetoArgs a) {
        long[] x = required(a, 0, "input");
        long[] w = required(a, 1, "weight");
        if (x.length == 0 || w.length != 2 || x[x.length - 1] != w[1]) {
            throw new NotUnderstood("linear expects [..., k] and [n, k]");
        }
        setGemm(1, product(x, 0, x.length - 1), w[0], w[1], dtypeOf(a, 0));
    }

    private void mv(KinetoArgs a, int matrix) {
        long[] x = required(a, matrix, "matrix");
        long[] v = required(a, matrix + 1, "vector");
        if (x.length != 2 || v.length != 1 || x[1] != v[0]) {
            throw new NotUnderstood("mv expects [m, k] and [k]");
        }
        setGemm(1, x[0], 1, x[1], dtypeOf(a, matrix));
    }

    private void setGemm(long batch, long m, long n, long k, DataType dt) {
        if (batch <= 0 || m <= 0 || n <= 0 || k <= 0) {
            throw new NotUnderstood("empty matrix");
        }
        if (batch > MAX_BATCH || m > MAX_DIMENSION || n > MAX_DIMENSION || k > MAX_DIMENSION) {
            throw new NotUnderstood("sizes beyond Rafter's bounds");
        }
        r.outcome = Outcome.MAPPED;
        r.kind = OpKind.GEMM;
        r.batch = batch;
        r.m = m;
        r.n = n;
        r.k = k;
        r.dataType = dt;
    }

    /** [..., heads, seq, d] (the scaled_dot_product_* ops). */
    private void attentionHeadsFirst(KinetoArgs a) {
        long[] q = required(a, 0, "query");
        long[] kv = required(a, 1, "key");
        int rank = q.length;
        if (rank < 2 || kv.length != rank || kv[rank - 1] != q[rank - 1]) {
            throw new NotUnderstood("query and key shapes disagree");
        }
        long seqQ = q[rank - 2];
        long seqK = kv[rank - 2];
        long d = q[rank - 1];
        if (rank < 4) {
            setAttention(product(q, 0, rank - 2), 1, 1, seqQ, seqK, d, dtypeOf(a, 0));
            return;
        }
        setAttention(product(q, 0, rank - 3), q[rank - 3], kv[rank - 3], seqQ, seqK, d, dtypeOf(a, 0));
    }

    /** [batch, seq, heads, d], or [tokens, heads, d] with cumulative sequence offsets (variable length). */
    private void attentionSequenceFirst(KinetoArgs a) {
        long[] q = required(a, 0, "query");
        long[] kv = required(a, 1, "key");
        if (q.length != kv.length || (q.length != 3 && q.length != 4) || q[q.length - 1] != kv[kv.length - 1]) {
            throw new NotUnderstood("query and key shapes disagree");
        }
        // Variable length: the first 1-D integer tensor after q, k, v holds cumulative offsets (sequences + 1).
        long sequences = 0;
        for (int i = 3; i < a.dims.size(); i++) {
            long[] t = tensor(a, i);
            if (t != null && t.length == 1 && t[0] >= 2 && isIntegerType(a.type(i))) {
                sequences = t[0] - 1;
                break;
            }
        }
        int r4 = q.length == 4 ? 1 : 0;
        long batch;
        long seqQ;
        long seqK;
        if (q.length == 3 || (sequences > 0 && q[0] == 1)) {
            if (sequences <= 0) {
                throw new NotUnderstood("variable-length attention without sequence offsets");
            }
            batch = sequences;
            seqQ = ceilDiv(q[r4], sequences);
            seqK = ceilDiv(kv[r4], sequences);
        } else {
            if (kv[0] != q[0]) {
                throw new NotUnderstood("query and key batches disagree");
            }
            batch = q[0];
            seqQ = q[1];
            seqK = kv[1];
        }
        int h = q.length - 2;
        setAttention(batch, q[h], kv[h], seqQ, seqK, q[q.length - 1], dtypeOf(a, 0));
    }

    private static boolean isIntegerType(String t) {
        return t.equals("int") || t.equals("long int") || t.equals("Int") || t.equals("Long") || t.equals("int32")
            || t.equals("int64");
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    private void setAttention(long batch, long headsQ, long headsKv, long seqQ, long seqK, long d, DataType dt) {
        if (headsKv <= 0 || headsQ % headsKv != 0) {
            throw new NotUnderstood(headsQ + " query heads over " + headsKv + " key heads");
        }
        long group = headsQ / headsKv;
        setGemm(Math.multiplyExact(batch, headsKv), Math.multiplyExact(seqQ, group), seqK, d, dt);
        r.kind = OpKind.ATTENTION;
        r.elements = seqQ; // query tokens per sequence: where the causal mask and a window fall
    }

    /**
     * Where an attention op's mask flags lie (Concrete Inputs, by the op's schema): the causal flag's argument and
     * the left window's (-1: none). {@code _efficient_attention_forward} gives a mask type (0 none, 1 and 2 causal)
     * instead of a flag.
     */
    private static final Map<String, int[]> MASK_ARGUMENTS = Map.ofEntries(
        Map.entry("aten::scaled_dot_product_attention", new int[] {5, -1}),
        Map.entry("aten::_scaled_dot_product_attention_math", new int[] {5, -1}),
        Map.entry("aten::_scaled_dot_product_fused_attention_overrideable", new int[] {5, -1}),
        Map.entry("aten::_scaled_dot_product_flash_attention", new int[] {4, -1}),
        Map.entry("aten::_scaled_dot_product_flash_attention_for_cpu", new int[] {4, -1}),
        Map.entry("aten::_scaled_dot_product_efficient_attention", new int[] {6, -1}),
        Map.entry("aten::_scaled_dot_product_cudnn_attention", new int[] {6, -1}),
        Map.entry("aten::_cudnn_attention_forward", new int[] {10, -1}),
        Map.entry("aten::_flash_attention_forward", new int[] {8, 11}),
        Map.entry("aten::_efficient_attention_forward", new int[] {9, -1}),
        Map.entry("_flash_attn_forward", new int[] {5, 6}),
        Map.entry("_flash_attn_varlen_forward", new int[] {9, 10}),
        Map.entry("flash_attn_varlen_func", new int[] {9, 10}),
        Map.entry("mha_batch_prefill", new int[] {12, 13}));

    /**
     * The causal flag and the sliding window of an attention op, from its Concrete Inputs. A value that is not a
     * boolean (or, for the window, an integer) where the schema puts it leaves the op unmasked: the full score
     * matrix is counted, as before the flag was read. A window is applied where it is exact, to one query token
     * per sequence (decode: the token sees the last window + 1 keys); a prefill window is not (Rafter's mask is
     * causal only), so prefill scores stay counted over the causal triangle.
     */
    private void mask(String name, KinetoArgs a) {
        int[] at = MASK_ARGUMENTS.get(name);
        if (at == null) {
            at = MASK_ARGUMENTS.get(name.substring(name.lastIndexOf("::") + 2));
        }
        if (at == null) {
            return;
        }
        String flag = a.concrete(at[0]).trim();
        if (name.equals("aten::_efficient_attention_forward")) {
            r.causal = flag.equals("1") || flag.equals("2");
        } else {
            r.causal = flag.equals("True") || flag.equals("true") || flag.equals("1");
        }
        if (at[1] >= 0 && r.elements == 1) {
            try {
                long window = Long.parseLong(a.concrete(at[1]).trim());
                if (window >= 0 && window + 1 < r.n) {
                    r.n = window + 1;
                }
            } catch (NumberFormatException e) {
                // no window recorded: every key is seen
            }
        }
    }

    // ---------------------------------------------------------------- vector ops

    private void softmax(KinetoArgs a) {
        long[] x = required(a, 0, "input");
        int dim = x.length - 1;
        String c = a.concrete(1).trim();
        if (!c.isEmpty()) {
            try {
                dim = (int) Long.parseLong(c);
            } catch (NumberFormatException e) {
                throw new NotUnderstood("softmax dim '" + c + "'");
            }
            if (dim < 0) {
                dim += x.length;
            }
        }
        if (x.length == 0) {
            setRows(1, 1, OpKind.SOFTMAX, dtypeOf(a, 0));
            return;
        }
        if (dim < 0 || dim >= x.length) {
            throw new NotUnderstood("softmax dim " + c + " of a " + x.length + "-D tensor");
        }
        long n = x[dim];
        setRows(n == 0 ? 0 : numel(x) / n, n, OpKind.SOFTMAX, dtypeOf(a, 0));
    }

    /** layer_norm / rms_norm: normalised over the dimensions of argument 1 (normalized_shape). */
    private void norm(KinetoArgs a, OpKind kind) {
        long[] x = required(a, 0, "input");
        int normalised = listLength(a.concrete(1));
        if (normalised <= 0) {
            long[] w = tensor(a, 2);
            normalised = w != null && w.length > 0 ? w.length : 1;
        }
        if (normalised > x.length) {
            throw new NotUnderstood("normalised over " + normalised + " dimensions of a " + x.length + "-D tensor");
        }
        long n = product(x, x.length - normalised, x.length);
        setRows(n == 0 ? 0 : numel(x) / n, n, kind, dtypeOf(a, 0));
    }

    /** Custom norm ops: the last dimension of the largest tensor. */
    private void normLast(KinetoArgs a, OpKind kind) {
        int best = largestTensor(a);
        long[] x = a.dims.get(best);
        long n = x[x.length - 1];
        setRows(n == 0 ? 0 : numel(x) / n, n, kind, dtypeOf(a, best));
    }

    private static int largestTensor(KinetoArgs a) {
        int best = -1;
        long bestNumel = -1;
        for (int i = 0; i < a.dims.size(); i++) {
            long[] t = tensor(a, i);
            if (t != null && t.length > 0 && numel(t) > bestNumel) {
                best = i;
                bestNumel = numel(t);
            }
        }
        if (best < 0) {
            throw new NotUnderstood("no tensor argument");
        }
        return best;
    }

    /** The number of entries of a list written as "[a, b, c]", or -1. */
    private static int listLength(String s) {
        String t = s.trim();
        if (t.length() < 2 || t.charAt(0) != '[' || t.charAt(t.length() - 1) != ']') {
            return -1;
        }
        String inner = t.substring(1, t.length() - 1).trim();
        return inner.isEmpty() ? 0 : inner.split(",").length;
    }

    private void activation(KinetoArgs a, OpKind kind, boolean gated) {
        if (gated) {
            int best = largestTensor(a);
            setElements(numel(a.dims.get(best)) / 2, kind, dtypeOf(a, best));
        } else {
            setElements(numel(required(a, 0, "input")), kind, dtypeOf(a, 0));
        }
    }

    /**
     * Elements of the broadcast result of all tensor arguments: the unary kind when one tensor is read (unary math,
     * or a binary op with a scalar operand), else the binary elementwise kind.
     */
    private void pointwise(KinetoArgs a) {
        long[] out = null;
        int tensors = 0;
        for (int i = 0; i < a.dims.size(); i++) {
            long[] t = tensor(a, i);
            if (t != null) {
                tensors++;
                out = out == null ? t : broadcast(out, t);
            }
        }
        if (out == null) {
            throw new NotUnderstood("no tensor argument");
        }
        setElements(numel(out), tensors == 1 ? OpKind.UNARY : OpKind.ELEMENTWISE, firstModelledDtype(a));
    }

    /** The elements of the first tensor argument, as {@code kind}. */
    private void firstTensor(KinetoArgs a, OpKind kind) {
        for (int i = 0; i < a.dims.size(); i++) {
            long[] t = tensor(a, i);
            if (t != null) {
                setElements(numel(t), kind, dtypeOf(a, i));
                return;
            }
        }
        throw new NotUnderstood("no tensor argument");
    }

    /** A reduction over its first tensor; {@code max(self, other)} and {@code min(self, other)} are elementwise. */
    private void reduction(KinetoArgs a) {
        int tensors = 0;
        for (int i = 0; i < a.dims.size(); i++) {
            if (tensor(a, i) != null) {
                tensors++;
            }
        }
        if (tensors > 1) {
            pointwise(a);
        } else {
            firstTensor(a, OpKind.REDUCTION);
        }
    }

    private void indexSelect(KinetoArgs a) {
        long[] x = required(a, 0, "input");
        long[] index = required(a, 2, "index");
        int dim = 0;
        try {
            dim = (int) Long.parseLong(a.concrete(1).trim());
        } catch (NumberFormatException e) {
            throw new NotUnderstood("index_select dim '" + a.concrete(1) + "'");
        }
        if (dim < 0) {
            dim += x.length;
        }
        if (dim < 0 || dim >= x.length || x[dim] == 0) {
            throw new NotUnderstood("index_select dim " + dim + " of a " + x.length + "-D tensor");
        }
        setElements(Math.multiplyExact(numel(x) / x[dim], numel(index)), OpKind.GATHER, dtypeOf(a, 0));
    }

    private void embedding(KinetoArgs a) {
        long[] w = required(a, 0, "weight");
        long[] index = required(a, 1, "indices");
        if (w.length != 2) {
            throw new NotUnderstood("embedding weight must be 2-D");
        }
        setElements(Math.multiplyExact(numel(index), w[1]), OpKind.GATHER, dtypeOf(a, 0));
    }

    private void gather(KinetoArgs a) {
        required(a, 0, "input");
        setElements(numel(required(a, 2, "index")), OpKind.GATHER, dtypeOf(a, 0));
    }

    /** cat / stack of a tensor list: the elements of the result, copied once. */
    private void cat(KinetoArgs a) {
        if (a.dims.isEmpty() || a.dims.get(0) != KinetoArgs.LIST) {
            throw new NotUnderstood("expected a tensor list as argument 0");
        }
        long elements = 0;
        for (long[] shape : a.lists.get(0)) {
            elements = Math.addExact(elements, numel(shape));
        }
        String t = a.type(0);
        DataType dt = null;
        switch (classify(t)) {
            case MODELLED -> dt = dataType(t);
            case NOT_MODELLED -> throw new NotModelled(t);
            case UNKNOWN -> throw new InputException("unknown dtype '" + t + "' in 'Input type' (argument 0)");
            default -> { }
        }
        setElements(elements, OpKind.COPY, dt);
        r.dtypeAssumed = dt == null;
    }

    /** positions, query, key, head_size, cos_sin_cache [P, R]: the rotary part (R of each head's D) of q and k. */
    private void rope(KinetoArgs a) {
        long[] q = required(a, 1, "query");
        long[] k = tensor(a, 2);
        long elements = Math.addExact(numel(q), k == null ? 0 : numel(k));
        long headSize = 0;
        try {
            headSize = Long.parseLong(a.concrete(3).trim());
        } catch (NumberFormatException e) {
            // not recorded: the whole head rotates
        }
        long[] cache = tensor(a, 4);
        if (headSize > 0 && cache != null && cache.length == 2 && cache[1] < headSize && elements % headSize == 0) {
            elements = Math.multiplyExact(elements / headSize, cache[1]);
        }
        setElements(elements, OpKind.ROPE, dtypeOf(a, 1));
    }

    /** key and value (or an MLA latent's two parts) written into the cache: the first two tensors' elements. */
    private void kvCacheWrite(KinetoArgs a) {
        long[] key = required(a, 0, "key");
        long[] value = required(a, 1, "value");
        setElements(Math.addExact(numel(key), numel(value)), OpKind.KV_CACHE_WRITE, dtypeOf(a, 0));
    }

    /**
     * vLLM's paged decode attention: query (or the output of its shape) [S, H, D] is the first 3-D tensor, the key
     * cache [blocks, Hkv, D/x, block, x] the first 5-D one, the block tables [S, max blocks] the first 2-D integer
     * tensor; one query token per sequence over max blocks x block keys.
     */
    private void pagedAttention(KinetoArgs a) {
        int query = -1;
        int keyCache = -1;
        int blockTables = -1;
        for (int i = 0; i < a.dims.size(); i++) {
            long[] t = tensor(a, i);
            if (t == null) {
                continue;
            }
            if (isIntegerType(a.type(i))) {
                blockTables = blockTables < 0 && t.length == 2 ? i : blockTables;
            } else if (t.length == 3 && query < 0) {
                query = i;
            } else if (t.length == 5 && keyCache < 0) {
                keyCache = i;
            }
        }
        if (query < 0 || keyCache < 0 || blockTables < 0) {
            throw new NotUnderstood("paged attention expects a [seqs, heads, d] query, a 5-D key cache and"
                + " [seqs, blocks] block tables");
        }
        long[] q = a.dims.get(query);
        long[] kc = a.dims.get(keyCache);
        long[] bt = a.dims.get(blockTables);
        if (bt[0] != q[0]) {
            throw new NotUnderstood("block tables of " + bt[0] + " sequences for " + q[0] + " queries");
        }
        setAttention(q[0], q[1], kc[1], 1, Math.multiplyExact(bt[1], kc[3]), q[2], dtypeOf(a, query));
    }

    /**
     * aiter's mha_batch_prefill: q [tokens, H, D], k [pages, Hkv, D] or [pages, page, Hkv, D], v, cu_seqlens_q
     * [S + 1], kv_indptr [S + 1], kv_page_indices [pages used]: S sequences of the average query and KV length.
     */
    private void pagedPrefill(KinetoArgs a) {
        long[] q = required(a, 0, "q");
        long[] k = required(a, 1, "k");
        long[] cuSeqlens = required(a, 3, "cu_seqlens_q");
        long[] pages = required(a, 5, "kv_page_indices");
        if (q.length != 3 || (k.length != 3 && k.length != 4) || cuSeqlens.length != 1 || cuSeqlens[0] < 2
            || pages.length != 1 || q[2] != k[k.length - 1]) {
            throw new NotUnderstood("mha_batch_prefill expects q [tokens, heads, d], paged k, cu_seqlens_q and"
                + " kv_page_indices");
        }
        long sequences = cuSeqlens[0] - 1;
        long kvTokens = Math.multiplyExact(pages[0], k.length == 4 ? k[1] : 1);
        setAttention(sequences, q[1], k[k.length - 2], ceilDiv(q[0], sequences), ceilDiv(kvTokens, sequences),
            q[2], dtypeOf(a, 0));
    }

    /**
     * fused MoE (hidden [T, d], w1 [E, 2F, d], w2 [E, d, F], topk weights [T, k], or router logits [T, E] with k
     * as the next argument): one GEMM over the experts a uniform router touches (see AtenOps).
     */
    private void moe(KinetoArgs a) {
        long[] x = required(a, 0, "hidden_states");
        long[] w1 = required(a, 1, "w1");
        long[] w2 = required(a, 2, "w2");
        long[] routing = required(a, 3, "topk_weights");
        if (x.length != 2 || w1.length != 3 || w2.length != 3 || routing.length != 2 || w1[2] != x[1]
            || w2[1] != x[1] || w1[0] != w2[0] || w1[1] != 2 * w2[2] || routing[0] != x[0]) {
            throw new NotUnderstood("fused MoE expects hidden [T, d], w1 [E, 2F, d], w2 [E, d, F], topk [T, k]");
        }
        long tokens = x[0];
        long experts = w1[0];
        long k = routing[1];
        if (k == experts) {
            try {
                k = Long.parseLong(a.concrete(4).trim()); // router logits [T, E], then topk
            } catch (NumberFormatException e) {
                throw new NotUnderstood("fused MoE over router logits without a topk argument");
            }
        }
        if (tokens <= 0 || k <= 0 || k > experts) {
            throw new NotUnderstood("top-" + k + " of " + experts + " experts");
        }
        double expected = experts * (1 - Math.pow(1 - (double) k / experts, tokens));
        long touched = Math.min(Math.min(experts, Math.multiplyExact(tokens, k)),
            Math.max(k, Math.round(expected)));
        setGemm(touched, ceilDiv(Math.multiplyExact(tokens, k), touched), Math.multiplyExact(3, w2[2]), x[1],
            dtypeOf(a, 0));
    }

    /** Sampling over the vocabulary: the largest tensor, [B, V] probabilities or logits, as B rows of V. */
    private void sampling(KinetoArgs a) {
        int best = largestTensor(a);
        long[] p = a.dims.get(best);
        if (p.length != 2) {
            throw new NotUnderstood("sampling expects [batch, vocabulary] probabilities");
        }
        setRows(p[0], p[1], OpKind.SAMPLING, dtypeOf(a, best));
    }

    private void setRows(long m, long n, OpKind kind, DataType dt) {
        if (m <= 0 || n <= 0) {
            throw new NotUnderstood("empty tensor");
        }
        if (n > MAX_DIMENSION || m > MAX_ELEMENTS / n) {
            throw new NotUnderstood("sizes beyond Rafter's bounds");
        }
        r.outcome = Outcome.MAPPED;
        r.kind = kind;
        r.m = m;
        r.n = n;
        r.elements = m * n;
        r.rows = true;
        r.dataType = dt;
    }

    private void setElements(long elements, OpKind kind, DataType dt) {
        if (elements <= 0) {
            throw new NotUnderstood("empty tensor");
        }
        if (elements > MAX_ELEMENTS) {
            throw new NotUnderstood("sizes beyond Rafter's bounds");
        }
        r.outcome = Outcome.MAPPED;
        r.kind = kind;
        r.elements = elements;
        r.dataType = dt;
    }

    /** NumPy broadcasting of two shapes. */
    private static long[] broadcast(long[] x, long[] y) {
        int rank = Math.max(x.length, y.length);
        long[] out = new long[rank];
        for (int i = 0; i < rank; i++) {
            long a = i < rank - x.length ? 1 : x[i - (rank - x.length)];
            long b = i < rank - y.length ? 1 : y[i - (rank - y.length)];
            if (a != b && a != 1 && b != 1) {
                throw new NotUnderstood("shapes do not broadcast");
            }
            out[i] = a == 1 ? b : a;
        }
        return out;
    }
}

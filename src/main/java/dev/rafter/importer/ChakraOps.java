package dev.rafter.importer;

import dev.rafter.hw.DataType;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;
import dev.rafter.workload.Phase;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Maps a PyTorch operator of a Chakra trace (its ATen name and the {@code inputs} / {@code outputs} IOInfo text the
 * PyTorch converter writes: {@code shapes} such as {@code [[8, 512], [512, 1024]]}, {@code types} such as
 * {@code ['Tensor(c10::BFloat16)', 'Int']} and {@code values}) to one Rafter operator, or to nothing (the caller
 * counts it unmapped). Shapes are per argument, in the operator's schema order (PyTorch's native_functions.yaml).
 */
final class ChakraOps {
    private ChakraOps() {}

    /** A tensor dtype name the converter writes that is not one of Rafter's data types (integer, fp64, ...). */
    static final class UnknownDtype extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UnknownDtype(String message) {
            super(message, null, false, false);
        }
    }

    /** Text inside {@code Tensor(...)} -> Rafter data type; PyTorch's c10 scalar type names (c10/core/ScalarType.h). */
    private static final Map<String, DataType> DTYPES = Map.ofEntries(
        Map.entry("float", DataType.FP32), Map.entry("c10::Half", DataType.FP16), Map.entry("half", DataType.FP16),
        Map.entry("c10::BFloat16", DataType.BF16), Map.entry("signed char", DataType.INT8),
        Map.entry("c10::Float8_e4m3fn", DataType.FP8), Map.entry("c10::Float8_e5m2", DataType.FP8),
        Map.entry("c10::Float8_e4m3fnuz", DataType.FP8), Map.entry("c10::Float8_e5m2fnuz", DataType.FP8));

    /** Known tensor dtypes that Rafter does not simulate: ops on them are counted unmapped, not rejected. */
    private static final List<String> UNSIMULATED_DTYPES = List.of("double", "long int", "long", "int", "short",
        "unsigned char", "bool", "c10::complex<float>", "c10::complex<double>", "c10::complex<c10::Half>",
        "c10::qint8", "c10::quint8", "c10::qint32", "c10::quint4x2", "c10::Float8_e8m0fnu", "unsigned short",
        "unsigned int", "unsigned long");

    /** What the mapping saw of one node. */
    record Io(String inShapes, String inTypes, String inValues, String outShapes) {}

    /** Marker for "recognised op, but its dtype is not simulated": the caller lists it unmapped under this name. */
    record Unsimulated(String dtype) {}

    private static final Operator NONE = null;

    /**
     * The operator for {@code name} (base ATen name, no "(k)" suffix) with these inputs, with id 0 and no deps; null
     * when the name is not one Rafter maps or the shapes do not fit it.
     *
     * @throws UnknownDtype when the op would be mapped but its tensor dtype is not a known PyTorch type name
     * @throws IllegalArgumentException when the shapes text is not a nested list of integers (corrupt data)
     */
    static Operator map(String name, Io io, String[] unsimulated) {
        // Copies, gathers, concatenations, reductions and unary math (AtenOps' COPY, INDEX_SELECT, EMBEDDING,
        // GATHER, CAT, REDUCTION, POINTWISE) are not mapped from Chakra traces yet: they stay unmapped; of the
        // serving frameworks' kernels (AtenOps.serving) the row-wise and gated ones and the KV-cache write are.
        return switch (AtenOps.family(name)) {
            case MM, BMM, MATMUL, MV -> gemm(name, io, 0, 1, unsimulated);
            case ADDMM, BADDBMM, ADDMV -> gemm(name, io, 1, 2, unsimulated);
            case LINEAR -> linear(name, io, unsimulated);
            case CONVOLUTION -> convolution(name, false, io, unsimulated);
            case CONVOLUTION_GENERAL -> convolution(name, true, io, unsimulated);
            case CONVOLUTION_BACKWARD -> convolutionBackward(name, io, unsimulated);
            case ATTENTION_BHSD -> attention(name, io, 1, 2, unsimulated);
            case ATTENTION_BSHD -> attention(name, io, 2, 1, unsimulated);
            case SOFTMAX -> softmax(name, io, unsimulated);
            case LAYERNORM -> norm(name, OpKind.LAYERNORM, io, unsimulated);
            case RMSNORM -> norm(name, OpKind.RMSNORM, io, unsimulated);
            case BATCH_NORM -> batchNorm(name, io, unsimulated);
            case GELU -> activation(name, OpKind.GELU, io, unsimulated);
            case SILU -> activation(name, OpKind.SILU, io, unsimulated);
            case BINARY -> binary(name, io, unsimulated);
            case SILU_AND_MUL -> lastDimension(name, OpKind.SILU_AND_MUL, 2, io, unsimulated);
            case GELU_AND_MUL -> lastDimension(name, OpKind.GELU_AND_MUL, 2, io, unsimulated);
            case RMSNORM_LAST -> lastDimension(name, OpKind.RMSNORM, 1, io, unsimulated);
            case LAYERNORM_LAST -> lastDimension(name, OpKind.LAYERNORM, 1, io, unsimulated);
            case ADD_RMSNORM_LAST -> lastDimension(name, OpKind.ADD_RMSNORM, 1, io, unsimulated);
            case KV_CACHE_WRITE -> kvCacheWrite(name, io, unsimulated);
            default -> NONE;
        };
    }

    // ---------------------------------------------------------------- GEMMs

    /** {@code a} [..., M, K] x {@code b} [..., K, N] (matmul broadcasting; 1-D operands as in torch.matmul). */
    private static Operator gemm(String name, Io io, int ia, int ib, String[] unsimulated) {
        long[] a = shape(io, ia);
        long[] b = shape(io, ib);
        if (a == null || b == null || a.length == 0 || b.length == 0) {
            return NONE;
        }
        DataType dt = dtype(io, ia, unsimulated);
        if (dt == null) {
            return NONE;
        }
        long m = a.length >= 2 ? a[a.length - 2] : 1;
        long k = a[a.length - 1];
        long kb = b.length >= 2 ? b[b.length - 2] : b[0];
        long n = b.length >= 2 ? b[b.length - 1] : 1;
        if (k != kb) {
            return NONE;
        }
        long batchA = product(a, 0, Math.max(0, a.length - 2));
        long batchB = product(b, 0, Math.max(0, b.length - 2));
        long batch;
        if (b.length <= 2) {
            m *= batchA; // a stack of rows times one matrix is one GEMM
            batch = 1;
        } else {
            batch = Math.max(batchA, batchB);
        }
        return gemmOp(name, batch, m, n, k, dt);
    }

    /** linear(input [..., K], weight [N, K], bias?): y = x W^T. */
    private static Operator linear(String name, Io io, String[] unsimulated) {
        long[] x = shape(io, 0);
        long[] w = shape(io, 1);
        if (x == null || w == null || x.length == 0 || w.length != 2 || x[x.length - 1] != w[1]) {
            // the Chakra converter copies the innermost op's inputs onto a kernel: addmm(bias, x, W^T) or mm(x, W^T)
            Operator inner = x != null && x.length == 1 ? gemm(name, io, 1, 2, unsimulated)
                : gemm(name, io, 0, 1, unsimulated);
            return inner;
        }
        DataType dt = dtype(io, 0, unsimulated);
        if (dt == null) {
            return NONE;
        }
        return gemmOp(name, 1, product(x, 0, x.length - 1), w[0], w[1], dt);
    }

    /**
     * Convolution as the implicit GEMM cuDNN and CUTLASS run: per group, M = batch x output pixels, N = output
     * channels / groups, K = input channels / groups x kernel window. Input [N, C, spatial...], weight
     * [O, C/g, window...], output [N, O, spatial'...] (from {@code outputs}). Transposed convolutions are not mapped.
     */
    private static Operator convolution(String name, boolean transposedArg, Io io, String[] unsimulated) {
        long[] x = shape(io, 0);
        long[] w = shape(io, 1);
        long[] y = outShape(io, 0);
        if (transposedArg && isTrue(value(io, 6))) {
            return NONE; // transposed
        }
        return convGemm(name, x, w, y, 1, dtype(io, 0, unsimulated));
    }

    /**
     * convolution_backward(grad_output, input, weight, bias_sizes, stride, padding, dilation, transposed,
     * output_padding, groups, output_mask): the input gradient and the weight gradient each make the forward's
     * MACs; mapped as one GEMM of the forward's shape with batch = groups x gradients computed (output_mask), so
     * the trace's one measured time stays with one operator.
     */
    private static Operator convolutionBackward(String name, Io io, String[] unsimulated) {
        if (isTrue(value(io, 7))) {
            return NONE; // transposed
        }
        int gradients = 2;
        String mask = value(io, 10);
        if (mask != null) {
            List<String> bits = topLevel(mask);
            if (bits != null && bits.size() >= 2) {
                gradients = (isTrue(bits.get(0)) ? 1 : 0) + (isTrue(bits.get(1)) ? 1 : 0);
            }
        }
        if (gradients == 0) {
            return NONE; // bias gradient only: a reduction
        }
        return convGemm(name, shape(io, 1), shape(io, 2), shape(io, 0), gradients, dtype(io, 0, unsimulated));
    }

    private static Operator convGemm(String name, long[] x, long[] w, long[] y, int gradients, DataType dt) {
        if (x == null || w == null || y == null || x.length < 3 || w.length != x.length || y.length != x.length
            || dt == null || w[1] <= 0 || x[1] % w[1] != 0) {
            return NONE;
        }
        long groups = x[1] / w[1];
        if (w[0] % groups != 0 || y[1] != w[0]) {
            return NONE;
        }
        long m = x[0] * product(y, 2, y.length);
        long n = w[0] / groups;
        long k = w[1] * product(w, 2, w.length);
        return gemmOp(name, groups * gradients, m, n, k, dt);
    }

    /**
     * Fused attention, q [B, H, L, E] and k [B, Hkv, S, E] (heads at {@code h} = 1, sequence at {@code s} = 2), or
     * [B, L, H, E] (h = 2, s = 1): batch = B x Hkv, m = L x H / Hkv, n = S, k = E. The variable-length 3-D form
     * is not mapped.
     */
    private static Operator attention(String name, Io io, int h, int s, String[] unsimulated) {
        long[] q = shape(io, 0);
        long[] kv = shape(io, 1);
        if (q == null || kv == null || q.length != 4 || kv.length != 4 || kv[h] <= 0 || q[h] % kv[h] != 0
            || q[3] != kv[3]) {
            return NONE;
        }
        DataType dt = dtype(io, 0, unsimulated);
        if (dt == null) {
            return NONE;
        }
        long batch = q[0] * kv[h];
        long m = q[s] * (q[h] / kv[h]);
        if (positive(batch, m, kv[s], q[3])) {
            // A fused kernel (SDPA, flash, memory-efficient): the scores stay on chip. The mask is not read from the
            // trace: run without one (an upper bound for a causal kernel).
            return Operator.flashAttention(0, name, Phase.PREFILL, -1, 0, batch, m, kv[s], q[3], 0, false, dt, dt);
        }
        return NONE;
    }

    // ---------------------------------------------------------------- vector ops

    /** softmax(self, dim, ...): rows along {@code dim} when it is the last dimension, else all elements. */
    private static Operator softmax(String name, Io io, String[] unsimulated) {
        Input in = firstInput(io, unsimulated);
        if (in == null) {
            return NONE;
        }
        long[] x = in.shape();
        DataType dt = in.dataType();
        Long dim = integer(value(io, 1));
        boolean last = dim == null || dim == -1 || dim == x.length - 1;
        return last ? rows(name, OpKind.SOFTMAX, product(x, 0, x.length - 1), x[x.length - 1], dt)
            : elements(name, OpKind.SOFTMAX, product(x, 0, x.length), dt);
    }

    /** layer_norm(input, normalized_shape, ...), rms_norm(input, normalized_shape, ...): rows of normalized_shape. */
    private static Operator norm(String name, OpKind kind, Io io, String[] unsimulated) {
        Input in = firstInput(io, unsimulated);
        if (in == null) {
            return NONE;
        }
        long[] x = in.shape();
        DataType dt = in.dataType();
        long total = product(x, 0, x.length);
        long rowLength = x[x.length - 1];
        String normalized = value(io, 1);
        long[] ns = normalized == null ? null : ints(normalized);
        if (ns != null && ns.length > 0) {
            rowLength = product(ns, 0, ns.length);
        }
        if (rowLength <= 0 || total % rowLength != 0) {
            return NONE;
        }
        return rows(name, kind, total / rowLength, rowLength, dt);
    }

    /** The first input's shape (at least one dimension) and simulated data type. */
    private record Input(long[] shape, DataType dataType) {}

    /**
     * A serving kernel over the last dimension of its largest input (vLLM's silu_and_mul(out [T, F], input
     * [T, 2F]), fused_add_rms_norm(input, residual, weight)): its rows of that dimension / {@code split} (the gated
     * activations' output is half the input).
     */
    private static Operator lastDimension(String name, OpKind kind, int split, Io io, String[] unsimulated) {
        int best = -1;
        long bestSize = 0;
        for (int i = 0; ; i++) {
            long[] x = shape(io, i);
            if (x == null) {
                break;
            }
            long size = x.length == 0 ? 0 : product(x, 0, x.length);
            if (size > bestSize) {
                best = i;
                bestSize = size;
            }
        }
        if (best < 0) {
            return NONE;
        }
        long[] x = shape(io, best);
        DataType dt = dtype(io, best, unsimulated);
        if (dt == null || x[x.length - 1] % split != 0) {
            return NONE;
        }
        return rows(name, kind, product(x, 0, x.length - 1), x[x.length - 1] / split, dt);
    }

    /** reshape_and_cache(key, value, key_cache, value_cache, slot_mapping, ...): the first two inputs' elements. */
    private static Operator kvCacheWrite(String name, Io io, String[] unsimulated) {
        long[] key = shape(io, 0);
        long[] value = shape(io, 1);
        DataType dt = dtype(io, 0, unsimulated);
        if (key == null || value == null || key.length == 0 || value.length == 0 || dt == null) {
            return NONE;
        }
        return elements(name, OpKind.KV_CACHE_WRITE, product(key, 0, key.length) + product(value, 0, value.length),
            dt);
    }

    /** The first input, or null when it has no shape or a data type Rafter does not simulate (then noted). */
    private static Input firstInput(Io io, String[] unsimulated) {
        long[] x = shape(io, 0);
        if (x == null || x.length == 0) {
            return null;
        }
        DataType dt = dtype(io, 0, unsimulated);
        return dt == null ? null : new Input(x, dt);
    }

    /**
     * batch_norm(input [N, C, ...], weight, bias, running_mean, running_var, training, ...): in training it reduces
     * each channel (N x spatial elements) to its mean and variance and then normalises, the two passes of a
     * layernorm over C rows of N x spatial; mapped so. In inference it is a per-channel affine map (one input):
     * no Rafter kind, not mapped.
     */
    private static Operator batchNorm(String name, Io io, String[] unsimulated) {
        long[] x = shape(io, 0);
        if (x == null || x.length < 2 || !isTrue(value(io, 5))) {
            return NONE;
        }
        DataType dt = dtype(io, 0, unsimulated);
        if (dt == null) {
            return NONE;
        }
        long channels = x[1];
        long perChannel = x[0] * product(x, 2, x.length);
        return rows(name, OpKind.LAYERNORM, channels, perChannel, dt);
    }

    private static Operator activation(String name, OpKind kind, Io io, String[] unsimulated) {
        Input in = firstInput(io, unsimulated);
        if (in == null) {
            return NONE;
        }
        long[] x = in.shape();
        DataType dt = in.dataType();
        return rows(name, kind, product(x, 0, x.length - 1), x[x.length - 1], dt);
    }

    /**
     * Binary elementwise (add, mul, threshold_backward, ...) with two tensor operands: elements of the broadcast
     * result. With a scalar operand (a Python number, or a one-element tensor, which PyTorch passes to the kernel
     * as a scalar) the op reads one tensor: the unary kind, over the tensor's elements.
     */
    private static Operator binary(String name, Io io, String[] unsimulated) {
        List<String> types = topLevel(io.inTypes());
        if (types == null || types.isEmpty() || !isTensor(types.get(0))) {
            return NONE;
        }
        long[] a = shape(io, 0);
        if (a == null) {
            return NONE;
        }
        long na = product(a, 0, a.length);
        long[] b = types.size() >= 2 && isTensor(types.get(1)) ? shape(io, 1) : null;
        long nb = b == null ? 1 : product(b, 0, b.length);
        DataType dt = dtype(io, nb > na ? 1 : 0, unsimulated); // the larger operand's: the data that moves
        if (dt == null || Math.max(na, nb) <= 1) {
            return NONE;
        }
        return elements(name, Math.min(na, nb) <= 1 ? OpKind.UNARY : OpKind.ELEMENTWISE, Math.max(na, nb), dt);
    }

    // ---------------------------------------------------------------- builders

    private static Operator gemmOp(String name, long batch, long m, long n, long k, DataType dt) {
        return positive(batch, m, n, k) ? Operator.gemm(0, name, Phase.PREFILL, -1, 0, batch, m, n, k, dt) : NONE;
    }

    private static Operator rows(String name, OpKind kind, long rows, long rowLength, DataType dt) {
        return positive(rows, rowLength) ? Operator.rows(0, name, kind, Phase.PREFILL, -1, 0, rows, rowLength, dt)
            : NONE;
    }

    private static Operator elements(String name, OpKind kind, long elements, DataType dt) {
        return elements > 0 ? Operator.vector(0, name, kind, Phase.PREFILL, -1, 0, elements, dt) : NONE;
    }

    private static boolean positive(long... values) {
        for (long v : values) {
            if (v <= 0) {
                return false;
            }
        }
        return true;
    }

    private static long product(long[] dims, int from, int to) {
        long p = 1;
        for (int i = from; i < to; i++) {
            p = Math.multiplyExact(p, dims[i]);
        }
        return p;
    }

    // ---------------------------------------------------------------- IOInfo text

    /** Shape of input argument {@code i}: null when absent or not a flat list of ints (a tensor list, a scalar). */
    private static long[] shape(Io io, int i) {
        return argShape(io.inShapes(), i);
    }

    private static long[] outShape(Io io, int i) {
        return argShape(io.outShapes(), i);
    }

    private static long[] argShape(String shapes, int i) {
        if (shapes == null) {
            return null;
        }
        List<String> args = topLevel(shapes);
        if (args == null) {
            throw new IllegalArgumentException("shapes are not a list: " + abbreviate(shapes));
        }
        if (i >= args.size()) {
            return null;
        }
        String arg = args.get(i);
        if (!arg.startsWith("[")) {
            throw new IllegalArgumentException("shape of argument " + i + " is not a list: " + abbreviate(arg));
        }
        return ints(arg);
    }

    private static String value(Io io, int i) {
        if (io.inValues() == null) {
            return null;
        }
        List<String> values = topLevel(io.inValues());
        return values == null || i >= values.size() ? null : values.get(i);
    }

    /**
     * Rafter data type of tensor argument {@code i}; null (and {@code unsimulated[0]} set) when it is a known
     * PyTorch dtype Rafter does not simulate or the argument is not a tensor.
     */
    private static DataType dtype(Io io, int i, String[] unsimulated) {
        List<String> types = io.inTypes() == null ? null : topLevel(io.inTypes());
        if (types == null || i >= types.size()) {
            return null;
        }
        String t = unquote(types.get(i));
        if (!t.startsWith("Tensor(") || !t.endsWith(")")) {
            return null;
        }
        String inner = t.substring(7, t.length() - 1).strip();
        DataType dt = DTYPES.get(inner);
        if (dt != null) {
            return dt;
        }
        if (UNSIMULATED_DTYPES.contains(inner)) {
            unsimulated[0] = inner;
            return null;
        }
        throw new UnknownDtype("unknown tensor dtype '" + inner + "' (known: float, c10::Half, c10::BFloat16, "
            + "c10::Float8_e4m3fn, c10::Float8_e5m2, signed char; integer and fp64 tensors are listed unmapped)");
    }

    /** Data type of the first tensor in a types text, for collectives; null when none or not simulated. */
    static DataType firstTensorDtype(String typesText) {
        List<String> types = typesText == null ? null : topLevel(typesText);
        if (types == null) {
            return null;
        }
        for (String raw : types) {
            String t = unquote(raw);
            int open = t.indexOf("Tensor(");
            if (open >= 0) {
                int close = t.indexOf(')', open);
                if (close > open) {
                    String inner = t.substring(open + 7, close).strip();
                    DataType dt = DTYPES.get(inner);
                    if (dt == null && !UNSIMULATED_DTYPES.contains(inner)) {
                        throw new UnknownDtype("unknown tensor dtype '" + inner + "'");
                    }
                    return dt;
                }
            }
        }
        return null;
    }

    private static boolean isTensor(String type) {
        return unquote(type).startsWith("Tensor(");
    }

    private static boolean isTrue(String value) {
        return value != null && value.strip().equals("True");
    }

    private static Long integer(String value) {
        if (value == null) {
            return null;
        }
        try {
            return Long.parseLong(value.strip());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static String unquote(String s) {
        String t = s.strip();
        if (t.length() >= 2 && (t.charAt(0) == '\'' || t.charAt(0) == '"') && t.charAt(t.length() - 1) == t.charAt(0)) {
            return t.substring(1, t.length() - 1);
        }
        return t;
    }

    /** A flat list of integers such as {@code [8, 512]}; null when an element is not an integer (a nested list). */
    static long[] ints(String list) {
        String t = list.strip();
        if (!t.startsWith("[") || !t.endsWith("]")) {
            return null;
        }
        String body = t.substring(1, t.length() - 1).strip();
        if (body.isEmpty()) {
            return new long[0];
        }
        String[] parts = body.split(",");
        long[] out = new long[parts.length];
        for (int i = 0; i < parts.length; i++) {
            String p = parts[i].strip();
            if (p.isEmpty() || !(Character.isDigit(p.charAt(0)) || p.charAt(0) == '-')) {
                return null;
            }
            try {
                out[i] = Long.parseLong(p);
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return out;
    }

    /**
     * The top-level elements of a Python-literal list ({@code [a, [b, c], 'd, e']} -> {@code a}, {@code [b, c]},
     * {@code 'd, e'}); null when the text is not a bracketed list with balanced brackets and quotes.
     */
    static List<String> topLevel(String list) {
        String t = list.strip();
        if (!t.startsWith("[") || !t.endsWith("]")) {
            return null;
        }
        List<String> out = new ArrayList<>();
        int depth = 0;
        char quote = 0;
        int start = 1;
        int end = t.length() - 1;
        for (int i = 1; i < end; i++) {
            char c = t.charAt(i);
            if (quote != 0) {
                if (c == '\\') {
                    i++;
                } else if (c == quote) {
                    quote = 0;
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == '[' || c == '(' || c == '{') {
                depth++;
            } else if (c == ']' || c == ')' || c == '}') {
                if (--depth < 0) {
                    return null;
                }
            } else if (c == ',' && depth == 0) {
                out.add(t.substring(start, i).strip());
                start = i + 1;
            }
        }
        if (depth != 0 || quote != 0) {
            return null;
        }
        String last = t.substring(start, end).strip();
        if (!last.isEmpty() || !out.isEmpty()) {
            out.add(last);
        }
        return out;
    }

    private static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }
}

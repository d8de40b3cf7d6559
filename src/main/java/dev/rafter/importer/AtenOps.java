package dev.rafter.importer;

import java.util.HashMap;
import java.util.Map;

/**
 * PyTorch's ATen operators by family: the one table of op names the Kineto and Chakra importers share. A family is
 * an argument layout (PyTorch's native_functions.yaml schema), so one shape rule reads every name in it; each
 * importer maps the families its trace format records enough for and leaves the others unmapped.
 */
final class AtenOps {
    private AtenOps() {}

    enum Family {
        NONE,
        /** [m,k] x [k,n]. */
        MM,
        /** bias, [m,k], [k,n]. */
        ADDMM,
        /** [B,m,k] x [B,k,n]. */
        BMM,
        /** bias, [B,m,k], [B,k,n]. */
        BADDBMM,
        /** torch.matmul's broadcasting rules. */
        MATMUL,
        /** input [..., k], weight [n, k], bias. */
        LINEAR,
        /** [m,k] x [k]. */
        MV,
        /** bias, [m,k], [k]. */
        ADDMV,
        /** query, key, value as [..., heads, seq, d]. */
        ATTENTION_BHSD,
        /** query, key, value as [batch, seq, heads, d], or [tokens, heads, d] with sequence offsets. */
        ATTENTION_BSHD,
        /** self, dim, ... */
        SOFTMAX,
        /** input, normalized_shape, weight, bias, ... */
        LAYERNORM,
        RMSNORM,
        /** Custom (vLLM, SGLang) norms over the last dimension: found by name pattern, not in this table. */
        LAYERNORM_LAST,
        RMSNORM_LAST,
        GELU,
        SILU,
        /** Custom gated activations (half the input is the gate): found by name pattern, not in this table. */
        GELU_AND_MUL,
        SILU_AND_MUL,
        /** Two or more operands, data first (a scalar operand makes it unary). */
        BINARY,
        /** Every tensor operand broadcast together (unary math, scans, and ops whose first operand is not the data). */
        POINTWISE,
        COPY,
        INDEX_SELECT,
        EMBEDDING,
        GATHER,
        CAT,
        REDUCTION,
        /** input, weight, bias, stride, padding, dilation, groups. */
        CONVOLUTION,
        /** input, weight, bias, stride, padding, dilation, transposed, output_padding, groups. */
        CONVOLUTION_GENERAL,
        /** grad_output, input, weight, bias_sizes, stride, padding, dilation, transposed, output_padding, groups, mask. */
        CONVOLUTION_BACKWARD,
        /** input, weight, bias, running_mean, running_var, training, ... */
        BATCH_NORM,
        /** Collective communication (record_param_comms, nccl:*): found by name pattern, not in this table. */
        COLLECTIVE
    }

    private static final Map<String, Family> FAMILIES = new HashMap<>();

    private static void put(Family f, String... names) {
        for (String n : names) {
            if (FAMILIES.put(n, f) != null) {
                throw new IllegalStateException("aten::" + n + " is in two families");
            }
        }
    }

    static {
        put(Family.MM, "mm", "_scaled_mm", "_int_mm");
        put(Family.ADDMM, "addmm", "_addmm_activation");
        put(Family.BMM, "bmm");
        put(Family.BADDBMM, "baddbmm", "addbmm");
        put(Family.MATMUL, "matmul");
        put(Family.LINEAR, "linear");
        put(Family.MV, "mv");
        put(Family.ADDMV, "addmv");
        put(Family.ATTENTION_BHSD, "scaled_dot_product_attention", "_scaled_dot_product_flash_attention",
            "_scaled_dot_product_efficient_attention", "_scaled_dot_product_cudnn_attention",
            "_scaled_dot_product_flash_attention_for_cpu", "_scaled_dot_product_attention_math",
            "_scaled_dot_product_fused_attention_overrideable", "_cudnn_attention_forward");
        put(Family.ATTENTION_BSHD, "_flash_attention_forward", "_efficient_attention_forward");
        put(Family.SOFTMAX, "softmax", "_softmax", "log_softmax", "_log_softmax", "_safe_softmax");
        put(Family.LAYERNORM, "layer_norm", "native_layer_norm");
        put(Family.RMSNORM, "rms_norm", "_fused_rms_norm");
        put(Family.GELU, "gelu", "gelu_");
        put(Family.SILU, "silu", "silu_");
        put(Family.BINARY, "add", "add_", "sub", "sub_", "mul", "mul_", "div", "div_", "rsub", "true_divide",
            "floor_divide", "remainder", "fmod", "pow", "pow_", "maximum", "minimum", "fmax", "fmin", "masked_fill",
            "masked_fill_", "addcmul", "addcmul_", "addcdiv", "addcdiv_", "lerp", "lerp_", "eq", "ne", "lt", "le",
            "gt", "ge", "logical_and", "logical_or", "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor",
            "atan2", "hypot", "copysign", "clamp", "clamp_", "clamp_min", "clamp_max", "hardtanh", "threshold",
            "xlogy", "threshold_backward");
        // where(condition, self, other): the first operand is the boolean mask, not the data.
        put(Family.POINTWISE, "where", "neg", "neg_", "exp", "exp_", "exp2", "expm1", "log", "log_", "log2", "log1p",
            "sqrt", "sqrt_", "rsqrt", "rsqrt_", "reciprocal", "reciprocal_", "abs", "abs_", "sign", "sin", "cos",
            "tan", "tanh", "tanh_", "sigmoid", "sigmoid_", "relu", "relu_", "leaky_relu", "elu", "selu", "softplus",
            "mish", "hardswish", "hardsigmoid", "erf", "erfinv", "floor", "ceil", "round", "trunc", "frac",
            "logical_not", "bitwise_not", "nan_to_num", "square", "tril", "triu", "tril_", "triu_", "flip", "roll",
            "cumsum", "cumprod");
        put(Family.COPY, "copy_", "clone", "contiguous", "_to_copy", "to", "fill_", "zero_");
        put(Family.INDEX_SELECT, "index_select");
        put(Family.EMBEDDING, "embedding");
        put(Family.GATHER, "gather");
        put(Family.CAT, "cat", "stack");
        put(Family.REDUCTION, "sum", "mean", "amax", "amin", "max", "min", "argmax", "argmin", "all", "any", "prod",
            "norm", "linalg_vector_norm", "var", "std", "var_mean", "std_mean", "logsumexp");
        put(Family.CONVOLUTION, "conv1d", "conv2d", "conv3d", "cudnn_convolution");
        put(Family.CONVOLUTION_GENERAL, "convolution", "_convolution");
        put(Family.CONVOLUTION_BACKWARD, "convolution_backward");
        put(Family.BATCH_NORM, "batch_norm", "native_batch_norm", "cudnn_batch_norm", "_batch_norm_impl_index");
    }

    /** The family of {@code aten::NAME}; {@link Family#NONE} for other names and ATen ops not in the table. */
    static Family of(String name) {
        return name.startsWith("aten::") ? FAMILIES.getOrDefault(name.substring(6), Family.NONE) : Family.NONE;
    }
}

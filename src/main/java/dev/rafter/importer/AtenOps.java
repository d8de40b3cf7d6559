package dev.rafter.importer;

import java.util.HashMap;
import java.util.Map;

/**
 * PyTorch's ATen operators and the serving frameworks' fused kernels by family: the one table of op names the Kineto
 * and Chakra importers share. A family is an argument layout (PyTorch's native_functions.yaml schema, or the custom
 * op's registered schema), so one shape rule reads every name in it; each importer maps the families its trace
 * format records enough for and leaves the others unmapped.
 *
 * <h2>Serving-framework kernels ({@link #serving}: vLLM {@code _C::}, SGLang {@code sgl_kernel::}, aiter,
 * FlashAttention; the base name after the last {@code ::})</h2>
 * Each runs as one Rafter operator whose traffic and FLOPs are its kind's (OpKind documents them):
 * <ul>
 *   <li>{@code silu_and_mul}, {@code gelu_and_mul}, {@code gelu_tanh_and_mul} (out [T, F], input [T, 2F]):
 *       {@code silu_and_mul} / {@code gelu_and_mul} of T x F elements: 2 reads and 1 write per output element.</li>
 *   <li>{@code fused_add_rms_norm}, {@code fused_add_rmsnorm}, {@code add_rmsnorm}, {@code add_rms_norm},
 *       {@code rmsnorm2d_fwd_with_add}, {@code gemma_fused_add_rmsnorm} (input [T, d], residual [T, d], weight):
 *       {@code add_rmsnorm}, T rows of d: 2 reads and 2 writes per element.</li>
 *   <li>{@code rotary_embedding}, {@code batched_rotary_embedding}, {@code apply_rope_with_cos_sin_cache_inplace}
 *       (positions, query [T, H x D], key [T, Hkv x D], head_size, cos_sin_cache [P, R], ...): {@code rope} of
 *       (query + key elements) x R / D elements (only the rotary part of each head is rotated).</li>
 *   <li>{@code reshape_and_cache}, {@code reshape_and_cache_flash}, {@code concat_and_cache_mla} (key, value or
 *       the latent and rope parts, the caches, slot_mapping, ...): {@code kv_cache_write} of the first two
 *       tensors' elements.</li>
 *   <li>{@code paged_attention_v1}, {@code paged_attention_v2}, {@code paged_attention} (ROCm) (query [S, H, D],
 *       key_cache [blocks, Hkv, D/x, block, x], block_tables [S, max blocks], ...): {@code flash_attention} of one
 *       query token per sequence over max blocks x block keys (the trace records seq_lens' size, not its values,
 *       so the longest sequence, rounded up to a block, stands for every one: an upper bound).</li>
 *   <li>{@code _flash_attn_forward}, {@code _flash_attn_varlen_forward}, {@code flash_attn_varlen_func},
 *       {@code mha_varlen_fwd}: FlashAttention's [batch, seq, heads, d] or [tokens, heads, d] with sequence
 *       offsets (the ATen flash family's rule); {@code mha_batch_prefill} (aiter's paged prefill: q [tokens, H, D],
 *       paged k and v, cu_seqlens_q, kv_indptr, kv_page_indices): sequences from cu_seqlens_q, KV tokens from
 *       kv_page_indices x page size.</li>
 *   <li>{@code fused_moe}, {@code fused_experts}, {@code inplace_fused_experts}, {@code outplace_fused_experts}
 *       (hidden [T, d], w1 [E, 2F, d], w2 [E, d, F], topk_weights [T, k], ...): one {@code gemm} over the D experts
 *       a uniform router touches, D = E (1 - (1 - k/E)^T) rounded (as the lowering's uniform routing), each with
 *       m = ceil(T k / D) tokens, n = 3F (w1's 2F and w2's F), k = d: 6 T k F d FLOPs and every touched expert's
 *       weights read once.</li>
 *   <li>{@code top_k_top_p_sampling_from_probs}, {@code top_p_sampling_from_probs},
 *       {@code top_k_sampling_from_probs}, {@code min_p_sampling_from_probs},
 *       {@code top_k_top_p_sampling_from_logits}, {@code sampling_from_probs} (probs [B, V], ...): {@code sampling}
 *       of B rows of V.</li>
 * </ul>
 * Other custom ops whose base name holds {@code rms_norm} / {@code rmsnorm} or {@code layer_norm} /
 * {@code layernorm} normalise the last dimension of their largest tensor.
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
        /** Residual add fused with RMSNorm over the last dimension (serving kernels). */
        ADD_RMSNORM_LAST,
        /** positions, query, key, head_size, cos_sin_cache, ... (serving kernels). */
        ROPE,
        /** key, value (or the two parts of an MLA latent), caches, slot mapping (serving kernels). */
        KV_CACHE_WRITE,
        /** vLLM's paged decode attention: query [S, H, D], a paged cache, block tables (serving kernels). */
        PAGED_ATTENTION,
        /** aiter's paged prefill: q [tokens, H, D], paged k and v, cu_seqlens_q, kv_indptr, kv_page_indices. */
        ATTENTION_PAGED_PREFILL,
        /** hidden [T, d], w1 [E, 2F, d], w2 [E, d, F], topk weights [T, k] (serving kernels). */
        MOE,
        /** probabilities or logits [B, V] (serving kernels). */
        SAMPLING,
        /** Collective communication (record_param_comms, nccl:*): found by name pattern, not in this table. */
        COLLECTIVE
    }

    private static final Map<String, Family> FAMILIES = new HashMap<>();
    private static final Map<String, Family> SERVING = new HashMap<>();

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

    private static void serving(Family f, String... names) {
        for (String n : names) {
            if (SERVING.put(n, f) != null) {
                throw new IllegalStateException(n + " is in two serving families");
            }
        }
    }

    static {
        serving(Family.SILU_AND_MUL, "silu_and_mul");
        serving(Family.GELU_AND_MUL, "gelu_and_mul", "gelu_tanh_and_mul");
        serving(Family.ADD_RMSNORM_LAST, "fused_add_rms_norm", "fused_add_rmsnorm", "add_rmsnorm", "add_rms_norm",
            "rmsnorm2d_fwd_with_add", "gemma_fused_add_rmsnorm");
        serving(Family.ROPE, "rotary_embedding", "batched_rotary_embedding", "apply_rope_with_cos_sin_cache_inplace");
        serving(Family.KV_CACHE_WRITE, "reshape_and_cache", "reshape_and_cache_flash", "concat_and_cache_mla");
        serving(Family.PAGED_ATTENTION, "paged_attention_v1", "paged_attention_v2", "paged_attention");
        serving(Family.ATTENTION_BSHD, "_flash_attn_forward", "_flash_attn_varlen_forward", "flash_attn_varlen_func",
            "mha_varlen_fwd");
        serving(Family.ATTENTION_PAGED_PREFILL, "mha_batch_prefill");
        serving(Family.MOE, "fused_moe", "fused_experts", "inplace_fused_experts", "outplace_fused_experts");
        serving(Family.SAMPLING, "top_k_top_p_sampling_from_probs", "top_p_sampling_from_probs",
            "top_k_sampling_from_probs", "min_p_sampling_from_probs", "top_k_top_p_sampling_from_logits",
            "sampling_from_probs");
    }

    /**
     * The family of a serving framework's custom op {@code NAMESPACE::base} (see the class comment), found by its
     * base name; {@link Family#NONE} for names outside the table, ATen ops and names without a namespace (Python
     * functions, annotations).
     */
    static Family serving(String name) {
        int colon = name.lastIndexOf("::");
        if (colon < 0 || name.startsWith("aten::")) {
            return Family.NONE;
        }
        String base = name.substring(colon + 2).toLowerCase(java.util.Locale.ROOT);
        Family f = SERVING.get(base);
        if (f != null) {
            return f;
        }
        if (base.contains("rms_norm") || base.contains("rmsnorm")) {
            return base.contains("add_rms") ? Family.ADD_RMSNORM_LAST : Family.RMSNORM_LAST;
        }
        if (base.contains("layer_norm") || base.contains("layernorm")) {
            return Family.LAYERNORM_LAST;
        }
        return Family.NONE;
    }

    /** The family of an ATen op or a serving framework's kernel. */
    static Family family(String name) {
        return name.startsWith("aten::") ? of(name) : serving(name);
    }

    /** The family of {@code aten::NAME}; {@link Family#NONE} for other names and ATen ops not in the table. */
    static Family of(String name) {
        return name.startsWith("aten::") ? FAMILIES.getOrDefault(name.substring(6), Family.NONE) : Family.NONE;
    }
}

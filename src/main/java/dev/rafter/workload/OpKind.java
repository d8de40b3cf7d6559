package dev.rafter.workload;

import java.util.List;

/**
 * Operator kinds of the trace. Vector kinds carry the FLOPs per element and how many element-sized operands they
 * read and write; these are counting conventions (stated here once) used by the roofline, which keeps them as the
 * minimum work and traffic of an operator. How a kernel really runs a vector operator is stated by
 * {@link #passes(boolean)}: the memory passes it makes over its rows, the FLOPs of each pass and the special-function
 * evaluations (exp, tanh, reciprocal, rsqrt) that run on the special-function units rather than the FMA lanes.
 *
 * <h2>Memory passes (what GPU kernels do)</h2>
 * A row-wise operator ({@link #isRowWise()}: softmax, layernorm, rmsnorm, add_rmsnorm) reduces along each row
 * before it can write it. When the row stays on chip (it fits in the core's local buffer, double-buffered with its
 * output) one read and one write suffice; otherwise the kernel streams the row once per pass:
 * <ul>
 *   <li><b>softmax</b>: on chip 1 read + 1 write (PyTorch's persistent "warp softmax", PersistentSoftmax.cuh, keeps
 *       rows of up to 1024 elements in registers; {@code cunn_SoftMaxForwardSmem} in SoftMax.cu keeps a row in
 *       shared memory when it fits). Off chip 3 reads + 1 write: one CUDA block per row
 *       ({@code cunn_SoftMaxForward}) reads the row for its max, again for the sum of exp(x - max), and again in
 *       the epilogue, which recomputes exp(x - max) / sum and writes the output (so 2 exps per element).</li>
 *   <li><b>layernorm</b>: on chip 1 read + 1 write (Apex's FastLayerNorm / persistent kernels keep the row in
 *       registers). Off chip 2 reads + 1 write: PyTorch's {@code vectorized_layer_norm_kernel} (layer_norm_kernel.cu)
 *       makes a Welford statistics pass, then a normalise pass that re-reads the row. 1 rsqrt per row.</li>
 *   <li><b>rmsnorm</b>: as layernorm (sum-of-squares pass, then a scale pass), 1 rsqrt per row.</li>
 *   <li><b>add_rmsnorm</b>: as rmsnorm, its first pass adding the residual (vLLM's fused_add_rms_norm re-reads the
 *       sum it wrote; here each pass reads both inputs).</li>
 *   <li><b>gelu, silu, elementwise, unary, copy</b> and the other vector kinds: 1 pass (read, compute, write:
 *       PyTorch's vectorized elementwise kernels).</li>
 * </ul>
 * FLOPs of the passes add up to {@link #flopsPerElement()}, except where a kernel recomputes (softmax off chip
 * recomputes the subtract and exp in its last pass: 7 executed FLOPs against the 5 counted minimum).
 */
public enum OpKind {
    /** Batched matrix multiply (batch x (m x k) * (k x n)); 2 FLOPs per MAC. */
    GEMM(0, 0, 0, 0, 0),
    /** One grouped GEMM kernel over several groups, each its own (m_g x k) * (k x n) with its own B (a mixture of
     * experts' weights; vLLM's fused_moe): the groups' output tiles share the waves of one launch. */
    GROUPED_GEMM(0, 0, 0, 0, 0),
    /** max, subtract, exp, sum, divide: 5 FLOPs per element, 1 exp; reads and writes the scores once. */
    SOFTMAX(5, 1, 1, 1, 0),
    /** mean, variance (2 FLOPs), normalise (2), scale and shift (2) plus the reduction adds: 8 per element. */
    LAYERNORM(8, 1, 1, 0, 1),
    /** sum of squares (2), normalise (1), scale (1): 4 per element. */
    RMSNORM(4, 1, 1, 0, 1),
    /** tanh approximation 0.5 x (1 + tanh(c (x + 0.044715 x^3))): about 8 FLOPs and 1 tanh per element. */
    GELU(8, 1, 1, 1, 0),
    /** x * sigmoid(x) = x / (1 + exp(-x)): negate, exp, add, divide, multiply: 4 FLOPs counted (exp as one); on the
     * special-function unit 1 exp and 1 reciprocal. */
    SILU(4, 1, 1, 2, 0),
    /** Binary elementwise (residual add, gate multiply, expert combine): 1 FLOP, two inputs, one output. */
    ELEMENTWISE(1, 2, 1, 0, 0),
    /** Unary elementwise (neg, exp, rsqrt, relu, a scalar operand's add or multiply): 1 FLOP, one input, one output
     * (transcendentals counted as one FLOP, as the roofline counts them elsewhere). */
    UNARY(1, 1, 1, 0, 0),
    /** A copy (clone, contiguous, a cast, a fill): no FLOPs, one input, one output. */
    COPY(0, 1, 1, 0, 0),
    /** A reduction (sum, mean, amax, argmax, norm, ...; {@code elements}: the input): 1 FLOP per input element (an
     * add or a compare), the input read once; the result (one value per reduced slice, 1/n of the input for
     * slices of n) is small and counted as no traffic. */
    REDUCTION(1, 1, 0, 0, 0),
    /** An indexed read (embedding lookup, index_select, gather; {@code elements}: the result): no FLOPs, one source
     * element read per result element, the result written; the indices (one per gathered row) are not counted. */
    GATHER(0, 1, 1, 0, 0),
    /** The KV-cache write of serving frameworks (vLLM's reshape_and_cache, SGLang's store_kvcache; {@code elements}:
     * the new tokens' K and V, tokens x KV heads x head dim x 2): no FLOPs, each element read once and written once
     * into its cache slot (the slot mapping, one index per token, is not counted). */
    KV_CACHE_WRITE(0, 1, 1, 0, 0),
    /** Rotary position embedding applied in place to the queries and keys ({@code elements}: tokens x (heads + KV
     * heads) x rotary dim): x cos - y sin per element, 3 FLOPs; q and k read and written once; the cos/sin cache
     * (tokens x rotary dim, shared by every head) is not counted. */
    ROPE(3, 1, 1, 0, 0),
    /** Sampling of the next token over the vocabulary (softmax, then top-k/top-p; {@code m} sequences of
     * {@code n} = vocabulary logits): softmax's 5 FLOPs and 1 exp plus the top-p cumulative sum and threshold
     * compare (2): 7 FLOPs per logit; the logits read once (the minimum: rejection-sampling kernels re-read them
     * per round), one token id per sequence written (counted as no traffic). */
    SAMPLING(7, 1, 0, 1, 0),
    /** vLLM/SGLang silu_and_mul ({@code elements}: the output, tokens x F, of an input of tokens x 2F): silu of the
     * gate half times the up half, 4 + 1 FLOPs, 1 exp and 1 reciprocal; reads 2 elements, writes 1. */
    SILU_AND_MUL(5, 2, 1, 2, 0),
    /** gelu_and_mul / gelu_tanh_and_mul ({@code elements}: the output): gelu (8 FLOPs, 1 tanh) times the up half
     * (1); reads 2 elements, writes 1. */
    GELU_AND_MUL(9, 2, 1, 1, 0),
    /** Residual add fused with RMSNorm (vLLM fused_add_rms_norm, aiter/SGLang add_rmsnorm; {@code m} tokens of
     * {@code n} = hidden): the add (1 FLOP) and rmsnorm (4), 1 rsqrt per row; reads x and the residual, writes the
     * new residual and the normalised output (2 reads + 2 writes per element). */
    ADD_RMSNORM(5, 2, 2, 0, 1),
    /** Attention (QK^T, softmax, context) in one trace row, run unfused: the scores go through memory (the
     * traces captured elsewhere, and the study's model); see Operator#flops. */
    ATTENTION(0, 0, 0, 0, 0),
    /** Attention run fused (FlashAttention): the scores stay on chip, online softmax on the vector unit. */
    FLASH_ATTENTION(0, 0, 0, 0, 0),
    /** Sum of a tensor across the tensor-parallel group: 1 add per element per contribution. */
    ALL_REDUCE(1, 1, 1, 0, 0),
    /** Each device's share of a tensor gathered on every device ({@code elements}: the gathered tensor). */
    ALL_GATHER(0, 1, 1, 0, 0),
    /** A sum whose 1/p shares land on the p devices ({@code elements}: the input on each device). */
    REDUCE_SCATTER(1, 1, 1, 0, 0),
    /** Every device sends each peer its 1/p share ({@code elements}: the tensor on each device). */
    ALL_TO_ALL(0, 1, 1, 0, 0);

    private final int flopsPerElement;
    private final int inputsPerElement;
    private final int outputsPerElement;
    private final int specialFunctionsPerElement;
    private final int specialFunctionsPerRow;

    OpKind(int flopsPerElement, int inputsPerElement, int outputsPerElement, int specialFunctionsPerElement,
           int specialFunctionsPerRow) {
        this.flopsPerElement = flopsPerElement;
        this.inputsPerElement = inputsPerElement;
        this.outputsPerElement = outputsPerElement;
        this.specialFunctionsPerElement = specialFunctionsPerElement;
        this.specialFunctionsPerRow = specialFunctionsPerRow;
    }

    public int flopsPerElement() {
        return flopsPerElement;
    }

    public int inputsPerElement() {
        return inputsPerElement;
    }

    public int outputsPerElement() {
        return outputsPerElement;
    }

    /** Special-function evaluations (exp, tanh, reciprocal) per element when the row stays on chip. */
    public int specialFunctionsPerElement() {
        return specialFunctionsPerElement;
    }

    /** Special-function evaluations per row (the rsqrt of a norm's statistics). */
    public int specialFunctionsPerRow() {
        return specialFunctionsPerRow;
    }

    /** Runs on the PE arrays (matrix work) rather than the vector unit. */
    public boolean isMatrix() {
        return this == GEMM || this == GROUPED_GEMM || this == ATTENTION || this == FLASH_ATTENTION;
    }

    /** Attention in one operator (unfused or flash). */
    public boolean isAttention() {
        return this == ATTENTION || this == FLASH_ATTENTION;
    }

    /** Runs on the vector units as a tile program (not matrix work, not a collective). */
    public boolean isVector() {
        return !isMatrix() && !isCollective();
    }

    /** A collective over the device links. */
    public boolean isCollective() {
        return collective() != null;
    }

    /** The collective this kind runs on the device links, or null. */
    public dev.rafter.hw.Collective collective() {
        return switch (this) {
            case ALL_REDUCE -> dev.rafter.hw.Collective.ALL_REDUCE;
            case ALL_GATHER -> dev.rafter.hw.Collective.ALL_GATHER;
            case REDUCE_SCATTER -> dev.rafter.hw.Collective.REDUCE_SCATTER;
            case ALL_TO_ALL -> dev.rafter.hw.Collective.ALL_TO_ALL;
            default -> null;
        };
    }

    /** Reduces along each row before writing it (softmax, norms): how it spreads and how many passes depend on rows. */
    public boolean isRowWise() {
        return this == SOFTMAX || this == LAYERNORM || this == RMSNORM || this == ADD_RMSNORM;
    }

    /**
     * One memory pass of a vector kernel over its data: each pass reads the inputs once; only the last writes the
     * outputs.
     *
     * @param flopsPerElement FLOPs of this pass on the FMA lanes
     * @param specialFunctionsPerElement special-function evaluations per element in this pass
     * @param specialFunctionsPerRow special-function evaluations per row in this pass
     * @param writes whether this pass writes the outputs
     */
    public record Pass(int flopsPerElement, int specialFunctionsPerElement, int specialFunctionsPerRow,
                       boolean writes) {}

    private static final List<Pass> SOFTMAX_OFF_CHIP = List.of(
        new Pass(1, 0, 0, false),   // max
        new Pass(3, 1, 0, false),   // subtract, exp, add to the sum
        new Pass(3, 1, 0, true));   // subtract and exp again, divide by the sum, write
    private static final List<Pass> LAYERNORM_OFF_CHIP = List.of(
        new Pass(4, 0, 0, false),   // Welford mean and variance
        new Pass(4, 0, 1, true));   // rsqrt once, subtract mean, scale by rstd, gamma, beta, write
    private static final List<Pass> RMSNORM_OFF_CHIP = List.of(
        new Pass(2, 0, 0, false),   // square, add
        new Pass(2, 0, 1, true));   // rsqrt once, scale by rstd, gamma, write
    private static final List<Pass> ADD_RMSNORM_OFF_CHIP = List.of(
        new Pass(3, 0, 0, false),   // add the residual, square, add
        new Pass(2, 0, 1, true));   // rsqrt once, scale by rstd, gamma, write the residual and the output

    /**
     * The memory passes a kernel makes (see the class comment): one pass when the row stays on chip or the kind is
     * not row-wise; 3 for softmax and 2 for the norms when it does not. Empty for matrix kinds and collectives.
     */
    public List<Pass> passes(boolean rowOnChip) {
        if (!isVector()) {
            return List.of();
        }
        if (rowOnChip || !isRowWise()) {
            return List.of(new Pass(flopsPerElement, specialFunctionsPerElement, specialFunctionsPerRow, true));
        }
        return switch (this) {
            case SOFTMAX -> SOFTMAX_OFF_CHIP;
            case LAYERNORM -> LAYERNORM_OFF_CHIP;
            case ADD_RMSNORM -> ADD_RMSNORM_OFF_CHIP;
            default -> RMSNORM_OFF_CHIP;
        };
    }

    public String key() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}

package dev.rafter.workload;

/**
 * Operator kinds of the trace. Vector kinds carry the FLOPs per element and how many element-sized operands they
 * read and write; these are counting conventions (stated here once) used by the roofline and the simulator.
 */
public enum OpKind {
    /** Batched matrix multiply (batch x (m x k) * (k x n)); 2 FLOPs per MAC. */
    GEMM(0, 0, 0),
    /** max, subtract, exp, sum, divide: 5 FLOPs per element; reads and writes the scores once. */
    SOFTMAX(5, 1, 1),
    /** mean, variance (2 FLOPs), normalise (2), scale and shift (2) plus the reduction adds: 8 per element. */
    LAYERNORM(8, 1, 1),
    /** sum of squares (2), normalise (1), scale (1): 4 per element. */
    RMSNORM(4, 1, 1),
    /** tanh approximation: about 8 FLOPs per element. */
    GELU(8, 1, 1),
    /** x * sigmoid(x): negate, exp, add, divide, multiply: 4 FLOPs counted (exp as one). */
    SILU(4, 1, 1),
    /** Binary elementwise (residual add, gate multiply, expert combine): 1 FLOP, two inputs, one output. */
    ELEMENTWISE(1, 2, 1),
    /** Fused attention (QK^T, softmax, context) for traces captured elsewhere; see Operator#flops. */
    ATTENTION(0, 0, 0),
    /** Sum of a tensor across the tensor-parallel group: 1 add per element per contribution. */
    ALL_REDUCE(1, 1, 1);

    private final int flopsPerElement;
    private final int inputsPerElement;
    private final int outputsPerElement;

    OpKind(int flopsPerElement, int inputsPerElement, int outputsPerElement) {
        this.flopsPerElement = flopsPerElement;
        this.inputsPerElement = inputsPerElement;
        this.outputsPerElement = outputsPerElement;
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

    /** Runs on the PE arrays (matrix work) rather than the vector unit. */
    public boolean isMatrix() {
        return this == GEMM || this == ATTENTION;
    }

    public String key() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}

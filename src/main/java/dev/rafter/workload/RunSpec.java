package dev.rafter.workload;

import static dev.rafter.config.Check.intIn;

import dev.rafter.hw.DataType;

/**
 * How the model is run, from key {@code run}: sequences per batch, prompt and output lengths, tensor-parallel
 * degree, data type, and how many layers to lower (the whole model by default; studies often take one layer).
 * {@code attention}: how attention runs ({@code flash} by default: FlashAttention is what serving engines such as
 * vLLM and TensorRT-LLM and PyTorch's scaled_dot_product_attention run today; {@code unfused} materialises the
 * scores, as LLMCompass and the SRAM study model). {@code kvDataType} and {@code weightDataType}: storage types of
 * the KV cache and of the weights (default: {@code data_type}). {@code order}: which operators may overlap
 * ({@link OperatorOrder}; {@code strict} by default).
 */
public record RunSpec(int batch, int promptTokens, int outputTokens, int tensorParallel, DataType dataType,
                      int layers, Attention attention, DataType kvDataType, DataType weightDataType,
                      OperatorOrder order) {

    /** How attention is run. */
    public enum Attention { FLASH, UNFUSED }

    /** A run with flash attention and the KV cache and weights stored in {@code dataType}. */
    public RunSpec(int batch, int promptTokens, int outputTokens, int tensorParallel, DataType dataType, int layers) {
        this(batch, promptTokens, outputTokens, tensorParallel, dataType, layers, Attention.FLASH, dataType,
            dataType);
    }

    /** A run in strict order. */
    public RunSpec(int batch, int promptTokens, int outputTokens, int tensorParallel, DataType dataType, int layers,
                   Attention attention, DataType kvDataType, DataType weightDataType) {
        this(batch, promptTokens, outputTokens, tensorParallel, dataType, layers, attention, kvDataType,
            weightDataType, OperatorOrder.STRICT);
    }

    public RunSpec {
        if (attention == null || kvDataType == null || weightDataType == null || order == null) {
            throw new IllegalArgumentException("attention, kv_data_type, weight_data_type and order are required");
        }
        intIn("batch", batch, 1, 1 << 20);
        intIn("prompt_tokens", promptTokens, 1, 1 << 24);
        intIn("output_tokens", outputTokens, 1, 1 << 24);
        intIn("tensor_parallel", tensorParallel, 1, 4096);
        intIn("layers", layers, 1, 100_000);
    }

    /** Decode steps: prefill yields the first output token, each decode step one more. */
    public int decodeSteps() {
        return outputTokens - 1;
    }
}

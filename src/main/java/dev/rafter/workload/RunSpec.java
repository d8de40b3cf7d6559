package dev.rafter.workload;

import static dev.rafter.config.Check.intIn;

import dev.rafter.hw.DataType;

/**
 * How the model is run, from key {@code run}: sequences per batch, prompt and output lengths, tensor-parallel
 * degree, data type, and how many layers to lower (the whole model by default; studies often take one layer).
 */
public record RunSpec(int batch, int promptTokens, int outputTokens, int tensorParallel, DataType dataType,
                      int layers) {
    public RunSpec {
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

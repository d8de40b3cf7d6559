package dev.rafter.importer;

import dev.rafter.hw.DataType;
import dev.rafter.workload.TransformerSpec;
import dev.rafter.workload.Workload;

/**
 * The model a trace's graph replays ran, as the user names it ({@code import --model-hint WORKLOAD.yaml}): a graph
 * replay is one decode step of {@code sequences} sequences (the workload's {@code run.batch}), one new token each,
 * over {@code kvTokens} cached tokens per sequence (its {@code run.prompt_tokens}), in {@code dataType} (its
 * {@code run.data_type}). Kernel names and a replay's
 * missing grid give no problem sizes; these do.
 */
public record ModelHint(TransformerSpec model, long sequences, long kvTokens, DataType dataType) {
    public static ModelHint of(Workload w) {
        return new ModelHint(w.model(), w.run().batch(), w.run().promptTokens(), w.run().dataType());
    }
}

package dev.rafter.workload;

import java.util.List;
import java.util.function.Consumer;

/**
 * Lowers one step of a serving engine (sequences at different points of their prompt or output in one batch) into
 * its operators, with the layer code of {@link Lowering}: the projections, norms and FFN run over the step's new
 * tokens of every sequence together; attention runs each {@link Group} of sequences that share their new tokens and
 * KV length over its own KV length (causal: the new tokens are the last positions), all groups in one
 * variable-length {@code flash_attention} kernel per layer (vLLM's and FlashInfer's paged attention; a single group
 * is the plain operator of {@link Lowering}; unfused attention stays one set of kernels per group); the final norm and
 * LM head run over the sequences that emit a token this step (a prefill chunk that does not end its prompt emits
 * none).
 */
public final class StepLowering {
    private StepLowering() {}

    /** {@code sequences} sequences with {@code queryTokens} new tokens each and {@code kvLength} positions after. */
    public record Group(long sequences, long queryTokens, long kvLength) {
        public Group {
            if (sequences < 1 || queryTokens < 1 || kvLength < queryTokens) {
                throw new IllegalArgumentException("a group needs sequences >= 1 and 1 <= query tokens <= KV length,"
                    + " got " + sequences + ", " + queryTokens + ", " + kvLength);
            }
        }
    }

    /**
     * Emits the step's operators (ids from 0) and returns how many; {@code step} numbers the step (MoE routing
     * draws from it). Phase: prefill when any group feeds more than one token, else decode.
     */
    public static long lower(Workload workload, int step, List<Group> groups, long emitting, Consumer<Operator> out) {
        if (groups.isEmpty()) {
            throw new IllegalArgumentException("a step needs at least one sequence");
        }
        long tokens = 0;
        boolean prefill = false;
        for (Group g : groups) {
            tokens += g.sequences() * g.queryTokens();
            prefill |= g.queryTokens() > 1;
        }
        return Lowering.step(workload, prefill ? Phase.PREFILL : Phase.DECODE, step, tokens, groups, emitting, out);
    }
}

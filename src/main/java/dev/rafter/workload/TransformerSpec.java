package dev.rafter.workload;

import static dev.rafter.config.Check.intIn;

import dev.rafter.config.Check;
import dev.rafter.config.InputException;

/**
 * The architecture of a decoder-only transformer, from {@code models/workloads/*.yaml} key {@code model}. For a
 * mixture of experts, {@code routing} says how tokens are spread over the experts: {@code uniform} (the expected
 * number of distinct experts a batch touches) or {@code random} (a seeded draw, {@code routingSeed}, that shows the
 * imbalance); {@code expertKernel} how the experts' FFNs run: {@code grouped} (two grouped GEMMs over the experts
 * the batch touches, as serving engines run them) or {@code per_expert} (each expert's own GEMMs); see
 * {@link Lowering}.
 */
public record TransformerSpec(String name, int layers, int dModel, int heads, int kvHeads, int ffnDim,
                              FfnKind ffn, NormKind norm, int vocab, int experts, int expertsPerToken,
                              boolean bias, boolean learnedPositions, int contextLength, boolean tiedEmbeddings,
                              Routing routing, long routingSeed, ExpertKernel expertKernel) {

    public enum FfnKind { GELU, SWIGLU }

    /** How a mixture of experts routes its tokens. */
    public enum Routing { UNIFORM, RANDOM }

    /** How a mixture of experts runs its experts' FFNs (model key {@code expert_kernel}). */
    public enum ExpertKernel { GROUPED, PER_EXPERT }

    /** A model whose experts (if any) run as grouped GEMMs. */
    public TransformerSpec(String name, int layers, int dModel, int heads, int kvHeads, int ffnDim, FfnKind ffn,
                           NormKind norm, int vocab, int experts, int expertsPerToken, boolean bias,
                           boolean learnedPositions, int contextLength, boolean tiedEmbeddings, Routing routing,
                           long routingSeed) {
        this(name, layers, dModel, heads, kvHeads, ffnDim, ffn, norm, vocab, experts, expertsPerToken, bias,
            learnedPositions, contextLength, tiedEmbeddings, routing, routingSeed, ExpertKernel.GROUPED);
    }

    /** A model with uniform routing. */
    public TransformerSpec(String name, int layers, int dModel, int heads, int kvHeads, int ffnDim, FfnKind ffn,
                           NormKind norm, int vocab, int experts, int expertsPerToken, boolean bias,
                           boolean learnedPositions, int contextLength, boolean tiedEmbeddings) {
        this(name, layers, dModel, heads, kvHeads, ffnDim, ffn, norm, vocab, experts, expertsPerToken, bias,
            learnedPositions, contextLength, tiedEmbeddings, Routing.UNIFORM, 0);
    }

    public enum NormKind { LAYERNORM, RMSNORM }

    public TransformerSpec {
        Check.nonBlank("name", name);
        if (routing == null || expertKernel == null) {
            throw new IllegalArgumentException("routing and expert_kernel are required");
        }
        intIn("layers", layers, 1, 100_000);
        intIn("d_model", dModel, 1, 1 << 20);
        intIn("heads", heads, 1, 1 << 16);
        intIn("kv_heads", kvHeads, 1, heads);
        intIn("ffn_dim", ffnDim, 1, 1 << 24);
        intIn("vocab", vocab, 1, 1 << 24);
        intIn("experts", experts, 1, 1 << 12);
        intIn("experts_per_token", expertsPerToken, 1, experts);
        intIn("context_length", contextLength, 1, 1 << 24);
        if (dModel % heads != 0) {
            throw new InputException("heads: d_model " + dModel + " is not divisible by " + heads + " heads");
        }
        if (heads % kvHeads != 0) {
            throw new InputException("kv_heads: " + heads + " heads are not divisible into " + kvHeads
                + " KV groups");
        }
    }

    public int headDim() {
        return dModel / heads;
    }

    /** Parameters of one layer (weights, biases, norm scales), all experts included. */
    public long parametersPerLayer() {
        long d = dModel;
        long kvDim = (long) kvHeads * headDim();
        long attention = d * (d + 2 * kvDim) + d * d;
        long ffnWeights = ffn == FfnKind.SWIGLU ? 3L * d * ffnDim : 2L * d * ffnDim;
        long ffnBias = bias ? (ffn == FfnKind.SWIGLU ? 2L * ffnDim : ffnDim) + d : 0;
        long attentionBias = bias ? d + 2 * kvDim + d : 0;
        long norms = 2L * d * (norm == NormKind.LAYERNORM ? 2 : 1);
        long router = experts > 1 ? d * experts : 0;
        return attention + attentionBias + (long) experts * (ffnWeights + ffnBias) + norms + router;
    }

    /** Parameters of one expert's FFN (weights and biases) in one layer. */
    public long parametersPerExpert() {
        long d = dModel;
        long ffnWeights = ffn == FfnKind.SWIGLU ? 3L * d * ffnDim : 2L * d * ffnDim;
        long ffnBias = bias ? (ffn == FfnKind.SWIGLU ? 2L * ffnDim : ffnDim) + d : 0;
        return ffnWeights + ffnBias;
    }

    /** All parameters: layers, token (and learned position) embeddings, final norm, and an untied LM head. */
    public long parameters() {
        long d = dModel;
        long embeddings = (long) vocab * d + (learnedPositions ? (long) contextLength * d : 0);
        long head = tiedEmbeddings ? 0 : (long) vocab * d;
        long finalNorm = d * (norm == NormKind.LAYERNORM ? 2 : 1);
        return layers * parametersPerLayer() + embeddings + head + finalNorm;
    }

    /** Parameters touched per token: the shared part plus {@code experts_per_token} experts. */
    public long activeParameters() {
        if (experts == 1) {
            return parameters();
        }
        long d = dModel;
        long ffnWeights = ffn == FfnKind.SWIGLU ? 3L * d * ffnDim : 2L * d * ffnDim;
        return parameters() - (long) layers * (experts - expertsPerToken) * ffnWeights;
    }
}

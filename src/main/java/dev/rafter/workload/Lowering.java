package dev.rafter.workload;

import dev.rafter.hw.DataType;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Lowers a transformer run into its operator trace, streaming one operator at a time (a full GPT-3 run has over a
 * million rows). Shapes are per device under tensor parallelism (Megatron-LM split: QKV and FFN-up column-parallel,
 * output and FFN-down row-parallel, so each layer ends its attention and its FFN with an all-reduce).
 *
 * <p>Per layer: norm, QKV projection, attention scores, softmax, attention context, output projection,
 * [all-reduce], residual add, norm, FFN (GELU: up, gelu, down; SwiGLU: gate, up, silu, gate multiply, down; MoE:
 * router, router softmax, then each expert's SwiGLU, then a weighted combine), [all-reduce], residual add. After
 * the last layer: final norm and the LM head (vocabulary split over devices; only the last position of each
 * sequence is projected).
 *
 * <p>Attention is GQA-aware: the query heads that share one KV head are stacked, so the scores GEMM has
 * batch = sequences x KV heads, m = query tokens x group size, n = KV length, k = head dim, and K and V are read once
 * per KV head. Prefill computes the full (non-causal-skipping) score matrix, as the roofline and LLMCompass do.
 *
 * <p>MoE routing is uniform: each expert receives ceil(tokens x experts_per_token / experts) tokens, so in decode
 * with a small batch every expert's weights are still read, the cost the literature reports for MoE decode.
 *
 * <p>Decode: prefill yields the first output token; decode step s (1 .. output_tokens - 1) feeds one token per
 * sequence with KV length prompt_tokens + s, so the KV length grows by one each step.
 * Vector operators carry their row shape (m rows of n): norms tokens x d_model; softmax (sequences x heads x query
 * tokens) rows of the KV length (the router's softmax: tokens x experts); activations, residual adds, gate multiply
 * and expert combine the natural tokens x width (they run as one elementwise pass whatever the rows).
 * Left out (small against the rest): embedding lookup, bias adds (folded into their GEMMs), the LM head's gather.
 */
public final class Lowering {
    /** Layer index used for operators outside the transformer layers (final norm, LM head). */
    public static final int NO_LAYER = -1;

    private final Workload workload;
    private final Consumer<Operator> out;
    private long nextId;

    private Lowering(Workload workload, Consumer<Operator> out) {
        this.workload = workload;
        this.out = out;
    }

    /** Emits the operators of the given phases in execution order; ids start at 0. */
    public static long lower(Workload workload, Set<Phase> phases, Consumer<Operator> out) {
        Lowering l = new Lowering(workload, out);
        if (phases.contains(Phase.PREFILL)) {
            l.pass(Phase.PREFILL, 0, workload.run().promptTokens(), workload.run().promptTokens());
        }
        if (phases.contains(Phase.DECODE)) {
            for (int s = 1; s <= workload.run().decodeSteps(); s++) {
                l.pass(Phase.DECODE, s, 1, workload.run().promptTokens() + s);
            }
        }
        return l.nextId;
    }

    /** One forward pass: {@code queryTokens} new tokens per sequence attending to {@code kvLength} positions. */
    private void pass(Phase phase, int step, long queryTokens, long kvLength) {
        TransformerSpec m = workload.model();
        RunSpec run = workload.run();
        DataType dt = run.dataType();
        int tp = run.tensorParallel();
        long b = run.batch();
        long tokens = b * queryTokens;
        long d = m.dModel();
        long hd = m.headDim();
        long heads = workload.headsPerDevice();
        long kvHeads = workload.kvHeadsPerDevice();
        long group = heads / kvHeads;
        long ffn = m.ffnDim() / tp;
        OpKind norm = m.norm() == TransformerSpec.NormKind.LAYERNORM ? OpKind.LAYERNORM : OpKind.RMSNORM;

        for (int layer = 0; layer < run.layers(); layer++) {
            rows("attn_norm", norm, phase, layer, step, tokens, d, dt);
            gemm("qkv_proj", phase, layer, step, 1, tokens, (heads + 2 * kvHeads) * hd, d, dt);
            gemm("attn_scores", phase, layer, step, b * kvHeads, queryTokens * group, kvLength, hd, dt);
            rows("attn_softmax", OpKind.SOFTMAX, phase, layer, step, b * heads * queryTokens, kvLength, dt);
            gemm("attn_context", phase, layer, step, b * kvHeads, queryTokens * group, hd, kvLength, dt);
            gemm("out_proj", phase, layer, step, 1, tokens, d, heads * hd, dt);
            allReduce("attn_all_reduce", phase, layer, step, tokens * d, tp, dt);
            rows("attn_residual", OpKind.ELEMENTWISE, phase, layer, step, tokens, d, dt);
            rows("ffn_norm", norm, phase, layer, step, tokens, d, dt);
            if (m.experts() > 1) {
                gemm("router", phase, layer, step, 1, tokens, m.experts(), d, dt);
                rows("router_softmax", OpKind.SOFTMAX, phase, layer, step, tokens, m.experts(), dt);
                long perExpert = ceilDiv(tokens * m.expertsPerToken(), m.experts());
                for (int e = 0; e < m.experts(); e++) {
                    swiglu("expert" + e + "_", phase, layer, step, perExpert, d, ffn, dt);
                }
                rows("expert_combine", OpKind.ELEMENTWISE, phase, layer, step,
                    tokens * m.expertsPerToken(), d, dt);
            } else if (m.ffn() == TransformerSpec.FfnKind.SWIGLU) {
                swiglu("ffn_", phase, layer, step, tokens, d, ffn, dt);
            } else {
                gemm("ffn_up", phase, layer, step, 1, tokens, ffn, d, dt);
                rows("ffn_gelu", OpKind.GELU, phase, layer, step, tokens, ffn, dt);
                gemm("ffn_down", phase, layer, step, 1, tokens, d, ffn, dt);
            }
            allReduce("ffn_all_reduce", phase, layer, step, tokens * d, tp, dt);
            rows("ffn_residual", OpKind.ELEMENTWISE, phase, layer, step, tokens, d, dt);
        }
        if (run.layers() == m.layers()) {
            rows("final_norm", norm, phase, NO_LAYER, step, b, d, dt);
            gemm("lm_head", phase, NO_LAYER, step, 1, b, ceilDiv(m.vocab(), tp), d, dt);
        }
    }

    private void swiglu(String prefix, Phase phase, int layer, int step, long tokens, long d, long ffn,
                        DataType dt) {
        gemm(prefix + "gate", phase, layer, step, 1, tokens, ffn, d, dt);
        gemm(prefix + "up", phase, layer, step, 1, tokens, ffn, d, dt);
        rows(prefix + "silu", OpKind.SILU, phase, layer, step, tokens, ffn, dt);
        rows(prefix + "gate_mul", OpKind.ELEMENTWISE, phase, layer, step, tokens, ffn, dt);
        gemm(prefix + "down", phase, layer, step, 1, tokens, d, ffn, dt);
    }

    private void gemm(String name, Phase phase, int layer, int step, long batch, long m, long n, long k,
                      DataType dt) {
        out.accept(Operator.gemm(nextId++, name, phase, layer, step, batch, m, n, k, dt));
    }

    /** A vector operator of {@code rows} rows of {@code rowLength}. */
    private void rows(String name, OpKind kind, Phase phase, int layer, int step, long rows, long rowLength,
                      DataType dt) {
        out.accept(Operator.rows(nextId++, name, kind, phase, layer, step, rows, rowLength, dt));
    }

    private void allReduce(String name, Phase phase, int layer, int step, long elements, int devices,
                           DataType dt) {
        if (devices > 1) {
            out.accept(Operator.allReduce(nextId++, name, phase, layer, step, elements, devices, dt));
        }
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}

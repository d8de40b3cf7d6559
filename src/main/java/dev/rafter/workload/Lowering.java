package dev.rafter.workload;

import dev.rafter.hw.DataType;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Lowers a transformer run into its operator trace, streaming one operator at a time (a full GPT-3 run has over a
 * million rows). Shapes are per device under tensor parallelism (Megatron-LM split: QKV and FFN-up column-parallel,
 * output and FFN-down row-parallel, so each layer ends its attention and its FFN with an all-reduce).
 *
 * <p>Per layer: norm, QKV projection, rotary embedding of q and k (models without learned positions: Llama's RoPE),
 * the KV-cache write (the new tokens' K and V stored into the cache, vLLM's reshape_and_cache), attention scores,
 * softmax, attention context, output projection,
 * [all-reduce], residual add, norm, FFN (GELU: up, gelu, down; SwiGLU: gate, up, silu, gate multiply, down; MoE:
 * router, router softmax, then the experts' SwiGLU, grouped or per expert, then a weighted combine), [all-reduce],
 * residual add. After
 * the last layer: final norm and the LM head (vocabulary split over devices; only the last position of each
 * sequence is projected).
 *
 * <p>Attention is GQA-aware: the query heads that share one KV head are stacked (token-major), so the scores have
 * batch = sequences x KV heads, m = query tokens x group size, n = KV length, k = head dim, and K and V are read once
 * per KV head. With {@code run.attention: flash} (the default) it is one {@code flash_attention} operator, causal
 * (prefill counts and computes only the unmasked triangle; a decode token sees every key); with {@code unfused} it
 * is the scores GEMM, the softmax and the context GEMM over the full score matrix, as eager PyTorch, LLMCompass and
 * the SRAM study run it (the mask is applied to materialised scores, nothing is skipped).
 *
 * <p>Data types: activations and arithmetic in {@code run.data_type}; the weights' bytes (B operand of every
 * projection) in {@code run.weight_data_type}; K and V (B operand of the scores and context GEMMs, K/V of flash
 * attention) in {@code run.kv_data_type}.
 *
 * <p>MoE routing (top-k of E experts, T tokens): {@code uniform} emits the expected number of distinct experts the
 * batch touches, D = E (1 - (1 - k/E)^T) rounded (exact for uniform top-k: a token misses a given expert with
 * probability 1 - k/E), each with ceil(T k / D) tokens: batch-1 decode reads k experts' weights, a large batch all
 * of them. {@code random} draws each token's k distinct experts from a generator seeded by {@code routing_seed},
 * the layer and the step, and emits each expert that got tokens with its own count (the imbalance a real router
 * shows).
 *
 * <p>Expert kernels ({@code model.expert_kernel}): {@code grouped} (the default) runs the experts the batch touches
 * as serving engines do, vLLM's fused_moe (vllm/model_executor/layers/fused_moe/fused_moe.py): the tokens sorted by
 * expert, one grouped GEMM over the touched experts with gate and up fused in one weight of width 2 x ffn (w13),
 * one silu_and_mul over every routed token, and one grouped GEMM for down (w2): three launches per layer whatever
 * the number of experts, each group (an expert) padded to whole tiles on its own, each expert's weights read once
 * (see {@link Operator#groupedGemm}). {@code per_expert} emits each touched expert's SwiGLU as separate operators
 * (gate, up, silu, gate multiply, down: 3 GEMM launches per expert), as an eager loop over the experts runs it.
 *
 * <p>Expert parallelism ({@code run.expert_parallel} = P, a system run): the experts are spread over P devices (E/P
 * each, device r holding experts r E/P onwards) and each device serves batch / P of the sequences: its attention
 * and dense layers see only those (attention data-parallel over the P devices, as DeepSpeed-MoE serves). Around
 * the experts, an all-to-all dispatch sends each of its T tokens' k expert copies (T k x d_model elements) to the
 * devices holding the experts, and an all-to-all combine returns the expert outputs. Each device's expert load is
 * the even split of uniform top-k routing over the P T tokens of the group: the T k copies that land on its experts
 * (exact in expectation: each copy picks a device with probability 1/P), over the expected number of its E/P
 * experts that the group's tokens touch, (E/P)(1 - (1 - k/E)^(P T)) rounded (at least one). Even, not drawn: every
 * device then runs the same stream, the busiest device of a random draw is not modelled ({@code routing: random}
 * is refused). With tensor parallelism as well, each expert is sharded over the tensor-parallel group as a dense
 * FFN is, and the all-to-alls run between the devices of the same tensor-parallel rank.
 *
 * <p>Decode: prefill yields the first output token; decode step s (1 .. output_tokens - 1) feeds one token per
 * sequence with KV length prompt_tokens + s, so the KV length grows by one each step.
 * Vector operators carry their row shape (m rows of n): norms tokens x d_model; softmax (sequences x heads x query
 * tokens) rows of the KV length (the router's softmax: tokens x experts); activations, residual adds, gate multiply,
 * expert combine, rope and the KV-cache write the natural tokens x width (they run as one elementwise pass whatever the rows).
 * The rope rotates every element of the per-device q and k heads (tokens rows of (heads + KV heads) x head dim);
 * the KV-cache write moves tokens rows of KV heads x head dim x 2 elements in the activations' data type (a quantised cache
 * writes fewer bytes: counted at the activations' size).
 * Left out (small against the rest): embedding lookup, bias adds (folded into their GEMMs), the LM head's gather,
 * sampling.
 *
 * <p>Deps: each operator names its producers where they are not just the operator before it (an empty deps cell):
 * a residual add the all-reduce (or projection) before it and the residual stream entering the layer, the
 * attention context the softmax and the QKV projection (V), SwiGLU's gate and up the norm (so they need not wait
 * for each other), the SiLU its gate, the gate multiply the SiLU and up, an expert (or the grouped w13) the norm and the
 * routing, the combine every expert (or w2) and the routing. Everything else reads the operator before it; a pass starts after the
 * previous one (its next token).
 */
public final class Lowering {
    /** Layer index used for operators outside the transformer layers (final norm, LM head). */
    public static final int NO_LAYER = -1;

    private final Workload workload;
    /** Each operator and the times it stands for (1, or the layers of a pass lowered once: {@link #repeated}). */
    private final java.util.function.ObjLongConsumer<Operator> out;
    /** Whether a pass whose layers all have the same shapes lowers its first layer only, standing for all of them. */
    private final boolean oneLayerPerPass;
    /** The times the operators being emitted stand for. */
    private long times = 1;
    private long nextId;
    /** The operator names of a SwiGLU by its prefix, joined once per run rather than once per layer and step. */
    private final java.util.Map<String, String[]> swigluNames = new java.util.HashMap<>();

    private Lowering(Workload workload, java.util.function.ObjLongConsumer<Operator> out, boolean oneLayerPerPass) {
        this.workload = workload;
        this.out = out;
        this.oneLayerPerPass = oneLayerPerPass;
    }

    /** Emits the operators of the given phases in execution order; ids start at 0. */
    public static long lower(Workload workload, Set<Phase> phases, Consumer<Operator> out) {
        return lower(new Lowering(workload, (op, times) -> out.accept(op), false), workload, phases);
    }

    /**
     * The operators of {@link #lower} by shape and count, for a pass over every operator's shape that need not see
     * each operator (the run limits): a pass whose layers all lower to the same shapes (every model but one routed
     * at random, whose experts differ by layer) emits its first layer's operators once each, with the number of
     * layers as their count; other operators come with a count of 1. Ids, names and deps are not those of
     * {@link #lower}. Returns the operators {@link #lower} emits.
     */
    public static long repeated(Workload workload, Set<Phase> phases, java.util.function.ObjLongConsumer<Operator> out) {
        long[] count = {0};
        lower(new Lowering(workload, (op, times) -> {
            count[0] += times;
            out.accept(op, times);
        }, true), workload, phases);
        return count[0];
    }

    private static long lower(Lowering l, Workload workload, Set<Phase> phases) {
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
        // Under expert parallelism each device serves its share of the sequences (see the class comment).
        long b = workload.run().batch() / workload.parallelism().experts();
        pass(phase, step, b * queryTokens, java.util.List.of(new StepLowering.Group(b, queryTokens, kvLength)), b);
    }

    /** A step lowered from its batch composition ({@link StepLowering}); returns the ids used. */
    static long step(Workload workload, Phase phase, int step, long tokens, java.util.List<StepLowering.Group> groups,
                     long emitting, Consumer<Operator> out) {
        Lowering l = new Lowering(workload, (op, times) -> out.accept(op), false);
        l.pass(phase, step, tokens, groups, emitting);
        return l.nextId;
    }

    /**
     * One forward pass over {@code tokens} new tokens: the projections and FFN over all of them, attention over each
     * group of sequences that share their new tokens and KV length (flash: one variable-length kernel over all the
     * groups; unfused: its GEMMs and softmax per group), the LM head over the {@code emitting} sequences that
     * yield a token (none: no final norm and LM head).
     */
    private void pass(Phase phase, int step, long tokens, java.util.List<StepLowering.Group> groups, long emitting) {
        TransformerSpec m = workload.model();
        RunSpec run = workload.run();
        DataType dt = run.dataType();
        int tp = run.tensorParallel();
        long d = m.dModel();
        long hd = m.headDim();
        long heads = workload.headsPerDevice();
        long kvHeads = workload.kvHeadsPerDevice();
        long group = heads / kvHeads;
        long ffn = m.ffnDim() / tp;
        DataType wt = run.weightDataType();
        DataType kv = run.kvDataType();
        boolean flash = run.attention() == RunSpec.Attention.FLASH;
        OpKind norm = m.norm() == TransformerSpec.NormKind.LAYERNORM ? OpKind.LAYERNORM : OpKind.RMSNORM;

        // The residual stream entering the layer (none before the first layer of a pass: the embedding).
        long residual = -1;
        // Random routing draws each layer's experts apart: its layers differ in shape.
        boolean layersAlike = m.experts() <= 1 || m.routing() != TransformerSpec.Routing.RANDOM
            || workload.parallelism().experts() > 1;
        int layers = oneLayerPerPass && layersAlike ? Math.min(1, run.layers()) : run.layers();
        times = layers == run.layers() ? 1 : run.layers();
        for (int layer = 0; layer < layers; layer++) {
            rows("attn_norm", norm, phase, layer, step, tokens, d, dt);
            gemm("qkv_proj", phase, layer, step, 1, tokens, (heads + 2 * kvHeads) * hd, d, dt, wt);
            if (!m.learnedPositions()) {
                rows("rope", OpKind.ROPE, phase, layer, step, tokens, (heads + kvHeads) * hd, dt);
            }
            rows("kv_cache_write", OpKind.KV_CACHE_WRITE, phase, layer, step, tokens, kvHeads * hd * 2, dt);
            // Attention reads the queries and the cache the write before it filled.
            long qkv = nextId - 1;
            long[] attended;
            if (flash && groups.size() > 1) {
                // One variable-length kernel over every group, as a serving engine runs a step's attention.
                java.util.List<Operator.Segment> parts = new java.util.ArrayList<>(groups.size());
                for (StepLowering.Group g : groups) {
                    parts.add(new Operator.Segment(g.sequences() * kvHeads, g.queryTokens() * group, g.kvLength(),
                        g.queryTokens()));
                }
                emit(Operator.variableLengthAttention(nextId, "attention", phase, layer, step, parts, hd, true, dt,
                    kv), qkv);
                attended = new long[] {nextId - 1};
            } else {
                attended = new long[groups.size()];
                int g0 = 0;
                for (StepLowering.Group g : groups) {
                    long b = g.sequences();
                    long queryTokens = g.queryTokens();
                    long kvLength = g.kvLength();
                    if (flash) {
                        emit(Operator.flashAttention(nextId, "attention", phase, layer, step, b * kvHeads,
                            queryTokens * group, kvLength, hd, queryTokens, true, dt, kv), qkv);
                    } else {
                        gemm("attn_scores", phase, layer, step, b * kvHeads, queryTokens * group, kvLength, hd, dt,
                            kv, qkv);
                        rows("attn_softmax", OpKind.SOFTMAX, phase, layer, step, b * heads * queryTokens, kvLength,
                            dt);
                        gemm("attn_context", phase, layer, step, b * kvHeads, queryTokens * group, hd, kvLength, dt,
                            kv, nextId - 1, qkv);
                    }
                    attended[g0++] = nextId - 1;
                }
            }
            gemm("out_proj", phase, layer, step, 1, tokens, d, heads * hd, dt, wt, attended);
            allReduce("attn_all_reduce", phase, layer, step, tokens * d, tp, dt);
            residual = rows("attn_residual", OpKind.ELEMENTWISE, phase, layer, step, tokens, d, dt,
                producers(nextId - 1, residual));
            long ffnNorm = rows("ffn_norm", norm, phase, layer, step, tokens, d, dt);
            if (m.experts() > 1) {
                gemm("router", phase, layer, step, 1, tokens, m.experts(), d, dt, wt);
                long routing = rows("router_softmax", OpKind.SOFTMAX, phase, layer, step, tokens, m.experts(), dt);
                int ep = workload.parallelism().experts();
                long[] perExpert = ep == 1 ? route(m, tokens, layer, step) : routeShare(m, tokens, ep);
                long[] expertInputs = {ffnNorm, routing};
                if (ep > 1) {
                    long dispatch = emit(Operator.collective(nextId, "moe_dispatch", OpKind.ALL_TO_ALL, phase, layer,
                        step, tokens * m.expertsPerToken() * d, ep, dt), ffnNorm, routing);
                    expertInputs = new long[] {dispatch};
                }
                long[] combined = {routing};
                if (m.expertKernel() == TransformerSpec.ExpertKernel.GROUPED) {
                    combined = new long[] {routing, groupedExperts(phase, layer, step, perExpert, d, ffn, dt, wt,
                        expertInputs)};
                }
                for (int e = 0; e < perExpert.length && m.expertKernel() == TransformerSpec.ExpertKernel.PER_EXPERT;
                     e++) {
                    if (perExpert[e] > 0) {
                        long down = swiglu("expert" + e + "_", phase, layer, step, perExpert[e], d, ffn, dt, wt,
                            expertInputs);
                        combined = java.util.Arrays.copyOf(combined, combined.length + 1);
                        combined[combined.length - 1] = down;
                    }
                }
                if (ep > 1) {
                    long back = emit(Operator.collective(nextId, "moe_combine", OpKind.ALL_TO_ALL, phase, layer,
                        step, tokens * m.expertsPerToken() * d, ep, dt), java.util.Arrays.copyOfRange(combined, 1,
                        combined.length));
                    combined = new long[] {routing, back};
                }
                rows("expert_combine", OpKind.ELEMENTWISE, phase, layer, step,
                    tokens * m.expertsPerToken(), d, dt, combined);
            } else if (m.ffn() == TransformerSpec.FfnKind.SWIGLU) {
                swiglu("ffn_", phase, layer, step, tokens, d, ffn, dt, wt, ffnNorm);
            } else {
                gemm("ffn_up", phase, layer, step, 1, tokens, ffn, d, dt, wt);
                rows("ffn_gelu", OpKind.GELU, phase, layer, step, tokens, ffn, dt);
                gemm("ffn_down", phase, layer, step, 1, tokens, d, ffn, dt, wt);
            }
            allReduce("ffn_all_reduce", phase, layer, step, tokens * d, tp, dt);
            residual = rows("ffn_residual", OpKind.ELEMENTWISE, phase, layer, step, tokens, d, dt,
                producers(nextId - 1, residual));
        }
        times = 1;
        if (run.layers() == m.layers() && emitting > 0) {
            rows("final_norm", norm, phase, NO_LAYER, step, emitting, d, dt);
            gemm("lm_head", phase, NO_LAYER, step, 1, emitting, ceilDiv(m.vocab(), tp), d, dt, wt);
        }
    }

    /** Tokens each expert receives (0: not touched, its weights not read); see the class comment. */
    static long[] route(TransformerSpec m, long tokens, int layer, int step) {
        int experts = m.experts();
        int k = m.expertsPerToken();
        long[] perExpert = new long[experts];
        if (m.routing() == TransformerSpec.Routing.UNIFORM) {
            double expected = experts * (1 - Math.pow(1 - (double) k / experts, tokens));
            long touched = Math.max(Math.min(k, tokens * k), Math.min(experts, Math.round(expected)));
            touched = Math.min(touched, tokens * k);
            long each = ceilDiv(tokens * k, touched);
            for (int e = 0; e < touched; e++) {
                perExpert[e] = each;
            }
            return perExpert;
        }
        long seed = m.routingSeed() * 0x9E3779B97F4A7C15L + (long) layer * 0xBF58476D1CE4E5B9L
            + (long) step * 0x94D049BB133111EBL;
        java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
        int[] order = new int[experts];
        for (long t = 0; t < tokens; t++) {
            for (int e = 0; e < experts; e++) {
                order[e] = e;
            }
            for (int j = 0; j < k; j++) { // partial Fisher-Yates: k distinct experts
                int pick = j + random.nextInt(experts - j);
                int chosen = order[pick];
                order[pick] = order[j];
                order[j] = chosen;
                perExpert[chosen]++;
            }
        }
        return perExpert;
    }

    /**
     * Tokens each of a device's E/P experts receives under expert parallelism over {@code devices} devices, each
     * serving {@code tokens} tokens: the even split of uniform routing (see the class comment).
     */
    static long[] routeShare(TransformerSpec m, long tokens, int devices) {
        int experts = m.experts();
        int local = experts / devices;
        int k = m.expertsPerToken();
        double expected = local * (1 - Math.pow(1 - (double) k / experts, (double) tokens * devices));
        long copies = tokens * k;
        long touched = Math.max(1, Math.min(Math.min(local, copies), Math.round(expected)));
        long[] perExpert = new long[local];
        for (int e = 0; e < touched; e++) {
            perExpert[e] = ceilDiv(copies, touched);
        }
        return perExpert;
    }

    /** SwiGLU on the output of {@code inputs}: gate and up both read it; returns the down projection's id. */
    private long swiglu(String prefix, Phase phase, int layer, int step, long tokens, long d, long ffn,
                        DataType dt, DataType wt, long... inputs) {
        String[] names = swigluNames.computeIfAbsent(prefix, p -> new String[] {p + "gate", p + "up", p + "silu",
            p + "gate_mul", p + "down"});
        long gate = gemm(names[0], phase, layer, step, 1, tokens, ffn, d, dt, wt, inputs);
        long up = gemm(names[1], phase, layer, step, 1, tokens, ffn, d, dt, wt, inputs);
        long silu = rows(names[2], OpKind.SILU, phase, layer, step, tokens, ffn, dt, gate);
        rows(names[3], OpKind.ELEMENTWISE, phase, layer, step, tokens, ffn, dt, silu, up);
        return gemm(names[4], phase, layer, step, 1, tokens, d, ffn, dt, wt);
    }

    /**
     * The experts' SwiGLU as one grouped kernel pass (see the class comment): w13 over the touched experts' tokens
     * (width 2 x ffn), silu_and_mul over every routed token, w2 back to d_model; returns w2's id.
     */
    private long groupedExperts(Phase phase, int layer, int step, long[] perExpert, long d, long ffn, DataType dt,
                                DataType wt, long... inputs) {
        long[] rows = java.util.Arrays.stream(perExpert).filter(t -> t > 0).toArray();
        long routed = java.util.Arrays.stream(rows).sum();
        emit(Operator.groupedGemm(nextId, "experts_w13", phase, layer, step, rows, 2 * ffn, d, dt, wt), inputs);
        rows("experts_silu_and_mul", OpKind.SILU_AND_MUL, phase, layer, step, routed, ffn, dt);
        return emit(Operator.groupedGemm(nextId, "experts_w2", phase, layer, step, rows, d, ffn, dt, wt));
    }

    /** The op {@code latest} and, when there is one ({@code >= 0}), the residual stream {@code residual}. */
    private static long[] producers(long latest, long residual) {
        return residual < 0 ? new long[] {latest} : new long[] {latest, residual};
    }

    /**
     * Emits an operator with its producers as deps; none given means the previous operator alone (written as an
     * empty cell), as do producers that are just that operator. Returns its id.
     */
    private long emit(Operator op, long... producers) {
        long[] deps = deps(op.id(), producers);
        out.accept(deps.length == 0 ? op : new Operator(op.id(), op.name(), op.kind(), op.phase(), op.layer(),
            op.step(), op.batch(), op.m(), op.n(), op.k(), op.elements(), op.dataType(), deps, op.causal(),
            op.operandBType(), op.segments()), times);
        return nextId++;
    }

    /** The deps cell of operator {@code id} reading {@code producers} (see {@link #emit}). */
    private static long[] deps(long id, long[] producers) {
        return producers.length == 0 || producers.length == 1 && producers[0] == id - 1 ? Operator.NO_DEPS
            : producers;
    }

    /**
     * A GEMM whose B operand (weights, K or V) is stored as {@code bType}, on the output of {@code producers}. Built
     * with its deps at once (GEMMs and vector operators are nearly every operator a run lowers, twice: the run
     * limits' pass and the run).
     */
    private long gemm(String name, Phase phase, int layer, int step, long batch, long m, long n, long k,
                      DataType dt, DataType bType, long... producers) {
        out.accept(Operator.gemm(nextId, name, phase, layer, step, batch, m, n, k, dt, bType,
            deps(nextId, producers)), times);
        return nextId++;
    }

    /** A vector operator of {@code rows} rows of {@code rowLength}, on the output of {@code producers}. */
    private long rows(String name, OpKind kind, Phase phase, int layer, int step, long rows, long rowLength,
                      DataType dt, long... producers) {
        out.accept(Operator.rows(nextId, name, kind, phase, layer, step, rows, rowLength, dt,
            deps(nextId, producers)), times);
        return nextId++;
    }

    private void allReduce(String name, Phase phase, int layer, int step, long elements, int devices,
                           DataType dt) {
        if (devices > 1) {
            emit(Operator.allReduce(nextId, name, phase, layer, step, elements, devices, dt));
        }
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}

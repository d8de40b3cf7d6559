package dev.rafter.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class LoweringTest {
    static Workload load(String name) {
        return Workload.load(Path.of("models/workloads/" + name + ".yaml"));
    }

    static List<Operator> ops(Workload w, Phase phase, int step, int layer) {
        List<Operator> out = new ArrayList<>();
        Lowering.lower(w, EnumSet.of(phase), op -> {
            if (op.step() == step && op.layer() == layer) {
                out.add(op);
            }
        });
        return out;
    }

    static double gemmFlops(List<Operator> ops) {
        return ops.stream().filter(o -> o.kind() == OpKind.GEMM).mapToDouble(Operator::flops).sum();
    }

    static Operator named(List<Operator> ops, String name) {
        return ops.stream().filter(o -> o.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void gpt3PrefillLayerFlopsMatchTheHandFormula() {
        Workload w = load("gpt3-175b");
        List<Operator> layer = ops(w, Phase.PREFILL, 0, 5);
        double t = 8 * 2048;
        double d = 12288;
        double b = 8;
        double s = 2048;
        double headsPerDevice = 96 / 4.0;
        // QKV 3d^2/4, out d^2/4, FFN 2 x 4d^2/4 weights per device: 3d^2 MACs per token; attention 2 x S^2 x d/4.
        double expected = 2 * t * 3 * d * d + 2 * 2 * b * headsPerDevice * s * s * 128;
        assertEquals(expected, gemmFlops(layer), 0);
        Operator qkv = named(layer, "qkv_proj");
        assertEquals(2.0 * 16384 * 12288 * 9216, qkv.flops(), 0);
        assertEquals(15, layer.size(),
            "norm, qkv, KV-cache write, scores, softmax, context, out, AR, add, norm, up, gelu, down, AR, add");
        // GPT-3 has learned positions (no rope); the new K and V, 16384 tokens x 24 KV heads x 128 x 2, are stored
        // in the cache once: read and written in fp16
        Operator kvWrite = named(layer, "kv_cache_write");
        assertEquals(OpKind.KV_CACHE_WRITE, kvWrite.kind());
        assertEquals(16384L * 24 * 128 * 2, kvWrite.elements());
        assertEquals(2.0 * 2 * 16384 * 24 * 128 * 2, kvWrite.minBytes(), 0);
        assertTrue(layer.stream().noneMatch(op -> op.kind() == OpKind.ROPE), "learned positions");
        assertEquals(8L * 24 * 2048 * 2048, named(layer, "attn_softmax").elements());
        // Row shapes: softmax rows are (sequences x heads x query tokens) of the KV length; norms tokens x d_model.
        assertEquals(8L * 24 * 2048, named(layer, "attn_softmax").m());
        assertEquals(2048, named(layer, "attn_softmax").n());
        for (String norm : new String[] {"attn_norm", "ffn_norm"}) {
            assertEquals(16384, named(layer, norm).m());
            assertEquals(12288, named(layer, norm).n());
        }
        assertEquals(16384, named(layer, "ffn_gelu").m());
        assertEquals(12288, named(layer, "ffn_gelu").n(), "the FFN width per device");
        for (Operator op : layer) {
            if (op.kind().isVector()) {
                assertEquals(op.m() * op.n(), op.elements(), op.name());
            }
        }
        assertEquals(16384L * 12288, named(layer, "attn_all_reduce").elements());
    }

    @Test
    void llama3DecodeIsGqaAwareAndKvGrowsByOneEachStep() {
        Workload w = withRun(load("llama3-8b"), 8, RunSpec.Attention.UNFUSED);
        for (int step : new int[] {1, 2, 100}) {
            List<Operator> layer = ops(w, Phase.DECODE, step, 0);
            Operator scores = named(layer, "attn_scores");
            long kv = 1024 + step;
            assertEquals(8 * 8, scores.batch(), "sequences x KV heads");
            assertEquals(4, scores.m(), "one token x 4 query heads per KV head");
            assertEquals(kv, scores.n());
            assertEquals(128, scores.k());
            Operator softmax = named(layer, "attn_softmax");
            assertEquals(8 * 32, softmax.m(), "one query row per sequence and head in decode");
            assertEquals(kv, softmax.n());
            assertEquals(8, named(layer, "attn_norm").m(), "one token per sequence");
            // RoPE on 8 tokens of 32 query and 8 KV heads of 128: 3 FLOPs per element
            assertEquals(3.0 * 8 * 40 * 128, named(layer, "rope").flops(), 0);
            assertEquals(8L * 8 * 128 * 2, named(layer, "kv_cache_write").elements());
            // K is read once per KV head: 8 seqs x 8 KV heads x kv x 128 values.
            double kvBytes = 2.0 * 64 * kv * 128;
            assertEquals(2.0 * 64 * (4.0 * 128 + 4.0 * kv) + kvBytes, scores.minBytes(), 0);
            double d = 4096;
            double expected = 2 * 8 * (d * (d + 2 * 1024) + d * d + 3 * d * 14336) + 2 * 2 * 8 * 32 * kv * 128;
            assertEquals(expected, gemmFlops(layer), 0);
        }
    }

    @Test
    void decodeHasOutputMinusOneStepsOfEveryLayer() {
        Workload w = load("tiny");
        Map<Integer, Integer> perStep = new TreeMap<>();
        long n = Lowering.lower(w, EnumSet.of(Phase.DECODE), op -> perStep.merge(op.step(), 1, Integer::sum));
        assertEquals(List.of(1, 2, 3), new ArrayList<>(perStep.keySet()));
        // tiny: 2 layers x 16 ops (rope, KV-cache write, flash attention as one, SwiGLU, two all-reduces under TP
        // 2), final norm, LM head.
        int perPass = 2 * 16 + 2;
        assertEquals(3L * perPass, n);
        perStep.values().forEach(c -> assertEquals(perPass, c));
    }

    @Test
    void parameterCountsMatchThePublishedOnes() {
        assertEquals(175e9, load("gpt3-175b").model().parameters(), 175e9 * 0.01);
        assertEquals(8.03e9, load("llama3-8b").model().parameters(), 8.03e9 * 0.005);
        assertEquals(69.0e9, load("llama2-70b").model().parameters(), 69.0e9 * 0.005);
        TransformerSpec mixtral = load("mixtral-8x7b").model();
        assertEquals(46.7e9, mixtral.parameters(), 46.7e9 * 0.005);
        assertEquals(12.9e9, mixtral.activeParameters(), 12.9e9 * 0.01);
    }

    @Test
    void layerWeightsReadInDecodeEqualTheLayerParametersPerDevice() {
        // A decode step streams each weight once: bytes of the weight GEMM operands = params / TP x 2 bytes.
        Workload w = load("llama2-70b");
        List<Operator> layer = ops(w, Phase.DECODE, 1, 3);
        double weights = layer.stream().filter(o -> o.kind() == OpKind.GEMM && o.batch() == 1)
            .mapToDouble(o -> (double) o.k() * o.n()).sum();
        double d = 8192;
        assertEquals((d * (d + 2 * 1024) + d * d + 3 * d * 28672) / 4, weights, 0);
    }

    static Workload withRun(Workload w, int batch, RunSpec.Attention attention) {
        RunSpec r = w.run();
        return new Workload(w.model(), new RunSpec(batch, r.promptTokens(), r.outputTokens(), r.tensorParallel(),
            r.dataType(), r.layers(), attention, r.kvDataType(), r.weightDataType()));
    }

    static long experts(List<Operator> layer) {
        return layer.stream().filter(o -> o.name().endsWith("_up")).count();
    }

    /** Mixtral with each expert's SwiGLU as its own operators (model.expert_kernel: per_expert). */
    static Workload perExpert(String name) {
        return Workload.load(Path.of("models/workloads/" + name + ".yaml"), List.of("model.expert_kernel=per_expert"));
    }

    @Test
    void moeRoutesTokensToTheExpectedNumberOfDistinctExperts() {
        Workload w = perExpert("mixtral-8x7b");
        List<Operator> layer = ops(w, Phase.DECODE, 1, 0);
        // batch 8, top-2 over 8 experts: 8 (1 - (3/4)^8) = 7.2 experts touched, 7 emitted, ceil(16 / 7) = 3 tokens.
        assertEquals(7, experts(layer));
        for (int e = 0; e < 7; e++) {
            Operator up = named(layer, "expert" + e + "_up");
            assertEquals(3, up.m());
            assertEquals(14336 / 2, up.n());
        }
        assertEquals(2, experts(ops(withRun(w, 1, RunSpec.Attention.FLASH), Phase.DECODE, 1, 0)), "batch 1: k");
        assertEquals(8, experts(ops(withRun(w, 64, RunSpec.Attention.FLASH), Phase.DECODE, 1, 0)), "batch 64: all");
        assertEquals(8 * 8, named(layer, "router").flops() / (2.0 * 4096), 0);
        assertEquals(8, named(layer, "router_softmax").m(), "a row of expert scores per token");
        assertEquals(8, named(layer, "router_softmax").n());
        List<Operator> prefill = ops(w, Phase.PREFILL, 0, 0);
        assertEquals(8 * 1024 * 2 / 8, named(prefill, "expert3_gate").m());
    }

    @Test
    void randomRoutingIsSeededAndShowsImbalance() {
        TransformerSpec m = load("mixtral-8x7b").model();
        TransformerSpec random = new TransformerSpec(m.name(), m.layers(), m.dModel(), m.heads(), m.kvHeads(),
            m.ffnDim(), m.ffn(), m.norm(), m.vocab(), m.experts(), m.expertsPerToken(), m.bias(),
            m.learnedPositions(), m.contextLength(), m.tiedEmbeddings(), TransformerSpec.Routing.RANDOM, 7);
        long[] a = Lowering.route(random, 8192, 0, 0);
        assertEquals(8192L * 2, java.util.Arrays.stream(a).sum(), "every token goes to k experts");
        assertTrue(java.util.Arrays.stream(a).min().getAsLong() < java.util.Arrays.stream(a).max().getAsLong());
        assertEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(Lowering.route(random, 8192, 0, 0)));
        long[] batch1 = Lowering.route(random, 1, 3, 5);
        assertEquals(2, java.util.Arrays.stream(batch1).filter(c -> c > 0).count());
    }

    @Test
    void groupedExpertsAreTwoGroupedGemmsAndOneSiluAndMulOverTheTouchedExperts() {
        List<Operator> layer = ops(load("mixtral-8x7b"), Phase.DECODE, 1, 0);
        // batch 8, top-2 of 8: 7 experts touched with ceil(16 / 7) = 3 tokens each (as per expert, above).
        Operator w13 = named(layer, "experts_w13");
        assertEquals(OpKind.GROUPED_GEMM, w13.kind());
        assertEquals(7, w13.batch());
        assertEquals(List.of(3L, 3L, 3L, 3L, 3L, 3L, 3L), w13.segments().stream().map(Operator.Segment::m).toList());
        assertEquals(2 * 14336 / 2, w13.n(), "gate and up fused: 2 x ffn per device under TP 2");
        assertEquals(4096, w13.k());
        Operator act = named(layer, "experts_silu_and_mul");
        assertEquals(OpKind.SILU_AND_MUL, act.kind());
        assertEquals(21, act.m());
        assertEquals(14336 / 2, act.n());
        Operator w2 = named(layer, "experts_w2");
        assertEquals(4096, w2.n());
        assertEquals(14336 / 2, w2.k());
        // Three launches where per_expert has 3 GEMMs and 2 vector ops for each of the 7 experts.
        long grouped = layer.stream().filter(o -> o.name().startsWith("expert")).count();
        long perExpert = ops(perExpert("mixtral-8x7b"), Phase.DECODE, 1, 0).stream()
            .filter(o -> o.name().startsWith("expert") && !o.name().equals("expert_combine")).count();
        assertEquals(3 + 1, grouped, "w13, silu_and_mul, w2 and the combine");
        assertEquals(5 * 7, perExpert);
        // Same FLOPs as the per-expert GEMMs: 2 x 21 rows x (2 x 7168 x 4096 + 4096 x 7168).
        assertEquals(2.0 * 21 * 3 * 7168 * 4096, w13.flops() + w2.flops(), 0);
        // The combine waits for w2 and the routing.
        Operator combine = named(layer, "expert_combine");
        assertTrue(java.util.Arrays.stream(combine.deps()).anyMatch(d -> d == w2.id()), "combine after w2");
    }

    @Test
    void randomRoutingGivesTheGroupedGemmUnequalGroups() {
        Workload w = Workload.load(Path.of("models/workloads/mixtral-8x7b.yaml"), List.of("model.routing=random",
            "model.routing_seed=7", "run.batch=3"));
        Operator w13 = named(ops(w, Phase.DECODE, 2, 1), "experts_w13");
        long[] drawn = Lowering.route(w.model(), 3, 1, 2);
        long[] touched = java.util.Arrays.stream(drawn).filter(c -> c > 0).toArray();
        org.junit.jupiter.api.Assertions.assertArrayEquals(touched,
            w13.segments().stream().mapToLong(Operator.Segment::m).toArray(), "each touched expert its drawn count");
        assertEquals(6, java.util.Arrays.stream(touched).sum(), "3 tokens x top-2");
    }

    @Test
    void badWorkloadFilesAreRejectedWithFileAndKey(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        String text = java.nio.file.Files.readString(Path.of("models/workloads/llama3-8b.yaml"));
        String[][] cases = {
            {"kv_heads: 8", "kv_heads: 7", "model.kv_heads: 32 heads are not divisible into 7 KV groups"},
            {"  ffn: swiglu", "  ffn: relu", "model.ffn: expected one of gelu, swiglu, got 'relu'"},
            {"  batch: 8", "  bacth: 8", "run.batch: required key is missing (found 'run.bacth'"},
            {"  tensor_parallel: 1", "  tensor_parallel: 3", "run.tensor_parallel: 32 heads cannot be split over 3"},
            {"  prompt_tokens: 1024", "  prompt_tokens: 9000", "exceed the context length 8192"},
            {"  data_type: bf16", "  data_type: bf16\n  temperature: 0.7", "unknown key 'run.temperature'"},
            {"  data_type: bf16", "  data_type: bf16\n  attention: paged", "run.attention: expected one of flash, unfused"},
            {"  data_type: bf16", "  data_type: bf16\n  kv_data_type: fp4", "run.kv_data_type: expected one of"},
            {"  data_type: bf16", "  data_type: bf16\n  weight_data_type: int4", "run.weight_data_type: expected one"},
            {"  norm: rmsnorm", "  norm: rmsnorm\n  routing: greedy", "model.routing: expected one of uniform, random"},
        };
        for (String[] c : cases) {
            java.nio.file.Path f = tmp.resolve("w.yaml");
            java.nio.file.Files.writeString(f, text.replace(c[0], c[1].replace("\\n", "\n")));
            String m = org.junit.jupiter.api.Assertions.assertThrows(dev.rafter.config.InputException.class,
                () -> Workload.load(f)).getMessage();
            assertTrue(m.startsWith(f.toString()) && m.contains(c[2]), m);
        }
    }

    @Test
    void fullGpt3RunStreamsOverAMillionOperators() {
        long[] count = {0};
        long n = Lowering.lower(load("gpt3-175b"), EnumSet.allOf(Phase.class), op -> count[0]++);
        assertEquals(n, count[0]);
        assertTrue(n > 1_000_000, "rows: " + n);
        assertEquals(1024L * (96 * 15 + 2), n, "gpt3-175b.yaml runs attention unfused, as the study does");
    }

    @Test
    void repeatedStandsForEveryOperatorsShapeWithItsCount() {
        // The run limits' pass by shape and count must see the shapes of the full lowering, each as many times: layers
        // alike (dense, grouped experts) and layers apart (experts routed at random), with a few decode steps.
        for (Workload w : List.of(load("tiny"), load("llama3-8b"),
            Workload.load(Path.of("models/workloads/gpt3-175b.yaml"), List.of("run.output_tokens=9")),
            Workload.load(Path.of("models/workloads/mixtral-8x7b.yaml"), List.of("run.output_tokens=3")),
            Workload.load(Path.of("models/workloads/mixtral-8x7b.yaml"), List.of("model.routing=random",
                "run.output_tokens=3")))) {
            Map<Operator.Shape, Long> every = new java.util.HashMap<>();
            long lowered = Lowering.lower(w, EnumSet.allOf(Phase.class), op -> every.merge(op.shape(), 1L, Long::sum));
            Map<Operator.Shape, Long> byCount = new java.util.HashMap<>();
            long[] emitted = {0};
            long counted = Lowering.repeated(w, EnumSet.allOf(Phase.class), (op, times) -> {
                emitted[0]++;
                byCount.merge(op.shape(), times, Long::sum);
            });
            assertEquals(lowered, counted, w.model().name());
            assertEquals(every, byCount, w.model().name());
            assertTrue(w.model().routing() == TransformerSpec.Routing.RANDOM || emitted[0] < lowered,
                w.model().name() + ": " + emitted[0] + " of " + lowered + " emitted");
        }
    }
}

package dev.rafter.importer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rafter.config.InputException;
import dev.rafter.hw.DataType;
import dev.rafter.workload.GemmKernel;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;
import dev.rafter.workload.Phase;
import dev.rafter.workload.TraceCsv;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Kineto importer on the two fixtures (shapes checked by hand against their {@code Input Dims}) and on small
 * traces written here for what the fixtures do not hold (other GEMM and attention forms, collectives, graphs, CPU-only
 * traces), plus each class of bad input.
 */
class KinetoImporterTest {
    static final Path BERT = Path.of("traces/kineto/bert-small-uncased-h100.json.gz");
    static final Path SGLANG = Path.of("src/test/resources/fixtures/kineto/sglang-qwen3-8b-decode.json.gz");

    @TempDir
    Path tmp;

    record Imported(List<ImportedOp> ops, Coverage coverage) {
        Operator op(int i) {
            return ops.get(i).op();
        }

        List<Operator> named(String name) {
            List<Operator> out = new ArrayList<>();
            for (ImportedOp o : ops) {
                if (o.op().name().equals(name)) {
                    out.add(o.op());
                }
            }
            return out;
        }
    }

    static Imported load(Path file) {
        List<ImportedOp> ops = new ArrayList<>();
        Coverage c = new KinetoImporter().read(file, ops::add);
        return new Imported(ops, c);
    }

    private static void assertGemm(Operator op, String name, long batch, long m, long n, long k) {
        assertEquals(name, op.name());
        assertEquals(OpKind.GEMM, op.kind(), name);
        assertEquals(List.of(batch, m, n, k), List.of(op.batch(), op.m(), op.n(), op.k()), name + " batch, m, n, k");
    }

    // ------------------------------------------------------------------ the BERT fixture (H100, eager, shapes)

    @Test
    void bertShapesMatchTheirInputDims() {
        Imported t = load(BERT);
        assertEquals(58, t.ops().size());
        // traceEvents[8]: aten::index_select [[30522, 512], [], [141]]: 141 rows of 512 gathered.
        Operator wordEmbedding = t.op(0);
        assertEquals("aten::index_select", wordEmbedding.name());
        assertEquals(OpKind.GATHER, wordEmbedding.kind());
        assertEquals(141 * 512, wordEmbedding.elements());
        assertEquals(141 * 512 * 2 * 2, wordEmbedding.minBytes(), 0, "one read of each gathered row, one write");
        assertEquals(DataType.BF16, wordEmbedding.dataType());
        // traceEvents[19]: aten::add [[1, 141, 512], [1, 141, 512], []]
        assertEquals("aten::add", t.op(2).name());
        assertEquals(72192, t.op(2).elements());
        // traceEvents[27]: aten::add_ (in place) of the same shape
        assertEquals("aten::add_", t.op(4).name());
        assertEquals(72192, t.op(4).elements());
        // traceEvents[29]: aten::native_layer_norm [[1, 141, 512], [], [512], [512], []], normalized_shape [512]
        Operator norm = t.op(5);
        assertEquals(OpKind.LAYERNORM, norm.kind());
        assertEquals(List.of(141L, 512L), List.of(norm.m(), norm.n()));
        assertTrue(norm.hasRowShape());
        // traceEvents[48]: aten::addmm [[512], [141, 512], [512, 512], [], []]: the query projection
        assertGemm(t.op(6), "aten::addmm", 1, 141, 512, 512);
        assertEquals(DataType.BF16, t.op(6).dataType());
        assertGemm(t.op(7), "aten::addmm", 1, 141, 512, 512);
        assertGemm(t.op(8), "aten::addmm", 1, 141, 512, 512);
        // traceEvents[86]: aten::_flash_attention_forward q, k, v [1, 141, 8, 64] ([batch, seq, heads, d]):
        // 1 sequence x 8 KV heads, 141 query rows per head, 141 keys, head dimension 64.
        Operator attention = t.op(9);
        assertEquals("aten::_flash_attention_forward", attention.name());
        assertEquals(OpKind.FLASH_ATTENTION, attention.kind());
        assertEquals(List.of(8L, 141L, 141L, 64L), List.of(attention.batch(), attention.m(), attention.n(),
            attention.k()));
        // traceEvents[123]: aten::addmm [[2048], [141, 512], [512, 2048], [], []]: the FFN up-projection
        assertGemm(t.op(13), "aten::addmm", 1, 141, 2048, 512);
        // traceEvents[126]: aten::gelu [[1, 141, 2048], []]
        assertEquals(OpKind.GELU, t.op(14).kind());
        assertEquals(141 * 2048, t.op(14).elements());
        // traceEvents[133]: aten::addmm [[512], [141, 2048], [2048, 512], [], []]: the FFN down-projection
        assertGemm(t.op(15), "aten::addmm", 1, 141, 512, 2048);
        // traceEvents[463]: the MLM head's aten::gelu [[1, 141, 512], []]
        assertEquals(OpKind.GELU, t.op(55).kind());
        assertEquals(72192, t.op(55).elements());
        // traceEvents[477]: aten::addmm [[30522], [141, 512], [512, 30522], [], []]: the vocabulary projection
        assertGemm(t.op(57), "aten::addmm", 1, 141, 30522, 512);
        for (int i = 0; i < t.ops().size(); i++) {
            Operator op = t.op(i);
            assertEquals(i, op.id(), "ids from 0 in emission order");
            assertEquals(0, op.deps().length);
            assertEquals(Phase.PREFILL, op.phase());
            assertEquals(-1, op.layer());
            assertEquals(0, op.step());
            assertEquals(DataType.BF16, op.dataType(), op.name());
        }
    }

    @Test
    void bertMeasuredTimesAreTheirKernelsDurations() {
        Imported t = load(BERT);
        // traceEvents[8]'s kernel indexSelectLargeIndex ran 3.136 us; the vocabulary GEMM's kernel 41.28 us.
        assertEquals(3.136e-6, t.ops().get(0).measuredS(), 1e-15);
        assertEquals(41.28e-6, t.ops().get(57).measuredS(), 1e-15);
        assertEquals(5.824e-6, t.ops().get(6).measuredS(), 1e-15);
    }

    @Test
    void bertGemmsCarryTheKernelsThatRanThem() {
        Imported t = load(BERT);
        // The query projection ran cutlass_80_wmma_tensorop_bf16_s161616gemm_bf16_32x32_128x2_tn_align8, the
        // vocabulary GEMM cutlass_80_tensorop_bf16_s16816gemm_bf16_256x128_64x3_tn_align2 (its 256 along the
        // kernel's M, PyTorch's N), the FFN's down projection sm90_xmma_gemm_..._tilesize64x64x64_...
        GemmKernel query = t.op(6).kernel();
        assertEquals(List.of(32, 32, 128), List.of(query.tileM(), query.tileN(), query.tileK()));
        assertEquals(GemmKernel.Path.WARP_MMA, query.path());
        GemmKernel vocabulary = t.op(57).kernel();
        assertEquals(List.of(128, 256, 64), List.of(vocabulary.tileM(), vocabulary.tileN(), vocabulary.tileK()));
        assertEquals("cutlass_80_tensorop_bf16_s16816gemm_bf16_256x128_64x3_tn_align2", vocabulary.name());
        assertGemm(t.op(15), "aten::addmm", 1, 141, 512, 2048);
        assertEquals(GemmKernel.Path.WARPGROUP_MMA, t.op(15).kernel().path());
        // Every GEMM names one; nothing else does.
        for (ImportedOp o : t.ops()) {
            assertEquals(o.op().kind() == OpKind.GEMM, o.op().kernel() != null, o.op().name());
        }
    }

    @Test
    void bertNestedOpsAreCountedOnce() {
        Imported t = load(BERT);
        // 26 aten::linear ops each call one aten::addmm (the op that launches the kernel): 26 GEMMs, no linear.
        assertEquals(26, t.named("aten::addmm").size());
        assertTrue(t.named("aten::linear").isEmpty());
        // scaled_dot_product_attention -> _scaled_dot_product_flash_attention -> _flash_attention_forward: one each.
        assertEquals(4, t.named("aten::_flash_attention_forward").size());
        assertTrue(t.named("aten::scaled_dot_product_attention").isEmpty());
        assertTrue(t.named("aten::_scaled_dot_product_flash_attention").isEmpty());
        // layer_norm -> native_layer_norm; embedding -> index_select.
        assertEquals(10, t.named("aten::native_layer_norm").size());
        assertTrue(t.named("aten::layer_norm").isEmpty());
        assertEquals(3, t.named("aten::index_select").size());
        assertTrue(t.named("aten::embedding").isEmpty());
    }

    @Test
    void bertCoverageAccountsForEveryKernel() {
        Coverage c = load(BERT).coverage();
        assertEquals("kineto", c.format());
        assertEquals(58, c.mapped());
        // 60 kernels and 1 memcpy, 309.437 us in all; unmapped: a comparison on int64 token ids, an all() on its bool
        // result, and the device-to-host copy of aten::item.
        assertEquals(309.437e-6, c.totalMeasuredS(), 1e-12);
        assertEquals(List.of("aten::eq", "aten::all", "aten::_local_scalar_dense"), List.copyOf(c.unmapped().keySet()));
        assertEquals(List.of(1L, 1760L), List.of(c.unmapped().get("aten::eq")[0], c.unmapped().get("aten::eq")[1]));
        assertEquals(3648L, c.unmapped().get("aten::all")[1]);
        assertEquals(2240L, c.unmapped().get("aten::_local_scalar_dense")[1]);
        assertEquals(3, c.unmappedCount());
        long unmappedNs = 0;
        for (long[] v : c.unmapped().values()) {
            unmappedNs += v[1];
        }
        assertEquals(309437, Math.round(c.mappedMeasuredS() * 1e9) + unmappedNs, "mapped + unmapped = all kernels");
        assertEquals(301.789e-6, c.mappedMeasuredS(), 1e-12);
        assertTrue(c.measuredShare() >= 0.95, "share " + c.measuredShare());
        assertTrue(c.notes().stream().anyMatch(n -> n.contains("bool x1, long int x1")), c.notes().toString());
    }

    @Test
    void bertOperatorsRoundTripThroughRaftersTraceCsv() throws IOException {
        Imported t = load(BERT);
        StringWriter w = new StringWriter();
        TraceCsv.writeHeader(w);
        for (ImportedOp o : t.ops()) {
            TraceCsv.writeRow(w, o.op());
        }
        Path csv = tmp.resolve("bert.csv");
        Files.writeString(csv, w.toString());
        List<Operator> back = new ArrayList<>();
        TraceCsv.read(csv, back::add);
        assertEquals(t.ops().size(), back.size());
        for (int i = 0; i < back.size(); i++) {
            assertEquals(t.op(i).flops(), back.get(i).flops());
            assertEquals(t.op(i).minBytes(), back.get(i).minBytes());
        }
    }

    @Test
    void eventsInAnyOrderGiveTheSameOperators() throws IOException {
        ObjectMapper json = new ObjectMapper();
        JsonNode root;
        try (InputStream in = new GZIPInputStream(Files.newInputStream(BERT))) {
            root = json.readTree(in);
        }
        ArrayNode events = (ArrayNode) root.get("traceEvents");
        List<JsonNode> list = new ArrayList<>();
        events.forEach(list::add);
        Collections.reverse(list); // kernels before their launches, children before their parents
        ObjectNode reversed = json.createObjectNode();
        reversed.set("traceEvents", json.createArrayNode().addAll(list));
        Path f = tmp.resolve("reversed.json");
        json.writeValue(f.toFile(), reversed);
        Imported a = load(BERT);
        Imported b = load(f);
        assertEquals(a.ops().size(), b.ops().size());
        for (int i = 0; i < a.ops().size(); i++) {
            assertEquals(text(a.ops().get(i)), text(b.ops().get(i)));
        }
        assertEquals(a.coverage().mappedMeasuredS(), b.coverage().mappedMeasuredS(), 1e-15);
    }

    private static String text(ImportedOp o) {
        Operator p = o.op();
        return p.id() + " " + p.name() + " " + p.kind() + " " + p.batch() + " " + p.m() + " " + p.n() + " " + p.k()
            + " " + p.elements() + " " + p.dataType() + " " + o.measuredS();
    }

    // ------------------------------------------------------------------ the SGLang fixture (MI300X, CUDA graphs)

    /**
     * The SGLang decode fixture holds one decode step of Qwen3-8B replayed from a HIP graph: 544 of its 555 kernels
     * (98.8% of the GPU time: the GEMMs, paged attention, RMSNorm, rotary, SiLU-and-mul) come from one
     * {@code hipGraphLaunch} and carry no op or shape; the eager ops around it are batch bookkeeping on int32/int64
     * tensors and one argmax (greedy sampling) over [32, 151936] fp32 logits.
     */
    /**
     * The same trace with the model it ran named ({@code import --model-hint}, the hint file beside the fixture:
     * Qwen3-8B's config, 32 sequences over about 1024 cached tokens as the trace's annotations say): the graph's
     * GEMMs, attention, norms, rotary, KV-cache writes and SiLU-and-mul map by kernel name, 95.5% of the GPU time.
     */
    @Test
    void sglangGraphReplayMapsFromKernelNamesWithAModelHint() {
        ModelHint hint = ModelHint.of(dev.rafter.workload.Workload.load(
            Path.of("src/test/resources/fixtures/kineto/sglang-qwen3-8b-decode-hint.yaml")));
        List<ImportedOp> ops = new ArrayList<>();
        Coverage c = new KinetoImporter().read(SGLANG, ops::add, hint);
        Imported t = new Imported(ops, c);
        assertEquals(435, c.mapped(), "434 from the graph (36 layers x 12, the final norm, the head) + argmax");
        assertEquals(0.955, c.measuredShare(), 0.001);
        List<Operator> qkv = t.named("qkv_proj (inferred from kernel name)");
        assertEquals(36, qkv.size());
        // 32 tokens; N = (32 + 2 x 8) heads x 128, K = hidden 4096 (Qwen3-8B config.json)
        assertGemm(qkv.get(0), "qkv_proj (inferred from kernel name)", 1, 32, 6144, 4096);
        assertEquals(Phase.DECODE, qkv.get(0).phase());
        assertEquals(DataType.BF16, qkv.get(0).dataType());
        assertGemm(t.named("lm_head (inferred from kernel name)").get(0), "lm_head (inferred from kernel name)", 1,
            32, 151936, 4096);
        assertEquals(36, t.named("down_proj (inferred from kernel name)").size());
        // The first layer's attention: its QKV kernel (57.966 us) and the split's reduce kernel (5.847 us).
        ImportedOp attention = ops.stream().filter(o -> o.op().kind() == OpKind.FLASH_ATTENTION).findFirst()
            .orElseThrow();
        assertEquals(63.813e-6, attention.measuredS(), 1e-12);
        assertEquals(List.of(256L, 4L, 1024L, 128L), List.of(attention.op().batch(), attention.op().m(),
            attention.op().n(), attention.op().k()));
        assertTrue(c.notes().stream().anyMatch(n -> n.startsWith("434 operators (95.0% of the measured GPU time,"
            + " 470 kernels) of graph replays were inferred from kernel names and the model hint (qwen3-8b, a decode"
            + " step of 32 sequences over 1024 cached tokens each, DECODE)")), c.notes().toString());
    }

    @Test
    void sglangDecodeUnderHipGraphsSaysWhyShapesAreMissing() {
        Imported t = load(SGLANG);
        Coverage c = t.coverage();
        assertEquals(1, c.mapped());
        Operator argmax = t.op(0);
        assertEquals("aten::argmax", argmax.name());
        assertEquals(32L * 151936, argmax.elements());
        assertEquals(DataType.FP32, argmax.dataType());
        assertEquals(53.84e-6, t.ops().get(0).measuredS(), 1e-15);
        long[] graph = c.unmapped().get("hipGraphLaunch");
        assertEquals(1, graph[0], "one graph launch");
        assertEquals(9656404, graph[1]);
        assertTrue(c.measuredShare() < 0.01);
        assertTrue(c.notes().get(0).startsWith("544 kernels (98.8% of the measured GPU time) ran from 1 CUDA/HIP"
            + " graph launch (hipGraphLaunch): this trace was captured under CUDA graphs: a graph replay records no"
            + " op, so per-op shapes are lost; for a trace that maps fully, record in eager mode with"
            + " torch.profiler(record_shapes=True)"), c.notes().get(0));
        // Kernels launched by no recorded op stay listed under their kernel names.
        assertEquals(1, c.unmapped().get("kernel resolve_future_token_ids_kernel")[0]);
        assertEquals(1, c.unmapped().get("kernel create_flashinfer_kv_indices_triton")[0]);
        long unmappedNs = 0;
        for (long[] v : c.unmapped().values()) {
            unmappedNs += v[1];
        }
        assertEquals(Math.round(c.totalMeasuredS() * 1e9), Math.round(c.mappedMeasuredS() * 1e9) + unmappedNs);
    }

    // ------------------------------------------------------------------ detection

    @Test
    void detectionByContent() throws IOException {
        assertSame(KinetoImporter.class, Importers.detect(BERT).getClass());
        Path plain = tmp.resolve("trace.txt");
        try (InputStream in = new GZIPInputStream(Files.newInputStream(BERT))) {
            Files.write(plain, in.readAllBytes());
        }
        assertSame(KinetoImporter.class, Importers.detect(plain).getClass(), "plain JSON under any name");
        Path csv = tmp.resolve("t.csv");
        Files.writeString(csv, TraceCsv.HEADER + "\n0,mm,gemm,prefill,-1,0,1,2,2,2,,fp16,\n");
        assertNull(Importers.detect(csv));
        KinetoImporter k = new KinetoImporter();
        byte[] array = "\n [ {\"ph\": \"X\"}]".getBytes(StandardCharsets.UTF_8);
        assertTrue(k.recognises(array, array.length), "the Chrome trace array form");
        byte[] proto = {0x7b, 0x0a, 0x05, '0', '.', '0', '.', '4'};
        assertFalse(k.recognises(proto, proto.length), "a protobuf whose first length byte is '{'");
    }

    // ------------------------------------------------------------------ shapes of other ops (written here)

    private Path write(String name, Body body) throws IOException {
        Path f = tmp.resolve(name);
        try (Writer w = Files.newBufferedWriter(f)) {
            KinetoTraceWriter t = new KinetoTraceWriter(w, null);
            body.write(t);
            t.end();
        }
        return f;
    }

    interface Body {
        void write(KinetoTraceWriter t) throws IOException;
    }

    /** One op launching one kernel of {@code us} microseconds, linked by the kernel's External id. */
    private static void launched(KinetoTraceWriter t, String name, long ext, double ts, String dims, String types,
                                 String concrete) throws IOException {
        t.op(name, ts, 10, ext, dims, types, concrete);
        t.launch("cudaLaunchKernel", ts + 5, 1000 + ext, ext);
        t.kernel("void gemm_kernel<float>(float*)", ts + 20, 4, 1000 + ext, ext, 7);
    }

    @Test
    void namesKeepTheirCommasAndQuotesForTheCsvWriterToQuote() {
        assertEquals("aten::foo(a, \"b\")", KinetoImporter.clean("  aten::foo(a, \"b\") "));
        assertEquals("unnamed", KinetoImporter.clean(" "));
    }

    @Test
    void gemmForms() throws IOException {
        String bf = "\"c10::BFloat16\"";
        Path f = write("gemm.json", t -> {
            launched(t, "aten::mm", 1, 100, "[[64, 32], [32, 16]]", "[\"c10::Half\", \"c10::Half\"]", null);
            launched(t, "aten::bmm", 2, 200, "[[8, 64, 32], [8, 32, 16]]", "[" + bf + ", " + bf + "]", null);
            launched(t, "aten::baddbmm", 3, 300, "[[8, 64, 16], [8, 64, 32], [8, 32, 16], [], []]",
                "[" + bf + ", " + bf + ", " + bf + ", \"Scalar\", \"Scalar\"]", null);
            // matmul: [2, 12, 128, 64] x [2, 12, 64, 128] broadcasts into a batch of 24.
            launched(t, "aten::matmul", 4, 400, "[[2, 12, 128, 64], [2, 12, 64, 128]]", "[\"float\", \"float\"]", null);
            // matmul with a 2-D right operand folds the left's leading dimensions into m.
            launched(t, "aten::matmul", 5, 500, "[[4, 100, 256], [256, 512]]", "[" + bf + ", " + bf + "]", null);
            // linear [..., k] x [n, k]: leading dimensions folded into m.
            launched(t, "aten::linear", 6, 600, "[[2, 7, 4096], [11008, 4096], []]", "[" + bf + ", " + bf + ", \"\"]",
                null);
            launched(t, "aten::_scaled_mm", 7, 700, "[[128, 256], [256, 512], [], [], [], [], [], []]",
                "[\"c10::Float8_e4m3fn\", \"c10::Float8_e4m3fn\", \"float\", \"float\", \"\", \"\", \"Scalar\","
                    + " \"Scalar\"]", null);
            launched(t, "aten::mv", 8, 800, "[[4096, 1024], [1024]]", "[" + bf + ", " + bf + "]", null);
            launched(t, "aten::_int_mm", 9, 900, "[[32, 64], [64, 128]]", "[\"signed char\", \"signed char\"]", null);
        });
        Imported t = load(f);
        assertEquals(9, t.ops().size());
        assertGemm(t.op(0), "aten::mm", 1, 64, 16, 32);
        assertEquals(DataType.FP16, t.op(0).dataType());
        assertGemm(t.op(1), "aten::bmm", 8, 64, 16, 32);
        assertGemm(t.op(2), "aten::baddbmm", 8, 64, 16, 32);
        assertGemm(t.op(3), "aten::matmul", 24, 128, 128, 64);
        assertEquals(DataType.FP32, t.op(3).dataType());
        assertGemm(t.op(4), "aten::matmul", 1, 400, 512, 256);
        assertGemm(t.op(5), "aten::linear", 1, 14, 11008, 4096);
        assertGemm(t.op(6), "aten::_scaled_mm", 1, 128, 512, 256);
        assertEquals(DataType.FP8, t.op(6).dataType());
        assertGemm(t.op(7), "aten::mv", 1, 4096, 1, 1024);
        assertEquals(DataType.INT8, t.op(8).dataType());
        assertEquals(4e-6, t.ops().get(0).measuredS(), 1e-15);
        assertEquals(1.0, t.coverage().measuredShare());
    }

    @Test
    void attentionForms() throws IOException {
        String bf = "\"c10::BFloat16\"";
        String qkv = "[" + bf + ", " + bf + ", " + bf;
        Path f = write("attention.json", t -> {
            // sdpa [batch, heads, seq, d] with grouped-query attention: 32 query heads over 8 KV heads.
            launched(t, "aten::_scaled_dot_product_flash_attention", 1, 100,
                "[[2, 32, 512, 128], [2, 8, 512, 128], [2, 8, 512, 128], [], [], [], []]",
                qkv + ", \"Scalar\", \"Scalar\", \"Scalar\", \"\"]", null);
            // flash forward, variable length: 600 query tokens of 4 sequences (offsets [5]), 24 heads, d 64.
            launched(t, "aten::_flash_attention_forward", 2, 200,
                "[[600, 24, 64], [600, 24, 64], [600, 24, 64], [5], [5], [], []]",
                qkv + ", \"int\", \"int\", \"Scalar\", \"Scalar\"]", null);
            // flash forward [batch, seq, heads, d], decode: 1 query row, 1000 keys, 8 query heads over 2 KV heads.
            launched(t, "aten::_flash_attention_forward", 3, 300,
                "[[16, 1, 8, 128], [16, 1000, 2, 128], [16, 1000, 2, 128], [], [], [], []]",
                qkv + ", \"\", \"\", \"Scalar\", \"Scalar\"]", null);
        });
        Imported t = load(f);
        Operator sdpa = t.op(0);
        assertEquals(OpKind.FLASH_ATTENTION, sdpa.kind());
        // batch = 2 sequences x 8 KV heads; m = 512 query rows x 4 query heads per KV head.
        assertEquals(List.of(16L, 2048L, 512L, 128L), List.of(sdpa.batch(), sdpa.m(), sdpa.n(), sdpa.k()));
        Operator varlen = t.op(1);
        assertEquals(List.of(96L, 150L, 150L, 64L), List.of(varlen.batch(), varlen.m(), varlen.n(), varlen.k()));
        Operator decode = t.op(2);
        assertEquals(List.of(32L, 4L, 1000L, 128L), List.of(decode.batch(), decode.m(), decode.n(), decode.k()));
    }

    @Test
    void rowWiseActivationsAndElementwise() throws IOException {
        String bf = "\"c10::BFloat16\"";
        Path f = write("vector.json", t -> {
            launched(t, "aten::_softmax", 1, 100, "[[4, 12, 128, 128], [], []]", "[\"float\", \"Scalar\", \"Scalar\"]",
                "[\"\", \"-1\", \"False\"]");
            launched(t, "aten::_softmax", 2, 200, "[[6, 10, 4], [], []]", "[\"float\", \"Scalar\", \"Scalar\"]",
                "[\"\", \"1\", \"False\"]");
            launched(t, "aten::rms_norm", 3, 300, "[[3, 7, 4096], [], [4096], []]",
                "[" + bf + ", \"ScalarList\", " + bf + ", \"Scalar\"]", "[\"\", \"[4096]\", \"\", \"1e-06\"]");
            launched(t, "_C::fused_add_rms_norm", 4, 400, "[[21, 4096], [21, 4096], [4096], []]",
                "[" + bf + ", " + bf + ", " + bf + ", \"Scalar\"]", null);
            launched(t, "_C::silu_and_mul", 5, 500, "[[21, 11008], [21, 22016]]", "[" + bf + ", " + bf + "]", null);
            launched(t, "aten::silu", 6, 600, "[[21, 11008]]", "[" + bf + "]", null);
            // Broadcasting: [21, 1, 4096] * [7, 1] -> [21, 7, 4096].
            launched(t, "aten::mul", 7, 700, "[[21, 1, 4096], [7, 1]]", "[" + bf + ", " + bf + "]", null);
            launched(t, "aten::copy_", 8, 800, "[[1024, 64], [1024, 64], []]", "[" + bf + ", \"float\", \"Scalar\"]",
                null);
            launched(t, "aten::sum", 9, 900, "[[8, 1000], [], [], []]", "[\"float\", \"ScalarList\", \"Scalar\", \"\"]",
                null);
            launched(t, "aten::add", 10, 1000, "[[8], [8], []]", "[\"long int\", \"long int\", \"Scalar\"]", null);
        });
        Imported t = load(f);
        assertEquals(9, t.ops().size());
        assertEquals(List.of(4L * 12 * 128, 128L), List.of(t.op(0).m(), t.op(0).n()));
        assertEquals(OpKind.SOFTMAX, t.op(0).kind());
        assertEquals(List.of(24L, 10L), List.of(t.op(1).m(), t.op(1).n()), "softmax over dim 1 of [6, 10, 4]");
        assertEquals(OpKind.RMSNORM, t.op(2).kind());
        assertEquals(List.of(21L, 4096L), List.of(t.op(2).m(), t.op(2).n()));
        assertEquals(List.of(21L, 4096L), List.of(t.op(3).m(), t.op(3).n()));
        assertEquals(OpKind.ADD_RMSNORM, t.op(3).kind(), "fused_add_rms_norm");
        assertEquals(OpKind.SILU_AND_MUL, t.op(4).kind());
        assertEquals(21L * 11008, t.op(4).elements(), "silu_and_mul: the output, half the input");
        assertEquals(21L * 11008, t.op(5).elements());
        assertEquals(21L * 7 * 4096, t.op(6).elements());
        assertEquals(65536, t.op(7).elements());
        assertEquals(DataType.BF16, t.op(7).dataType(), "copy_ takes the destination's dtype");
        assertEquals(8000, t.op(8).elements());
        assertEquals(OpKind.REDUCTION, t.op(8).kind());
        assertEquals(8000 * 4, t.op(8).minBytes(), 0, "aten::sum: its fp32 input read once, the 8 sums not counted");
        assertEquals(1, t.coverage().unmapped().get("aten::add")[0], "int64 add: a dtype Rafter does not model");
    }

    @Test
    void collectives() throws IOException {
        Path f = write("comms.json", t -> {
            // record_param_comms with the sizes, enclosing nccl:all_reduce which launches the kernel.
            t.opWithArgs("record_param_comms", 100, 50, 1, "\"Collective name\": \"allreduce\", \"dtype\": \"BFloat16\","
                + " \"In msg nelems\": 1048576, \"Out msg nelems\": 1048576, \"Group size\": 8");
            t.opWithArgs("nccl:all_reduce", 110, 30, 2, "");
            t.launch("cudaLaunchKernelExC", 115, 2002, 2);
            t.kernel("ncclDevKernel_AllReduce_Sum_bf16_RING_LL(ncclDevKernelArgsStorage<4096ul>)", 200, 80, 2002, 2,
                20);
            t.opWithArgs("record_param_comms", 300, 50, 3, "\"Collective name\": \"_allgather_base\", \"dtype\":"
                + " \"BFloat16\", \"In msg nelems\": 4096, \"Out msg nelems\": 32768, \"Group size\": 8");
            t.launch("cudaLaunchKernelExC", 310, 2003, 3);
            t.kernel("ncclDevKernel_AllGather_RING_LL(ncclDevKernelArgsStorage<4096ul>)", 400, 20, 2003, 3, 20);
            // c10d::allreduce_ launches the kernel around the record_param_comms that holds the sizes.
            t.opWithArgs("c10d::allreduce_", 500, 60, 4, "");
            t.opWithArgs("record_param_comms", 505, 20, 5, "\"Collective name\": \"allreduce\", \"dtype\": \"Float\","
                + " \"In msg nelems\": 4096, \"Out msg nelems\": 4096, \"Group size\": 2");
            t.launch("cudaLaunchKernelExC", 540, 2004, 4);
            t.kernel("ncclDevKernel_AllReduce_Sum_f32_RING_LL(ncclDevKernelArgsStorage<4096ul>)", 600, 9, 2004, 4, 20);
            t.opWithArgs("record_param_comms", 700, 50, 6, "\"Collective name\": \"broadcast\", \"dtype\":"
                + " \"BFloat16\", \"In msg nelems\": 4096, \"Out msg nelems\": 4096, \"Group size\": 8");
            t.launch("cudaLaunchKernelExC", 710, 2005, 6);
            t.kernel("ncclDevKernel_Broadcast_RING_LL(ncclDevKernelArgsStorage<4096ul>)", 800, 20, 2005, 6, 20);
        });
        Imported t = load(f);
        assertEquals(3, t.ops().size());
        Operator gather = t.op(1);
        assertEquals(OpKind.ALL_GATHER, gather.kind());
        assertEquals(List.of(32768L, 8L), List.of(gather.elements(), gather.n()),
            "nccl-tests' size: the gathered output, each rank's 4096 x 8");
        assertEquals(20e-6, t.ops().get(1).measuredS(), 1e-15);
        Operator outer = t.op(2);
        assertEquals("c10d::allreduce_", outer.name());
        assertEquals(List.of(4096L, 2L), List.of(outer.elements(), outer.n()));
        assertEquals(DataType.FP32, outer.dataType());
        Operator ar = t.op(0);
        assertEquals("nccl:all_reduce", ar.name());
        assertEquals(OpKind.ALL_REDUCE, ar.kind());
        assertEquals(1048576, ar.elements());
        assertEquals(8, ar.n());
        assertEquals(DataType.BF16, ar.dataType());
        assertEquals(80e-6, t.ops().get(0).measuredS(), 1e-15);
        Coverage c = t.coverage();
        assertEquals(List.of(1L, 20000L), List.of(c.unmapped().get("collective broadcast")[0],
            c.unmapped().get("collective broadcast")[1]));
        assertTrue(c.notes().stream().anyMatch(n -> n.startsWith("1 collectives without a Rafter kind (broadcast x1;"
            + " all_reduce, all_gather, reduce_scatter and all_to_all are modelled)")), c.notes().toString());
    }

    @Test
    void kernelsLinkThroughTheLaunchCorrelationAndAnnotationsGivePhaseAndStep() throws IOException {
        String bf = "\"c10::BFloat16\"";
        Path f = write("linked.json", t -> {
            t.annotation("ProfilerStep#12", 0, 10_000, 1);
            t.annotation("step[DECODE bs=4]", 10, 5_000, 2);
            // aten::linear -> aten::t (no kernel) and aten::addmm, whose kernel carries no External id.
            t.op("aten::linear", 100, 60, 3, "[[4, 1, 1024], [3072, 1024], [3072]]", "[" + bf + ", " + bf + ", " + bf
                + "]", null);
            t.op("aten::t", 105, 5, 4, "[[3072, 1024]]", "[" + bf + "]", null);
            t.op("aten::addmm", 115, 40, 5, "[[3072], [4, 1024], [1024, 3072], [], []]", "[" + bf + ", " + bf + ", "
                + bf + ", \"Scalar\", \"Scalar\"]", null);
            t.launch("cudaLaunchKernel", 130, 77, 5);
            t.kernel("sm90_xmma_gemm_bf16bf16_bf16f32", 300, 6.5, 77, -1, 7);
            t.kernel("sm90_xmma_gemm_bf16bf16_bf16f32_splitk_reduce", 307, 1.25, 78, -1, 7);
            t.launch("cudaLaunchKernel", 140, 78, 5);
            t.annotation("ProfilerStep#13", 10_000, 10_000, 6);
            launched(t, "aten::gelu", 7, 10_100, "[[4, 1, 3072], []]", "[" + bf + ", \"\"]", null);
        });
        Imported t = load(f);
        assertEquals(2, t.ops().size());
        assertGemm(t.op(0), "aten::addmm", 1, 4, 3072, 1024);
        assertEquals(7.75e-6, t.ops().get(0).measuredS(), 1e-15, "both kernels of the addmm");
        assertEquals(Phase.DECODE, t.op(0).phase());
        assertEquals(0, t.op(0).step());
        assertEquals(Phase.PREFILL, t.op(1).phase(), "outside the decode annotation");
        assertEquals(0, t.op(1).step(), "a prefill operator has no decode step, though it ran in ProfilerStep#13");
        assertTrue(t.coverage().notes().stream().anyMatch(n -> n.startsWith("1 enclosing ops (e.g. aten::linear)")),
            t.coverage().notes().toString());
    }

    @Test
    void cudaGraphKernelsAndKernelsWithoutAnOpAreListedNotDropped() throws IOException {
        Path f = write("graph.json", t -> {
            launched(t, "aten::mm", 1, 100, "[[8, 8], [8, 8]]", "[\"float\", \"float\"]", null);
            t.launch("cudaGraphLaunch", 200, 500, -1);
            t.kernel("void flash_fwd_kernel<Flash_fwd_kernel_traits<128, 64, 128, 4> >(Flash_fwd_params)", 300, 30,
                500, -1, 7);
            t.kernel("void gemv2T_kernel_val<int, int, __nv_bfloat16>(float)", 340, 20, 500, -1, 7);
            t.launch("cudaLaunchKernel", 400, 501, -1);
            t.kernel("void (anonymous namespace)::my_custom_kernel<long>(long*)", 450, 6, 501, -1, 7);
        });
        Coverage c = load(f).coverage();
        assertEquals(1, c.mapped());
        assertEquals(List.of(1L, 50000L), List.of(c.unmapped().get("cudaGraphLaunch")[0],
            c.unmapped().get("cudaGraphLaunch")[1]));
        assertEquals(6000L, c.unmapped().get("kernel my_custom_kernel")[1]);
        assertEquals(60e-6, c.totalMeasuredS(), 1e-15);
        assertTrue(c.notes().get(0).contains("captured under CUDA graphs"), c.notes().get(0));
    }

    private static final String GEMM_KERNEL = "void gemm_kernel<float>(float*)";

    @Test
    void kernelsLaunchedBeforeTheFirstRecordedOpTakeTheShapeOfAnOpThatLaunchedThemAlike() throws IOException {
        Path f = write("early.json", t -> {
            // The GPU side starts first: two kernels whose launches the CPU side did not record (correlations
            // 900 and 901 name no launch); the first has the name, grid and block of aten::mm's kernel below.
            t.kernel(GEMM_KERNEL, 50, 3, 900, -1, 7);
            t.raw("{\"ph\": \"X\", \"cat\": \"kernel\", \"name\": \"" + GEMM_KERNEL + "\", \"pid\": 0, \"tid\": 7,"
                + " \"ts\": 60, \"dur\": 2, \"args\": {\"stream\": 7, \"correlation\": 901, \"grid\": [4, 1, 1],"
                + " \"block\": [128, 1, 1]}}");
            launched(t, "aten::mm", 1, 100, "[[8, 16], [16, 32]]", "[\"float\", \"float\"]", null);
        });
        Imported t = load(f);
        assertEquals(2, t.ops().size());
        Operator inferred = t.op(0);
        assertEquals("aten::mm (inferred from kernel)", inferred.name(), "placed by its GPU start: first");
        assertGemm(inferred, "aten::mm (inferred from kernel)", 1, 8, 32, 16);
        assertEquals(3e-6, t.ops().get(0).measuredS(), 1e-15);
        assertEquals("aten::mm", t.op(1).name());
        Coverage c = t.coverage();
        assertEquals(7e-6, c.mappedMeasuredS(), 1e-15);
        assertEquals(2000L, c.unmapped().get("kernel gemm_kernel")[1], "another grid: not the same launch");
        assertTrue(c.notes().contains("1 operators (33.3% of the measured GPU time) were inferred from kernel names"
            + " and launch grids, named '... (inferred from kernel)': their kernels had no recorded op (1 launched"
            + " before the first recorded CPU op, 0 by a graph replay, 0 otherwise), and each takes the shape of the"
            + " op that launched the same kernel with the same grid and block, alone, elsewhere in the trace"),
            c.notes().toString());
        assertTrue(c.notes().contains("2 kernels (55.6% of the measured GPU time) were launched before the first"
            + " recorded CPU op (the profiler's GPU side started before its CPU side), so no op of theirs is in the"
            + " trace; 1 no op elsewhere launched alike stay unmapped under their kernel names"), c.notes().toString());
    }

    @Test
    void graphReplayKernelsTakeTheShapeOfAnEagerOpThatLaunchedThemAlike() throws IOException {
        Path f = write("replay.json", t -> {
            launched(t, "aten::mm", 1, 100, "[[8, 16], [16, 32]]", "[\"float\", \"float\"]", null);
            t.launch("cudaGraphLaunch", 200, 500, -1);
            t.kernel(GEMM_KERNEL, 300, 5, 500, -1, 7);
            t.kernel("void my_fused_kernel<float>(float*)", 310, 7, 500, -1, 7);
        });
        Imported t = load(f);
        assertEquals(List.of("aten::mm", "aten::mm (inferred from kernel)"),
            t.ops().stream().map(o -> o.op().name()).toList());
        assertGemm(t.op(1), "aten::mm (inferred from kernel)", 1, 8, 32, 16);
        Coverage c = t.coverage();
        assertEquals(List.of(1L, 7000L), List.of(c.unmapped().get("cudaGraphLaunch")[0],
            c.unmapped().get("cudaGraphLaunch")[1]), "the graph's other kernel stays unmapped");
        assertTrue(c.notes().get(0).contains("(1 of them inferred from kernel names, below)"), c.notes().get(0));
    }

    private static final String NVJET = "nvjet_sm90_tst_64x8_64x16_2x4_h_bz_bias_TNT"; // tile 64 x 8

    /**
     * Kernels the GPU ran before the profiler's first recorded CPU op, of a decode step of {@link
     * KernelNamesTest#hint} (8 tokens; QKV N 512, O N 256): with the hint they map from their names and grids like a
     * graph replay's; two GEMMs do not number a whole step, so each takes the role its grid x tile covers.
     */
    private Path earlyDecodeKernels() throws IOException {
        return write("early-decode.json", t -> {
            t.kernel("void vllm::fused_add_rms_norm_kernel<c10::BFloat16, 8>(c10::BFloat16*)", 10, 2, 900, -1, 7,
                "[8, 1, 1]");
            t.kernel(NVJET, 20, 5, 901, -1, 7, "[8, 1, 1]"); // 8 x 64 columns: N 512
            t.kernel("void vllm::rotary_embedding_kernel<c10::BFloat16, true>(long const*)", 30, 1, 902, -1, 7,
                "[8, 1, 1]");
            t.kernel("void vllm::paged_attention_v1_kernel<__nv_bfloat16, 64>(float*)", 40, 6, 903, -1, 7,
                "[4, 8, 1]");
            t.kernel(NVJET, 50, 3, 904, -1, 7, "[4, 1, 1]"); // 4 x 64 columns: N 256
            launched(t, "aten::mm", 1, 100, "[[8, 16], [16, 32]]", "[\"float\", \"float\"]", null);
        });
    }

    @Test
    void kernelsBeforeTheFirstRecordedOpMapFromTheirNamesAndGridsWithAModelHint() throws IOException {
        Path f = earlyDecodeKernels();
        Coverage without = load(f).coverage();
        assertEquals(4.0 / 21, without.measuredShare(), 1e-9, "only aten::mm's 4 of 21 us without a hint");

        List<ImportedOp> ops = new ArrayList<>();
        Coverage c = new KinetoImporter().read(f, ops::add, KernelNamesTest.hint());
        Imported t = new Imported(ops, c);
        assertEquals(List.of("norm (inferred from kernel name)", "qkv_proj (inferred from kernel name)",
            "rope (inferred from kernel name)", "attention (inferred from kernel name)",
            "o_proj (inferred from kernel name)", "aten::mm"), ops.stream().map(o -> o.op().name()).toList());
        assertEquals(1.0, c.measuredShare(), 1e-9);
        Operator qkv = t.op(1);
        assertGemm(qkv, "qkv_proj (inferred from kernel name)", 1, 8, 512, 256);
        assertEquals(Phase.DECODE, qkv.phase());
        assertEquals(5e-6, ops.get(1).measuredS(), 1e-15);
        // 2 x 8 x 512 x 256 FLOPs; bf16 reads x [8, 256] and W [256, 512], writes [8, 512]
        assertEquals(2.0 * 8 * 512 * 256, qkv.flops(), 0);
        assertEquals(2.0 * (8 * 256 + 256 * 512 + 8 * 512), qkv.minBytes(), 0);
        // after the attention, N 256 is the O projection (K = 4 heads x 64), not down (K = FFN 512)
        assertGemm(t.op(4), "o_proj (inferred from kernel name)", 1, 8, 256, 256);
        assertEquals(2.0 * 8 * 256 * 256, t.op(4).flops(), 0);
        // the fused residual add + RMSNorm over 8 x 256: reads x and the residual, writes both (2 + 2 bf16 each)
        assertEquals(OpKind.ADD_RMSNORM, t.op(0).kind());
        assertEquals(4.0 * 2 * 8 * 256, t.op(0).minBytes(), 0);
        assertTrue(c.notes().contains("5 operators (81.0% of the measured GPU time, 5 kernels) launched outside any"
            + " recorded op and any graph replay (5 kernels before the first recorded CPU op) were inferred from kernel"
            + " names and the model hint (two-layer, a decode step of 8 sequences over 100 cached tokens each,"
            + " DECODE), like graph replays, named '... (inferred from kernel name)': attention x1, norm x1, o_proj x1,"
            + " qkv_proj x1, rope x1; 2 GEMMs recorded a launch grid and give their tile in their name: grid x tile"
            + " covers each one's N (2 took their role from it, in runs whose GEMMs do not number the model's layers)"
            + " and bounds its M, the hint's token count"), c.notes().toString());
        assertTrue(c.notes().contains("5 kernels (81.0% of the measured GPU time) were launched before the first"
            + " recorded CPU op (the profiler's GPU side started before its CPU side), so no op of theirs is in the"
            + " trace: all inferred from kernel names"), c.notes().toString());
    }

    @Test
    void aKernelLaunchedByARuntimeCallOutsideAnyOpMapsFromItsGridWithAModelHint() throws IOException {
        Path f = write("bare-launch.json", t -> {
            launched(t, "aten::mm", 1, 100, "[[8, 16], [16, 32]]", "[\"float\", \"float\"]", null);
            t.launch("cudaLaunchKernel", 200, 950, -1); // no op encloses it
            t.kernel(NVJET, 210, 6, 950, -1, 7, "[16, 1, 1]"); // 16 x 64 columns: gate+up's N 2 x 512
        });
        assertEquals(6000L, load(f).coverage().unmapped().get("kernel " + NVJET)[1], "without a hint: unmapped");
        List<ImportedOp> ops = new ArrayList<>();
        Coverage c = new KinetoImporter().read(f, ops::add, KernelNamesTest.hint());
        assertGemm(ops.get(1).op(), "gate_up_proj (inferred from kernel name)", 1, 8, 1024, 256);
        assertEquals(2.0 * 8 * 1024 * 256, ops.get(1).op().flops(), 0);
        assertEquals(1.0, c.measuredShare(), 1e-9);
        assertTrue(c.notes().contains("1 kernels (60.0% of the measured GPU time) were launched by runtime calls"
            + " outside any recorded op (not by a graph replay): all inferred from kernel names"), c.notes().toString());
    }

    /**
     * The recorded fp8 fixture's graph replay: a bf16 Linear(512, 512) over x [64, 512] (its recording script,
     * src/test/resources/kineto/README.md) ran {@link #NVJET} with grid [8, 8, 1]. Named as a model whose O
     * projection is 512 x 512 (d 512, 8 heads of 64) over 64 sequences, its one GEMM fits no layer walk, and its
     * grid x tile (8 x 64 columns, 8 x 8 rows) gives it that role and M 64: the Linear's own shape.
     */
    @Test
    void aGraphReplaysGemmTakesItsShapeFromItsRecordedGrid() {
        Path fp8 = Path.of("src/test/resources/kineto/fp8-graph-h200.json.gz");
        dev.rafter.workload.TransformerSpec model = new dev.rafter.workload.TransformerSpec("d512", 1, 512, 8, 8,
            2048, dev.rafter.workload.TransformerSpec.FfnKind.GELU, dev.rafter.workload.TransformerSpec.NormKind
            .LAYERNORM, 1000, 1, 1, false, false, 4096, false);
        List<ImportedOp> ops = new ArrayList<>();
        Coverage c = new KinetoImporter().read(fp8, ops::add, new ModelHint(model, 64, 1, DataType.BF16));
        assertEquals(List.of("aten::_scaled_mm", "o_proj (inferred from kernel name)"),
            ops.stream().map(o -> o.op().name()).toList());
        assertGemm(ops.get(1).op(), "o_proj (inferred from kernel name)", 1, 64, 512, 512);
        assertEquals(2.912e-6, ops.get(1).measuredS(), 1e-15);
        // 3.072 + 2.912 of 7.328 us (before: 3.072, the eager _scaled_mm alone, 41.9%)
        assertEquals((3.072 + 2.912) / 7.328, c.measuredShare(), 1e-9);
        assertTrue(c.notes().stream().anyMatch(n -> n.endsWith("; 1 GEMMs recorded a launch grid and give their tile"
            + " in their name: grid x tile covers each one's N (1 took their role from it, in 1 graph replays whose"
            + " GEMMs do not number the model's layers) and bounds its M, the hint's token count")), c.notes()
            .toString());
    }

    @Test
    void aGemmKernelWhoseNameGivesAnEmptyTileIsOneLineNamingTheEvent() throws IOException {
        Path f = write("tile.json", t -> {
            launched(t, "aten::mm", 1, 100, "[[8, 16], [16, 32]]", "[\"float\", \"float\"]", null);
            t.kernel("Cijk_Alik_Bljk_BBS_BH_MT0x32x256_MI16x16x1_SN", 200, 3, 900, -1, 7);
        });
        assertEquals(f + ": traceEvents[3]: GEMM kernel Cijk_Alik_Bljk_BBS_BH_MT0x32x256_MI16x16x1_SN: the tile its"
            + " name gives, 0x32, computes nothing; expected tile sizes of at least 1", bad(f).getMessage());
    }

    @Test
    void aKernelThatOpsOfDifferentShapesLaunchedAlikeIsNotInferred() throws IOException {
        Path f = write("ambiguous.json", t -> {
            t.kernel(GEMM_KERNEL, 50, 3, 900, -1, 7);
            launched(t, "aten::mm", 1, 100, "[[8, 16], [16, 32]]", "[\"float\", \"float\"]", null);
            launched(t, "aten::mm", 2, 200, "[[8, 16], [16, 64]]", "[\"float\", \"float\"]", null);
        });
        Imported t = load(f);
        assertEquals(2, t.ops().size());
        assertEquals(3000L, t.coverage().unmapped().get("kernel gemm_kernel")[1]);
    }

    @Test
    void aReductionWithoutItsShapeOrAGraphReplayWithoutKernelsIsOneLineNamingTheEvent() throws IOException {
        Path reduction = write("mean.json", t -> t.op("aten::mean", 100, 10, 1, null, null, null));
        assertEquals(reduction + ": no op could be imported as an operator; the first, traceEvents[0] (aten::mean):"
            + " no 'Input Dims' (recorded without record_shapes=True); expected ops with 'Input Dims' and 'Input type'"
            + " as torch.profiler(record_shapes=True) records them", bad(reduction).getMessage());
        Path graph = write("graph-only.json", t -> t.launch("cudaGraphLaunch", 100, 500, -1));
        assertEquals(graph + ": no op could be imported as an operator; the first, traceEvents[0] (cudaGraphLaunch):"
            + " a graph replay without kernels (the profiler recorded the launch but none of the graph's kernels) and"
            + " no PyTorch ops ('cpu_op' events)", bad(graph).getMessage());
        // beside ops that map, it is a note naming the event
        Path mixed = write("graph-and-mm.json", t -> {
            launched(t, "aten::mm", 1, 100, "[[8, 16], [16, 32]]", "[\"float\", \"float\"]", null);
            t.launch("cudaGraphLaunch", 200, 500, -1);
        });
        assertTrue(load(mixed).coverage().notes().contains("1 CUDA/HIP graph launches ran no recorded kernel (first:"
            + " traceEvents[3] (cudaGraphLaunch)): the profiler recorded the launch but none of the graph's kernels"),
            load(mixed).coverage().notes().toString());
    }

    @Test
    void aTraceWithoutGpuActivityYieldsTheInnermostMappedOps() throws IOException {
        String f32 = "\"float\"";
        Path f = write("cpu.json", t -> {
            t.op("aten::linear", 100, 60, 1, "[[4, 1024], [3072, 1024], [3072]]", "[" + f32 + ", " + f32 + ", " + f32
                + "]", null);
            t.op("aten::t", 105, 5, 2, "[[3072, 1024]]", "[" + f32 + "]", null);
            t.op("aten::addmm", 115, 40, 3, "[[3072], [4, 1024], [1024, 3072], [], []]", "[" + f32 + ", " + f32 + ", "
                + f32 + ", \"Scalar\", \"Scalar\"]", null);
            t.op("aten::relu", 200, 10, 4, "[[4, 3072]]", "[" + f32 + "]", null);
        });
        Imported t = load(f);
        assertEquals(2, t.ops().size());
        assertGemm(t.op(0), "aten::addmm", 1, 4, 3072, 1024);
        assertTrue(Double.isNaN(t.ops().get(0).measuredS()));
        assertEquals(OpKind.UNARY, t.op(1).kind(), "relu reads one tensor");
        assertEquals(0, t.coverage().totalMeasuredS());
        assertTrue(t.coverage().notes().get(0).startsWith("the trace holds no GPU kernels"));
    }

    @Test
    void opsRecordedWithoutShapesAreUnmappedWithAHint() throws IOException {
        Path f = write("noshapes.json", t -> {
            launched(t, "aten::addmm", 1, 100, null, null, null);
            launched(t, "aten::mm", 2, 200, "[[8, 8], [8, 8]]", "[\"float\", \"float\"]", null);
        });
        Coverage c = load(f).coverage();
        assertEquals(1, c.mapped());
        assertEquals(1, c.unmapped().get("aten::addmm")[0]);
        assertTrue(c.notes().get(0).contains("record with torch.profiler(record_shapes=True)"), c.notes().get(0));
        // With no op that maps, the import is bad input naming the first op and why: not a CSV of no operators.
        Path none = write("none.json", t -> launched(t, "aten::addmm", 1, 100, null, null, null));
        assertEquals(none + ": no op could be imported as an operator; the first, traceEvents[0] (aten::addmm): no"
            + " 'Input Dims' (recorded without record_shapes=True); expected ops with 'Input Dims' and 'Input type' as"
            + " torch.profiler(record_shapes=True) records them", bad(none).getMessage());
    }

    @Test
    void timesAreReadToTheNanosecondFromTheirDigits() throws IOException {
        assertEquals(1_700_000_000_123_456_789L, ns("1700000000123456.789"));
        assertEquals(3137, ns("3.1365"), "rounded half up at the nanosecond");
        assertEquals(3136, ns("3.1364999"));
        assertEquals(-2500, ns("-2.5"));
        assertEquals(Long.MIN_VALUE, ns("1.5e3"), "other forms go through a double");
        // Epoch-based microseconds (older Kineto): a double's 53 bits keep only quarter microseconds there, so the
        // linear would start at .0 and end at .400 while the addmm inside it started at .25 and ended at .640: not
        // nested. The digits keep the addmm inside.
        String f32 = "\"float\"";
        Path f = write("epoch.json", t -> {
            t.raw("{\"ph\": \"X\", \"cat\": \"cpu_op\", \"name\": \"aten::linear\", \"pid\": 7, \"tid\": 7, \"ts\":"
                + " 1700000000000000.124, \"dur\": 0.400, \"args\": {\"External id\": 1}}");
            t.raw("{\"ph\": \"X\", \"cat\": \"cpu_op\", \"name\": \"aten::addmm\", \"pid\": 7, \"tid\": 7, \"ts\":"
                + " 1700000000000000.126, \"dur\": 0.390, \"args\": {\"External id\": 2, \"Input type\": [" + f32
                + ", " + f32 + ", " + f32 + "], \"Input Dims\": [[8], [4, 8], [8, 8]]}}");
            t.launch("cudaLaunchKernel", 1700000000000000.2, 9, 2);
            t.kernel("gemm", 1700000000000001.5, 2, 9, -1, 7);
        });
        Imported t = load(f);
        assertEquals(1, t.ops().size());
        assertGemm(t.op(0), "aten::addmm", 1, 4, 8, 8);
        assertTrue(t.coverage().notes().stream().anyMatch(n -> n.startsWith("1 enclosing ops (e.g. aten::linear)")),
            t.coverage().notes().toString());
    }

    private static long ns(String text) {
        return KinetoImporter.decimalNs(text.toCharArray(), 0, text.length());
    }

    // ------------------------------------------------------------------ bad input

    private static InputException bad(Path f) {
        InputException e = assertThrows(InputException.class, () -> load(f));
        assertTrue(e.getMessage().startsWith(f.toString() + ": "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        assertTrue(e.isLocated());
        return e;
    }

    @Test
    void truncatedGzipNamesTheFileAndEvent() throws IOException {
        byte[] gz = Files.readAllBytes(BERT);
        Path f = tmp.resolve("cut.json.gz");
        Files.write(f, java.util.Arrays.copyOf(gz, gz.length / 2));
        String m = bad(f).getMessage();
        assertTrue(m.contains("truncated") && m.contains("(in traceEvents["), m);
    }

    @Test
    void truncatedJsonNamesTheByteOffset() throws IOException {
        byte[] json;
        try (InputStream in = new GZIPInputStream(Files.newInputStream(BERT))) {
            json = in.readAllBytes();
        }
        Path f = tmp.resolve("cut.json");
        Files.write(f, java.util.Arrays.copyOf(json, 700_000));
        String m = bad(f).getMessage();
        assertTrue(m.matches(".*: truncated: the JSON ends at byte \\d+ \\(in traceEvents\\[\\d+\\]\\); the file is cut"
            + " short"), m);
    }

    @Test
    void aJsonFileThatIsNoTraceSaysWhatWasExpected() throws IOException {
        Path f = tmp.resolve("config.json");
        Files.writeString(f, "{\"model\": \"bert\", \"layers\": [1, 2, 3]}");
        assertSame(KinetoImporter.class, Importers.detect(f).getClass());
        assertEquals(f + ": not a PyTorch profiler trace: expected a JSON object with a 'traceEvents' list (Chrome"
            + " trace-event format, as torch.profiler writes it)", bad(f).getMessage());
        Path g = tmp.resolve("events.json");
        Files.writeString(g, "{\"traceEvents\": {\"ph\": \"X\"}}");
        assertEquals(g + ": 'traceEvents' must be a list of events, not an object", bad(g).getMessage());
        Path h = tmp.resolve("numbers.json");
        Files.writeString(h, "{\"traceEvents\": [1, 2]}");
        assertEquals(h + ": traceEvents[0]: expected an event object, found a number", bad(h).getMessage());
    }

    @Test
    void corruptJsonNamesTheByteOffsetAndEvent() throws IOException {
        Path f = tmp.resolve("corrupt.json");
        Files.writeString(f, "{\"traceEvents\": [\n{\"ph\": \"X\", \"cat\": \"cpu_op\", \"name\": \"aten::mm\", \"ts\":"
            + " 1, \"dur\": 2},\n{\"ph\": \"X\" \"cat\": \"kernel\"}]}");
        String m = bad(f).getMessage();
        assertTrue(m.startsWith(f + ": corrupt JSON at byte 98 (in traceEvents[1]): Unexpected character"), m);
    }

    @Test
    void corruptFieldsNameTheEvent() throws IOException {
        Path f = write("badts.json", t -> t.raw("{\"ph\": \"X\", \"cat\": \"kernel\", \"name\": \"k\", \"ts\": \"soon\","
            + " \"dur\": 3, \"args\": {}}"));
        assertEquals(f + ": traceEvents[0]: 'ts' must be a finite number (microseconds)", bad(f).getMessage());
        Path g = write("baddims.json", t -> t.op("aten::mm", 1, 2, 1, "[[4, \"x\"], [4, 4]]", null, null));
        assertEquals(g + ": traceEvents[0]: 'Input Dims' holds a non-integer size 'x'", bad(g).getMessage());
        Path h = write("baddur.json", t -> t.raw("{\"ph\": \"X\", \"cat\": \"cpu_op\", \"name\": \"aten::mm\", \"ts\":"
            + " 5, \"dur\": -3}"));
        assertEquals(h + ": traceEvents[0]: a 'cpu_op' event needs a non-negative numeric 'dur' (microseconds)",
            bad(h).getMessage());
    }

    @Test
    void corruptGzipIsBadInput() throws IOException {
        byte[] gz = Files.readAllBytes(BERT);
        for (int i = gz.length / 3; i < gz.length / 3 + 64; i++) {
            gz[i] ^= 0x5a;
        }
        Path f = tmp.resolve("flipped.json.gz");
        Files.write(f, gz);
        bad(f);
    }

    @Test
    void anUnknownDtypeOnAMappedOpIsBadInput() throws IOException {
        Path f = write("dtype.json", t -> {
            launched(t, "aten::mm", 1, 100, "[[8, 8], [8, 8]]", "[\"float\", \"float\"]", null);
            launched(t, "aten::addmm", 2, 200, "[[8], [8, 8], [8, 8], [], []]",
                "[\"c10::Float7\", \"c10::Float7\", \"c10::Float7\", \"Scalar\", \"Scalar\"]", null);
        });
        assertEquals(f + ": traceEvents[3]: aten::addmm: unknown dtype 'c10::Float7' in 'Input type' (argument 1)",
            bad(f).getMessage());
        // A known dtype Rafter does not model is no error: the op is unmapped and counted.
        Path g = write("double.json", t -> {
            launched(t, "aten::mm", 1, 100, "[[8, 8], [8, 8]]", "[\"double\", \"double\"]", null);
            launched(t, "aten::bmm", 2, 200, "[[2, 8, 8], [2, 8, 8]]", "[\"float\", \"float\"]", null);
        });
        Map<String, long[]> unmapped = load(g).coverage().unmapped();
        assertEquals(1, unmapped.get("aten::mm")[0]);
        Path alone = write("alone.json", t -> launched(t, "aten::mm", 1, 100, "[[8, 8], [8, 8]]",
            "[\"double\", \"double\"]", null));
        assertTrue(bad(alone).getMessage().contains("traceEvents[0] (aten::mm): a dtype Rafter does not model"
            + " (double)"), bad(alone).getMessage());
    }

    @Test
    void aChromeTraceWithoutPyTorchOpsIsBadInput() throws IOException {
        Path f = write("other.json", t -> t.raw("{\"ph\": \"X\", \"cat\": \"pe_array\", \"name\": \"gemm tile\","
            + " \"pid\": 1, \"tid\": 2, \"ts\": 0, \"dur\": 1.5}"));
        assertEquals(f + ": no PyTorch ops ('cpu_op' events) and no GPU kernels among its 1 events: not a PyTorch"
            + " profiler trace (a Chrome trace from another tool?)", bad(f).getMessage());
    }

    @Test
    void anEmptyTraceIsBadInput() throws IOException {
        Path f = tmp.resolve("empty.json");
        Files.writeString(f, "{\"schemaVersion\": 1, \"traceEvents\": []}");
        assertEquals(f + ": 'traceEvents' is empty: no ops or kernels to import", bad(f).getMessage());
    }
}

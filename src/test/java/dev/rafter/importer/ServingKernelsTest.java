package dev.rafter.importer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.importer.AtenOps.Family;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;
import java.io.IOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every entry of the serving-framework table (AtenOps' class comment) imported from a one-op Kineto trace: its
 * kind, FLOPs and minimum bytes against the formula AtenOps and OpKind document, worked out by hand below (bf16: 2
 * bytes, fp32: 4).
 */
class ServingKernelsTest {
    private static final String BF = "\"c10::BFloat16\"";
    private static final String LONG = "\"long int\"";

    @TempDir
    Path tmp;

    /** One op with one kernel, imported. */
    private Operator one(String name, String dims, String types, String concrete) throws IOException {
        Path f = tmp.resolve("t.json");
        try (Writer w = Files.newBufferedWriter(f)) {
            KinetoTraceWriter t = new KinetoTraceWriter(w, null);
            t.op(name, 100, 10, 1, dims, types, concrete);
            t.launch("cudaLaunchKernel", 105, 1001, 1);
            t.kernel("void k<float>(float*)", 120, 4, 1001, 1, 7);
            t.end();
        }
        List<ImportedOp> ops = KinetoImporterTest.load(f).ops();
        assertEquals(1, ops.size(), name + " maps");
        return ops.get(0).op();
    }

    private static String types(String... t) {
        return "[" + String.join(", ", t) + "]";
    }

    private static void assertWork(Operator op, OpKind kind, double flops, double bytes) {
        assertEquals(kind, op.kind(), op.name());
        assertEquals(flops, op.flops(), 0, op.name() + " FLOPs");
        assertEquals(bytes, op.minBytes(), 0, op.name() + " bytes");
    }

    @ParameterizedTest
    @CsvSource({"_C::silu_and_mul,SILU_AND_MUL,5", "sgl_kernel::silu_and_mul,SILU_AND_MUL,5",
        "_C::gelu_and_mul,GELU_AND_MUL,9", "_C::gelu_tanh_and_mul,GELU_AND_MUL,9"})
    void gatedActivationsReadBothHalvesAndWriteOne(String name, OpKind kind, int flopsPerElement)
        throws IOException {
        // out [4, 1024], input [4, 2048]: 4096 outputs, 2 reads + 1 write of 2 bytes each
        Operator op = one(name, "[[4, 1024], [4, 2048]]", types(BF, BF), null);
        assertWork(op, kind, flopsPerElement * 4096.0, 4096 * 3 * 2);
    }

    @ParameterizedTest
    @CsvSource({"_C::fused_add_rms_norm", "sgl_kernel::fused_add_rmsnorm", "aiter::add_rmsnorm",
        "_C::add_rms_norm", "aiter::rmsnorm2d_fwd_with_add", "sgl_kernel::gemma_fused_add_rmsnorm"})
    void fusedResidualAddRmsnormReadsAndWritesTwoTensors(String name) throws IOException {
        // input [4, 1024], residual [4, 1024], weight [1024]: 4 rows of 1024, 5 FLOPs, 2 reads + 2 writes
        Operator op = one(name, "[[4, 1024], [4, 1024], [1024], []]", types(BF, BF, BF, "\"Scalar\""), null);
        assertWork(op, OpKind.ADD_RMSNORM, 5 * 4096.0, 4096 * 4 * 2);
        assertEquals(List.of(4L, 1024L), List.of(op.m(), op.n()));
    }

    @ParameterizedTest
    @CsvSource({"_C::rotary_embedding,128,20480", "_C::rotary_embedding,64,10240",
        "_C::batched_rotary_embedding,128,20480", "sgl_kernel::apply_rope_with_cos_sin_cache_inplace,128,20480"})
    void ropeRotatesTheRotaryPartOfQueriesAndKeys(String name, long rotaryDim, long elements) throws IOException {
        // positions [4], query [4, 32 x 128], key [4, 8 x 128], head_size 128, cos_sin_cache [8192, R]:
        // (16384 + 4096) x R / 128 elements, 3 FLOPs each, read and written once
        Operator op = one(name, "[[4], [4, 4096], [4, 1024], [], [8192, " + rotaryDim + "], []]",
            types(LONG, BF, BF, "\"Scalar\"", BF, "\"Scalar\""), "[\"\", \"\", \"\", \"128\", \"\", \"True\"]");
        assertWork(op, OpKind.ROPE, 3.0 * elements, elements * 2 * 2);
    }

    @ParameterizedTest
    @CsvSource({"_C_cache_ops::reshape_and_cache,'[4, 8, 128], [4, 8, 128]',8192",
        "_C_cache_ops::reshape_and_cache_flash,'[4, 8, 128], [4, 8, 128]',8192",
        "_C_cache_ops::concat_and_cache_mla,'[4, 512], [4, 64]',2304"})
    void kvCacheWritesCopyTheNewTokensKeysAndValues(String name, String kv, long elements) throws IOException {
        Operator op = one(name, "[" + kv + ", [100, 16, 8, 128], [4], []]", types(BF, BF, BF, LONG, "\"String\""),
            null);
        assertWork(op, OpKind.KV_CACHE_WRITE, 0, elements * 2 * 2);
    }

    @ParameterizedTest
    @CsvSource({"_C::paged_attention_v1", "_C::paged_attention_v2", "_rocm_C::paged_attention"})
    void pagedDecodeAttentionReadsEveryBlockOfItsSequences(String name) throws IOException {
        // query [4 seqs, 32 heads, 128], key cache [100 blocks, 8 KV heads, 16, 16 per block, 8], block tables
        // [4, 32]: batch 4 x 8, m = 1 token x 4 heads per group, n = 32 x 16 = 512 keys, k = 128
        String dims = name.endsWith("v1")
            ? "[[4, 32, 128], [4, 32, 128], [100, 8, 16, 16, 8], [100, 8, 128, 16], [], [], [4, 32], [4], [], []]"
            : "[[4, 32, 128], [4, 32, 2], [4, 32, 2], [4, 32, 2, 128], [4, 32, 128], [100, 8, 16, 16, 8],"
                + " [100, 8, 128, 16], [], [], [4, 32], [4], [], []]";
        String types = name.endsWith("v1")
            ? types(BF, BF, BF, BF, "\"Scalar\"", "\"Scalar\"", "\"int\"", "\"int\"", "\"Scalar\"", "\"Scalar\"")
            : types(BF, "\"float\"", "\"float\"", BF, BF, BF, BF, "\"Scalar\"", "\"Scalar\"", "\"int\"", "\"int\"",
                "\"Scalar\"", "\"Scalar\"");
        Operator op = one(name, dims, types, null);
        assertEquals(List.of(32L, 4L, 512L, 128L), List.of(op.batch(), op.m(), op.n(), op.k()));
        // (4 k + 5) FLOPs per score over 32 x 4 x 512 scores; Q and the context 32 x 2 x 4 x 128, K and V
        // 32 x 2 x 512 x 128, 2 bytes each
        assertWork(op, OpKind.FLASH_ATTENTION, 517.0 * 32 * 2048, 32 * (2.0 * 2 * 4 * 128 + 2.0 * 2 * 512 * 128));
    }

    @Test
    void varlenFlashAttentionReadsItsCausalFlag() throws IOException {
        // q [512 tokens, 32, 128], k [512, 8, 128], cu_seqlens [5]: 4 sequences of 128, causal (argument 9):
        // 4 query heads per KV head x 128 x 129 / 2 scores per item, 32 items, 517 FLOPs each
        String dims = "[[512, 32, 128], [512, 8, 128], [512, 8, 128], [5], [5], [], [], [], [], []]";
        String types = types(BF, BF, BF, "\"int\"", "\"int\"", "\"Scalar\"", "\"Scalar\"", "\"Scalar\"",
            "\"Scalar\"", "\"Scalar\"");
        double bytes = 32 * (2.0 * 2 * 512 * 128 + 2.0 * 2 * 128 * 128);
        Operator causal = one("flash_attn::_flash_attn_varlen_forward", dims, types,
            "[\"\", \"\", \"\", \"\", \"\", \"128\", \"128\", \"0.0\", \"0.088\", \"True\"]");
        assertTrue(causal.causal());
        assertWork(causal, OpKind.FLASH_ATTENTION, 517.0 * 32 * 4 * 8256, bytes);
        Operator full = one("flash_attn::_flash_attn_varlen_forward", dims, types,
            "[\"\", \"\", \"\", \"\", \"\", \"128\", \"128\", \"0.0\", \"0.088\", \"False\"]");
        assertWork(full, OpKind.FLASH_ATTENTION, 517.0 * 32 * 4 * 128 * 128, bytes);
        // the same tensors batched, [4, 128, heads, 128], causal as argument 5 of _flash_attn_forward
        Operator batched = one("flash_attn::_flash_attn_forward",
            "[[4, 128, 32, 128], [4, 128, 8, 128], [4, 128, 8, 128], [], [], [], [], []]",
            types(BF, BF, BF, "\"Scalar\"", "\"Scalar\"", "\"Scalar\"", "\"Scalar\"", "\"Scalar\""),
            "[\"\", \"\", \"\", \"0.0\", \"0.088\", \"True\", \"-1\", \"-1\"]");
        assertWork(batched, OpKind.FLASH_ATTENTION, 517.0 * 32 * 4 * 8256, bytes);
        Operator mha = one("aiter::mha_varlen_fwd", dims, types, null);
        assertWork(mha, OpKind.FLASH_ATTENTION, 517.0 * 32 * 4 * 128 * 128, bytes);
        Operator func = one("flash_attn::flash_attn_varlen_func", dims, types,
            "[\"\", \"\", \"\", \"\", \"\", \"128\", \"128\", \"0.0\", \"0.088\", \"True\"]");
        assertWork(func, OpKind.FLASH_ATTENTION, 517.0 * 32 * 4 * 8256, bytes);
    }

    @Test
    void aDecodeTokensSlidingWindowSeesWindowPlusOneKeys() throws IOException {
        // one query token of 4 sequences over 4096 keys, window_size_left 1023: 1024 keys
        Operator op = one("flash_attn::_flash_attn_forward",
            "[[4, 1, 32, 128], [4, 4096, 8, 128], [4, 4096, 8, 128], [], [], [], [], []]",
            types(BF, BF, BF, "\"Scalar\"", "\"Scalar\"", "\"Scalar\"", "\"Scalar\"", "\"Scalar\""),
            "[\"\", \"\", \"\", \"0.0\", \"0.088\", \"True\", \"1023\", \"0\"]");
        assertEquals(1024, op.n());
    }

    @Test
    void scaledDotProductAttentionReadsIsCausal() throws IOException {
        // BERT's shapes ([1, 8, 141, 64]) with is_causal (argument 5) True: 141 x 142 / 2 scores per head
        Operator op = one("aten::scaled_dot_product_attention",
            "[[1, 8, 141, 64], [1, 8, 141, 64], [1, 8, 141, 64], [], [], [], [], []]",
            types(BF, BF, BF, "\"\"", "\"Scalar\"", "\"Scalar\"", "\"\"", "\"Scalar\""),
            "[\"\", \"\", \"\", \"\", \"0.\", \"True\", \"\", \"False\"]");
        assertWork(op, OpKind.FLASH_ATTENTION, 261.0 * 8 * 10011, 8 * (2.0 * 2 * 141 * 64 + 2.0 * 2 * 141 * 64));
    }

    @Test
    void aiterPagedPrefillTakesItsKvLengthFromThePageIndices() throws IOException {
        // q [512, 32, 128], k [2048 pages of 1, 8, 128], cu_seqlens_q [5], kv_indptr [5], kv_page_indices [1024]:
        // 4 sequences, 128 query and 256 KV tokens each, causal (argument 12): per item 4 x (128 x 128 + 8256)
        Operator op = one("aiter::mha_batch_prefill",
            "[[512, 32, 128], [2048, 8, 128], [2048, 8, 128], [5], [5], [1024], [], [], [], [], [], [], [], [], []]",
            types(BF, BF, BF, "\"int\"", "\"int\"", "\"int\"", "\"Scalar\"", "\"Scalar\"", "\"Scalar\"",
                "\"Scalar\"", "\"Scalar\"", "\"Scalar\"", "\"Scalar\"", "\"Scalar\"", "\"Scalar\""),
            "[\"\", \"\", \"\", \"\", \"\", \"\", \"128\", \"256\", \"0.0\", \"0.088\", \"0.0\", \"False\", \"True\","
                + " \"-1\", \"-1\"]");
        assertEquals(List.of(32L, 512L, 256L, 128L), List.of(op.batch(), op.m(), op.n(), op.k()));
        assertWork(op, OpKind.FLASH_ATTENTION, 517.0 * 32 * 4 * (128 * 128 + 8256),
            32 * (2.0 * 2 * 512 * 128 + 2.0 * 2 * 256 * 128));
    }

    @ParameterizedTest
    @CsvSource({"vllm::inplace_fused_experts", "vllm::outplace_fused_experts", "aiter::fused_moe",
        "sgl_kernel::fused_experts"})
    void fusedMoeRunsTheExpertsAUniformRouterTouches(String name) throws IOException {
        // hidden [4, 1024], w1 [8, 2048, 1024], w2 [8, 1024, 1024], top-2 weights [4, 2]: 8 (1 - 0.75^4) = 5.47,
        // so 5 experts of ceil(8 / 5) = 2 tokens; n = 3 x 1024, k = 1024
        Operator op = one(name, "[[4, 1024], [8, 2048, 1024], [8, 1024, 1024], [4, 2], [4, 2]]",
            types(BF, BF, BF, "\"float\"", "\"int\""), null);
        assertEquals(List.of(5L, 2L, 3072L, 1024L), List.of(op.batch(), op.m(), op.n(), op.k()));
        // 2 m n k per expert; each expert's w1 and w2 (3 x 1024 x 1024) read once, its tokens in and out
        assertWork(op, OpKind.GEMM, 2.0 * 5 * 2 * 3072 * 1024, 5 * (2.0 * (2 * 1024 + 2 * 3072) + 2.0 * 3072 * 1024));
    }

    @ParameterizedTest
    @CsvSource({"sgl_kernel::top_k_top_p_sampling_from_probs", "flashinfer::top_p_sampling_from_probs",
        "flashinfer::top_k_sampling_from_probs", "flashinfer::min_p_sampling_from_probs",
        "flashinfer::top_k_top_p_sampling_from_logits", "flashinfer::sampling_from_probs"})
    void samplingReadsTheVocabularyOnce(String name) throws IOException {
        // probabilities [4, 151936] fp32: 7 FLOPs and one 4-byte read per entry
        Operator op = one(name, "[[4, 151936], [4], []]", types("\"float\"", "\"int\"", "\"Scalar\""), null);
        assertWork(op, OpKind.SAMPLING, 7.0 * 4 * 151936, 4.0 * 4 * 151936);
    }

    @Test
    void theTableIsShared() {
        // the Kineto importer and the Chakra importer read one table (AtenOps.family)
        KinetoMapper kineto = new KinetoMapper();
        for (String name : List.of("_C::silu_and_mul", "_C::fused_add_rms_norm", "aiter::mha_batch_prefill",
            "_C::paged_attention_v1", "vllm::inplace_fused_experts", "_C_cache_ops::reshape_and_cache")) {
            assertEquals(AtenOps.family(name), kineto.family(name), name);
            assertTrue(AtenOps.family(name) != Family.NONE, name);
        }
        assertEquals(Family.RMSNORM_LAST, AtenOps.family("sgl_kernel::rmsnorm"));
        assertEquals(Family.NONE, AtenOps.family("silu_and_mul"), "no namespace: a Python function");
    }
}

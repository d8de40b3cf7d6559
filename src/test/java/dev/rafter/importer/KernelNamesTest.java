package dev.rafter.importer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.hw.DataType;
import dev.rafter.importer.KernelNames.Family;
import dev.rafter.importer.KernelNames.KernelShape;
import dev.rafter.workload.GemmKernel;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.TransformerSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The kernel-name table, on names as the fixture traces record them. */
class KernelNamesTest {
    // From src/test/resources/fixtures/kineto/sglang-qwen3-8b-decode.json.gz (SGLang on an MI300X) and
    // src/test/resources/kineto/fp8-graph-h200.json.gz (cuBLAS on an H200), shortened after the template arguments.
    private static final String TENSILE = "Cijk_Alik_Bljk_BBS_BH_Bias_HA_S_SAV_UserArgs_MT64x32x256_MI16x16x1_SN_LDSB1";
    private static final String NVJET = "nvjet_sm90_tst_64x8_64x16_2x4_h_bz_bias_TNT";
    private static final String PAGED = "void paged_attention_ll4mi_QKV_mfma16_kernel<0, __hip_bfloat16>";
    private static final String REDUCE = "void paged_attention_ll4mi_reduce_kernel<__hip_bfloat16, __hip_bfloat16>";
    private static final String NORM = "_ZN5aiter24add_rmsnorm_quant_kernelIDF16bDF16bLi256ELi16ELb1ELb0ELb1ELi1EEEv";
    private static final String ACT = "_ZN7sgl_hip10activation18act_and_mul_kernelI14__hip_bfloat16TnPFT_RKS3_EXadL_Z4siluIS2_E";
    private static final String ROPE = "void rotary_embedding_kernel<c10::BFloat16, true>(long const*)";
    private static final String KV = "void (anonymous namespace)::store_kvcache<2048l, 4, false, long>(Params)";
    // cuBLAS 12's Hopper GEMMs, as the issue quotes them.
    private static final String XMMA = "sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize128x128x64_warpgroupsize1x1x1";
    private static final String COPY = "void at::native::elementwise_kernel_manual_unroll<128, 8>(int)";

    @Test
    void familiesByName() {
        assertEquals(Family.GEMM, KernelNames.family(TENSILE));
        assertEquals(Family.GEMM, KernelNames.family(NVJET));
        assertEquals(Family.GEMM, KernelNames.family("sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize128x128x64"));
        assertEquals(Family.DECODE_ATTENTION, KernelNames.family(PAGED));
        assertEquals(Family.ATTENTION_REDUCE, KernelNames.family(REDUCE));
        assertEquals(Family.NORM, KernelNames.family(NORM));
        assertEquals(Family.NORM, KernelNames.family("void vllm::fused_add_rms_norm_kernel<c10::BFloat16, 8>"));
        assertEquals(Family.GATED_ACTIVATION, KernelNames.family(ACT));
        assertEquals(Family.ROPE, KernelNames.family(ROPE));
        assertEquals(Family.KV_CACHE_WRITE, KernelNames.family(KV));
        assertEquals(Family.KV_CACHE_WRITE, KernelNames.family("void vllm::reshape_and_cache_flash_kernel<bf16>"));
        assertEquals(Family.OTHER, KernelNames.family(COPY));
    }

    @Test
    void gemmTilesFromNamesAndImpossibleLaunches() {
        assertArrayEquals(new long[] {64, 32}, KernelNames.gemmTile(TENSILE));
        assertArrayEquals(new long[] {64, 8}, KernelNames.gemmTile(NVJET));
        assertArrayEquals(new long[] {128, 128}, KernelNames.gemmTile(XMMA));
        // CUTLASS's library names its kernels ..._<threadblock M>x<N>_<K>x<stages>_<layout>_align<n>
        // (python/cutlass_library/gemm_operation.py, procedural_name), as PyTorch traces show them inside Kernel2<>.
        assertArrayEquals(new long[] {128, 256}, KernelNames.gemmTile(
            "void cutlass::Kernel2<cutlass_80_tensorop_bf16_s16816gemm_relu_bf16_128x256_64x3_tn_align8>(Params)"));
        assertArrayEquals(new long[] {128, 256}, KernelNames.gemmTile(
            "cutlass3x_sm90_tensorop_gemm_bf16_bf16_f32_bf16_bf16_128x256x64_1x2x1_0_tnn_align8_warpspecialized"));
        assertNull(KernelNames.gemmTile(PAGED));
        assertArrayEquals(new long[] {0, 32}, KernelNames.gemmTile("Cijk_Alik_Bljk_BBS_BH_MT0x32x256_MI16x16x1_SN"));
        assertFalse(KernelNames.impossibleLaunch(""));
        assertFalse(KernelNames.impossibleLaunch("[4, 1, 1][512, 1, 1]"));
        assertTrue(KernelNames.impossibleLaunch("[0, 1, 1][512, 1, 1]"));
        assertTrue(KernelNames.impossibleLaunch("[4, 1, 1][-1, 1, 1]"));
        assertTrue(KernelNames.impossibleLaunch("[4.5, 1, 1][512, 1, 1]"));
    }

    /** A 2-layer model of Qwen3's layout: d 256, 4 heads of 64, 2 KV heads, SwiGLU 512, vocab 1000. */
    static ModelHint hint() {
        TransformerSpec m = new TransformerSpec("two-layer", 2, 256, 4, 2, 512, TransformerSpec.FfnKind.SWIGLU,
            TransformerSpec.NormKind.RMSNORM, 1000, 1, 1, false, false, 4096, false);
        return new ModelHint(m, 8, 100, DataType.BF16);
    }

    /** One layer as the SGLang fixture's graph runs it: norm, QKV, q/k norms, rope, KV write, attention, O, ... */
    private static List<KernelNames.Launch> layer() {
        return launches(layerNames());
    }

    private static List<KernelNames.Launch> launches(List<String> names) {
        return names.stream().map(KernelNames.Launch::ungridded).toList();
    }

    private static List<String> layerNames() {
        return List.of(NORM, TENSILE, COPY, NORM, NORM, ROPE, KV, PAGED, REDUCE, TENSILE, NORM, TENSILE, ACT, TENSILE);
    }

    @Test
    void aDecodeStepTakesItsShapesFromTheModelByPlaceInTheLayer() {
        List<KernelNames.Launch> step = new java.util.ArrayList<>(layer());
        step.addAll(layer());
        step.add(KernelNames.Launch.ungridded(NORM));
        step.add(KernelNames.Launch.ungridded(TENSILE)); // the output head
        KernelNames.StepShapes s = KernelNames.decodeStep(step, hint());
        assertNull(s.problem());
        KernelShape[] k = s.shapes();
        // 8 sequences, one token each: QKV n = (4 + 2 x 2) heads x 64 = 512, K = d 256
        assertGemm(k[1], "qkv_proj", 8, 512, 256);
        assertNull(k[2], "a copy: the name and the model do not give its size");
        assertRows(k[3], "q_norm", OpKind.RMSNORM, 8 * 4, 64);
        assertRows(k[4], "k_norm", OpKind.RMSNORM, 8 * 2, 64);
        assertEquals(OpKind.ROPE, k[5].kind());
        assertEquals(8L * (4 + 2) * 64, k[5].elements());
        assertEquals(OpKind.KV_CACHE_WRITE, k[6].kind());
        assertEquals(8L * 2 * 2 * 64, k[6].elements());
        // decode attention: 8 sequences x 2 KV heads, a group of 2 query heads, 100 cached keys, head 64
        assertEquals(OpKind.FLASH_ATTENTION, k[7].kind());
        assertEquals(List.of(16L, 2L, 100L, 64L, 1L), List.of(k[7].batch(), k[7].m(), k[7].n(), k[7].k(),
            k[7].elements()));
        assertTrue(k[8].foldIntoPrevious());
        assertGemm(k[9], "o_proj", 8, 256, 256);
        assertRows(k[10], "norm", OpKind.ADD_RMSNORM, 8, 256);
        assertGemm(k[11], "gate_up_proj", 8, 1024, 256);
        assertEquals(OpKind.SILU_AND_MUL, k[12].kind());
        assertEquals(8L * 512, k[12].elements());
        assertGemm(k[13], "down_proj", 8, 256, 512);
        assertGemm(k[15], "qkv_proj", 8, 512, 256);
        assertGemm(k[29], "lm_head", 8, 1000, 256);
    }

    @Test
    void gemmsThatDoNotFitTheModelsLayersInferNothing() {
        List<KernelNames.Launch> step = new java.util.ArrayList<>(layer());
        step.addAll(layer());
        step.add(KernelNames.Launch.ungridded(TENSILE));
        step.add(KernelNames.Launch.ungridded(TENSILE)); // 10 GEMMs: not 2 layers of 4 or 7, +1
        KernelNames.StepShapes s = KernelNames.decodeStep(step, hint());
        assertEquals("10 GEMM kernels do not fit 2 layers of 4 or 7 GEMMs (+1 for the output head) of the model"
            + " hint", s.problem());
        for (KernelShape k : s.shapes()) {
            assertNull(k);
        }
    }

    @Test
    void gridTimesTileCoversNAndBoundsM() {
        long[] nvjet = KernelNames.gemmTile(NVJET); // 64 x 8
        // The fp8 fixture's graph replay: Linear(512, 512) over 64 tokens ran NVJET with grid [8, 8, 1] (the
        // recording script in src/test/resources/kineto/README.md): 8 x 64 covers N 512, 8 x 8 rows hold M 64.
        assertArrayEquals(new long[] {64, 1}, KernelNames.gridFit(nvjet, 8, 8, 512, 64));
        assertArrayEquals(new long[] {64, 0}, KernelNames.gridFit(nvjet, 8, 8, 512, 8),
            "8 tokens lie outside (56, 64]: M is the grid's bound");
        assertNull(KernelNames.gridFit(nvjet, 8, 8, 1024, 64), "16 or 128 tiles along N, not 8");
        assertArrayEquals(new long[] {64, 1}, KernelNames.gridFit(nvjet, 1, 64, 512, 64),
            "the other orientation: 64 tiles of 8 along N on grid.y, 1 of 64 rows on grid.x");
    }

    /** {@link #layerNames} with NVJET GEMMs (tile 64 x 8) launched over 8 tokens: grid x = ceil(N / 64). */
    private static List<KernelNames.Launch> griddedLayer(long qkvGridX) {
        List<KernelNames.Launch> out = new java.util.ArrayList<>();
        long[] gridX = {qkvGridX, 4, 16, 4}; // QKV 512, O 256, gate+up 1024, down 256
        int gemm = 0;
        for (String n : layerNames()) {
            out.add(n.equals(TENSILE) ? new KernelNames.Launch(NVJET, gridX[gemm++], 1)
                : KernelNames.Launch.ungridded(n));
        }
        return out;
    }

    @Test
    void aDecodeStepsGridsMustCoverTheirRolesN() {
        List<KernelNames.Launch> step = new java.util.ArrayList<>(griddedLayer(8));
        step.addAll(griddedLayer(8));
        KernelNames.StepShapes s = KernelNames.decodeStep(step, hint());
        assertNull(s.problem());
        assertGemm(s.shapes()[1], "qkv_proj", 8, 512, 256);
        assertTrue(s.shapes()[1].gridChecked());
        assertFalse(s.shapes()[1].roleFromGrid());
        assertFalse(s.shapes()[1].mFromGrid(), "8 tokens lie in the grid's (0, 8] rows");
        assertGemm(s.shapes()[13], "down_proj", 8, 256, 512);

        step = new java.util.ArrayList<>(griddedLayer(4)); // a QKV launch that covers 256 columns, not 512
        step.addAll(griddedLayer(8));
        s = KernelNames.decodeStep(step, hint());
        assertEquals("GEMM kernel 1 of 8 (qkv_proj by its place, N 512): its launch grid [4, 1] x tile 64x8 does not"
            + " cover N", s.problem());
    }

    @Test
    void aPartOfAStepTakesEachGemmsRoleFromItsGrid() {
        // From the activation of one layer to the gate+up projection of the next, launched over 8 tokens except the
        // last GEMM (2 x 8 rows: 16 tokens' worth).
        List<KernelNames.Launch> part = List.of(KernelNames.Launch.ungridded(ACT), new KernelNames.Launch(NVJET, 4, 1),
            KernelNames.Launch.ungridded(NORM), new KernelNames.Launch(NVJET, 8, 1), KernelNames.Launch.ungridded(NORM),
            KernelNames.Launch.ungridded(NORM), KernelNames.Launch.ungridded(ROPE), KernelNames.Launch.ungridded(KV),
            KernelNames.Launch.ungridded(PAGED), KernelNames.Launch.ungridded(REDUCE),
            new KernelNames.Launch(NVJET, 4, 1), KernelNames.Launch.ungridded(NORM), new KernelNames.Launch(NVJET, 16,
            2));
        assertEquals("4 GEMM kernels do not fit 2 layers of 4 or 7 GEMMs (+1 for the output head) of the model hint",
            KernelNames.decodeStep(part, hint()).problem());
        KernelShape[] k = KernelNames.byGrid(part, hint());
        assertEquals(OpKind.SILU_AND_MUL, k[0].kind());
        // N 256 is O's and down's: after the activation, down (K = FFN 512)
        assertGemm(k[1], "down_proj", 8, 256, 512);
        assertTrue(k[1].roleFromGrid());
        assertRows(k[2], "norm", OpKind.ADD_RMSNORM, 8, 256);
        assertGemm(k[3], "qkv_proj", 8, 512, 256);
        assertRows(k[4], "q_norm", OpKind.RMSNORM, 8 * 4, 64);
        assertRows(k[5], "k_norm", OpKind.RMSNORM, 8 * 2, 64);
        assertEquals(OpKind.FLASH_ATTENTION, k[8].kind());
        assertTrue(k[9].foldIntoPrevious());
        // N 256 after the attention: O (K = 4 heads x 64)
        assertGemm(k[10], "o_proj", 8, 256, 256);
        assertGemm(k[12], "gate_up_proj", 16, 1024, 256);
        assertTrue(k[12].mFromGrid(), "8 tokens lie outside the grid's (8, 16] rows: M is its bound");
        assertFalse(k[10].mFromGrid());

        assertNull(KernelNames.byGrid(launches(List.of(ACT, TENSILE, NORM)), hint()),
            "no grid: no GEMM placed, so nothing is inferred");
    }

    private static void assertGemm(KernelShape k, String role, long m, long n, long kk) {
        assertEquals(role, k.role());
        assertEquals(OpKind.GEMM, k.kind());
        assertEquals(List.of(1L, m, n, kk), List.of(k.batch(), k.m(), k.n(), k.k()), role);
    }

    private static void assertRows(KernelShape k, String role, OpKind kind, long rows, long length) {
        assertEquals(role, k.role());
        assertEquals(kind, k.kind(), role);
        assertEquals(List.of(rows, length), List.of(k.m(), k.n()), role);
    }

    // The four GEMM kernels of traces/kineto/bert-small-uncased-h100.json.gz, as recorded (cuBLAS on an H100).
    private static final String BERT_XMMA = "sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize64x64x64_"
        + "warpgroupsize1x1x1_execute_segment_k_off_kernel__5x_cublas";
    private static final String BERT_SM80 = "void cutlass::Kernel2<cutlass_80_tensorop_bf16_s16816gemm_relu_bf16_"
        + "64x64_64x6_tn_align8>(cutlass_80_tensorop_bf16_s16816gemm_relu_bf16_64x64_64x6_tn_align8::Params)";
    private static final String BERT_WMMA = "void cutlass::Kernel2<cutlass_80_wmma_tensorop_bf16_s161616gemm_bf16_"
        + "32x32_128x2_tn_align8>(cutlass_80_wmma_tensorop_bf16_s161616gemm_bf16_32x32_128x2_tn_align8::Params)";
    private static final String BERT_HEAD = "void cutlass::Kernel2<cutlass_80_tensorop_bf16_s16816gemm_bf16_256x128_"
        + "64x3_tn_align2>(cutlass_80_tensorop_bf16_s16816gemm_bf16_256x128_64x3_tn_align2::Params)";

    @Test
    void gemmKernelsFromTheirNames() {
        // The names' own tiles (kernel M x N x K), turned to the operator's terms (N x M x K), and their paths.
        assertEquals(new GemmKernel(BERT_XMMA, 64, 64, 64,
            GemmKernel.Path.WARPGROUP_MMA), GemmKernel.fromName(BERT_XMMA));
        assertEquals(new GemmKernel("cutlass_80_tensorop_bf16_s16816gemm_relu_bf16_64x64_64x6_tn"
            + "_align8", 64, 64, 64, GemmKernel.Path.WARP_MMA, 6),
            GemmKernel.fromName(BERT_SM80));
        assertEquals(new GemmKernel("cutlass_80_wmma_tensorop_bf16_s161616gemm_bf16_32x32_128x2"
            + "_tn_align8", 32, 32, 128, GemmKernel.Path.WARP_MMA, 2),
            GemmKernel.fromName(BERT_WMMA));
        // 256 along the kernel's M (PyTorch's N: the 30522-word vocabulary), 128 along the 141 tokens.
        GemmKernel head = GemmKernel.fromName(BERT_HEAD);
        assertEquals(128, head.tileM());
        assertEquals(256, head.tileN());
        assertEquals(64, head.tileK());
        // CUTLASS 2 names give the main loop's stages after the depth (_64x3_); cuBLAS's own names do not (0).
        assertEquals(3, head.stages());
        assertEquals(0, GemmKernel.fromName(BERT_XMMA).stages());
        // Names without all of tile, depth and architecture, or that split K by an unnamed factor: none.
        assertNull(GemmKernel.fromName(NVJET));
        assertNull(GemmKernel.fromName(TENSILE));
        assertNull(GemmKernel.fromName(BERT_XMMA.replace("segment_k_off", "segment_k_on")));
        assertNull(GemmKernel.fromName("cutlass_80_tensorop_bf16_s16816gemm_bf16_0x128_64x3_tn_align8"));
        assertNull(GemmKernel.fromName(
            "cutlass_80_tensorop_bf16_s16816gemm_bf16_99999999999x128_64x3_tn_align8"));
    }
}

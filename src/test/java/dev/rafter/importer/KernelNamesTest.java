package dev.rafter.importer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.hw.DataType;
import dev.rafter.importer.KernelNames.Family;
import dev.rafter.importer.KernelNames.KernelShape;
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
    void tensileTileAndImpossibleLaunches() {
        assertArrayEquals(new int[] {64, 32, 256}, KernelNames.tensileTile(TENSILE));
        assertNull(KernelNames.tensileTile(NVJET));
        assertFalse(KernelNames.impossibleLaunch(""));
        assertFalse(KernelNames.impossibleLaunch("[4, 1, 1][512, 1, 1]"));
        assertTrue(KernelNames.impossibleLaunch("[0, 1, 1][512, 1, 1]"));
        assertTrue(KernelNames.impossibleLaunch("[4, 1, 1][-1, 1, 1]"));
        assertTrue(KernelNames.impossibleLaunch("[4.5, 1, 1][512, 1, 1]"));
    }

    /** A 2-layer model of Qwen3's layout: d 256, 4 heads of 64, 2 KV heads, SwiGLU 512, vocab 1000. */
    private static ModelHint hint() {
        TransformerSpec m = new TransformerSpec("two-layer", 2, 256, 4, 2, 512, TransformerSpec.FfnKind.SWIGLU,
            TransformerSpec.NormKind.RMSNORM, 1000, 1, 1, false, false, 4096, false);
        return new ModelHint(m, 8, 100, DataType.BF16);
    }

    /** One layer as the SGLang fixture's graph runs it: norm, QKV, q/k norms, rope, KV write, attention, O, ... */
    private static List<String> layer() {
        return List.of(NORM, TENSILE, COPY, NORM, NORM, ROPE, KV, PAGED, REDUCE, TENSILE, NORM, TENSILE, ACT, TENSILE);
    }

    @Test
    void aDecodeStepTakesItsShapesFromTheModelByPlaceInTheLayer() {
        List<String> step = new java.util.ArrayList<>(layer());
        step.addAll(layer());
        step.add(NORM);
        step.add(TENSILE); // the output head
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
        List<String> step = new java.util.ArrayList<>(layer());
        step.addAll(layer());
        step.add(TENSILE);
        step.add(TENSILE); // 10 GEMMs: not 2 layers of 4 or 7, +1
        KernelNames.StepShapes s = KernelNames.decodeStep(step, hint());
        assertEquals("10 GEMM kernels do not fit 2 layers of 4 or 7 GEMMs (+1 for the output head) of the model"
            + " hint", s.problem());
        for (KernelShape k : s.shapes()) {
            assertNull(k);
        }
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
}

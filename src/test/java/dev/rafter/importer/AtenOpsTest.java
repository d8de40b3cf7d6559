package dev.rafter.importer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.rafter.importer.AtenOps.Family;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The one ATen table, as the Kineto and Chakra importers read it. */
class AtenOpsTest {
    private static Operator chakra(String name, String shapes, String types, String values, String outShapes) {
        return ChakraOps.map(name, new ChakraOps.Io(shapes, types, values, outShapes), new String[1]);
    }

    @Test
    void bothImportersReadAnOpNameAsTheSameFamily() {
        KinetoMapper kineto = new KinetoMapper();
        for (String name : List.of("aten::mm", "aten::_int_mm", "aten::addmm", "aten::baddbmm", "aten::linear",
            "aten::_flash_attention_forward", "aten::_safe_softmax", "aten::rms_norm", "aten::threshold_backward")) {
            assertEquals(AtenOps.of(name), kineto.family(name), name);
        }
        assertEquals(Family.NONE, AtenOps.of("mm"), "an op outside the aten namespace");
        // Kineto records no output shape, so its importer leaves convolutions unmapped.
        assertEquals(Family.CONVOLUTION, AtenOps.of("aten::conv2d"));
        assertEquals(Family.NONE, kineto.family("aten::conv2d"));
    }

    @Test
    void chakraReadsTheNamesKinetoAddedToAGemmFamily() {
        // _int_mm (int8, [m,k] x [k,n]) and addmv (bias, [m,k], [k]): in the table once, for both importers
        Operator intMm = chakra("aten::_int_mm", "[[32, 64], [64, 128]]",
            "['Tensor(signed char)', 'Tensor(signed char)']", "['<Tensor>', '<Tensor>']", "[[32, 128]]");
        assertEquals(List.of(1L, 32L, 128L, 64L), List.of(intMm.batch(), intMm.m(), intMm.n(), intMm.k()));
        Operator addmv = chakra("aten::addmv", "[[16], [16, 8], [8]]",
            "['Tensor(float)', 'Tensor(float)', 'Tensor(float)']", "['', '', '']", "[[16]]");
        assertEquals(List.of(1L, 16L, 1L, 8L), List.of(addmv.batch(), addmv.m(), addmv.n(), addmv.k()));
    }

    @Test
    void chakraReadsFlashAttentionSequenceFirst() {
        // _flash_attention_forward(query [B, L, H, E], key [B, S, Hkv, E], ...): 2 sequences, 128 query tokens,
        // 32 query heads over 8 KV heads, 256 KV tokens, d 64 -> batch 2 x 8, m 128 x 4, n 256, k 64
        Operator a = chakra("aten::_flash_attention_forward", "[[2, 128, 32, 64], [2, 256, 8, 64], [2, 256, 8, 64]]",
            "['Tensor(c10::BFloat16)', 'Tensor(c10::BFloat16)', 'Tensor(c10::BFloat16)']", "['', '', '']",
            "[[2, 128, 32, 64]]");
        assertEquals(OpKind.FLASH_ATTENTION, a.kind());
        assertEquals(List.of(16L, 512L, 256L, 64L), List.of(a.batch(), a.m(), a.n(), a.k()));
        // the same tensors as scaled_dot_product_attention would lay them out, [B, H, L, E]
        Operator sdpa = chakra("aten::scaled_dot_product_attention",
            "[[2, 32, 128, 64], [2, 8, 256, 64], [2, 8, 256, 64]]",
            "['Tensor(c10::BFloat16)', 'Tensor(c10::BFloat16)', 'Tensor(c10::BFloat16)']", "['', '', '']",
            "[[2, 32, 128, 64]]");
        assertEquals(List.of(16L, 512L, 256L, 64L), List.of(sdpa.batch(), sdpa.m(), sdpa.n(), sdpa.k()));
    }

    @Test
    void chakraLeavesFamiliesItDoesNotMapUnmapped() {
        assertNull(chakra("aten::copy_", "[[8, 8], [8, 8]]", "['Tensor(float)', 'Tensor(float)']", "['', '']",
            "[[8, 8]]"));
        assertNull(chakra("aten::relu_", "[[8, 8]]", "['Tensor(float)']", "['']", "[[8, 8]]"));
    }

    @Test
    void chakraReadsTheServingTableToo() {
        // vLLM's silu_and_mul(out [4, 1024], input [4, 2048]): 4 rows of 1024 outputs, 2 reads + 1 write each
        Operator silu = chakra("_C::silu_and_mul", "[[4, 1024], [4, 2048]]",
            "['Tensor(c10::BFloat16)', 'Tensor(c10::BFloat16)']", "['', '']", "[]");
        assertEquals(OpKind.SILU_AND_MUL, silu.kind());
        assertEquals(List.of(4L, 1024L), List.of(silu.m(), silu.n()));
        assertEquals(4096 * 3 * 2, silu.minBytes(), 0);
        Operator norm = chakra("_C::fused_add_rms_norm", "[[4, 1024], [4, 1024], [1024], []]",
            "['Tensor(c10::BFloat16)', 'Tensor(c10::BFloat16)', 'Tensor(c10::BFloat16)', 'Double']",
            "['', '', '', '1e-06']", "[]");
        assertEquals(OpKind.ADD_RMSNORM, norm.kind());
        assertEquals(List.of(4L, 1024L), List.of(norm.m(), norm.n()));
        Operator kv = chakra("_C_cache_ops::reshape_and_cache", "[[4, 8, 128], [4, 8, 128], [9, 8, 16, 16, 8], [4]]",
            "['Tensor(c10::BFloat16)', 'Tensor(c10::BFloat16)', 'Tensor(c10::BFloat16)', 'Tensor(long int)']",
            "['', '', '', '']", "[]");
        assertEquals(OpKind.KV_CACHE_WRITE, kv.kind());
        assertEquals(8192, kv.elements());
    }
}

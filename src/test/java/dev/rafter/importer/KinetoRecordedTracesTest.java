package dev.rafter.importer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.hw.DataType;
import dev.rafter.importer.KinetoImporterTest.Imported;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;
import dev.rafter.workload.Phase;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Traces recorded on an H200 with PyTorch 2.11 for these tests (src/test/resources/kineto/README.md: models, script):
 * a newer profiler than the fixtures', other models and dtypes, cuDNN attention, CUDA graphs, fp8 and NCCL.
 */
class KinetoRecordedTracesTest {
    private static final Path DIR = Path.of("src/test/resources/kineto");

    private static List<Operator> ofKind(Imported t, OpKind kind) {
        List<Operator> out = new ArrayList<>();
        for (ImportedOp o : t.ops()) {
            if (o.op().kind() == kind) {
                out.add(o.op());
            }
        }
        return out;
    }

    private static List<Long> shape(Operator op) {
        return List.of(op.batch(), op.m(), op.n(), op.k());
    }

    @Test
    void llamaPrefillAndDecodeWithGroupedQueryAttention() {
        Imported t = KinetoImporterTest.load(DIR.resolve("llama-gqa-bf16-h200.json.gz"));
        Coverage c = t.coverage();
        assertEquals(404, c.mapped());
        assertTrue(c.measuredShare() > 0.99, "share " + c.measuredShare());
        // Only int64 bookkeeping is left: position ids (arange) and cache positions (add).
        assertEquals(List.of("aten::arange", "aten::add"), List.copyOf(c.unmapped().keySet()));
        assertEquals(4, c.unmapped().get("aten::add")[0]);

        // 2 layers x (prefill + 3 decode steps); q [2, 16, S, 64] over k [2, 4, L, 64]: 2 sequences x 4 KV heads,
        // 4 query heads per KV head.
        List<Operator> attention = ofKind(t, OpKind.FLASH_ATTENTION);
        assertEquals(8, attention.size());
        assertEquals(List.of(8L, 1024L, 256L, 64L), shape(attention.get(0)), "prefill: 256 tokens x 4 heads");
        assertEquals(Phase.PREFILL, attention.get(0).phase());
        assertEquals(List.of(8L, 4L, 257L, 64L), shape(attention.get(2)), "first decode step: 257 keys");
        assertEquals(List.of(8L, 4L, 259L, 64L), shape(attention.get(7)), "third decode step, second layer");
        assertEquals(Phase.DECODE, attention.get(7).phase());
        for (Operator a : attention) {
            assertEquals("aten::_cudnn_attention_forward", a.name());
            assertEquals(DataType.BF16, a.dataType());
        }

        // linear [2, 256, 1024] x [1024, 1024] -> matmul -> mm [512, 1024] x [1024, 1024]: one GEMM, the mm's.
        List<Operator> gemms = ofKind(t, OpKind.GEMM);
        assertEquals(60 + 4, gemms.size(), "60 mm (7 per layer x 2 x 4 passes + 4 LM heads) and 4 rotary bmm");
        Operator q = gemms.get(1);
        assertEquals("aten::mm", q.name());
        assertEquals(List.of(1L, 512L, 1024L, 1024L), shape(q));
        assertEquals(List.of(1L, 512L, 256L, 1024L), shape(gemms.get(2)), "k_proj: 4 KV heads x 64");
        assertEquals(List.of(1L, 512L, 2816L, 1024L), shape(gemms.get(5)), "gate_proj");
        assertEquals(List.of(1L, 512L, 1024L, 2816L), shape(gemms.get(7)), "down_proj");
        long decode = t.ops().stream().filter(o -> o.op().phase() == Phase.DECODE).count();
        assertEquals(303, decode);
        assertTrue(c.notes().contains("36 ops on tensor lists (aten::cat, aten::stack) have no dtype in the trace:"
            + " given its most common one, bf16"), c.notes().toString());
    }

    @Test
    void fusedEncoderLayerAndHandWrittenAttention() {
        Imported t = KinetoImporterTest.load(DIR.resolve("encoder-fp16-h200.json.gz"));
        assertEquals(1.0, t.coverage().measuredShare());
        assertEquals(19, t.ops().size());
        // _transformer_encoder_layer_fwd calls the ops that launch kernels: in_proj addmm, cuDNN attention, ...
        assertEquals(List.of(1L, 512L, 2304L, 768L), shape(t.op(0)));
        assertEquals("aten::_cudnn_attention_forward", t.op(1).name());
        assertEquals(List.of(48L, 128L, 128L, 64L), shape(t.op(1)), "4 sequences x 12 heads");
        assertEquals("aten::_addmm_activation", t.op(5).name());
        assertEquals(List.of(1L, 512L, 3072L, 768L), shape(t.op(5)));
        // q @ k^T on [4, 12, 128, 64]: matmul -> bmm of 48; softmax rows of 128; then @ v.
        assertEquals(List.of(48L, 128L, 128L, 64L), shape(t.op(11)));
        assertEquals(OpKind.SOFTMAX, t.op(13).kind());
        assertEquals(List.of(6144L, 128L), List.of(t.op(13).m(), t.op(13).n()));
        assertEquals(List.of(48L, 128L, 64L, 128L), shape(t.op(15)));
        assertEquals(DataType.FP16, t.op(15).dataType());
        assertEquals(DataType.FP32, t.op(18).dataType(), "layer_norm of x.float()");
    }

    @Test
    void fp8ScaledMmAndAGraphReplay() {
        Imported t = KinetoImporterTest.load(DIR.resolve("fp8-graph-h200.json.gz"));
        assertEquals(1, t.ops().size());
        Operator mm = t.op(0);
        assertEquals("aten::_scaled_mm", mm.name());
        assertEquals(List.of(1L, 256L, 1024L, 512L), shape(mm));
        assertEquals(DataType.FP8, mm.dataType());
        Coverage c = t.coverage();
        assertEquals(1, c.unmapped().get("cudaGraphLaunch")[0]);
        assertTrue(c.notes().get(0).startsWith("2 kernels (58.1% of the measured GPU time) ran from 1 CUDA/HIP graph"
            + " launch (cudaGraphLaunch): this trace was captured under CUDA graphs"), c.notes().get(0));
    }

    @Test
    void ncclCollectivesOfOneRank() {
        Imported t = KinetoImporterTest.load(DIR.resolve("nccl-1gpu-h200.json.gz"));
        Coverage c = t.coverage();
        // all_gather_into_tensor of one rank is a device-to-device copy under record_param_comms (_allgather_base).
        assertEquals(List.of(1L, 1408L), List.of(c.unmapped().get("collective all_gather")[0],
            c.unmapped().get("collective all_gather")[1]));
        // The one-rank all_reduce launches nothing; the barrier's zeros() fill is an ordinary op.
        assertEquals(1, t.ops().size());
        assertEquals("aten::fill_", t.op(0).name());
    }
}

package dev.rafter.roofline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.workload.Lowering;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;
import dev.rafter.workload.Phase;
import dev.rafter.workload.Workload;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class RooflineTest {
    final HardwareSpec a100 = HardwareLoader.load(Path.of("models/hardware/a100.yaml"), List.of());
    final Roofline roofline = new Roofline(a100);

    @Test
    void gpt3QkvProjectionIsComputeBoundAt11Point9Ms() {
        Operator qkv = Operator.gemm(1, "qkv_proj", Phase.PREFILL, 0, 0, 1, 16384, 9216, 12288, DataType.FP16);
        Roofline.Bound b = roofline.of(qkv);
        assertEquals(11.9e-3, b.computeS(), 0.05e-3);
        double bytes = 2.0 * (16384.0 * 12288 + 12288.0 * 9216 + 16384.0 * 9216);
        assertEquals(bytes, b.bytes(), 0);
        assertEquals(bytes / 2039e9, b.memoryS(), 1e-12);
        assertEquals("compute", b.bound());
        assertEquals(b.computeS(), b.seconds(), 0);
    }

    @Test
    void decodeGemmIsMemoryBound() {
        Operator g = Operator.gemm(1, "ffn_up", Phase.DECODE, 0, 1, 1, 8, 12288, 12288, DataType.FP16);
        Roofline.Bound b = roofline.of(g);
        assertEquals("memory", b.bound());
        assertTrue(b.intensity() < a100.ridgeFlopsPerByte());
    }

    @Test
    void vectorOpsUseTheVectorPeak() {
        Operator softmax = Operator.vector(1, "s", OpKind.SOFTMAX, Phase.PREFILL, 0, 0, 1_000_000, DataType.FP16);
        assertEquals(5e6 / a100.vectorFlopsPerS(), roofline.of(softmax).computeS(), 1e-18);
    }

    @Test
    void allReduceCoversItsLinkTransferAndHasNoComputeBound() {
        Operator ar = Operator.allReduce(1, "ar", Phase.PREFILL, 0, 0, 1L << 20, 4, DataType.FP16);
        // The cheapest row of a100.yaml's NCCL table: ring/LL, 6.6 us per call, plus 2 (p-1)/p of the 2 MiB
        // tensor at the full 240 GB/s of the links.
        double link = 6.6e-6 + 1.5 * 2.0 * (1 << 20) / 240e9;
        assertEquals(link, roofline.of(ar).memoryS(), 1e-15);
        assertEquals(0, roofline.of(ar).computeS(), "the additions ride on the data movement");
    }

    @Test
    void phaseTotalsSumTheOperators() {
        Workload w = Workload.load(Path.of("models/workloads/tiny.yaml"));
        PhaseTotals totals = new PhaseTotals();
        double[] sum = {0};
        Lowering.lower(w, EnumSet.allOf(Phase.class), op -> {
            Roofline.Bound b = roofline.of(op);
            sum[0] += b.seconds();
            totals.add(op, b);
        });
        double phases = totals.phases().values().stream().mapToDouble(s -> s.rooflineS).sum();
        assertEquals(sum[0], phases, sum[0] * 1e-12);
        assertEquals(sum[0], totals.total().rooflineS, sum[0] * 1e-12);
    }

    /** h100-hbf.yaml: HBM 3350 GB/s (tier 0), HBF 3200 GB/s (tier 1); weights on HBF, the rest on HBM. */
    final HardwareSpec hbf = HardwareLoader.load(Path.of("models/hardware/h100-hbf.yaml"), List.of());
    final Roofline weightsOnHbf = new Roofline(hbf, role -> role == dev.rafter.mapping.TensorRole.WEIGHTS
        ? new dev.rafter.mapping.Region(1, 0) : dev.rafter.mapping.Region.FIRST_TIER);

    @Test
    void aDecodeGemmWithWeightsOnHbfIsBoundByHbfReadingTheWeightsAlone() {
        Operator g = Operator.gemm(1, "ffn_up", Phase.DECODE, 0, 1, 1, 8, 4096, 4096, DataType.FP16);
        Roofline.Bound b = weightsOnHbf.of(g);
        // B: 4096 x 4096 x 2 B = 33,554,432 B at 3.2e12 B/s; A and C (8 x 4096 x 2 B each) on HBM take 39 ns.
        assertEquals(33_554_432 / 3.2e12, b.memoryS(), 1e-18);
        assertEquals("hbf", b.memoryTier());
        assertEquals(33_554_432 + 2 * 65_536, b.bytes(), 0);
    }

    @Test
    void aGemmWhoseActivationsOutweighItsWeightsIsBoundByTheirTier() {
        Operator g = Operator.gemm(1, "thin", Phase.PREFILL, 0, 0, 1, 65536, 64, 64, DataType.FP16);
        Roofline.Bound b = weightsOnHbf.of(g);
        // A and C: 2 x 65536 x 64 x 2 B = 16,777,216 B at 3.35e12 B/s; B is 8 KiB on HBF.
        assertEquals(16_777_216 / 3.35e12, b.memoryS(), 1e-18);
        assertEquals("hbm", b.memoryTier());
    }

    @Test
    void everyTensorOnOneTierGivesTheSingleMemoryBoundExactly() {
        Roofline allOnHbm = new Roofline(hbf);
        Operator g = Operator.gemm(1, "ffn_up", Phase.DECODE, 0, 1, 1, 8, 4096, 4096, DataType.FP16);
        Operator norm = Operator.rows(2, "norm", OpKind.RMSNORM, Phase.DECODE, 0, 1, 8, 4096, DataType.FP16);
        assertEquals(g.minBytes() / 3.35e12, allOnHbm.of(g).memoryS(), 0);
        assertEquals("hbm", allOnHbm.of(g).memoryTier());
        // A vector operator reads and writes activations only: HBM with weights on HBF too.
        assertEquals(allOnHbm.of(norm), weightsOnHbf.of(norm));
    }
}

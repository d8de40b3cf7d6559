package dev.rafter.mapping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.sim.Simulation;
import dev.rafter.sim.component.MemoryController;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Phase;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Flash vs unfused attention traffic, causal FLOPs, GQA sharing of K and V, KV-cache data type. */
class FlashAttentionTest {
    static final HardwareSpec A100 = HardwareLoader.load(Path.of("models/hardware/a100.yaml"), List.of());

    /** Llama-3-8B prefill attention per device: 8 sequences x 8 KV heads, 4 query heads per KV head, head dim 128. */
    static Operator flash(long seq, long group, long kvHeads, boolean causal, DataType kv) {
        return Operator.flashAttention(0, "attention", Phase.PREFILL, 0, 0, 2 * kvHeads, seq * group, seq, 128, seq,
            causal, DataType.FP16, kv);
    }

    static long traffic(List<TileProgram> programs) {
        return programs.stream().mapToLong(p -> p.hbmReadBytes() + p.hbmWriteBytes()).sum();
    }

    static long unfusedTraffic(long seq) {
        Operator att = new Operator(0, "att", OpKind.ATTENTION, Phase.PREFILL, 0, 0, 16, seq * 4, seq, 128, seq,
            DataType.FP16, Operator.NO_DEPS);
        return traffic(OperatorMapper.programs(A100, att));
    }

    @Test
    void flashTrafficGrowsLinearlyWithSequenceUnfusedQuadratically() {
        double flash = (double) traffic(OperatorMapper.programs(A100, flash(2048, 4, 8, true, DataType.FP16)))
            / traffic(OperatorMapper.programs(A100, flash(1024, 4, 8, true, DataType.FP16)));
        double unfused = (double) unfusedTraffic(2048) / unfusedTraffic(1024);
        assertEquals(2.0, flash, 0.1, "flash: Q, K, V read and O written");
        assertEquals(4.0, unfused, 0.4, "unfused: the scores go through memory");
    }

    @Test
    void flashReadsQkvOnceWhenKvStaysOnChip() {
        Operator op = flash(1024, 4, 8, true, DataType.FP16);
        TileProgram p = FlashAttentionMapper.plan(A100, op);
        long q = 16L * 4096 * 128 * 2;
        long kv = 16L * 2 * 1024 * 128 * 2;
        assertEquals(q + kv, p.hbmReadBytes(), "Q once, K and V once per KV head (re-reads from the global buffer)");
        assertEquals(q, p.hbmWriteBytes(), "O written once");
    }

    @Test
    void causalFlopsAreTheUnmaskedTriangleAndMaskedBlocksAreSkipped() {
        long s = 2048;
        Operator causal = flash(s, 4, 8, true, DataType.FP16);
        Operator full = flash(s, 4, 8, false, DataType.FP16);
        assertEquals((s + 1) / (2.0 * s), causal.flops() / full.flops(), 1e-12, "n(n+1)/2 of n^2 scores");
        long causalMacs = macs(FlashAttentionMapper.plan(A100, causal));
        long fullMacs = macs(FlashAttentionMapper.plan(A100, full));
        assertEquals(fullMacs, 2L * 16 * s * 4 * s * 128, "non-causal computes every score");
        double ratio = (double) causalMacs / fullMacs;
        assertTrue(ratio > 0.5 && ratio < 0.56, "fully masked blocks skipped, diagonal blocks computed: " + ratio);
        assertTrue(causalMacs * 2.0 >= causal.flops() - 5 * 16 * causal.scoresPerItem(), "work >= counted");
    }

    static long macs(TileProgram p) {
        long n = 0;
        for (List<Work> core : p.cores()) {
            for (Work w : core) {
                if (w instanceof MatrixTile t) {
                    n += (long) t.m() * t.n() * t.k();
                }
            }
        }
        return n;
    }

    @Test
    void gqaSharesKvAcrossTheQueryHeadsOfAGroup() {
        // 32 query heads as 8 KV heads of 4 (GQA), 32 KV heads (MHA) or 1 KV head (MQA): same FLOPs, K/V read once
        // per KV head.
        Operator gqa = Operator.flashAttention(0, "a", Phase.DECODE, 0, 1, 8 * 8, 4, 4096, 128, 1, true,
            DataType.FP16, DataType.FP16);
        Operator mha = Operator.flashAttention(0, "a", Phase.DECODE, 0, 1, 8 * 32, 1, 4096, 128, 1, true,
            DataType.FP16, DataType.FP16);
        assertEquals(gqa.flops(), mha.flops(), 0);
        long gqaRead = FlashAttentionMapper.plan(A100, gqa).hbmReadBytes();
        long mhaRead = FlashAttentionMapper.plan(A100, mha).hbmReadBytes();
        long q = 8L * 32 * 128 * 2;
        assertEquals(8L * 8 * 2 * 4096 * 128 * 2 + q, gqaRead);
        assertEquals(8L * 32 * 2 * 4096 * 128 * 2 + q, mhaRead);
        // fp8 KV cache: half the K/V bytes.
        Operator fp8 = Operator.flashAttention(0, "a", Phase.DECODE, 0, 1, 8 * 8, 4, 4096, 128, 1, true,
            DataType.FP16, DataType.FP8);
        assertEquals(8L * 8 * 2 * 4096 * 128 + q, FlashAttentionMapper.plan(A100, fp8).hbmReadBytes());
    }

    @Test
    void simulatedFlashAttentionKeepsTheRooflineAndItsTraffic() {
        Operator op = flash(1024, 4, 8, true, DataType.FP16);
        // Written through, so that every result byte of the plan reaches DRAM.
        HardwareSpec through = HardwareLoader.load(Path.of("models/hardware/a100.yaml"),
            List.of("global_buffer.keeps_contents=false"));
        List<Simulation.OpResult> out = new ArrayList<>();
        new Simulation(through).run(OperatorSource.of(op), null, out::add);
        Simulation.OpResult r = out.get(0);
        TileProgram p = FlashAttentionMapper.plan(through, op);
        assertEquals(p.hbmReadBytes(), r.sums().get(MemoryController.KIND, "read_bytes"));
        assertEquals(p.hbmWriteBytes(), r.sums().get(MemoryController.KIND, "write_bytes"));
        assertTrue(r.latencyS() >= new dev.rafter.roofline.Roofline(through).of(op).seconds() * (1 - 1e-9));
        // The A100's write-back L2 keeps the 16 MiB result: no DRAM write during the kernel.
        List<Simulation.OpResult> back = new ArrayList<>();
        new Simulation(A100).run(OperatorSource.of(op), null, back::add);
        assertEquals(0, back.get(0).sums().get(MemoryController.KIND, "write_bytes"));
    }

    @Test
    void weightDataTypeHalvesTheWeightBytesOfADecodeGemm() {
        Operator fp16 = Operator.gemm(0, "w", Phase.DECODE, 0, 1, 1, 8, 4096, 4096, DataType.FP16, DataType.FP16);
        Operator int8 = Operator.gemm(0, "w", Phase.DECODE, 0, 1, 1, 8, 4096, 4096, DataType.FP16, DataType.INT8);
        long a = 8L * 4096 * 2;
        assertEquals(a + 4096L * 4096 * 2, GemmMapper.plan(A100, fp16).programs().get(0).hbmReadBytes());
        assertEquals(a + 4096L * 4096, GemmMapper.plan(A100, int8).programs().get(0).hbmReadBytes());
    }
}

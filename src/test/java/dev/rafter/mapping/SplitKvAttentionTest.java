package dev.rafter.mapping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.roofline.Roofline;
import dev.rafter.sim.Simulation;
import dev.rafter.sim.component.MemoryController;
import dev.rafter.workload.Operator;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Phase;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Split-KV (FlashDecoding) attention: FlashAttention-2's split count, the partials' traffic and the combine. */
class SplitKvAttentionTest {
    static final HardwareSpec H100 = HardwareLoader.load(Path.of("models/hardware/h100.yaml"), List.of());

    /** Llama-3-8B decode attention of one sequence: 8 KV heads of 4 query heads, head dim 128, bf16. */
    static Operator decode(long keys) {
        return Operator.flashAttention(0, "attention", Phase.DECODE, 0, 1, 8, 4, keys, 128, 1, true, DataType.BF16,
            DataType.BF16);
    }

    @Test
    void heuristicReproducesFlashAttention2sOwnExample() {
        // flash_api.cpp, above num_splits_heuristic: "if we have batch * n_heads = 48 and we have 108 SMs, having
        // 2 splits (efficiency = 0.89) is better than having 3 splits (efficiency = 0.67)".
        assertEquals(2, FlashAttentionMapper.numSplitsHeuristic(48, 108, 64, 128));
    }

    @Test
    void heuristicKeepsOneSplitWhenTheCtasAlmostFillTheDevice() {
        assertEquals(1, FlashAttentionMapper.numSplitsHeuristic(87, 108, 64, 128), "87 >= 0.8 x 108");
        assertTrue(FlashAttentionMapper.numSplitsHeuristic(86, 108, 64, 128) > 1, "86 < 0.8 x 108");
    }

    @Test
    void heuristicSkipsSplitCountsWhoseLastSplitWouldBeEmpty() {
        // 64 CTAs on 264 slots over 9 key blocks (Llama-3-8B decode, batch 8, 1k context, on an H100). By hand:
        // 4 splits would fill 97% of the slots but give ceil(9/4) = 3 blocks per split like 3 splits (ineligible);
        // of 1, 2, 3, 5 and 9 splits (24%, 48%, 73%, 61%, 73%) the best is 73% and 3 is the first within 85% of it.
        assertEquals(3, FlashAttentionMapper.numSplitsHeuristic(64, 264, 9, 128));
    }

    @Test
    void splitCountComesFromTheDevicesCoresTheItemsAndTheKvLength() {
        // 8 CTAs (one per KV head; 4 query rows < kBlockM 64) on 132 SMs x 2; 32768 / 128 = 256 key blocks. By
        // hand: the best efficiency is 8 x 33 / 264 = 100%; the first split count reaching 85% of it is 29 (232 /
        // 264 = 88%; 28 gives 85% - 0.2%), and ceil(256/29) = 9 != ceil(256/28) = 10.
        assertEquals(29, FlashAttentionMapper.numSplits(H100, decode(32768)));
        // 1k context: 8 key blocks; 8 splits (1 block each) are eligible and the most efficient.
        assertEquals(8, FlashAttentionMapper.numSplits(H100, decode(1024)));
        // BERT-small prefill attention (8 heads, 141 tokens, head dim 64): one key block of 256, nothing to split.
        Operator bert = Operator.flashAttention(0, "attention", Phase.PREFILL, 0, 0, 8, 141, 141, 64, 141, false,
            DataType.BF16, DataType.BF16);
        assertEquals(1, FlashAttentionMapper.numSplits(H100, bert));
        assertEquals(1, FlashAttentionMapper.programs(H100, bert).size(), "no combine kernel without a split");
    }

    @Test
    void splitsWritePartialsThatTheCombineReadsAndNoWorkMoves() {
        Operator op = decode(32768);
        List<TileProgram> p = FlashAttentionMapper.programs(H100, op);
        assertEquals(2, p.size(), "the split kernel, then the combine");
        long rows = 8 * 4;
        long partials = 29 * rows * 128 * 4;
        // 29 splits of ceil(256 / 29) = 9 blocks: 28 of 1152 keys and a last one of 512, 232 Q tiles in all, each
        // reading its item's 4 query rows; K and V read once.
        long q = 232L * 4 * 128 * 2;
        long kv = 8L * 2 * 32768 * 128 * 2;
        assertEquals(q + kv, p.get(0).hbmReadBytes());
        assertEquals(partials, p.get(0).hbmWriteBytes(), "fp32 partial outputs, one row per split");
        assertEquals(partials, p.get(1).hbmReadBytes());
        assertEquals(rows * 128 * 2, p.get(1).hbmWriteBytes(), "O in bf16");
        assertEquals(FlashAttentionTest.macs(FlashAttentionMapper.plan(H100, op)), FlashAttentionTest.macs(p.get(0)), "the same scores, split");
        long busy = p.get(0).cores().stream().filter(c -> !c.isEmpty()).count();
        assertEquals(132, busy, "232 Q tiles keep every core busy; unsplit, 8 of 132 would work");
    }

    @Test
    void variableLengthSplitsEachSequenceByItsOwnLengthAndCombinesOnlyWhatWasWritten() {
        // 8 sequences at 4096 keys and 8 at 1000, one decode token each: 16 CTAs on 264 slots over 32 key blocks.
        // By hand: 16 splits (97% of the slots; 14 and 15 give 3 blocks per split as 13 does). 4096 keys: 16
        // splits of 2 blocks (256 keys); 1000 keys: ceil(8 / 16) = 1 block per split, so 8 splits (7 of 128, one
        // of 104): 8 x 16 + 8 x 8 = 192 Q tiles, each writing 4 fp32 partial rows that the combine reads back.
        Operator op = Operator.variableLengthAttention(0, "attention", Phase.DECODE, 0, 1,
            List.of(new Operator.Segment(8, 4, 4096, 1), new Operator.Segment(8, 4, 1000, 1)), 128, true,
            DataType.BF16, DataType.BF16);
        assertEquals(16, FlashAttentionMapper.numSplits(H100, op));
        List<TileProgram> p = FlashAttentionMapper.programs(H100, op);
        long partials = 192L * 4 * 128 * 4;
        assertEquals(192L * 4 * 128 * 2 + 8L * 2 * (4096 + 1000) * 128 * 2, p.get(0).hbmReadBytes());
        assertEquals(partials, p.get(0).hbmWriteBytes());
        assertEquals(partials, p.get(1).hbmReadBytes());
        assertEquals(16L * 4 * 128 * 2, p.get(1).hbmWriteBytes());
    }

    @Test
    void simulatedSplitKvMovesTheProgramsBytesAndKeepsTheRoofline() {
        Operator op = decode(32768);
        // Written through, so that the programs' result writes all reach DRAM.
        HardwareSpec h100 = HardwareLoader.load(Path.of("models/hardware/h100.yaml"),
            List.of("global_buffer.keeps_contents=false"));
        List<Simulation.OpResult> out = new ArrayList<>();
        new Simulation(h100).run(OperatorSource.of(op), null, out::add);
        Simulation.OpResult r = out.get(0);
        List<TileProgram> p = FlashAttentionMapper.programs(h100, op);
        assertEquals(p.get(0).hbmReadBytes() + p.get(1).hbmReadBytes(),
            r.sums().get(MemoryController.KIND, "read_bytes"));
        assertEquals(p.get(0).hbmWriteBytes() + p.get(1).hbmWriteBytes(),
            r.sums().get(MemoryController.KIND, "write_bytes"));
        assertTrue(r.latencyS() >= new Roofline(H100).of(op).seconds() * (1 - 1e-9));
    }

    @Test
    void aDecodeStepExplainsItsKernelsAsTheFormatItsFieldsFill() {
        // Llama-3-8B decode, batch 8, KV length 1025, on the A100: 64 items (sequence x KV head) of 4 query rows.
        // By hand: 64 CTAs on 216 slots over 9 key blocks -> 3 splits (as on the H100 above); splits of
        // ceil(9 / 3) x 128 = 384 keys: 128 full splits and 64 last ones of 257 keys, 192 Q tiles of 4 rows in 2
        // blocks of 108 cores. Read: Q 192 x 4 x 128 x 2 B + K/V (128 x 384 + 64 x 257) x 2 x 128 x 2 B =
        // 33,783,808 B; once: 64 x (4 x 128 x 2 + 2 x 1025 x 128 x 2) = 33,652,736 B. The split kernel 64 x 128,
        // 4 warps; 2 CTAs a core (65536 registers / (256 x 32 x 4), 192 KiB / ((64 + 256) x 128 x 2 B)). The combine:
        // 256 rows in chunks of min(196608 / (2 x (1536 + 256)) = 54, 40 MiB / 4 / (108 x 1536) = 63, ceil(256 /
        // 108) = 3) rows: 86 chunks. The explanations are concatenated (a Formatter run once a step stays slow):
        // they must read as the format strings they replaced.
        HardwareSpec a100 = HardwareLoader.load(Path.of("models/hardware/a100.yaml"), List.of());
        Operator op = Operator.flashAttention(0, "attention", Phase.DECODE, 0, 1, 64, 4, 1025, 128, 1, true,
            DataType.BF16, DataType.BF16);
        List<TileProgram> p = FlashAttentionMapper.programs(a100, op);
        assertEquals(String.format(java.util.Locale.ROOT,
            "flash: %sQ tiles of %d rows, K/V blocks of %d keys%s%s; %d Q tiles in %d blocks of "
                + "%d cores; HBM read %.3g MB (Q, K, V once: %.3g MB)", "", 4, 128, ", causal (masked blocks skipped)",
            ", split-KV 3 (fp32 partials, then a combine kernel)", 192, 2, 108, 33_783_808 / 1e6, 33_652_736 / 1e6)
            + String.format(java.util.Locale.ROOT,
                "; FA2 kernel %dx%d, %d warps, up to %d CTAs per core, per-block chain on mma.sync", 64, 128, 4, 2),
            p.get(0).explanation());
        assertEquals(String.format(java.util.Locale.ROOT,
            "split-KV combine of up to %d fp32 partial rows per output row: %d chunks of up to %d rows, %d per block "
                + "of %d cores", 3, 86, 3, 86, 108), p.get(1).explanation());
    }
}

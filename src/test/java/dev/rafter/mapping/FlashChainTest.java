package dev.rafter.mapping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.workload.Operator;
import dev.rafter.workload.Phase;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Flash attention on a core with {@code core.simt} (h100.yaml): FlashAttention-2's tiles, its co-resident CTAs and
 * the per-block dependent chain, timed by hand from the hardware file's figures: mma.sync 1365 MACs/cycle, 16
 * exps/cycle, 128 lanes x 4 FLOPs, latencies mma.sync 32, FP32 4, shuffle 29 cycles; FA2's forward at 35% of the
 * arrays' 2048 dense MACs/cycle with its cores full.
 */
class FlashChainTest {
    static final HardwareSpec H100 = HardwareLoader.load(Path.of("models/hardware/h100.yaml"), List.of());

    /** BERT-small's attention as the bundled trace runs it: {@code items} heads of 141 tokens, head dim 64. */
    static Operator bert(long items, long tokens) {
        return Operator.flashAttention(0, "attention", Phase.PREFILL, 0, 0, items, tokens, tokens, 64, tokens,
            false, DataType.BF16, DataType.BF16);
    }

    @Test
    void oneBlocksChainIsItsProductsSoftmaxAndLatenciesOneAfterTheOther() {
        // d = 64: FA2's 128 x 128 tile. Each product 128 x 128 x 64 / 1365 = 768.19 cycles; the softmax the
        // longer of 16384 exps / 16 = 1024 and (5 x 16384 + 2 x 128 x 64) / 512 = 192 cycles: 2560.38 in all.
        // Latency: 2 mma.sync (64) + the row max and row sum over 128 / 4 = 32 scores each (2 x 32 x 4 = 256) +
        // 2 shuffles (58) = 378 cycles.
        double[] block = FlashAttentionMapper.blockCycles(H100, FlashAttentionMapper.fa2Tile(64), 64);
        assertEquals(2560.375, block[0], 0.001);
        assertEquals(378, block[1], 1e-9);
    }

    @Test
    void tilesAndOccupancyAreFlashAttention2s() {
        assertEquals(List.of(128, 128, 4), List.of(box(FlashAttentionMapper.fa2Tile(64))));
        assertEquals(List.of(128, 64, 4), List.of(box(FlashAttentionMapper.fa2Tile(128))));
        assertEquals(List.of(64, 64, 4), List.of(box(FlashAttentionMapper.fa2Tile(256))));
        // 255 registers -> 256 x 32 x 4 warps = 32768 of 65536: 2 CTAs; smem (128 + 256) x 64 x 2 = 48 KiB (the
        // trace's kernel record: 49152) of 228 KiB: 4. The bundled trace records 2 blocks per SM at most likewise
        // (0.12 of 16 CTAs on 132 SMs is the achieved figure).
        assertEquals(2, FlashAttentionMapper.ctasPerCore(H100, FlashAttentionMapper.fa2Tile(64), 64, 2));
        // d = 256 on H100: 64 x 64, "since then we can get 2 CTAs per SM" (smem (64 + 128) x 256 x 2 = 96 KiB).
        assertEquals(2, FlashAttentionMapper.ctasPerCore(H100, FlashAttentionMapper.fa2Tile(256), 256, 2));
    }

    @Test
    void theMainKernelsChainIsWhatItsMeasuredUtilisationLeavesTwoCtas() {
        // FA2 reaches 35% of the 4 x 16 x 32 = 2048 dense MACs/cycle with 2 CTAs per core: a core finishes 2
        // blocks of 2 x 128 x 128 x 64 = 2097152 MACs per chain, 2 x 2097152 / (0.35 x 2048) = 5851.43 cycles,
        // longer than the parts' 2560.38 + 378.
        Operator op = bert(8, 141);
        assertEquals(5851.43, FlashAttentionMapper.measuredChainCycles(H100, op, FlashAttentionMapper.fa2Tile(64),
            64, 2), 0.01);
        // Without the figure (A100 has none: no measurement) there is no measured chain.
        assertEquals(0, FlashAttentionMapper.measuredChainCycles(HardwareLoader.load(
            Path.of("models/hardware/a100.yaml"), List.of()), op, FlashAttentionMapper.fa2Tile(64), 64, 2));
    }

    @Test
    void aLoneCtaWaitsOutItsWholeChainPerBlock() {
        // 8 heads x 2 Q tiles = 16 CTAs on 132 cores: one per core, nothing hides its waits. 141 keys in
        // 2 blocks of 128: 2 x 5851.43 = 11702.86 -> 11703 cycles.
        TileProgram p = FlashAttentionMapper.plan(H100, bert(8, 141));
        assertEquals(11703, coreCycles(p.cores().get(0)));
        assertEquals(11703, coreCycles(p.cores().get(15)));
        assertTrue(p.cores().get(16).isEmpty());
        assertTrue(p.explanation().contains("FA2 kernel 128x128, 4 warps, up to 2 CTAs per core"), p.explanation());
        // Without the measured figure, the chain of its parts: 2 x (2560.38 + 378) = 5876.75 -> 5877.
        HardwareSpec unmeasured = HardwareLoader.load(Path.of("models/hardware/h100.yaml"),
            List.of("core.simt.fa2_peak_fraction=0"));
        assertEquals(5877, coreCycles(FlashAttentionMapper.plan(unmeasured, bert(8, 141)).cores().get(0)));
    }

    @Test
    void twoCoResidentCtasHideEachOthersLatency() {
        // 132 heads x 2 Q tiles = 264 CTAs: 2 per core, co-resident; per block the longer of the throughput
        // (2560.38) and half the chain (2925.71): 2 blocks = 5851.43 -> 5851 cycles per Q tile, the measured 35%.
        TileProgram p = FlashAttentionMapper.plan(H100, bert(132, 141));
        List<Work> core = p.cores().get(0);
        assertEquals(4, core.size());
        assertEquals(5851, coreCycles(core.subList(0, 2)));
        assertEquals(5851, coreCycles(core.subList(2, 4)));
    }

    @Test
    void splitKvTilesRunTheSplitKernelsChain() {
        // Llama-3-8B decode at 32k: 29 splits (FA2's heuristic), 8 KV heads: 224 splits of 9 blocks of 128 keys,
        // then 8 of 4. The split kernel's 64 x 128 tile (its 4 GQA rows padded to kBlockM 64): per block
        // 2 x 64 x 128 x 128 / 1365 = 1536.38 + max(8192 / 16 = 512, (5 x 8192 + 2 x 64 x 128) / 512 = 112)
        // = 2048.38 throughput, 64 + 2 x 32 x 4 + 58 = 378 latency. Core 0 holds Q tiles 0 and 132 (9 blocks
        // each), co-resident: 9 x 2048.38 = 18435.4 -> 18435 cycles each; core 131 only tile 131: 9 x 2426.38 = 21837.4 -> 21837.
        Operator op = SplitKvAttentionTest.decode(32768);
        assertEquals(29, FlashAttentionMapper.numSplits(H100, op));
        TileProgram p = FlashAttentionMapper.programs(H100, op).get(0);
        assertEquals(18435, coreCycles(p.cores().get(0).subList(0, 2)));
        assertEquals(21837, coreCycles(p.cores().get(131)));
        assertTrue(p.explanation().contains("FA2 kernel 64x128"), p.explanation());
    }

    @Test
    void alikeQTilesOfABlockShareTheirTilesAndOthersGetTheirOwn() {
        // As above: in block 0, cores 0-99 hold a Q tile of 9 key blocks and another in block 1, cores 100-131 only
        // theirs; both splits of 9 blocks, so one record serves a block's alike Q tiles, equal to a fresh one.
        TileProgram p = FlashAttentionMapper.programs(H100, SplitKvAttentionTest.decode(32768)).get(0);
        List<List<Work>> cores = p.cores();
        assertSame(cores.get(0).get(0), cores.get(99).get(0));
        assertSame(cores.get(0).get(1), cores.get(99).get(1));
        assertSame(cores.get(100).get(0), cores.get(131).get(0));
        // Cores 99 and 100 differ only in how many Q tiles they hold, hence in the latency each tile exposes.
        MatrixTile twoTiles = (MatrixTile) cores.get(99).get(0);
        MatrixTile oneTile = (MatrixTile) cores.get(100).get(0);
        assertNotEquals(twoTiles.chunkLatencyCycles(), oneTile.chunkLatencyCycles());
        assertEquals(new MatrixTile(twoTiles.firstStage(), twoTiles.m(), twoTiles.n(), twoTiles.k(), twoTiles.localK(),
            twoTiles.chunksPerStage(), twoTiles.arrayM(), twoTiles.arrayN(), twoTiles.fullDepth(),
            twoTiles.resultBytes(), twoTiles.bBytes(), oneTile.chunkLatencyCycles()), oneTile);
    }

    @Test
    void anUnsplitDecodeStillRunsTheSplitKvKernel() {
        // 256 sequences' KV heads fill 0.8 of the 264 CTA slots: one split; FA2 reads a KV cache through its split-KV
        // kernel all the same (64 x 128 at d = 128), where prefill runs the main kernel's 128 x 64.
        Operator decode = Operator.flashAttention(0, "attention", Phase.DECODE, 0, 1, 256, 4, 1024, 128, 1, true,
            DataType.BF16, DataType.BF16);
        assertEquals(1, FlashAttentionMapper.numSplits(H100, decode));
        String why = FlashAttentionMapper.plan(H100, decode).explanation();
        assertTrue(why.contains("FA2 kernel 64x128") && !why.contains("split-KV"), why);
        Operator prefill = Operator.flashAttention(0, "attention", Phase.PREFILL, 0, 0, 32, 1024, 1024, 128, 1024,
            true, DataType.BF16, DataType.BF16);
        why = FlashAttentionMapper.plan(H100, prefill).explanation();
        assertTrue(why.contains("FA2 kernel 128x64"), why);
    }

    @Test
    void aCoreWithoutSimtKeepsTheArraysTiming() {
        HardwareSpec study = HardwareLoader.load(Path.of("models/hardware/sram-study-45nm.yaml"), List.of());
        assertNull(study.core().simt());
        for (List<Work> core : FlashAttentionMapper.plan(study, bert(8, 141)).cores()) {
            for (Work w : core) {
                if (w instanceof MatrixTile t) {
                    assertEquals(0, t.chunkLatencyCycles());
                } else if (w instanceof VectorTile t) {
                    assertEquals(0, t.exposedLatencyCycles());
                }
            }
        }
    }

    /** Cycles a core spends on its tiles, as Core times them: products, softmax and the latencies between. */
    private static long coreCycles(List<Work> tiles) {
        HardwareSpec.Core core = H100.core();
        long cycles = 0;
        for (Work w : tiles) {
            if (w instanceof MatrixTile t) {
                for (int j = 0; j < t.chunks(); j++) {
                    cycles += LaneSplit.cycles(core, t.arrayM(), t.arrayN(), t.arrayK(j), DataType.BF16)
                        + t.chunkLatencyCycles();
                }
            } else if (w instanceof VectorTile t) {
                cycles += Math.max((t.flops() + 511) / 512, (t.specialFunctions() + 15) / 16)
                    + t.exposedLatencyCycles();
            }
        }
        return cycles;
    }

    private static Integer[] box(int[] a) {
        Integer[] out = new Integer[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i];
        }
        return out;
    }

    /**
     * The mapper times each chunk shape once per kernel: shapes asked in turn (full chunks, a shallower last one,
     * another tile's) give what the lane split gives for each.
     */
    @Test
    void chunkTimingsRememberedGiveTheLaneSplitsTimings() {
        FlashAttentionMapper.ChunkCycles memo = new FlashAttentionMapper.ChunkCycles(H100.core(), DataType.BF16);
        long[][] shapes = {{64, 64, 128}, {64, 64, 128}, {64, 64, 40}, {64, 64, 128}, {64, 64, 40}, {16, 64, 128},
            {64, 64, 40}, {64, 64, 128}, {16, 64, 128}};
        for (long[] s : shapes) {
            assertEquals(LaneSplit.cycles(H100.core(), s[0], s[1], s[2], DataType.BF16), memo.of(s[0], s[1], s[2]),
                s[0] + "x" + s[1] + "x" + s[2]);
        }
    }
}

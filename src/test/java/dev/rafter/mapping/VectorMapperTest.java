package dev.rafter.mapping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.hw.TestModels;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;
import dev.rafter.workload.Phase;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class VectorMapperTest {
    static final HardwareSpec A100 = HardwareLoader.load(Path.of("models/hardware/a100.yaml"), List.of());
    /** fp16 elements of one chunk on the A100 model: 192 KiB / (2 chunks x (1 input + 1 output) x 2 bytes). */
    static final long FIT = 192 * 1024 / 8;

    static Operator rows(OpKind kind, long m, long n) {
        return Operator.rows(0, "v", kind, Phase.PREFILL, 0, 0, m, n, DataType.FP16);
    }

    /** What a program does, summed over its tiles. */
    record Totals(long elementsStored, long coreLoadBytes, long flops, long specialFunctions, int coresUsed,
                  int tiles) {
        static Totals of(TileProgram p) {
            long stored = 0;
            long loaded = 0;
            long flops = 0;
            long special = 0;
            int used = 0;
            int tiles = 0;
            for (List<Work> core : p.cores()) {
                used += core.isEmpty() ? 0 : 1;
                for (Work w : core) {
                    VectorTile t = (VectorTile) w;
                    tiles++;
                    stored += t.storeBytes(0, 2) / 2;
                    loaded += t.loadBytes(0, 2);
                    flops += t.flops();
                    special += t.specialFunctions();
                    long twoChunks = 2 * (t.loadBytes(0, 2) + t.reserveBytes(0, 2));
                    assertTrue(twoChunks <= A100.core().localBuffer().capacityBytes());
                }
            }
            assertEquals(tiles, p.stages().stream().mapToInt(Stage::users).sum(), "every tile uses its stage once");
            assertEquals(p.hbmReadBytes(), p.stages().stream().mapToLong(Stage::loadBytes).sum());
            return new Totals(stored, loaded, flops, special, used, tiles);
        }
    }

    @ParameterizedTest
    @CsvSource({"SOFTMAX,805306368", "ELEMENTWISE,1000", "RMSNORM,1", "GELU,12345677"})
    void elementsAloneStreamOncePassOverAllCores(OpKind kind, long elements) {
        Operator op = Operator.vector(0, "v", kind, Phase.PREFILL, 0, 0, elements, DataType.FP16);
        TileProgram p = VectorMapper.plan(A100, op);
        Totals t = Totals.of(p);
        assertEquals(elements, t.elementsStored());
        assertEquals(elements * kind.inputsPerElement() * 2, p.hbmReadBytes());
        assertEquals(elements * kind.outputsPerElement() * 2, p.hbmWriteBytes());
        assertEquals(p.hbmReadBytes(), t.coreLoadBytes());
        assertEquals(elements * kind.flopsPerElement(), t.flops());
        long perCore = (elements + 107) / 108;
        assertEquals((elements + perCore - 1) / perCore, t.coresUsed(), "chunks of ceil(elements / 108)");
    }

    /**
     * The kinds of traced serving kernels, 1000 fp16 elements in one pass: bytes read, bytes written and FLOPs as
     * OpKind documents them (reduction: 1 read, no write per element, 1 FLOP; gather and KV-cache write: 1 read,
     * 1 write; rope: 1 + 1, 3 FLOPs; sampling: 1 read, 7 FLOPs; silu_and_mul: 2 reads, 1 write, 5 FLOPs;
     * gelu_and_mul: 2 + 1, 9 FLOPs), and the roofline's minimum bytes the same.
     */
    @ParameterizedTest
    @CsvSource({"REDUCTION,2000,0,1000", "GATHER,2000,2000,0", "KV_CACHE_WRITE,2000,2000,0", "ROPE,2000,2000,3000",
        "SAMPLING,2000,0,7000", "SILU_AND_MUL,4000,2000,5000", "GELU_AND_MUL,4000,2000,9000"})
    void servingKindsMoveTheirDocumentedBytes(OpKind kind, long read, long written, long flops) {
        Operator op = Operator.vector(0, "v", kind, Phase.DECODE, 0, 0, 1000, DataType.FP16);
        TileProgram p = VectorMapper.plan(A100, op);
        Totals t = Totals.of(p);
        assertEquals(read, p.hbmReadBytes());
        assertEquals(written, p.hbmWriteBytes());
        assertEquals(flops, t.flops());
        assertEquals(read + written, op.minBytes(), 0);
        assertEquals(flops, op.flops(), 0);
    }

    @Test
    void addRmsnormReadsAndWritesTwoTensorsOfItsRows() {
        // 8 tokens of 128 fp16: x and the residual read (4096 B), the new residual and the output written (4096 B);
        // 5 FLOPs per element (add, square, sum, scale, gamma) and one rsqrt per row
        TileProgram p = VectorMapper.plan(A100, rows(OpKind.ADD_RMSNORM, 8, 128));
        Totals t = Totals.of(p);
        assertEquals(4096, p.hbmReadBytes());
        assertEquals(4096, p.hbmWriteBytes());
        assertEquals(5 * 1024, t.flops());
        assertEquals(8, t.specialFunctions());
    }

    @Test
    void aSoftmaxRowThatFitsIsReadOnceAndWrittenOnce() {
        long m = 4096;
        long n = 2048; // 4 KiB of fp16: stays in the 192 KiB local buffer
        TileProgram p = VectorMapper.plan(A100, rows(OpKind.SOFTMAX, m, n));
        Totals t = Totals.of(p);
        assertEquals(m * n * 2, p.hbmReadBytes(), "one read");
        assertEquals(m * n * 2, p.hbmWriteBytes(), "one write");
        assertEquals(m * n * 2, t.coreLoadBytes());
        assertEquals(m * n * 5, t.flops());
        assertEquals(m * n, t.specialFunctions(), "one exp per element");
        assertEquals(108, t.coresUsed(), "many short rows fill the device");
        for (List<Work> core : p.cores()) {
            for (Work w : core) {
                assertEquals(0, ((VectorTile) w).elements() % n, "whole rows per chunk");
            }
        }
    }

    @Test
    void aSoftmaxRowThatDoesNotFitIsReadThreeTimesFromHbmWhenTheRowsInFlightOverflowTheGlobalBuffer() {
        long m = 216;
        long n = 1 << 20; // 2 MiB per row; 108 rows in flight = 216 MiB > 20 MiB (half of the 40 MiB L2)
        TileProgram p = VectorMapper.plan(A100, rows(OpKind.SOFTMAX, m, n));
        Totals t = Totals.of(p);
        assertEquals(3 * m * n * 2, p.hbmReadBytes(), "max, exp-sum and normalise passes each read from HBM");
        assertEquals(m * n * 2, p.hbmWriteBytes(), "one write");
        assertEquals(3 * m * n * 2, t.coreLoadBytes());
        assertEquals(m * n, t.elementsStored());
        assertEquals(m * n * (1 + 3 + 3), t.flops(), "max; subtract, exp, add; subtract, exp, divide");
        assertEquals(2 * m * n, t.specialFunctions(), "the normalise pass recomputes exp");
        assertEquals(108, t.coresUsed());
        assertTrue(p.explanation().contains("re-reads from HBM"), p.explanation());
    }

    @Test
    void reReadsHitTheGlobalBufferWhenTheRowsInFlightFitInHalfOfIt() {
        long m = 4;
        long n = 1 << 20; // 4 rows of 2 MiB = 8 MiB <= 20 MiB
        TileProgram p = VectorMapper.plan(A100, rows(OpKind.SOFTMAX, m, n));
        Totals t = Totals.of(p);
        assertEquals(m * n * 2, p.hbmReadBytes(), "HBM is read once");
        assertEquals(3 * m * n * 2, t.coreLoadBytes(), "the cores still read each row three times");
        long pinned = p.stages().stream().mapToLong(Stage::pinnedBytes).sum();
        long unpinned = p.stages().stream().mapToLong(Stage::unpinBytes).sum();
        assertEquals(m * n * 2, pinned, "the first pass keeps the rows in the global buffer");
        assertEquals(pinned, unpinned, "the last pass frees them");
        assertEquals(4, t.coresUsed(), "a few long rows use few cores");
    }

    @Test
    void aLayernormRowThatDoesNotFitIsReadTwiceWithOneRsqrtPerRow() {
        long m = 1000;
        long n = 3 * FIT; // does not fit
        TileProgram p = VectorMapper.plan(A100, rows(OpKind.LAYERNORM, m, n));
        Totals t = Totals.of(p);
        assertEquals(2 * m * n * 2, t.coreLoadBytes(), "statistics pass + normalise pass");
        assertEquals(m * n * 2, p.hbmReadBytes(), "108 rows in flight x 144 KiB = 15 MiB stay in the global buffer");
        assertEquals(m * n * 2, p.hbmWriteBytes());
        assertEquals(m * n * 8, t.flops());
        assertEquals(m, t.specialFunctions(), "one rsqrt per row");
        TileProgram fits = VectorMapper.plan(A100, rows(OpKind.RMSNORM, m, FIT));
        Totals f = Totals.of(fits);
        assertEquals(m * FIT * 2, f.coreLoadBytes(), "a row of exactly the chunk size stays on chip: one read");
        assertEquals(m, f.specialFunctions());
        assertEquals(m * FIT * 4, f.flops());
    }

    @Test
    void oneLongRowRunsOnOneCore() {
        TileProgram p = VectorMapper.plan(A100, rows(OpKind.SOFTMAX, 1, 1 << 20));
        Totals t = Totals.of(p);
        assertEquals(1, t.coresUsed());
        assertTrue(!p.cores().get(0).isEmpty());
        for (Stage s : p.stages()) {
            assertEquals(1, s.users());
        }
        // 3 passes x ceil(2^20 / FIT) balanced chunks.
        long chunks = (((1L << 20) + FIT - 1) / FIT);
        assertEquals(3 * chunks, t.tiles());
    }

    @Test
    void aFewShortRowsUseOneCoreEachAndManyFillTheDevice() {
        assertEquals(4, Totals.of(VectorMapper.plan(A100, rows(OpKind.SOFTMAX, 4, 1000))).coresUsed());
        assertEquals(108, Totals.of(VectorMapper.plan(A100, rows(OpKind.SOFTMAX, 10_000, 1000))).coresUsed());
        // A pure elementwise op spreads over all cores whatever its rows.
        assertEquals(108, Totals.of(VectorMapper.plan(A100, rows(OpKind.GELU, 4, 100_000))).coresUsed());
    }

    /**
     * Without a SIMT description (the A100 model without core.simt), norms whose rows stay on chip expose one L2
     * round trip (the A100 model's interconnect.latency_cycles, 211) on each busy core's last chunk only; a softmax
     * and rows that do not fit (their passes are stages of their own) none. 4320 rows of 512: chunks of
     * min(24576 / 512 = 48, ceil(4320 / 108) = 40) rows, one a core; 10800 rows: chunks of 48, 225 of them, 2-3 a
     * core.
     */
    @ParameterizedTest
    @CsvSource({"LAYERNORM,4320,512,211", "RMSNORM,10800,512,211", "ADD_RMSNORM,4320,512,211",
        "SOFTMAX,4320,512,0", "LAYERNORM,4,100000,0"})
    void normsExposeOneRoundTripOnEachCoresLastChunk(OpKind kind, long m, long n, long exposed) {
        TileProgram p = VectorMapper.plan(TestModels.a100WithoutSimt(), rows(kind, m, n));
        for (List<Work> core : p.cores()) {
            for (int i = 0; i < core.size(); i++) {
                long expected = i == core.size() - 1 ? exposed : 0;
                assertEquals(expected, ((VectorTile) core.get(i)).exposedLatencyCycles(), kind + " tile " + i);
            }
        }
    }

    /**
     * With the A100 model's core.simt (shuffle and shared memory 23 cycles, dependent FP32 op 4, special function 12,
     * barrier 23, 2048 threads) every chunk of rows
     * waits out its rows' reductions, a core's rows in flight at once, and a norm's last chunk its normalise loads:
     * the L2 hit (211) plus the memory's fixed path (206 ns at 1410 MHz = 290.46, 291 cycles), 502. By hand:
     * <ul>
     *   <li>layernorm 512: a CTA of 128 threads (4 warps); a Welford combine is 4 FP32 ops and a reciprocal,
     *       16 + 12 = 28; 5 warp steps of 23 + 28: 255; 2 rounds through shared memory, each 2 accesses, 2 barriers
     *       and a combine: 2 x (46 + 46 + 28) = 240; the statistics stored, a barrier, loaded, with the variance's
     *       division: 46 + 23 + 12 + 8 = 89; rsqrt 4 + 12 = 16: 600; before it the thread's own updates of its 4
     *       elements, 4 + 12 + 2 x 4 x 4 = 48: 648 a row, 2048 / 128 = 16 rows in flight; a chunk of 40 rows:
     *       ceil(40 / 16) = 3 chains, 1944; + 502 on the last.</li>
     *   <li>rmsnorm 512: 512 threads (16 warps), a step 23 + 4 = 27; 135 + 92 + 4 x 27 = 335 a row, 4 in flight;
     *       chunks of 48: 12 chains, 4020 (not the last chunk of its core).</li>
     *   <li>add_rmsnorm 512 (2 inputs, 2 outputs: chunks of min(12288 / 512 = 24, 40) rows): 6 chains, 2010.</li>
     *   <li>softmax 512: a warp per row, 2 reductions of 5 steps of 27, 270 a row, 64 in flight: 1 chain, 270.</li>
     *   <li>layernorm of 4 rows of 100000 (off chip, a CTA per row, passes streamed): the statistics pass's last
     *       chunk exposes one reduction and the normalise pass's first loads, 600 + 502 = 1102 (the threads' own
     *       updates run beside the streamed chunks).</li>
     * </ul>
     */
    @ParameterizedTest
    @CsvSource({"LAYERNORM,4320,512,0,2446", "RMSNORM,10800,512,0,4020", "ADD_RMSNORM,4320,512,0,2010",
        "SOFTMAX,4320,512,0,270", "LAYERNORM,4,100000,4,1102"})
    void onASimtCoreRowsWaitOutTheirReductions(OpKind kind, long m, long n, int tile, long exposed) {
        TileProgram p = VectorMapper.plan(A100, rows(kind, m, n));
        assertEquals(exposed, ((VectorTile) p.cores().get(0).get(tile)).exposedLatencyCycles(), p.explanation());
    }

    /**
     * A gather's indices come from memory, as a norm's weights do: on the A100 model an L2 hit (211 cycles, its
     * interconnect.latency_cycles) and the memory's fixed path, 206 ns at 1410 MHz = 290.5, rounded up to 291
     * (memory.latency_ns): 502 cycles, once on each core's last chunk.
     */
    @Test
    void onASimtCoreAGathersLoadsWaitForTheirIndicesFromMemoryOnEachCoresLastChunk() {
        Operator gather = Operator.vector(0, "g", OpKind.GATHER, Phase.PREFILL, 0, 0, 72192, DataType.FP16);
        for (List<Work> core : VectorMapper.plan(A100, gather).cores()) {
            for (int i = 0; i < core.size(); i++) {
                assertEquals(i == core.size() - 1 ? 502 : 0, ((VectorTile) core.get(i)).exposedLatencyCycles());
            }
        }
        for (List<Work> core : VectorMapper.plan(TestModels.a100WithoutSimt(), gather).cores()) {
            for (Work w : core) {
                assertEquals(0, ((VectorTile) w).exposedLatencyCycles());
            }
        }
    }
}

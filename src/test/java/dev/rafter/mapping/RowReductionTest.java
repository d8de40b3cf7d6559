package dev.rafter.mapping;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.workload.OpKind;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The CTAs that reduce a row and their latency chains, by hand on the H100 model (shuffle and shared memory 29, FP32
 * 4, special function 12, barrier 29 cycles).
 */
class RowReductionTest {
    static final HardwareSpec.Simt H100 = HardwareLoader.load(Path.of("models/hardware/h100.yaml"), List.of())
        .core().simt();

    /**
     * Softmax: rows up to 32 a narrower warp (16: 4 steps), up to 1024 a warp; longer ones a CTA of half the row's
     * 16-byte vectors rounded up to a power of two (4096 bf16: 512 vectors, 256 threads; 100000 bf16: 1024 threads,
     * capped, then halved: 512). A step: 29 + 4 = 33. Layernorm: 128 threads (BERT's 141 x 512 on the H100), a
     * Welford combine 4 x 4 + 12 = 28; 5 warp steps of 29 + 28: 285; 2 rounds of 2 shared-memory accesses, 2 barriers
     * and a combine, 2 x (58 + 58 + 28) = 288; the statistics stored, a barrier, loaded, with the variance's division
     * (12 + 2 x 4): 58 + 29 + 20 = 107; rsqrt 4 + 12 = 16: 696. Rmsnorm 8192: 1024 threads, 32 warps: 5 x 33 + 116 +
     * 5 x 33 = 446.
     */
    @ParameterizedTest
    @CsvSource({"SOFTMAX,16,16,132", "SOFTMAX,1000,32,165", "SOFTMAX,4096,256,380", "SOFTMAX,100000,512,413",
        "LAYERNORM,512,128,696", "RMSNORM,8192,1024,446"})
    void aRowsCtaAndOneReductionsChain(OpKind kind, long n, int threads, long cycles) {
        assertEquals(threads, RowReduction.threadsPerRow(kind, n, 2));
        assertEquals(cycles, RowReduction.cycles(H100, kind, n, 2));
        assertEquals(2048 / threads, RowReduction.rowsInFlight(H100, kind, n, 2));
    }

    /**
     * A layer norm row on chip adds its threads' own Welford updates: the first count's reciprocal (4 + 12), then 2
     * dependent FP32 ops per element, ceil(n / 128) elements a thread: 512 gives 4, 16 + 32 = 48, and 696 + 48 = 744;
     * 12288 (GPT-3's hidden size) gives 96, 16 + 768 = 784, and 1480. Softmax has no such term: its 2 reductions.
     */
    @ParameterizedTest
    @CsvSource({"LAYERNORM,512,744", "LAYERNORM,12288,1480", "SOFTMAX,1000,330"})
    void aRowOnChipAddsItsThreadsOwnUpdates(OpKind kind, long n, long cycles) {
        assertEquals(cycles, RowReduction.rowCycles(H100, kind, n, 2));
    }

    /** Without the special-function and barrier keys a SIMT core takes an FP32 op's latency and no barrier. */
    @org.junit.jupiter.api.Test
    void withoutTheNewKeysAReciprocalIsAnFp32OpAndABarrierIsFree() {
        HardwareSpec.Simt old = new HardwareSpec.Simt(65536, 1024, 32, 4, 29, 2048);
        assertEquals(4, old.specialFunctionLatencyCycles());
        assertEquals(0, old.barrierLatencyCycles());
    }
}

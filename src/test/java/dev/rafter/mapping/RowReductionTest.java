package dev.rafter.mapping;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.workload.OpKind;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The CTAs that reduce a row and their latency chains, by hand on the H100 model (shuffle 29, FP32 4 cycles). */
class RowReductionTest {
    static final HardwareSpec.Simt H100 = HardwareLoader.load(Path.of("models/hardware/h100.yaml"), List.of())
        .core().simt();

    /**
     * Softmax: rows up to 32 a narrower warp (16: 4 steps), up to 1024 a warp; longer ones a CTA of half the row's
     * 16-byte vectors rounded up to a power of two (4096 bf16: 512 vectors, 256 threads; 100000 bf16: 1024 threads,
     * capped, then halved: 512). A step: 29 + 4 = 33. Layernorm: 128 threads, a step 29 + 5 x 4 = 49: 5 x 49 +
     * 4 x 29 + 2 x 49 = 459 (BERT's 141 x 512 on the H100). Rmsnorm 8192: 1024 threads, 32 warps: 5 x 33 + 116 +
     * 5 x 33 = 446.
     */
    @ParameterizedTest
    @CsvSource({"SOFTMAX,16,16,132", "SOFTMAX,1000,32,165", "SOFTMAX,4096,256,380", "SOFTMAX,100000,512,413",
        "LAYERNORM,512,128,459", "RMSNORM,8192,1024,446"})
    void aRowsCtaAndOneReductionsChain(OpKind kind, long n, int threads, long cycles) {
        assertEquals(threads, RowReduction.threadsPerRow(kind, n, 2));
        assertEquals(cycles, RowReduction.cycles(H100, kind, n, 2));
        assertEquals(2048 / threads, RowReduction.rowsInFlight(H100, kind, n, 2));
    }
}

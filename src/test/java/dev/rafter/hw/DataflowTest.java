package dev.rafter.hw;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The SCALE-Sim fold model against its published worked examples (SCALE-Sim v2). */
class DataflowTest {
    @Test
    void gemm1024CubedOn32x32MatchesScaleSim() {
        // SCALE-Sim reports the index of the last cycle (count - 1).
        assertEquals(1_112_063 + 1, Dataflow.OUTPUT_STATIONARY.cycles(32, 32, 1024, 1024, 1024));
        assertEquals(1_144_831 + 1, Dataflow.WEIGHT_STATIONARY.cycles(32, 32, 1024, 1024, 1024));
        double util = 1024.0 * 1024 * 1024 / (1_112_064.0 * 32 * 32);
        assertEquals(0.9429, util, 1e-4);
    }

    @Test
    void alexNetConv1AsGemmMatchesScaleSim() {
        // conv1: M = 55 x 55 output pixels, N = 96 filters, K = 11 x 11 x 3; ws on 32x32: 36 folds, 112,283.
        assertEquals(112_283 + 1, Dataflow.WEIGHT_STATIONARY.cycles(32, 32, 55 * 55, 96, 11 * 11 * 3));
    }

    @Test
    void partialFoldsCountAsWholeFolds() {
        // os: Sr = M = 33 -> 3 folds, Sc = N = 16 -> 1 fold; 3 x (16 + 16 + 10 - 2) = 120
        assertEquals(120, Dataflow.OUTPUT_STATIONARY.cycles(16, 16, 33, 16, 10));
        // ws: Sr = K = 17 -> 2, Sc = N = 40 -> 3; 6 x (32 + 16 + 5 - 2) = 306
        assertEquals(306, Dataflow.WEIGHT_STATIONARY.cycles(16, 16, 5, 40, 17));
        // is: Sr = K = 16 -> 1, Sc = M = 20 -> 2; 2 x (32 + 16 + 7 - 2) = 106
        assertEquals(106, Dataflow.INPUT_STATIONARY.cycles(16, 16, 20, 7, 16));
    }
}

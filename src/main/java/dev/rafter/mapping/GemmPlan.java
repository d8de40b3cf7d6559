package dev.rafter.mapping;

import dev.rafter.workload.Operator;
import java.util.List;

/**
 * The tile program of one GEMM: global-buffer stages fed from HBM in order, and per core the local tiles it
 * computes. Everything the simulator needs and nothing it could work out itself.
 *
 * @param localM rows of a local tile; {@code localN}, {@code localK} likewise
 * @param globalK depth of a global-buffer stage (a multiple of {@code localK})
 * @param stages global-buffer stages in load order
 * @param cores per core, its tiles in order (cores without work have an empty list)
 * @param hbmReadBytes bytes the stages read from HBM (operands, each loaded once while resident)
 * @param hbmWriteBytes bytes of results written to HBM
 * @param explanation one line on why these sizes were chosen (for the docs and {@code --verbose})
 */
public record GemmPlan(Operator op, int localM, int localN, int localK, int globalK, List<Stage> stages,
                       List<List<Tile>> cores, long hbmReadBytes, long hbmWriteBytes, String explanation) {

    /**
     * One global-buffer stage: {@code loadBytes} come from HBM before any core may use it; of these,
     * {@code pinnedBytes} stay resident for later stages; on release it frees its streamed bytes
     * ({@code loadBytes - pinnedBytes}) and {@code unpinBytes} of pinned data whose last use it was.
     */
    public record Stage(long address, long loadBytes, long pinnedBytes, long unpinBytes, int users) {
        public long heldBytes() {
            return loadBytes - pinnedBytes;
        }
    }

    /**
     * One output tile of m x n computed over K in local chunks; chunk j (depth {@code chunkK(j)}) uses stage
     * {@code firstStage + j / chunksPerStage}.
     */
    public record Tile(int firstStage, int m, int n, long k, int localK, int chunksPerStage) {
        public int chunks() {
            return (int) ((k + localK - 1) / localK);
        }

        public int chunkK(int j) {
            return (int) Math.min(localK, k - (long) j * localK);
        }

        public int stage(int j) {
            return firstStage + j / chunksPerStage;
        }
    }
}

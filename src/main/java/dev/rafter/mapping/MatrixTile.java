package dev.rafter.mapping;

/**
 * One output tile of m x n computed over K in local chunks on the PE arrays; chunk j (depth {@link #chunkK})
 * uses stage {@code firstStage + j / chunksPerStage}. Its accumulator is reserved with the first chunk and stored
 * after the last.
 *
 * <p>{@code m}, {@code n}, {@code k} are the real data: loads and stores move only these bytes. The arrays compute
 * {@code arrayM x arrayN}, the tile padded to a library tile shape (tile quantisation), and with {@code fullDepth}
 * every chunk at the full depth {@code localK} (a library kernel's main loop runs whole k-steps, the missing depth
 * of the last one zero-filled). Results are stored with {@code resultBytes} per element, 0 meaning the operator's
 * data type (split-K partial sums are fp32: 4). {@code bBytes}: bytes per element of the B operand (k x n: weights,
 * K or V stored in their own data type), 0 meaning the operator's data type. For {@code chunkLatencyCycles} after
 * each chunk's computation the core waits on latencies inside the kernel that its arrays' rate leaves out (a
 * flash-attention block's dependent chain, see FlashAttentionMapper); the next chunks' loads go on meanwhile.
 * {@code loadsInFlight}: the chunks (k-steps) whose loads the core keeps in flight or waiting to compute, a GEMM
 * main loop's pipeline stages (a multistage kernel's asynchronous copies, see LibraryTiles#pipelineStages);
 * {@link Work#DOUBLE_BUFFERED} elsewhere.
 */
public record MatrixTile(int firstStage, int m, int n, long k, int localK, int chunksPerStage, int arrayM,
                         int arrayN, boolean fullDepth, int resultBytes, int bBytes, long chunkLatencyCycles,
                         int loadsInFlight)
    implements Work {

    /** The most chunk loads a core keeps in flight (a bound on a pipeline's stages, for the core's ring). */
    public static final int MAX_LOADS_IN_FLIGHT = 32;

    public MatrixTile {
        if (chunkLatencyCycles < 0) {
            throw new IllegalArgumentException("chunk latency " + chunkLatencyCycles + " < 0");
        }
        if (loadsInFlight < 1 || loadsInFlight > MAX_LOADS_IN_FLIGHT) {
            throw new IllegalArgumentException("loads in flight " + loadsInFlight + " outside 1.."
                + MAX_LOADS_IN_FLIGHT);
        }
    }

    public MatrixTile(int firstStage, int m, int n, long k, int localK, int chunksPerStage, int arrayM, int arrayN,
                      boolean fullDepth, int resultBytes, int bBytes, long chunkLatencyCycles) {
        this(firstStage, m, n, k, localK, chunksPerStage, arrayM, arrayN, fullDepth, resultBytes, bBytes,
            chunkLatencyCycles, DOUBLE_BUFFERED);
    }

    public MatrixTile(int firstStage, int m, int n, long k, int localK, int chunksPerStage, int arrayM, int arrayN,
                      boolean fullDepth, int resultBytes, int bBytes) {
        this(firstStage, m, n, k, localK, chunksPerStage, arrayM, arrayN, fullDepth, resultBytes, bBytes, 0);
    }

    public MatrixTile(int firstStage, int m, int n, long k, int localK, int chunksPerStage, int arrayM, int arrayN,
                      boolean fullDepth, int resultBytes) {
        this(firstStage, m, n, k, localK, chunksPerStage, arrayM, arrayN, fullDepth, resultBytes, 0);
    }

    /** A tile computed exactly as large as its data, storing results in the operator's data type. */
    public MatrixTile(int firstStage, int m, int n, long k, int localK, int chunksPerStage) {
        this(firstStage, m, n, k, localK, chunksPerStage, m, n, false, 0, 0);
    }

    @Override
    public int chunks() {
        return (int) ((k + localK - 1) / localK);
    }

    /** Real depth of chunk j (the K range its operands cover). */
    public int chunkK(int j) {
        return (int) Math.min(localK, k - (long) j * localK);
    }

    /** Depth the arrays compute for chunk j. */
    public int arrayK(int j) {
        return fullDepth ? localK : chunkK(j);
    }

    @Override
    public int stage(int j) {
        return firstStage + j / chunksPerStage;
    }

    @Override
    public long loadBytes(int j, int e) {
        long kc = chunkK(j);
        return (long) m * kc * e + kc * n * (bBytes == 0 ? e : bBytes);
    }

    @Override
    public long reserveBytes(int j, int e) {
        return j == 0 ? (long) m * n * (resultBytes == 0 ? e : resultBytes) : 0;
    }

    @Override
    public long storeBytes(int j, int e) {
        return j == chunks() - 1 ? (long) m * n * (resultBytes == 0 ? e : resultBytes) : 0;
    }

    /** Only the last chunk stores (the accumulator). */
    @Override
    public int storingChunks(int e) {
        return chunks() > 0 && storeBytes(chunks() - 1, e) > 0 ? 1 : 0;
    }

    @Override
    public boolean repeats(Work earlier, int stages) {
        return earlier instanceof MatrixTile t && firstStage == t.firstStage + stages && m == t.m && n == t.n
            && k == t.k && localK == t.localK && chunksPerStage == t.chunksPerStage && arrayM == t.arrayM
            && arrayN == t.arrayN && fullDepth == t.fullDepth && resultBytes == t.resultBytes && bBytes == t.bBytes
            && chunkLatencyCycles == t.chunkLatencyCycles && loadsInFlight == t.loadsInFlight;
    }
}

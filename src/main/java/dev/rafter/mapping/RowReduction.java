package dev.rafter.mapping;

import dev.rafter.hw.HardwareSpec;
import dev.rafter.workload.OpKind;

/**
 * The dependent steps by which a GPU kernel reduces a row (a softmax's max and sum, a norm's statistics) on a core
 * with a SIMT description ({@code core.simt}), as the kernels are written:
 * <ul>
 *   <li>a warp reduces its threads' values in log2(32) = 5 shuffle steps, each a shuffle then the combine that
 *       needs its result;</li>
 *   <li>a CTA of several warps then goes through shared memory: the warps' partials are stored, a barrier, loaded,
 *       reduced by shuffles in log2(warps) more steps, the total stored, a barrier, loaded by every thread: 4
 *       shared-memory accesses, each taken as long as a shuffle (core.simt.shuffle_latency_cycles is the
 *       shared-memory load latency on the GPUs modelled). A barrier adds nothing of its own here (the layer norm,
 *       whose rounds are written out below, adds {@code core.simt.barrier_latency_cycles} per barrier): the chain
 *       is a lower bound.</li>
 * </ul>
 * Each step waits for the one before it, so a CTA's reduction is a latency chain that no throughput hides; only
 * other CTAs resident on the core overlap it. Kernels and their CTAs:
 * <ul>
 *   <li><b>softmax</b>, rows of up to 1024 elements: PyTorch's persistent warp softmax (PersistentSoftmax.cuh), a
 *       warp per row, 2 reductions (max, then sum), combine: 1 dependent max or add. Longer rows:
 *       {@code cunn_SoftMaxForward} (SoftMax.cu), a CTA per row of {@code SoftMax_getBlockSize} threads (the row
 *       over 16-byte vectors, halved, rounded up to a power of two, 32 to 1024).</li>
 *   <li><b>layernorm</b>: PyTorch's {@code vectorized_layer_norm_kernel} (layer_norm_kernel.cu), a CTA of 32 x 4
 *       threads per row (block [32, 4, 1] in the H100 trace traces/kineto/bert-small-uncased-h100.json.gz), 1
 *       Welford reduction, its chain as {@code compute_stats} writes it ({@link #layerNormCycles}).</li>
 *   <li><b>rmsnorm, add_rmsnorm</b>: vLLM's {@code rms_norm_kernel} / {@code fused_add_rms_norm_kernel}, a CTA of
 *       min(n, 1024) threads per row, 1 sum reduction (cub BlockReduce), combine: 1 add.</li>
 * </ul>
 */
public final class RowReduction {
    /** Threads per warp on the NVIDIA GPUs that have a core.simt description (CUDA C++ Programming Guide). */
    static final int WARP = 32;
    /** Largest CTA (maxThreadsPerBlock, CUDA C++ Programming Guide; the H100 trace's device properties). */
    static final int MAX_CTA_THREADS = 1024;
    /** Rows PyTorch's warp softmax keeps in a warp's registers: up to 1024 elements (PersistentSoftmax.cuh). */
    static final int WARP_SOFTMAX_MAX_ELEMENTS = 1024;
    /** Threads of a vectorized_layer_norm_kernel CTA: 32 x 4 (num_threads() = 4 warps, thread_constants.h). */
    static final int LAYER_NORM_THREADS = 128;

    private RowReduction() {}

    /** Threads of the CTA (or warp) that reduces one row of {@code n} elements of {@code elementBytes} each. */
    static int threadsPerRow(OpKind kind, long n, int elementBytes) {
        return switch (kind) {
            case SOFTMAX -> n <= WARP ? (int) powerOfTwoAtLeast(n) // a narrower "warp" (warp_softmax's WARP_SIZE)
                : n <= WARP_SOFTMAX_MAX_ELEMENTS ? WARP : softmaxBlock(n, elementBytes);
            case LAYERNORM -> LAYER_NORM_THREADS;
            default -> (int) Math.max(WARP, Math.min(n, MAX_CTA_THREADS));
        };
    }

    /** PyTorch's SoftMax_getBlockSize: ILP 16-byte vectors, half the row's vectors, a power of two, 32 to 1024. */
    private static int softmaxBlock(long n, int elementBytes) {
        long ilp = Math.max(1, 16 / elementBytes);
        long max = Math.min(n / ilp, MAX_CTA_THREADS);
        if (ilp > 1) {
            max /= 2;
        }
        return (int) Math.max(powerOfTwoAtLeast(max), WARP);
    }

    private static long powerOfTwoAtLeast(long x) {
        long p = 1;
        while (p < x) {
            p *= 2;
        }
        return p;
    }

    /** Reductions a row goes through one after another: softmax its max then its sum, a norm its statistics. */
    static int reductions(OpKind kind) {
        return kind == OpKind.SOFTMAX ? 2 : 1;
    }

    /** Cycles of one reduction of a row: its warp steps and, for a CTA of several warps, its shared-memory steps. */
    public static long cycles(HardwareSpec.Simt simt, OpKind kind, long n, int elementBytes) {
        if (kind == OpKind.LAYERNORM) {
            return layerNormCycles(simt);
        }
        long step = simt.shuffleLatencyCycles() + simt.fp32LatencyCycles();
        int threads = threadsPerRow(kind, n, elementBytes);
        long chain = log2Ceil(Math.min(threads, WARP)) * step;
        int warps = (threads + WARP - 1) / WARP;
        if (warps > 1) {
            chain += 4L * simt.shuffleLatencyCycles() + log2Ceil(warps) * step;
        }
        return chain;
    }

    /**
     * Cycles of a layer norm row's statistics after its threads' own updates, as {@code compute_stats} and its caller
     * in layer_norm_kernel.cu write them for a CTA of 32 x 4 threads:
     * <ul>
     *   <li>5 warp steps, each 3 shuffles (mean, sigma2, count: issued together, one latency) and a
     *       {@code cuWelfordCombine}: the count's add, its reciprocal {@code 1.f/count} (a special-function op: the
     *       source's comment, "1./count goes to intrinsic"), the weight's multiply, then the mean's and the
     *       variance's multiply-add and add: 4 FP32 ops and 1 special-function op in a chain;</li>
     *   <li>across the 4 warps, log2(4) = 2 rounds, each: the upper warps store their partials to shared memory, a
     *       barrier, the lower warps load them and combine, a barrier; then warp 0 stores the mean and
     *       {@code sigma2 / N} (a division: a reciprocal and 2 FP32 ops), a barrier, every thread loads them: 6
     *       shared-memory accesses (each taken as long as a shuffle, as before) and 5 barriers;</li>
     *   <li>{@code rsqrt(sigma2 + eps)}: an FP32 add and a special-function op, before the normalise loads.</li>
     * </ul>
     */
    static long layerNormCycles(HardwareSpec.Simt simt) {
        long fp32 = simt.fp32LatencyCycles();
        long special = simt.specialFunctionLatencyCycles();
        long shuffle = simt.shuffleLatencyCycles(); // a shared-memory access is taken as long
        long barrier = simt.barrierLatencyCycles();
        long combine = 4 * fp32 + special;
        int warps = LAYER_NORM_THREADS / WARP;
        int rounds = log2Ceil(warps);
        long warpSteps = log2Ceil(WARP) * (shuffle + combine);
        long ctaRounds = rounds * (2 * shuffle + 2 * barrier + combine);
        long statistics = 2 * shuffle + barrier + special + 2 * fp32;
        long rsqrt = fp32 + special;
        return warpSteps + ctaRounds + statistics + rsqrt;
    }

    /**
     * Cycles of a layer norm thread's own Welford updates before the row's reduction: each of its elements
     * ({@code cuWelfordOnlineSum}) subtracts the running mean and multiply-adds the new one, 2 dependent FP32 ops
     * on the mean's chain; the first also waits for its count's reciprocal (the counts run ahead of the data).
     * A thread holds ceil(n / 128) elements (loaded 4 at a time, vec_size in layer_norm_kernel.cu: the loads do not
     * shorten the chain).
     */
    static long layerNormThreadCycles(HardwareSpec.Simt simt, long n) {
        long elements = (n + LAYER_NORM_THREADS - 1) / LAYER_NORM_THREADS;
        return simt.fp32LatencyCycles() + simt.specialFunctionLatencyCycles()
            + 2 * elements * simt.fp32LatencyCycles();
    }

    /**
     * Cycles of a row on chip: its threads' own updates (a layer norm's Welford updates) and all of its reductions
     * (softmax's two), one after the other.
     */
    public static long rowCycles(HardwareSpec.Simt simt, OpKind kind, long n, int elementBytes) {
        long own = kind == OpKind.LAYERNORM ? layerNormThreadCycles(simt, n) : 0;
        return own + reductions(kind) * cycles(simt, kind, n, elementBytes);
    }

    /** Rows whose reductions a core overlaps: its resident threads over the threads of one row, at least one. */
    public static long rowsInFlight(HardwareSpec.Simt simt, OpKind kind, long n, int elementBytes) {
        return Math.max(1, simt.threads() / threadsPerRow(kind, n, elementBytes));
    }

    private static int log2Ceil(long x) {
        return 64 - Long.numberOfLeadingZeros(x - 1);
    }
}

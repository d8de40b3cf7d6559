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
 *       shared-memory load latency on the GPUs modelled). A barrier adds nothing of its own here (no sourced
 *       figure): the chain is a lower bound.</li>
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
 *       Welford reduction whose combine ({@code cuWelfordCombine}) is 5 dependent operations: count add,
 *       reciprocal, scale, the variance term's multiply, its add.</li>
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
    /** Dependent operations in a Welford combine (layer_norm_kernel.cu cuWelfordCombine; see the class comment). */
    static final int WELFORD_COMBINE_DEPTH = 5;

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
        int depth = kind == OpKind.LAYERNORM ? WELFORD_COMBINE_DEPTH : 1;
        long step = simt.shuffleLatencyCycles() + (long) depth * simt.fp32LatencyCycles();
        int threads = threadsPerRow(kind, n, elementBytes);
        long chain = log2Ceil(Math.min(threads, WARP)) * step;
        int warps = (threads + WARP - 1) / WARP;
        if (warps > 1) {
            chain += 4L * simt.shuffleLatencyCycles() + log2Ceil(warps) * step;
        }
        return chain;
    }

    /** Cycles of all of a row's reductions (softmax's two), run one after the other. */
    public static long rowCycles(HardwareSpec.Simt simt, OpKind kind, long n, int elementBytes) {
        return reductions(kind) * cycles(simt, kind, n, elementBytes);
    }

    /** Rows whose reductions a core overlaps: its resident threads over the threads of one row, at least one. */
    public static long rowsInFlight(HardwareSpec.Simt simt, OpKind kind, long n, int elementBytes) {
        return Math.max(1, simt.threads() / threadsPerRow(kind, n, elementBytes));
    }

    private static int log2Ceil(long x) {
        return 64 - Long.numberOfLeadingZeros(x - 1);
    }
}

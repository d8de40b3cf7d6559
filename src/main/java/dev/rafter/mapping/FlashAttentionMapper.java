package dev.rafter.mapping;

import dev.rafter.config.InputException;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.workload.Operator;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Maps a {@code flash_attention} operator as FlashAttention-2 runs it (Dao, "FlashAttention-2", 2023, Algorithm 1):
 * each core takes a Q tile of {@code Br} query rows of one item (sequence x KV head), keeps it resident and streams
 * that item's K and V in blocks of {@code Bc} keys; per block it computes S = Q K_j^T, the online softmax on the
 * vector unit (max, rescale, one exp per score) and O += P V_j. The scores never leave the core, so the HBM traffic
 * is Q, K, V read and O written: linear in the sequence length.
 *
 * <p>Tiles: a core's work per Q tile is one matrix tile of {@code Br x d} over depth {@code 2 x keys} in chunks of
 * {@code 2 Bc} (the QK^T and PV products of a block together: Br x Bc x d MACs each), whose B operand is the K and
 * V block (2 Bc x d, in the KV data type) and whose A operand stands for the on-chip Q and P (Br x 2 Bc through the
 * local port, never HBM), then one vector tile of the online softmax over its scores (5 FLOPs and 1 exp per score,
 * plus the rescale of O, 2 d FLOPs per row per block). Block sizes: the largest Br, then Bc, of 128, 64, 32, 16
 * (FlashAttention-2's kernels use 64 and 128 for head dims up to 128) whose double-buffered tile fits the local
 * buffer; capped by the rows and keys.
 *
 * <p>Causal: a Q tile streams only the blocks up to its last query position; fully masked blocks are skipped (not
 * computed, not loaded), a block on the diagonal is computed whole, as FlashAttention does.
 *
 * <p>Reuse of K and V: Q tiles run in blocks of one per core; the stage of key block j loads K_j and V_j once per
 * item for all the Q tiles of that item in the block (GQA/MQA: the query heads of a KV group are rows of the same
 * item, so they share one read of K and V). A later block of Q tiles of the same item re-reads K_j and V_j from the
 * global buffer when they could stay pinned (the budget beside the two streaming stages), else from HBM again.
 *
 * <p>Split-KV (FlashDecoding; FlashAttention-2's {@code flash_fwd_splitkv_kernel}): when the kernel's CTAs would
 * leave cores idle (decode: one Q tile per sequence x KV head), each item's keys are cut into {@code S} splits of
 * whole key blocks, each split a Q tile of its own that writes its partial output in fp32; a second kernel
 * ({@code flash_fwd_splitkv_combine_kernel}) reads the {@code S} partials of every output row, rescales them by
 * their log-sum-exps and writes O. {@code S} comes from FlashAttention-2's {@code num_splits_heuristic}
 * ({@link #numSplits}). The 4-byte log-sum-exp a split writes per row beside its {@code d} partial outputs (under
 * 1% of the partials) is left out of the traffic.
 */
public final class FlashAttentionMapper {
    private static final int[] BLOCKS = {128, 64, 32, 16};

    /**
     * CTAs of the split-KV kernel resident per core, as FlashAttention-2 assumes when it sizes the split
     * (flash-attention v2.6 csrc/flash_attn/flash_api.cpp, set_params_splitkv: "We multiply number of SMs by 2 to
     * hard-code the fact that we're using 128 threads per block").
     */
    static final int SPLIT_CTAS_PER_CORE = 2;
    /** Most splits FlashAttention-2 considers (set_params_splitkv passes 128 to num_splits_heuristic). */
    static final int MAX_SPLITS = 128;
    /** Query rows per CTA of the split-KV kernel (run_mha_fwd_splitkv_dispatch: kBlockM = 64). */
    static final int SPLIT_BLOCK_M = 64;
    /** Bytes of a split's partial output element: fp32 accumulators (FlashAttention-2's out_accum). */
    static final int PARTIAL_BYTES = 4;

    private FlashAttentionMapper() {}

    /** The attention kernel, then with split-KV the combine kernel that merges its partial outputs. */
    public static List<TileProgram> programs(HardwareSpec hw, Operator op) {
        int splits = numSplits(hw, op);
        if (splits == 1) {
            return List.of(plan(hw, op, 1));
        }
        return List.of(plan(hw, op, splits), combine(hw, op, splits));
    }

    /** The attention kernel of {@code op} without a split of its keys. */
    public static TileProgram plan(HardwareSpec hw, Operator op) {
        return plan(hw, op, 1);
    }

    /**
     * Splits of the KV sequence FlashAttention-2 chooses for {@code op} on {@code hw} (flash_api.cpp,
     * set_params_splitkv): its CTAs are items x ceil(rows / 64) (rows: the query rows of the longest segment; a
     * GQA group's query heads are rows of one item, as FA2 lays out a decode step with seqlenq_ngroups_swapped),
     * the KV length in blocks of {@link #splitBlockN} keys, the device's cores x {@link #SPLIT_CTAS_PER_CORE}.
     */
    static int numSplits(HardwareSpec hw, Operator op) {
        long items = 0;
        long rows = 0;
        long keys = 0;
        for (Operator.Segment s : op.parts()) {
            items += s.batch();
            rows = Math.max(rows, s.m());
            keys = Math.max(keys, s.n());
        }
        long ctas = items * ceilDiv(rows, SPLIT_BLOCK_M);
        long keyBlocks = ceilDiv(keys, splitBlockN(op.k()));
        return numSplitsHeuristic(ctas, (long) hw.cores() * SPLIT_CTAS_PER_CORE, keyBlocks, MAX_SPLITS);
    }

    /** Keys per block of FlashAttention-2's split-KV kernel (run_mha_fwd_splitkv_dispatch: kBlockN by head dim). */
    static int splitBlockN(long headDim) {
        return headDim <= 64 ? 256 : headDim <= 128 ? 128 : 64;
    }

    /**
     * FlashAttention-2's num_splits_heuristic (flash-attention v2.6 csrc/flash_attn/flash_api.cpp), transcribed:
     * no split when the CTAs almost fill the device (80% of its CTA slots); else, of the split counts up to the
     * most (and up to the slots and key blocks) that change the blocks per split, the smallest whose wave
     * efficiency (CTAs / slots over its ceiling) is at least 85% of the best, since more splits cost more partial
     * traffic.
     */
    static int numSplitsHeuristic(long ctas, long slots, long keyBlocks, int maxSplits) {
        if (ctas >= 0.8f * slots) {
            return 1;
        }
        int most = (int) Math.min(maxSplits, Math.min(slots, keyBlocks));
        float[] efficiency = new float[Math.max(most, 0) + 1];
        float best = 0f;
        for (int s = 1; s <= most; s++) {
            if (s > 1 && ceilDiv(keyBlocks, s) == ceilDiv(keyBlocks, s - 1)) {
                continue; // the same blocks per split as s - 1: its last split would be empty
            }
            float waves = (float) (ctas * s) / slots;
            efficiency[s] = waves / (float) Math.ceil(waves);
            best = Math.max(best, efficiency[s]);
        }
        for (int s = 1; s <= most; s++) {
            if ((s == 1 || ceilDiv(keyBlocks, s) != ceilDiv(keyBlocks, s - 1)) && efficiency[s] >= 0.85f * best) {
                return s;
            }
        }
        return 1;
    }

    /**
     * The segments a kernel of {@code splits} runs: each segment's keys in splits of ceil(blocks / splits) key
     * blocks (FA2's n_blocks_per_split from the sequence's own length), the full splits of every item first, then
     * the shorter last ones (same-length Q tiles side by side). Only the split holding the last keys keeps the
     * causal mask; the earlier ones see every key.
     */
    private static List<Part> parts(Operator op, int splits) {
        List<Part> out = new ArrayList<>();
        for (Operator.Segment s : op.parts()) {
            long count = splitsOf(s, op.k(), splits);
            if (count == 1) {
                out.add(new Part(s.batch(), s.m(), s.n(), s.queryTokens(), op.causal()));
                continue;
            }
            long perSplit = splitKeys(s, op.k(), splits);
            out.add(new Part(s.batch() * (count - 1), s.m(), perSplit, s.queryTokens(), false));
            out.add(new Part(s.batch(), s.m(), s.n() - (count - 1) * perSplit, s.queryTokens(), op.causal()));
        }
        return out;
    }

    /** Keys per split of a segment: its own key blocks over the kernel's splits (FA2's n_blocks_per_split). */
    private static long splitKeys(Operator.Segment s, long headDim, int splits) {
        long blockN = splitBlockN(headDim);
        return ceilDiv(ceilDiv(s.n(), blockN), splits) * blockN;
    }

    /** The splits of a segment that hold keys: fewer than the kernel's for a shorter sequence. */
    private static long splitsOf(Operator.Segment s, long headDim, int splits) {
        return splits == 1 || s.n() == 0 ? 1 : ceilDiv(s.n(), splitKeys(s, headDim, splits));
    }

    /** A run of items of one shape: rows, keys, new tokens per sequence, whether the causal mask applies. */
    private record Part(long batch, long m, long n, long queryTokens, boolean causal) {}

    private static TileProgram plan(HardwareSpec hw, Operator op, int splits) {
        int e = op.dataType().bytes();
        int ekv = op.operandBType().bytes();
        long d = op.k();
        List<Part> parts = parts(op, splits);
        // One block size for the whole kernel, chosen for its largest rows and keys (varlen kernels fix theirs).
        long m = 0;
        long n = 0;
        for (Part s : parts) {
            m = Math.max(m, s.m());
            n = Math.max(n, s.n());
        }
        int cores = hw.cores();
        long capacity = hw.core().localBuffer().capacityBytes();
        long globalCapacity = hw.globalBuffer().capacityBytes();
        HardwareSpec.Simt simt = hw.core().simt();
        // A decode step reads its KV cache through FA2's split-KV kernel even unsplit (flash_api.cpp
        // mha_fwd_kvcache: run_mha_fwd(..., force_split_kernel = true)); prefill runs the main kernel.
        boolean splitKernel = splits > 1 || op.phase() == dev.rafter.workload.Phase.DECODE;
        int[] kernel = simt == null ? null : splitKernel ? new int[] {SPLIT_BLOCK_M, splitBlockN(d), FA2_WARPS}
            : fa2Tile(d);
        long[] block = kernel == null ? null : fa2Block(kernel, m, n, d, e, ekv, cores, capacity, globalCapacity);
        if (block == null) {
            kernel = null; // FA2's tile does not fit this core: the largest that does, at the arrays' rates
            block = blockSize(m, n, d, e, ekv, cores, capacity, globalCapacity);
        }
        long br = block[0];
        long bc = block[1];
        if (br == 0) {
            throw new InputException("core.local_buffer.capacity_kib: no flash-attention tile of op " + op.id()
                + " (head dim " + d + ") fits the local buffer and two stages of the global buffer");
        }
        Tasks work = new Tasks(parts, br, bc);
        long tasks = work.tasks;
        if (tasks > GemmMapper.MAX_TILES) {
            throw new InputException("op " + op.id() + " '" + op.name() + "': " + tasks + " Q tiles exceed the "
                + GemmMapper.MAX_TILES + " a tile-level simulation handles; split the operator");
        }
        long kvBlocks = ceilDiv(n, bc);
        long blocks = ceilDiv(tasks, cores);
        long[] base = new long[(int) blocks + 1];
        for (int b = 0; b < blocks; b++) {
            int most = 0;
            for (long t = (long) b * cores; t < Math.min(tasks, (long) (b + 1) * cores); t++) {
                most = Math.max(most, work.visible(t));
            }
            base[b + 1] = base[b] + most;
        }
        long kvBlockBytes = 2 * bc * d * ekv;
        Stages staged = new Stages(work, d * e, d * ekv, bc, kvBlocks,
            globalCapacity - 2 * (cores * (br * d * e + kvBlockBytes)));
        int coResident = 1;
        Chain chain = null;
        if (kernel != null) {
            coResident = ctasPerCore(hw, kernel, d, e);
            // The measured chain is the main kernel's on dense batches; a serving step's variable-length kernel
            // reads a paged KV cache, which FA2 runs on its split-KV kernel (flash_api.cpp mha_varlen_fwd:
            // run_mha_fwd(params, stream, paged_KV)), though mapped here with the main kernel's tiles.
            chain = new Chain(hw, op, kernel, coResident, d, !splitKernel && op.segments().isEmpty());
        }
        List<List<Work>> perCore = TileProgram.emptyCores(cores);
        for (int b = 0; b < blocks; b++) {
            long t0 = (long) b * cores;
            long t1 = Math.min(tasks, t0 + cores);
            staged.block(t0, t1, (int) (base[b + 1] - base[b]));
            addTiles(work, perCore, t0, t1, (int) base[b], d, bc, splits, ekv, chain, blocks, tasks, cores);
        }
        List<Stage> stages = staged.stages;
        long read = staged.read;
        long write = 0;
        for (Part s : parts) {
            write += s.batch() * s.m() * d * (splits == 1 ? e : PARTIAL_BYTES);
        }
        double once = 0.0;
        for (Operator.Segment s : op.parts()) {
            once += s.batch() * (s.m() * d * e + 2.0 * s.n() * d * ekv);
        }
        // Concatenated but for the two figures: a decode step explains its attention anew at every KV length, and a
        // Formatter run that seldom stays slow (a format of nine fields cost about 50 us a step).
        String why = "flash: " + (op.segments().isEmpty() ? "" : "variable length over " + op.parts().size()
            + " groups, ") + "Q tiles of " + br + " rows, K/V blocks of " + bc + " keys"
            + (op.causal() ? ", causal (masked blocks skipped)" : "")
            + (splits == 1 ? "" : ", split-KV " + splits + " (fp32 partials, then a combine kernel)") + "; " + tasks
            + " Q tiles in " + blocks + " blocks of " + cores + " cores; "
            + String.format(Locale.ROOT, "HBM read %.3g MB (Q, K, V once: %.3g MB)", read / 1e6, once / 1e6)
            + (kernel == null ? "" : "; FA2 kernel " + kernel[0] + "x" + kernel[1] + ", " + kernel[2]
                + " warps, up to " + coResident + " CTAs per core, per-block chain on mma.sync");
        return new TileProgram(stages, perCore, read, write, why);
    }

    /**
     * FlashAttention-2's forward kernel for head dim {@code d} on sm80/sm90 without dropout: {kBlockM, kBlockN,
     * warps} (flash-attention csrc/flash_attn/src/flash_fwd_launch_template.h, run_mha_fwd_hdim32 ... 256; d = 256
     * as on H100: 64 x 64 with 4 warps "since then we can get 2 CTAs per SM").
     */
    static int[] fa2Tile(long d) {
        if (d <= 64) {
            return new int[] {128, 128, 4};
        }
        if (d <= 128) {
            return new int[] {128, 64, 4};
        }
        if (d <= 192) {
            return new int[] {128, 64, 8};
        }
        return new int[] {64, 64, 4};
    }

    /** Warps of FA2's split-KV kernel (run_mha_fwd_splitkv_dispatch: 4). */
    static final int FA2_WARPS = 4;
    /**
     * Registers per thread of FA2's forward kernels: 255, the hardware's most (the bundled BERT trace's
     * flash_fwd_kernel at d = 64 records 255; assumed for the other head dims and the split-KV kernel, which hold
     * the same S and O accumulators).
     */
    static final int FA2_REGISTERS_PER_THREAD = 255;

    /** FA2's {rows, keys} block capped by the rows and keys, or null when its tiles do not fit the core. */
    private static long[] fa2Block(int[] kernel, long m, long n, long d, int e, int ekv, int cores, long capacity,
                                   long globalCapacity) {
        long rr = Math.min(kernel[0], m);
        long cc = Math.min(kernel[1], n);
        long local = 2 * (rr * 2 * cc * e + 2 * cc * d * ekv) + 2 * rr * d * e;
        long stage = cores * (rr * d * e + 2 * cc * d * ekv);
        return local <= capacity && 2 * stage <= globalCapacity ? new long[] {rr, cc} : null;
    }

    /**
     * CTAs of the kernel that fit one core at once: by registers (per thread rounded up to 8, the warp allocation
     * unit of 256 registers) and by shared memory, (kBlockM + 2 kBlockN) x d elements (kernel_traits.h kSmemSize);
     * at least one.
     */
    static int ctasPerCore(HardwareSpec hw, int[] kernel, long d, int e) {
        long perWarp = (FA2_REGISTERS_PER_THREAD + 7) / 8 * 8 * 32L;
        long byRegisters = hw.core().simt().registers() / (perWarp * kernel[2]);
        long smem = ((long) kernel[0] + 2L * kernel[1]) * d * e;
        long bySmem = hw.core().localBuffer().capacityBytes() / smem;
        return (int) Math.max(1, Math.min(byRegisters, bySmem));
    }

    /**
     * Cycles one CTA's K/V block takes on a core, {throughput, latency} (FlashAttention-2, Algorithm 1, one block
     * after the other): S = Q K_j^T and O += P V_j each kBlockM x kBlockN x d MACs on the mma.sync path; the online
     * softmax's exp per score on the special-function units and its 5 FLOPs per score plus the rescale of O (2 d
     * per row) on the lanes (the CTA computes its whole kBlockM rows and kBlockN keys, padded or masked or not).
     * Their latencies the CTA waits out in turn: each product's last mma.sync; the row max, a dependent chain over
     * the kBlockN / 4 scores a thread holds of a row (an m16n8 accumulator gives each of a quad's 4 threads 2 of 8
     * columns), then 2 shuffles across the quad; the row sum over the same scores (thread-local: FA2 reduces it
     * across the quad only at the end).
     */
    static double[] blockCycles(HardwareSpec hw, int[] kernel, long d) {
        HardwareSpec.Simt simt = hw.core().simt();
        HardwareSpec.VectorUnit v = hw.core().vectorUnit();
        double scores = (double) kernel[0] * kernel[1];
        double mma = scores * d / simt.mmaSyncMacsPerCycle();
        double flops = 5 * scores + 2.0 * kernel[0] * d;
        double lanes = (double) v.lanes() * v.flopsPerLanePerCycle();
        double softmax = v.specialFunctionsPerCycle() > 0
            ? Math.max(flops / lanes, scores / v.specialFunctionsPerCycle()) : (flops + scores) / lanes;
        double throughput = 2 * mma + softmax;
        double latency = 2.0 * simt.mmaSyncLatencyCycles() + 2.0 * (kernel[1] / 4) * simt.fp32LatencyCycles()
            + 2.0 * simt.shuffleLatencyCycles();
        return new double[] {throughput, latency};
    }

    /**
     * Cycles of one CTA's chain per K/V block in FA2's main (prefill) kernel as measured whole: with its CTAs on
     * every core, {@code ctas} to a core, the kernel reaches the fraction {@code core.simt.fa2_peak_fraction} of
     * the arrays' dense peak, so a core finishes {@code ctas} blocks (2 kBlockM x kBlockN x d MACs each, padded or
     * masked or not) per chain: a chain that long is what a lone CTA waits out per block. The measurement holds
     * the waits {@link #blockCycles} leaves out (a lone warp per scheduler issuing in order, barriers, shared-memory
     * loads, register-bound scheduling), so the longer of the two is the chain. 0 without the figure.
     */
    static double measuredChainCycles(HardwareSpec hw, Operator op, int[] kernel, long d, int ctas) {
        double fraction = hw.core().simt().fa2PeakFraction();
        if (fraction == 0) {
            return 0;
        }
        HardwareSpec.Core core = hw.core();
        double peak = (double) core.peArrays() * core.peArray().rows() * core.peArray().cols()
            * core.peArray().macsPerCycle(op.dataType());
        return ctas * 2.0 * kernel[0] * kernel[1] * d / (fraction * peak);
    }

    /**
     * Makes each Q tile take as long as the kernel's CTAs do: a core holding c of them at once (the fewer of the
     * CTAs that fit and the Q tiles it gets) spends per K/V block the longer of one CTA's throughput and a c-th of
     * its chain (throughput plus latency, or for the main kernel the measured chain where longer), the co-resident
     * CTAs filling each other's waits. What that exceeds the core's own timing of the tile by (its products at the
     * arrays' rate, its softmax on the vector unit) the core waits out after each block's products, as latency.
     * Other kernels ({@code measured} false: the split-KV kernel) keep the chain of their parts: no figure measures
     * them, and the split kernel's 64-row tiles give each warp half the main kernel's rows, another instruction mix.
     * Figured as the tiles are made (the Q tiles a core gets are known from its index), not by remaking them.
     */
    private static final class Chain {
        private final double throughput;
        private final double chain;
        private final int ctas;
        private final HardwareSpec.VectorUnit vector;
        private final ChunkCycles chunkCycles;

        Chain(HardwareSpec hw, Operator op, int[] kernel, int ctas, long d, boolean measured) {
            double[] block = blockCycles(hw, kernel, d);
            double chain = block[0] + block[1];
            if (measured) {
                chain = Math.max(chain, measuredChainCycles(hw, op, kernel, d, ctas));
            }
            this.throughput = block[0];
            this.chain = chain;
            this.ctas = ctas;
            this.vector = hw.core().vectorUnit();
            this.chunkCycles = new ChunkCycles(hw.core(), op.dataType());
        }

        /**
         * The cycles a Q tile's core waits beyond its own timing, on a core that gets {@code qTiles} of them: its
         * matrix tile of {@code rows x d} over depth {@code k} in {@code chunks} chunks of {@code localK} (the last
         * one shallower), its softmax of {@code flops} and {@code specialFunctions}.
         */
        long exposed(long qTiles, long rows, long d, long k, long localK, long chunks, long flops,
                     long specialFunctions) {
            int c = (int) Math.min(ctas, qTiles);
            double perBlock = Math.max(throughput, chain / Math.max(1, c));
            long own = 0;
            for (long j = 0; j < chunks; j++) {
                own += chunkCycles.of(rows, d, Math.min(localK, k - j * localK));
            }
            long flopsCycles = ceilDiv(flops, (long) vector.lanes() * vector.flopsPerLanePerCycle());
            int sfu = vector.specialFunctionsPerCycle();
            own += sfu > 0 ? Math.max(flopsCycles, ceilDiv(specialFunctions, sfu)) : flopsCycles;
            return Math.max(0, Math.round(chunks * perBlock) - own);
        }
    }

    /**
     * {@link LaneSplit#cycles} of a chunk shape, remembering the last two shapes: a Q tile's chunks are all one shape
     * but the last, and every core's tiles repeat them, so the fold model runs a few times per kernel instead of
     * once per chunk of every core (a decode step's attention is planned anew at each KV length).
     */
    static final class ChunkCycles {
        private final HardwareSpec.Core core;
        private final dev.rafter.hw.DataType type;
        private final long[] m = {-1, -1};
        private final long[] n = new long[2];
        private final long[] k = new long[2];
        private final long[] cycles = new long[2];
        private int older;

        ChunkCycles(HardwareSpec.Core core, dev.rafter.hw.DataType type) {
            this.core = core;
            this.type = type;
        }

        long of(long arrayM, long arrayN, long arrayK) {
            for (int i = 0; i < 2; i++) {
                if (m[i] == arrayM && n[i] == arrayN && k[i] == arrayK) {
                    older = 1 - i;
                    return cycles[i];
                }
            }
            int i = older;
            m[i] = arrayM;
            n[i] = arrayN;
            k[i] = arrayK;
            cycles[i] = LaneSplit.cycles(core, arrayM, arrayN, arrayK, type);
            older = 1 - i;
            return cycles[i];
        }
    }

    /**
     * The largest Q-row and K/V-key blocks (rows first) whose double-buffered tiles fit the local buffer and whose
     * stage for every core fits half the global buffer: {rows, keys}, or {0, 0} if none does.
     */
    private static long[] blockSize(long m, long n, long d, int e, int ekv, int cores, long capacity,
                                    long globalCapacity) {
        for (int r : BLOCKS) {
            for (int c : BLOCKS) {
                long rr = Math.min(r, m);
                long cc = Math.min(c, n);
                long local = 2 * (rr * 2 * cc * e + 2 * cc * d * ekv) + 2 * rr * d * e;
                long stage = cores * (rr * d * e + 2 * cc * d * ekv);
                if (local <= capacity && 2 * stage <= globalCapacity) {
                    return new long[] {rr, cc};
                }
            }
        }
        return new long[] {0, 0};
    }

    /**
     * Each core's tiles of one block of Q tiles {@code [t0, t1)}: the score/context matrix tile, then its softmax,
     * each with the latency {@code chain} exposes (none without FA2's kernel: {@code chain} null). The kernel has
     * {@code blocks} blocks of {@code cores} over its {@code tasks} Q tiles: core i gets one in every block but the
     * last, which holds the rest.
     */
    private static void addTiles(Tasks work, List<List<Work>> perCore, long t0, long t1, int first, long d, long bc,
                                 int splits, int ekv, Chain chain, long blocks, long tasks, int cores) {
        long lastBlockTasks = tasks - (blocks - 1) * cores;
        int resultBytes = splits == 1 ? 0 : PARTIAL_BYTES;
        // The tiles are records: a Q tile like the one before (the items of a part are alike; so are most cores'
        // shares of a block) gets the same two objects instead of equal new ones.
        long lastRows = -1;
        long lastKeys = -1;
        int lastV = -1;
        long lastQTiles = -1;
        MatrixTile matrix = null;
        VectorTile softmax = null;
        for (long t = t0; t < t1; t++) {
            int rows = (int) work.rows(t);
            int v = work.visible(t);
            long keys = Math.min(work.keys(work.item(t)), (long) v * bc);
            int coreIndex = (int) (t - t0);
            long qTilesOnCore = chain == null ? 0 : blocks - (coreIndex < lastBlockTasks ? 0 : 1);
            if (rows != lastRows || keys != lastKeys || v != lastV || qTilesOnCore != lastQTiles) {
                lastRows = rows;
                lastKeys = keys;
                lastV = v;
                lastQTiles = qTilesOnCore;
                long scores = rows * keys;
                long flops = 5 * scores + 2L * rows * d * v;
                if (chain == null) {
                    matrix = new MatrixTile(first, rows, (int) d, 2 * keys, (int) (2 * bc), 1, rows, (int) d, false,
                        resultBytes, ekv);
                    softmax = new VectorTile(first + v - 1, scores, 0, 0, flops, scores);
                } else {
                    long localK = 2 * bc;
                    long k = 2 * keys;
                    long chunks = (k + localK - 1) / localK;
                    long exposed = chain.exposed(qTilesOnCore, rows, d, k, localK, chunks, flops, scores);
                    // Spread over the blocks, so the next blocks' loads overlap it as the kernel's cp.async does; the
                    // remainder after the softmax.
                    matrix = new MatrixTile(first, rows, (int) d, k, (int) localK, 1, rows, (int) d, false,
                        resultBytes, ekv, exposed / chunks);
                    softmax = new VectorTile(first + v - 1, scores, 0, 0, flops, scores, exposed % chunks);
                }
            }
            List<Work> core = perCore.get(coreIndex);
            core.add(matrix);
            core.add(softmax);
        }
    }

    /**
     * The global-buffer stages of the kernel, block by block of Q tiles: a block's first stage brings its Q tiles,
     * each stage the K/V block its tiles see; a K/V block still needed by an item's Q tiles in a later block stays
     * pinned while the pin budget allows, and is not loaded again.
     */
    private static final class Stages {
        private final Tasks work;
        private final long queryRowBytes;
        private final long kvKeyBytes;
        private final long bc;
        private final long kvBlocks;
        private final long pinBudget;
        private final java.util.Map<Long, boolean[]> resident = new java.util.HashMap<>(); // pinned K/V per item
        private long pinned;
        private long address;
        private long pin; // bytes the stage being planned pins, and unpins
        private long unpin;
        final List<Stage> stages = new ArrayList<>();
        long read;

        Stages(Tasks work, long queryRowBytes, long kvKeyBytes, long bc, long kvBlocks, long pinBudget) {
            this.work = work;
            this.queryRowBytes = queryRowBytes;
            this.kvKeyBytes = kvKeyBytes;
            this.bc = bc;
            this.kvBlocks = kvBlocks;
            this.pinBudget = pinBudget;
        }

        void block(long t0, long t1, int stageCount) {
            long[] users = new long[stageCount];
            long firstItemOfBlock = work.item(t0);
            long lastItemOfBlock = work.item(t1 - 1);
            // Per item of the block, once (not once per stage): the most key blocks its Q tiles here see, its KV
            // length and whether its Q tiles run on in a later block.
            int itemCount = (int) (lastItemOfBlock - firstItemOfBlock + 1);
            int[] mostVisible = new int[itemCount];
            long[] keysOf = new long[itemCount];
            boolean[] later = new boolean[itemCount];
            long[] end = new long[itemCount];
            for (int i = 0; i < itemCount; i++) {
                long item = firstItemOfBlock + i;
                long itemEnd = work.endTask(item);
                end[i] = itemEnd;
                later[i] = itemEnd > t1;
                keysOf[i] = work.keys(item);
            }
            for (long t = t0; t < t1; t++) {
                int v = work.visible(t);
                for (int j = 0; j < v; j++) {
                    users[j]++;
                }
                users[v - 1]++; // the online-softmax vector tile
                int i = (int) (work.item(t) - firstItemOfBlock);
                mostVisible[i] = Math.max(mostVisible[i], v);
            }
            for (int j = 0; j < stageCount; j++) {
                long load = 0;
                if (j == 0) {
                    for (long t = t0; t < t1; t++) {
                        load += work.rows(t) * queryRowBytes;
                    }
                }
                long queries = load;
                pin = 0;
                unpin = 0;
                load += keyBlock(j, firstItemOfBlock, mostVisible, keysOf, later);
                pinned -= unpin;
                if (j == stageCount - 1 && !resident.isEmpty()) {
                    for (int i = 0; i < itemCount; i++) {
                        if (end[i] <= t1) {
                            resident.remove(firstItemOfBlock + i); // its last block
                        }
                    }
                }
                stages.add(new Stage(address, load, pin, unpin, (int) users[j], queries));
                address += (load + 255) / 256 * 256;
                read += load;
            }
        }

        /**
         * Bytes of K/V block {@code j} loaded for the block's items (the i-th from {@code firstItem}: the most key
         * blocks its Q tiles see here, its KV length, whether it runs on in a later block); adds what it pins and
         * unpins to the stage's.
         */
        private long keyBlock(int j, long firstItem, int[] mostVisible, long[] keysOf, boolean[] later) {
            long load = 0;
            for (int i = 0; i < mostVisible.length; i++) {
                if (mostVisible[i] <= j) {
                    continue;
                }
                long item = firstItem + i;
                long keys = Math.min(bc, keysOf[i] - (long) j * bc);
                long bytes = 2 * keys * kvKeyBytes;
                // Only items whose Q tiles span blocks are ever pinned (none in a decode step).
                boolean[] pins = resident.isEmpty() ? null : resident.get(item);
                if (pins != null && pins[j]) {
                    if (!later[i]) {
                        pins[j] = false;
                        unpin += bytes;
                    }
                    continue;
                }
                load += bytes;
                if (later[i] && pinned + bytes <= pinBudget) {
                    resident.computeIfAbsent(item, x -> new boolean[(int) kvBlocks])[j] = true;
                    pinned += bytes;
                    pin += bytes;
                }
            }
            return load;
        }
    }

    /**
     * The kernel's Q tiles in order: segment by segment, item by item (sequence x KV head), Q tile by Q tile; each
     * with its rows and the key blocks it sees (causal: up to its last query position in its own KV length).
     */
    private static final class Tasks {
        private final long[] firstTask;
        private final long[] firstItem;
        /** The segment of a task, of an item (the last one starting at or before it). */
        private final Segments taskSegments;
        private final Segments itemSegments;
        private final long[] qTiles;
        private final long[] rowsOf;
        private final long[] keysOf;
        private final int[][] visible;
        private final long br;
        final long tasks;

        Tasks(List<Part> parts, long br, long bc) {
            int count = parts.size();
            firstTask = new long[count];
            firstItem = new long[count];
            qTiles = new long[count];
            rowsOf = new long[count];
            keysOf = new long[count];
            visible = new int[count][];
            this.br = br;
            long task = 0;
            long item = 0;
            for (int s = 0; s < count; s++) {
                Part part = parts.get(s);
                long m = part.m();
                long n = part.n();
                long q = part.queryTokens();
                long group = m % q == 0 ? m / q : 1;
                firstTask[s] = task;
                firstItem[s] = item;
                qTiles[s] = ceilDiv(m, br);
                rowsOf[s] = m;
                keysOf[s] = n;
                visible[s] = new int[(int) Math.min(qTiles[s], Integer.MAX_VALUE)];
                for (int t = 0; t < visible[s].length; t++) {
                    long lastRow = Math.min(m, (t + 1) * br) - 1;
                    long keys = part.causal() ? Math.min(n, n - q + lastRow / group + 1) : n;
                    visible[s][t] = (int) ceilDiv(Math.max(1, keys), bc);
                }
                task += part.batch() * qTiles[s];
                item += part.batch();
            }
            tasks = task;
            taskSegments = new Segments(firstTask);
            itemSegments = new Segments(firstItem);
        }

        /**
         * The segment a task or item falls in (the last one starting at or before it), the one found last tried
         * first: the mapper walks the tasks in order.
         */
        private static final class Segments {
            private final long[] starts;
            private int found;

            Segments(long[] starts) {
                this.starts = starts;
            }

            int of(long x) {
                int s = found;
                if (x >= starts[s] && (s + 1 == starts.length || x < starts[s + 1])) {
                    return s;
                }
                int lo = 0;
                int hi = starts.length - 1;
                while (lo < hi) {
                    int mid = (lo + hi + 1) >>> 1;
                    if (starts[mid] <= x) {
                        lo = mid;
                    } else {
                        hi = mid - 1;
                    }
                }
                found = lo;
                return lo;
            }
        }

        int visible(long t) {
            int s = taskSegments.of(t);
            return visible[s][(int) ((t - firstTask[s]) % qTiles[s])];
        }

        long rows(long t) {
            int s = taskSegments.of(t);
            return Math.min(br, rowsOf[s] - ((t - firstTask[s]) % qTiles[s]) * br);
        }

        long item(long t) {
            int s = taskSegments.of(t);
            return firstItem[s] + (t - firstTask[s]) / qTiles[s];
        }

        long firstTask(long item) {
            int s = itemSegments.of(item);
            return firstTask[s] + (item - firstItem[s]) * qTiles[s];
        }

        long endTask(long item) {
            return firstTask(item) + qTiles[itemSegments.of(item)];
        }

        /** The KV length of {@code item}. */
        long keys(long item) {
            return keysOf[itemSegments.of(item)];
        }
    }

    /**
     * The combine kernel of a split-KV attention (FA2's flash_fwd_splitkv_combine_kernel): for every output row,
     * the {@code splits} fp32 partial rows read, each scaled by exp(its log-sum-exp - the rows' total) and added
     * (2 FLOPs per partial element; per row and split about 5 FLOPs and one exp for the max, the sum and the scale),
     * and O written in the operator's data type. The rows are cut into chunks as large as the local buffer allows
     * double-buffered and small enough that every core gets work; chunks run one per core per block, each block's
     * partials streaming through the global buffer as one stage.
     */
    static TileProgram combine(HardwareSpec hw, Operator op, int splits) {
        int e = op.dataType().bytes();
        long d = op.k();
        long rows = 0;
        for (Operator.Segment s : op.parts()) {
            rows += s.batch() * s.m();
        }
        long most = (long) splits * PARTIAL_BYTES * d; // partial bytes per output row, at most
        int cores = hw.cores();
        long fitLocal = hw.core().localBuffer().capacityBytes() / (2 * (most + d * e));
        long fitGlobal = hw.globalBuffer().capacityBytes() / 4 / ((long) cores * most);
        long chunk = Math.min(Math.min(fitLocal, fitGlobal), ceilDiv(rows, cores));
        if (chunk < 1) {
            throw new InputException("core.local_buffer.capacity_kib: cannot hold two rows of the split-KV combine of "
                + "op " + op.id() + " (" + splits + " fp32 partial rows of " + d + ")");
        }
        // Chunks segment by segment: a shorter sequence's row has only the partials of its non-empty splits (FA2
        // also runs its empty splits, which write zeros that its combine reads: left out).
        List<long[]> chunks = new ArrayList<>(); // {rows, partials per row}
        for (Operator.Segment s : op.parts()) {
            long partials = splitsOf(s, op.k(), splits);
            for (long left = s.batch() * s.m(); left > 0; left -= chunk) {
                chunks.add(new long[] {Math.min(chunk, left), partials});
            }
        }
        List<Stage> stages = new ArrayList<>();
        List<List<Work>> perCore = TileProgram.emptyCores(cores);
        long address = 0;
        long read = 0;
        for (int c0 = 0; c0 < chunks.size(); c0 += cores) {
            int users = Math.min(cores, chunks.size() - c0);
            long stageBytes = 0;
            VectorTile tile = null; // one object for the block's alike chunks (a record)
            for (int u = 0; u < users; u++) {
                long r = chunks.get(c0 + u)[0];
                long p = chunks.get(c0 + u)[1];
                stageBytes += r * p * PARTIAL_BYTES * d;
                if (tile == null || tile.elements() != r * d || tile.specialFunctions() != p * r) {
                    // p fp32 partials in per output, read as (p x 4 / e) operands of the op's element size.
                    tile = new VectorTile(stages.size(), r * d, (int) (p * PARTIAL_BYTES / e), 1,
                        2L * p * r * d + 5L * p * r, p * r);
                }
                perCore.get(u).add(tile);
            }
            stages.add(new Stage(address, stageBytes, 0, 0, users));
            address += (stageBytes + 255) / 256 * 256;
            read += stageBytes;
        }
        // Concatenated, not formatted: integers only, and a decode step formats it anew at every KV length (its
        // Formatter, run that seldom, stays slow).
        String why = "split-KV combine of up to " + splits + " fp32 partial rows per output row: " + chunks.size()
            + " chunks of up to " + chunk + " rows, " + Math.min(chunks.size(), cores) + " per block of " + cores
            + " cores";
        return new TileProgram(stages, perCore, read, rows * d * e, why);
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}

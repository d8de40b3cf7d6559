package dev.rafter.mapping;

import dev.rafter.config.InputException;
import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.hw.HardwareSpec.GemmTile;
import dev.rafter.workload.Operator;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Maps a GEMM as a GPU library runs it, over the hardware's list of tile shapes ({@code core.gemm_tiles}, e.g.
 * CUTLASS's 128x256x64 CTA tile). The search scores every candidate and keeps the fastest:
 * <ul>
 *   <li><b>Tile quantisation</b>: the output is padded to the tile. A 100-row GEMM on a 128-row tile computes 128
 *       rows on the arrays, and every k-step is a whole {@code k} deep; loads and stores move only real bytes.
 *       A candidate must fit the local buffer with double-buffered operands and one accumulator.</li>
 *   <li><b>Wave quantisation</b>: tiles run in waves of one per core, so the estimate counts
 *       ceil(tiles / cores) waves of the slowest tile; a last, partial wave costs a whole one.</li>
 *   <li><b>Split-K</b>: when the output tiles are fewer than the cores, K may be split into S parts (S dividing
 *       the number of k-steps, S x tiles at most the cores). Each part computes a partial tile over K/S and writes
 *       it as fp32 to memory; a second program reads the S partials of each output, adds them on the vector units
 *       and writes the output in the operator's data type. The estimate adds the partials' traffic and the
 *       reduction pass, so split-K wins only where the spare cores repay them.</li>
 * </ul>
 * Ties go to fewer tile events, then to the earlier shape in the list and to no split. The chosen tiles are laid
 * out in global-buffer blocks and stages as in {@link GemmMapper}, with stage depths from {@link #FIRST_STAGE_SHARE}
 * and {@link #streamingStageBytes}: a split-K GEMM is laid out as a batch of batch x S GEMMs of depth K/S, each
 * item reading its own K range of A and B.
 *
 * <p>A grouped GEMM is scored and laid out over its groups' padded tile rows ({@link GemmMapper.Rows}), with no
 * split-K: vLLM's fused_moe kernel runs one tile per (block of an expert's rows, block of columns) over the whole K.
 */
final class LibraryTiles {
    /** Bytes of one split-K partial sum: fp32 accumulators (a whole number of elements of any data type). */
    static final int PARTIAL_BYTES = 4;

    /**
     * Staging granularity: a GPU streams operands through its L2 one main-loop k-step at a time, while the
     * simulator moves them in global-buffer stages, and nothing computes until the first stage is in. A stage
     * holds what memory delivers in this share of the estimated time, or {@link #streamingStageBytes} if that is
     * more (whole k-steps, at least one, at most a quarter of the buffer): fine for short, memory-bound GEMMs
     * (decode), as deep as the buffer allows for long ones (fewer events). A simulation-granularity choice, not a
     * hardware constant; the old default (deepest stages) made the first fill about a third of a decode GEMM.
     */
    static final double FIRST_STAGE_SHARE = 0.01;

    /** Stages the global buffer holds in flight (sim/component/GlobalBuffer.WINDOW: double buffering). */
    static final int STAGES_IN_FLIGHT = 2;

    private LibraryTiles() {}

    /** One scored candidate: a tile shape and a split of K. */
    record Candidate(GemmTile tile, int splits, long tiles, long waves, double cycles, long events) {}

    static GemmPlan plan(HardwareSpec hw, Operator op) {
        Candidate c = search(hw, GemmMapper.Rows.of(op), op.n(), op.k(), op.dataType());
        return plan(hw, op, c);
    }

    /** The plan of a given candidate (the search's choice, or another one to compare it with). */
    static GemmPlan plan(HardwareSpec hw, Operator op, Candidate c) {
        int e = op.dataType().bytes();
        GemmTile t = c.tile();
        int s = c.splits();
        Operator parts = s == 1 ? op : Operator.gemm(op.id(), op.name(), op.phase(), op.layer(), op.step(),
            op.batch() * s, op.m(), op.n(), op.k() / s, op.dataType());
        int resultBytes = s == 1 ? 0 : PARTIAL_BYTES;
        long stageBytes = Math.max((long) (FIRST_STAGE_SHARE * c.cycles() / hw.clockHz() * hw.memoryBytesPerS()),
            streamingStageBytes(hw, Math.min(c.tiles(), hw.cores()), LaneSplit.cycles(hw.core(), t.m(), t.n(), t.k(),
                op.dataType())));
        int pipeline = pipelineStages(hw, op, t, resultBytes == 0 ? e : resultBytes);
        GemmMapper.Layout best = GemmMapper.bestLayout(hw, parts, t.m(), t.n(), t.k(), e,
            new GemmMapper.Form(true, resultBytes, stageBytes, pipeline));
        long realRows = GemmMapper.Rows.of(op).total();
        long write = (long) (s == 1 ? e : resultBytes) * s * realRows * op.n();
        double usefulMacs = (double) realRows * op.n() * op.k();
        double arrayMacs = (double) c.tiles() * t.m() * t.n() * GemmMapper.ceilDiv(parts.k(), t.k()) * t.k();
        String why = String.format(Locale.ROOT,
            "library tile %s%s, %d tiles in %d waves on %d cores (waves %.1f%% full, "
                + "%.1f%% of array MACs useful; est. %d cycles), %s%s, stage depth %d, "
                + "%d stages, HBM read %.3g MB (compulsory %.3g MB)", t, s == 1 ? "" : ", split-K " + s, c.tiles(),
            c.waves(), hw.cores(), 100.0 * c.tiles() / ((double) c.waves() * hw.cores()),
            100.0 * usefulMacs / arrayMacs, (long) c.cycles(), pipelineSource(op, pipeline),
            best.describe(), best.globalK(),
            best.stages().size(), best.hbmReadBytes() / 1e6, GemmMapper.compulsory(op, e) / 1e6);
        TileProgram program = new TileProgram(best.stages(), best.cores(), best.hbmReadBytes(), write, why);
        TileProgram reduction = s == 1 ? null : reduction(hw, op, s);
        return new GemmPlan(t.m(), t.n(), t.k(), best.globalK(), s, program, reduction);
    }

    /**
     * The k-steps a core keeps in flight for tile {@code t}: a GPU GEMM's main loop is a software pipeline whose
     * asynchronous copies (cp.async on sm80, TMA on sm90) load the next stages' operands while the arrays compute
     * the current one, so a k-step costs the longest of its computation, its loads' transfer and its load latency
     * shared over the stages in flight; the first stage's latency (the fill) and the result's store are exposed.
     * The stages are the named kernel's where its name gives them (CUTLASS 2's {@code _64x6_}); for a named kernel
     * whose name does not (cuBLAS's sm90 kernels), as many as the local buffer holds beside the accumulator, as
     * CUTLASS 3's StageCountAutoCarveout sizes an sm90 kernel (shared memory less the epilogue's carve-out, over the
     * bytes of one stage); never more than the local buffer holds, at least two and at most
     * {@link MatrixTile#MAX_LOADS_IN_FLIGHT}. The bundled H100 trace bears the rule out: its cuBLAS sm90 64x64x64
     * kernel takes 231424 B of shared memory, 14 stages of 16 KiB and 2 KiB more; its CUTLASS 64x64_64x6 kernel
     * 98304 B, 6 stages. (Here the accumulator takes local buffer room too, so the 64x64x64 tile gets 13 on the
     * H100's 228 KiB.) A GEMM no trace names a kernel for keeps double buffering: which library kernel would run it
     * is not known, and deriving its stages too sped up skinny decode GEMMs (up to 8% of an H100 decode step),
     * which are already too fast against held-out measurements (issue 18).
     */
    static int pipelineStages(HardwareSpec hw, Operator op, GemmTile t, int resultBytes) {
        long step = (long) op.dataType().bytes() * t.m() * t.k() + (long) op.operandBType().bytes() * t.k() * t.n();
        long room = hw.core().localBuffer().capacityBytes() - (long) t.m() * t.n() * resultBytes;
        long fit = Math.max(Work.DOUBLE_BUFFERED, room / Math.max(1, step));
        if (op.kernel() == null) {
            return Work.DOUBLE_BUFFERED;
        }
        long named = op.kernel().stages() > 0 ? op.kernel().stages() : fit;
        return (int) Math.max(Work.DOUBLE_BUFFERED, Math.min(Math.min(named, fit), MatrixTile.MAX_LOADS_IN_FLIGHT));
    }

    /**
     * The k-steps in flight and where they come from, for the explanation ("" without a named kernel: double
     * buffering, as ever).
     */
    private static String pipelineSource(Operator op, int stages) {
        if (op.kernel() == null) {
            return "";
        }
        int named = op.kernel().stages();
        String why = named == 0 ? "as many as the local buffer holds: the kernel's name gives none"
            : named == stages ? "the named kernel's stages" : "the local buffer holds fewer than the kernel's " + named;
        return stages + " k-steps in flight (" + why + "), ";
    }

    /**
     * The smallest stage that keeps memory streaming. The global buffer loads a stage only when it has room among
     * the {@link #STAGES_IN_FLIGHT} stages in flight, and frees it once every core has loaded its share; a core
     * loads its next share only when a compute slot frees (double buffering). A stage so lives for the memory and
     * interconnect latencies L, its transfer S / B, the cores' loads S / P (P: the narrower of the {@code cores}'
     * ports and the global buffer's port) and one k-step of compute C. Memory stays busy when the other stages'
     * transfers cover the rest of that life: (W - 1) S / B >= L + C + S / P, with W the stages in flight, so
     * S >= (L + C) / ((W - 1) / B - 1 / P). Zero when the ports, not memory, are the limit.
     */
    static long streamingStageBytes(HardwareSpec hw, long cores, long stepCycles) {
        double memory = hw.memoryBytesPerS();
        double ports = Math.min((double) cores * Math.min(hw.interconnect().bytesPerCycle(),
            hw.core().localBuffer().bytesPerCycle()), hw.globalBuffer().bytesPerCycle()) * hw.clockHz();
        double spare = (STAGES_IN_FLIGHT - 1) / memory - 1 / ports;
        if (spare <= 1e-9 / memory) {
            return 0;
        }
        double life = hw.memory().latencyNs() * 1e-9 + (hw.interconnect().latencyCycles() + stepCycles) / hw.clockHz();
        return (long) Math.ceil(life / spare);
    }

    /** The fastest candidate by its estimated cycles. */
    static Candidate search(HardwareSpec hw, long batch, long m, long n, long k, DataType type) {
        return search(hw, GemmMapper.Rows.plain(batch, m), n, k, type);
    }

    static Candidate search(HardwareSpec hw, GemmMapper.Rows rows, long n, long k, DataType type) {
        Candidate best = searchOrNull(hw, rows, n, k, type);
        if (best == null) {
            throw new InputException("core.gemm_tiles: no tile fits both the "
                + hw.core().localBuffer().capacityKib() + " KiB local buffer and two stages of the global buffer");
        }
        return best;
    }

    /** Whether some library tile fits this device's buffers for the operator. */
    static boolean fits(HardwareSpec hw, Operator op) {
        return searchOrNull(hw, GemmMapper.Rows.of(op), op.n(), op.k(), op.dataType()) != null;
    }

    private static Candidate searchOrNull(HardwareSpec hw, GemmMapper.Rows rows, long n, long k, DataType type) {
        Candidate best = null;
        for (GemmTile t : hw.core().gemmTiles()) {
            long outputTiles = rows.tiles(t.m()) * GemmMapper.ceilDiv(n, t.n());
            best = better(best, score(hw, t, 1, rows, n, k, type));
            if (rows.each() != null || outputTiles >= hw.cores() || k % t.k() != 0) {
                continue;
            }
            long steps = k / t.k();
            for (int s = 2; s <= steps && outputTiles * s <= hw.cores(); s++) {
                if (steps % s == 0) {
                    best = better(best, score(hw, t, s, rows, n, k, type));
                }
            }
        }
        return best;
    }

    private static Candidate better(Candidate best, Candidate c) {
        if (c == null) {
            return best;
        }
        if (best == null || c.cycles() < best.cycles() * (1 - 1e-9)
            || (c.cycles() <= best.cycles() * (1 + 1e-9) && c.events() < best.events())) {
            return c;
        }
        return best;
    }

    /**
     * Estimated cycles of tile {@code t} with K split in {@code splits}, or null when it does not fit. A wave's
     * tile takes the longest of its k-steps on the arrays (padded, at the sustained rate), its loads and its
     * result at the core's port, and its share of the global buffer's port; the waves run one after another,
     * HBM moving the compulsory operands and the results (or partials) meanwhile. Split-K adds its reduction.
     */
    static Candidate score(HardwareSpec hw, GemmTile t, int splits, long batch, long m, long n, long k,
                           DataType type) {
        return score(hw, t, splits, GemmMapper.Rows.plain(batch, m), n, k, type);
    }

    static Candidate score(HardwareSpec hw, GemmTile t, int splits, GemmMapper.Rows groups, long n, long k,
                           DataType type) {
        long batch = groups.batch();
        long m = groups.m();
        HardwareSpec.Core core = hw.core();
        int e = type.bytes();
        int resultBytes = splits == 1 ? e : PARTIAL_BYTES;
        if (t.localBytes(e, resultBytes) > core.localBuffer().capacityBytes()) {
            return null;
        }
        long depth = k / splits;
        long tiles = splits * groups.tiles(t.m()) * GemmMapper.ceilDiv(n, t.n());
        long active = Math.min(tiles, hw.cores());
        long rows = Math.min(t.m(), m);
        long cols = Math.min(t.n(), n);
        long stepK = Math.min(t.k(), depth);
        if (2 * active * (rows + cols) * stepK * e > hw.globalBuffer().capacityBytes()) {
            return null;
        }
        long steps = GemmMapper.ceilDiv(depth, t.k());
        long waves = GemmMapper.ceilDiv(tiles, hw.cores());
        double compute = steps * (double) LaneSplit.cycles(core, t.m(), t.n(), t.k(), type);
        double load = (double) e * (rows * stepK + stepK * cols);
        double tileBytes = steps * load + (double) rows * cols * resultBytes;
        double port = tileBytes / hw.interconnect().bytesPerCycle();
        double global = tileBytes * active / hw.globalBuffer().bytesPerCycle();
        double perTile = Math.max(compute, Math.max(port, global));
        double hbmBytes = groups.each() == null ? (double) e * batch * ((double) m * k + (double) k * n)
            + (double) resultBytes * batch * splits * m * n
            : GemmMapper.compulsory(groups, n, k, e) + (double) resultBytes * groups.total() * n;
        double hbm = hbmBytes / hw.memoryBytesPerS() * hw.clockHz();
        double cycles = Math.max(waves * perTile + load / hw.interconnect().bytesPerCycle()
            + hw.interconnect().latencyCycles(), hbm);
        if (splits > 1) {
            cycles += reductionCycles(hw, batch * m * n, splits, e);
        }
        return new Candidate(t, splits, tiles, waves, cycles, tiles * steps);
    }

    /**
     * Estimated cycles of the split-K reduction: a second kernel, so it pays the device's dispatch cost, and it
     * starts once the partials are in memory (memory and port latency), then takes the longest of reading the partials and writing the outputs in HBM, the cores' ports,
     * the global buffer's port, and the adds on the vector units.
     */
    static double reductionCycles(HardwareSpec hw, long outputs, int splits, int e) {
        double bytes = (double) outputs * ((long) splits * PARTIAL_BYTES + e);
        long cores = Math.min(outputs, hw.cores());
        HardwareSpec.VectorUnit v = hw.core().vectorUnit();
        double hbm = bytes / hw.memoryBytesPerS() * hw.clockHz();
        double port = bytes / cores / Math.min(hw.interconnect().bytesPerCycle(),
            hw.core().localBuffer().bytesPerCycle());
        double global = bytes / hw.globalBuffer().bytesPerCycle();
        double adds = (double) outputs * (splits - 1) / cores / ((long) v.lanes() * v.flopsPerLanePerCycle());
        double latency = (hw.memory().latencyNs() + hw.dispatch().perKernelNs()) * 1e-9 * hw.clockHz()
            + hw.interconnect().latencyCycles();
        return latency + Math.max(Math.max(hbm, port), Math.max(global, adds));
    }

    /**
     * The reduction program: the outputs cut into chunks as large as the local buffer allows with double
     * buffering (S partials in, one output out per element) and small enough that every core gets work; chunks
     * run in blocks of one per core, each block's partials streaming through the global buffer as one stage.
     */
    static TileProgram reduction(HardwareSpec hw, Operator op, int splits) {
        int e = op.dataType().bytes();
        long outputs = op.batch() * op.m() * op.n();
        long in = (long) splits * PARTIAL_BYTES;
        long fitLocal = hw.core().localBuffer().capacityBytes() / (2 * (in + e));
        long fitGlobal = hw.globalBuffer().capacityBytes() / 4 / ((long) hw.cores() * in);
        long chunk = Math.min(Math.min(fitLocal, fitGlobal), GemmMapper.ceilDiv(outputs, hw.cores()));
        if (chunk < 1) {
            throw new InputException("core.local_buffer.capacity_kib: cannot hold two chunks of the split-K "
                + "reduction of op " + op.id());
        }
        long chunks = GemmMapper.ceilDiv(outputs, chunk);
        List<Stage> stages = new ArrayList<>();
        List<List<Work>> cores = new ArrayList<>();
        for (int i = 0; i < hw.cores(); i++) {
            cores.add(new ArrayList<>());
        }
        long address = 0;
        long done = 0;
        for (long c0 = 0; c0 < chunks; c0 += hw.cores()) {
            int users = (int) Math.min(hw.cores(), chunks - c0);
            long stageBytes = 0;
            for (int u = 0; u < users; u++) {
                long elements = Math.min(chunk, outputs - done);
                done += elements;
                stageBytes += elements * in;
                // S fp32 partials in per output, read as (S x 4 / e) operands of the op's element size.
                cores.get(u).add(new VectorTile(stages.size(), elements, (int) (in / e), 1,
                    elements * (splits - 1), 0));
            }
            stages.add(new Stage(address, stageBytes, 0, 0, users));
            address += (stageBytes + 255) / 256 * 256;
        }
        String why = String.format(Locale.ROOT,
            "split-K reduction of %d fp32 partials per output: %d chunks of %d outputs, "
            + "%d per block of %d cores", splits, chunks, chunk, Math.min(chunks, hw.cores()), hw.cores());
        return new TileProgram(stages, cores, outputs * in, outputs * e, why);
    }
}

package dev.rafter.mapping;

import dev.rafter.config.InputException;
import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.workload.GemmKernel;
import dev.rafter.workload.Operator;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Maps a (batched) GEMM onto the device in two tiling levels.
 * <ol>
 *   <li><b>Local tiles</b> (m x n x k) are searched, not fixed: every candidate whose double-buffered operands and
 *       two accumulators fit the local buffer is scored by its estimated time (PE-array cycles from the fold model
 *       over the lanes, local-load cycles at the port and at the core's share of the global buffer, and HBM time
 *       for the compulsory bytes); the fastest wins, ties going to fewer, larger tiles.</li>
 *   <li><b>Global-buffer blocks</b>: the output tiles run in blocks of at most one tile per core; a block's
 *       operands stream through the global buffer in stages of depth {@code globalK}, two stages in flight
 *       (double buffering). Block shape and loop order are searched for the least HBM traffic.</li>
 * </ol>
 * Operand reuse: a stage piece (rows of A or columns of B over one K range) that a later block uses again is
 * pinned in the global buffer while space allows (half of it minus the two streaming stages), so a GEMM that
 * fits on chip reads each operand from HBM once, and a big one re-fetches only what could not stay.
 *
 * <p>When the hardware lists library tile shapes ({@code core.gemm_tiles}), the local tile is searched over those
 * instead, with tile and wave quantisation and split-K ({@link LibraryTiles}); the blocks and stages are laid out
 * the same way. A GEMM whose replayed trace names the kernel that ran it ({@link Operator#kernel}) is mapped the
 * same way too, its tiles keeping the kernel's pipeline stages in flight ({@link LibraryTiles#pipelineStages}); its
 * explanation names that kernel, its tile and its path beside Rafter's own choice (the named tile is not followed:
 * see README, "Replaying your own trace").
 *
 * <p>A grouped GEMM (one launch over groups of rows, each with its own B: a mixture of experts' weights, as vLLM's
 * fused_moe kernel runs them) is laid out as a batched GEMM whose items have their own rows: each group's rows are
 * padded to whole tiles on their own, so it has sum over groups of ceil(m_g / tile m) x ceil(n / tile n) output tiles,
 * and they all share the waves of the one launch; each group's B is read once.
 */
public final class GemmMapper {
    private static final int[] K_CANDIDATES = {16, 32, 64, 128, 256, 512, 1024, 2048};
    private static final int[] MULTIPLES = {1, 2, 4, 8, 16, 32};

    private GemmMapper() {}

    public static GemmPlan plan(HardwareSpec hw, Operator op) {
        GemmPlan own = ownPlan(hw, op);
        GemmKernel kernel = op.kernel();
        if (kernel == null) {
            return own;
        }
        TileProgram p = own.program();
        String ran = String.format(Locale.ROOT, "the trace ran %s (tile %dx%dx%d, %s); ", kernel.name(),
            kernel.tileM(), kernel.tileN(), kernel.tileK(), kernel.path() == GemmKernel.Path.WARPGROUP_MMA
                ? "warp-group MMA" : "warp-level MMA");
        return new GemmPlan(own.localM(), own.localN(), own.localK(), own.globalK(), own.splitK(),
            new TileProgram(p.stages(), p.cores(), p.hbmReadBytes(), p.hbmWriteBytes(), ran + p.explanation()),
            own.reduction());
    }

    private static GemmPlan ownPlan(HardwareSpec hw, Operator op) {
        // A library's tiles where one fits; on a device whose buffers hold none of them (e.g. a local-buffer sweep
        // down to 16 KiB), the library would ship smaller tiles: the general search stands in for them.
        boolean library = !hw.core().gemmTiles().isEmpty();
        if (library && LibraryTiles.fits(hw, op)) {
            return LibraryTiles.plan(hw, op);
        }
        int e = op.dataType().bytes();
        Rows rows = Rows.of(op);
        long[] tile = searchLocalTile(hw, rows, op.n(), op.k(), op.dataType());
        int ml = (int) tile[0];
        int nl = (int) tile[1];
        int kl = (int) tile[2];
        Layout best = bestLayout(hw, op, ml, nl, kl, e, Form.EXACT);
        long write = e * rows.total() * op.n();
        String why = String.format(Locale.ROOT,
            "%slocal tile %dx%dx%d (est. %d cycles), %s, stage depth %d, %d stages, "
                + "HBM read %.3g MB (compulsory %.3g MB)", library ? "no library tile fits: searched " : "", ml, nl,
            kl, tile[3], best.describe, best.globalK, best.stages.size(), best.hbmReadBytes / 1e6,
            compulsory(op, e) / 1e6);
        return new GemmPlan(ml, nl, kl, best.globalK, new TileProgram(best.stages, best.cores, best.hbmReadBytes,
            write, why));
    }

    static double compulsory(Operator op, int e) {
        return compulsory(Rows.of(op), op.n(), op.k(), e);
    }

    /**
     * The rows of a GEMM's items: {@code batch} items of {@code m} rows, or a grouped GEMM's groups of their own rows
     * ({@code each}, one per item; {@code m} is then the largest).
     */
    record Rows(long batch, long m, long[] each) {
        static Rows of(Operator op) {
            if (op.kind() != dev.rafter.workload.OpKind.GROUPED_GEMM || op.segments().isEmpty()) {
                return new Rows(op.batch(), op.m(), null);
            }
            long[] each = new long[op.segments().size()];
            for (int g = 0; g < each.length; g++) {
                each[g] = op.segments().get(g).m();
            }
            return new Rows(each.length, op.m(), each);
        }

        static Rows plain(long batch, long m) {
            return new Rows(batch, m, null);
        }

        /** Rows of item {@code item}. */
        long of(long item) {
            return each == null ? m : each[(int) item];
        }

        /** Tile rows over all items, each item's rows padded to whole tiles of {@code ml} on their own. */
        long tiles(long ml) {
            if (each == null) {
                return batch * ceilDiv(m, ml);
            }
            long sum = 0;
            for (long r : each) {
                sum += ceilDiv(r, ml);
            }
            return sum;
        }

        /** Real rows over all items. */
        long total() {
            if (each == null) {
                return batch * m;
            }
            long sum = 0;
            for (long r : each) {
                sum += r;
            }
            return sum;
        }

        /** The groups' rows as a cache key (null for a plain GEMM). */
        List<Long> key() {
            return each == null ? null : java.util.Arrays.stream(each).boxed().toList();
        }
    }

    /** Bytes of one local tile in the local buffer: double-buffered operands plus two accumulators. */
    static long localBytes(long m, long n, long k, int e) {
        return e * (2 * (m * k + k * n) + 2 * m * n);
    }

    /** Returns {m, n, k, estimated cycles} of the best local tile. */
    static long[] searchLocalTile(HardwareSpec hw, long batch, long m, long n, long k, DataType type) {
        return searchLocalTile(hw, Rows.plain(batch, m), n, k, type);
    }

    static long[] searchLocalTile(HardwareSpec hw, Rows rows, long n, long k, DataType type) {
        long batch = rows.batch();
        long m = rows.m();
        HardwareSpec.Core core = hw.core();
        int e = type.bytes();
        long capacity = core.localBuffer().capacityBytes();
        long[] best = null;
        double bestCost = Double.MAX_VALUE;
        long bestTiles = Long.MAX_VALUE;
        for (long ml : sizes(m, core.peArray().rows())) {
            for (long nl : sizes(n, core.peArray().cols())) {
                for (long kl : kSizes(k)) {
                    if (localBytes(ml, nl, kl, e) > capacity) {
                        continue;
                    }
                    long tiles = rows.tiles(ml) * ceilDiv(n, nl);
                    // Two global-buffer stages of at least one chunk per tile of a block must fit too.
                    if (2 * Math.min(tiles, hw.cores()) * (Math.min(ml, m) + Math.min(nl, n)) * Math.min(kl, k) * e
                        > hw.globalBuffer().capacityBytes()) {
                        continue;
                    }
                    long chunks = ceilDiv(k, kl);
                    long activeCores = Math.min(tiles, hw.cores());
                    long waves = ceilDiv(tiles, hw.cores());
                    double compute = LaneSplit.cycles(core, Math.min(ml, m), Math.min(nl, n), Math.min(kl, k), type);
                    double loadBytes = (double) e * (Math.min(ml, m) * Math.min(kl, k) + Math.min(kl, k) * Math.min(nl, n));
                    double port = loadBytes / hw.interconnect().bytesPerCycle();
                    double global = loadBytes * activeCores / hw.globalBuffer().bytesPerCycle();
                    double perChunk = Math.max(compute, Math.max(port, global));
                    double hbmCycles = (compulsory(rows, n, k, e) + (rows.each() == null
                        ? (double) e * batch * m * n : (double) e * rows.total() * n))
                        / hw.memoryBytesPerS() * hw.clockHz();
                    double cost = Math.max(waves * chunks * perChunk + port + hw.interconnect().latencyCycles(),
                        hbmCycles);
                    long events = tiles * chunks;
                    if (cost < bestCost * (1 - 1e-9) || (cost <= bestCost * (1 + 1e-9) && events < bestTiles)) {
                        bestCost = cost;
                        bestTiles = events;
                        best = new long[] {ml, nl, kl, (long) cost};
                    }
                }
            }
        }
        if (best == null) {
            throw new InputException("core.local_buffer.capacity_kib: no GEMM tile fits both the "
                + core.localBuffer().capacityKib() + " KiB local buffer and two stages of the global buffer");
        }
        return best;
    }

    /** Bytes of A (the real rows) and of each item's B, read once. */
    static double compulsory(Rows rows, long n, long k, int e) {
        if (rows.each() == null) {
            return (double) e * rows.batch() * ((double) rows.m() * k + (double) k * n);
        }
        return (double) e * ((double) rows.total() * k + (double) rows.batch() * k * n);
    }

    /**
     * Tile sizes along one dimension: multiples of the array size below it, and the whole dimension (which wins
     * when the buffer can hold it: no extra fills and drains).
     */
    private static List<Long> sizes(long dim, int unit) {
        List<Long> out = new ArrayList<>();
        for (int mult : MULTIPLES) {
            long s = (long) unit * mult;
            if (s >= dim) {
                break;
            }
            out.add(s);
        }
        out.add(dim);
        return out;
    }

    private static List<Long> kSizes(long k) {
        List<Long> out = new ArrayList<>();
        for (int c : K_CANDIDATES) {
            if (c >= k) {
                break;
            }
            out.add((long) c);
        }
        out.add(k);
        return out;
    }

    /** One candidate arrangement of blocks and stages with its HBM traffic. */
    /**
     * A candidate's program: {@code stages} and {@code cores} are null for a dry run, which only counts
     * ({@code stageCount}, {@code hbmReadBytes}) so that candidates are compared without building their tiles.
     */
    record Layout(String describe, int globalK, List<Stage> stages, List<List<Work>> cores, long hbmReadBytes,
                  int stageCount) {}

    /**
     * How tiles are formed. {@code padded}: the arrays compute whole tiles, every k-step at full depth (tile
     * quantisation); {@code resultBytes}: bytes per stored result element (0: the operator's data type);
     * {@code stageBytes}: the bytes a global-buffer stage should reach (rounded up to whole k-steps, at least one;
     * see {@link LibraryTiles#plan}), within the quarter of the buffer; {@code loadsInFlight}: the k-steps a core
     * keeps in flight ({@link MatrixTile#loadsInFlight}, a library kernel's pipeline stages).
     */
    record Form(boolean padded, int resultBytes, long stageBytes, int loadsInFlight) {
        /**
         * Tiles as large as their data, results in the data type, stages as deep as the buffer allows, double
         * buffered.
         */
        static final Form EXACT = new Form(false, 0, Long.MAX_VALUE, Work.DOUBLE_BUFFERED);
    }

    /** How to cut the output tiles into blocks: by bands of tile rows or columns, or whole items per block. */
    private record Candidate(int band, boolean nInner, String describe) {}

    /**
     * The candidate layout with the least HBM traffic (ties: fewer stages; then the first tried). Candidates are
     * scored by a dry run of the staging (traffic and stage count, no tiles built) and only the winner is built.
     */
    static Layout bestLayout(HardwareSpec hw, Operator op, int ml, int nl, int kl, int e, Form form) {
        LayoutKey key = new LayoutKey(hw.cores(), hw.globalBuffer().capacityBytes(), op.batch(), op.m(), op.n(),
            op.k(), e, op.operandBType().bytes(), ml, nl, kl, form, Rows.of(op).key());
        Candidate known;
        synchronized (WINNERS) {
            known = WINNERS.get(key);
        }
        if (known != null) {
            return layout(hw, op, ml, nl, kl, e, form, known, false);
        }
        Candidate bestCandidate = null;
        Layout best = null;
        for (Candidate c : candidates(hw, op, ml, nl)) {
            Layout l = layout(hw, op, ml, nl, kl, e, form, c, true);
            if (best == null || l.hbmReadBytes < best.hbmReadBytes
                || (l.hbmReadBytes == best.hbmReadBytes && l.stageCount < best.stageCount)) {
                best = l;
                bestCandidate = c;
            }
        }
        synchronized (WINNERS) {
            WINNERS.put(key, bestCandidate);
        }
        return layout(hw, op, ml, nl, kl, e, form, bestCandidate, false);
    }

    /**
     * Everything the layout search reads: the device's cores and global buffer, the operator's shape and data
     * types, the local tile and the form. Clock and bandwidths play no part, so the points of a sweep over them
     * share one search (bounded: the least recently used winners go first).
     */
    private record LayoutKey(int cores, long globalBytes, long batch, long m, long n, long k, int e, int bBytes,
                             int ml, int nl, int kl, Form form, List<Long> groupRows) {}

    private static final int WINNERS_KEPT = 4096;
    private static final java.util.Map<LayoutKey, Candidate> WINNERS = new java.util.LinkedHashMap<>(64, 0.75f,
        true) {
        @Override
        protected boolean removeEldestEntry(java.util.Map.Entry<LayoutKey, Candidate> eldest) {
            return size() > WINNERS_KEPT;
        }
    };

    /** A block: a group of output tiles, each (item, tile row, tile column), run together, one per core. */
    private record Block(long[] items, int[] rows, int[] cols) {}

    /** Output tiles beyond which a GEMM is too big to simulate tile by tile in reasonable memory and time. */
    static final long MAX_TILES = 50_000_000;

    private static List<Candidate> candidates(HardwareSpec hw, Operator op, int ml, int nl) {
        int cores = hw.cores();
        long tiles = Rows.of(op).tiles(ml) * ceilDiv(op.n(), nl);
        if (tiles > MAX_TILES) {
            throw new InputException("op " + op.id() + " '" + op.name() + "': " + tiles + " output tiles of " + ml
                + "x" + nl + " exceed the " + MAX_TILES + " a tile-level simulation handles; split the operator");
        }
        int mt = (int) ceilDiv(op.m(), ml);
        int nt = (int) ceilDiv(op.n(), nl);
        if ((long) mt * nt <= cores) {
            return List.of(new Candidate(mt, true, "whole items per block"));
        }
        java.util.TreeSet<Integer> bands = new java.util.TreeSet<>();
        for (int b = 1; b <= Math.min(Math.max(mt, nt), cores); b *= 2) {
            bands.add(b);
            bands.add(Math.max(1, cores / b));
            bands.add(Math.max(1, (int) Math.round(Math.sqrt(cores) * b / 8.0)));
        }
        List<Candidate> out = new ArrayList<>();
        for (int band : bands) {
            for (boolean nInner : new boolean[] {true, false}) {
                int limit = nInner ? mt : nt;
                if (band > limit || band > cores) {
                    continue;
                }
                out.add(new Candidate(band, nInner, "bands of " + band + " tile " + (nInner ? "rows" : "columns")
                    + ", blocks of " + cores + " tiles"));
            }
        }
        return out;
    }

    /**
     * Orders the output tiles band by band (a band is {@code band} tile rows, walked column by column; or the
     * transpose) and cuts the sequence into blocks of one tile per core, so every block but the last keeps every
     * core busy and neighbouring tiles share operand rows and columns.
     */
    private static Layout layout(HardwareSpec hw, Operator op, int ml, int nl, int kl, int e, Form form,
                                 Candidate candidate, boolean dry) {
        int band = candidate.band();
        boolean nInner = candidate.nInner();
        int cores = hw.cores();
        Rows itemRows = Rows.of(op);
        int nt = (int) ceilDiv(op.n(), nl);
        long total = itemRows.tiles(ml) * nt;
        long[] items = new long[(int) Math.min(total, cores)];
        int[] rows = new int[items.length];
        int[] cols = new int[items.length];
        List<Block> blocks = new ArrayList<>((int) ceilDiv(total, items.length));
        int t = 0;
        for (long item = 0; item < op.batch(); item++) {
            int mt = (int) ceilDiv(itemRows.of(item), ml);
            int outerTiles = nInner ? mt : nt;
            int innerTiles = nInner ? nt : mt;
            for (int b0 = 0; b0 < outerTiles; b0 += band) {
                int bh = Math.min(band, outerTiles - b0);
                for (int in = 0; in < innerTiles; in++) {
                    for (int o = b0; o < b0 + bh; o++) {
                        items[t] = item;
                        rows[t] = nInner ? o : in;
                        cols[t] = nInner ? in : o;
                        if (++t == items.length) {
                            blocks.add(new Block(items.clone(), rows.clone(), cols.clone()));
                            t = 0;
                        }
                    }
                }
            }
        }
        if (t > 0) {
            blocks.add(new Block(java.util.Arrays.copyOf(items, t), java.util.Arrays.copyOf(rows, t),
                java.util.Arrays.copyOf(cols, t)));
        }
        return stage(hw, op, ml, nl, kl, e, form, blocks, candidate.describe(), dry);
    }

    /**
     * Dense numbering of operand pieces: A rows of tile row {@code index} of item {@code item}, or B columns of
     * tile column {@code index}. A piece at stage j of its block is {@code id * stagesPerBlock + j}.
     */
    private record Pieces(long batch, int mt, int nt, int ml, int nl, Operator op, int[] aStart, int aCount) {
        /** A plain GEMM's pieces: {@code mt} tile rows per item. */
        Pieces(long batch, int mt, int nt, int ml, int nl, Operator op) {
            this(batch, mt, nt, ml, nl, op, null, (int) (batch * mt));
        }

        /** A grouped GEMM's pieces: each group's own tile rows, numbered group after group. */
        static Pieces of(Operator op, int ml, int nl) {
            Rows rows = Rows.of(op);
            int nt = (int) ceilDiv(op.n(), nl);
            if (rows.each() == null) {
                return new Pieces(op.batch(), (int) ceilDiv(op.m(), ml), nt, ml, nl, op);
            }
            int[] start = new int[(int) rows.batch() + 1];
            for (int g = 0; g < rows.batch(); g++) {
                start[g + 1] = start[g] + (int) ceilDiv(rows.of(g), ml);
            }
            return new Pieces(rows.batch(), (int) ceilDiv(op.m(), ml), nt, ml, nl, op, start, start[start.length - 1]);
        }

        int count() {
            return (int) (aCount + batch * nt);
        }

        int a(long item, int row) {
            return aStart == null ? (int) (item * mt + row) : aStart[(int) item] + row;
        }

        int b(long item, int col) {
            return (int) (aCount + item * nt + col);
        }

        /** Rows (A) or columns (B) of the piece. */
        long extent(int id) {
            if (id < aCount) {
                if (aStart == null) {
                    int row = id % mt;
                    return Math.min(ml, op.m() - (long) row * ml);
                }
                int found = java.util.Arrays.binarySearch(aStart, id);
                // The group whose first tile row is the last at or before id (groups are never empty).
                int group = found >= 0 ? found : -found - 2;
                return Math.min(ml, op.rowsOf(group) - (long) (id - aStart[group]) * ml);
            }
            int col = (id - aCount) % nt;
            return Math.min(nl, op.n() - (long) col * nl);
        }

        /** The distinct pieces a block reads, in first-use order. */
        int[] of(Block block, int[] stamp, int mark) {
            int[] out = new int[2 * block.items().length];
            int n = 0;
            for (int t = 0; t < block.items().length; t++) {
                int a = a(block.items()[t], block.rows()[t]);
                int b = b(block.items()[t], block.cols()[t]);
                if (stamp[a] != mark) {
                    stamp[a] = mark;
                    out[n++] = a;
                }
                if (stamp[b] != mark) {
                    stamp[b] = mark;
                    out[n++] = b;
                }
            }
            return java.util.Arrays.copyOf(out, n);
        }
    }

    /** Chooses the stage depth, then walks the stages deciding which pieces load from HBM and which stay pinned. */
    private static Layout stage(HardwareSpec hw, Operator op, int ml, int nl, int kl, int e, Form form,
                                List<Block> blocks, String describe, boolean dry) {
        long capacity = hw.globalBuffer().capacityBytes();
        Pieces pieces = Pieces.of(op, ml, nl);
        int[] stamp = new int[pieces.count()];
        java.util.Arrays.fill(stamp, -1);
        List<int[]> blockPieces = new ArrayList<>(blocks.size());
        // B pieces (weights, K, V) move in their own data type: bytes per element of a piece.
        int eb = op.operandBType().bytes();
        long aPieces = pieces.aCount();
        long maxBlockRowsCols = 0;
        for (int bi = 0; bi < blocks.size(); bi++) {
            int[] ids = pieces.of(blocks.get(bi), stamp, bi);
            blockPieces.add(ids);
            long bytesPerK = 0;
            for (int id : ids) {
                bytesPerK += pieces.extent(id) * (id < aPieces ? e : eb);
            }
            maxBlockRowsCols = Math.max(maxBlockRowsCols, ceilDiv(bytesPerK, e));
        }
        // Stage depth: the deepest multiple of the local depth with a stage at most a quarter of the buffer, so
        // two streaming stages take half and pinned pieces may use the rest; and no more than the form allows.
        long kChunks = ceilDiv(op.k(), kl);
        int perStage = (int) Math.max(1, Math.min(kChunks, capacity / 4 / Math.max(1, maxBlockRowsCols * e * kl)));
        if (form != Form.EXACT) {
            perStage = (int) Math.min(perStage, Math.max(1, ceilDiv(form.stageBytes(), Math.max(1,
                maxBlockRowsCols * e * kl))));
        }
        int globalK = (int) Math.min(op.k(), (long) perStage * kl);
        int stagesPerBlock = (int) ceilDiv(kChunks, perStage);
        long maxStageBytes = maxBlockRowsCols * e * globalK;
        if (2 * maxStageBytes > capacity) {
            throw new InputException("global_buffer.capacity_mib: two stages of " + maxStageBytes
                + " bytes (one local tile per core) do not fit in the global buffer");
        }
        long pinBudget = capacity - 2 * maxStageBytes;

        // Pass 1: the last stage that uses each (piece, stage-in-block).
        int totalStages = blocks.size() * stagesPerBlock;
        int[] lastUse = lastUses(blockPieces, pieces.count(), stagesPerBlock);
        // Pass 2: load, pin or stream each piece.
        Pinning pinning = new Pinning(lastUse, totalStages, pinBudget);
        List<Stage> stages = dry ? null : new ArrayList<>(totalStages);
        List<List<Work>> cores = dry ? null : new ArrayList<>();
        for (int i = 0; !dry && i < hw.cores(); i++) {
            cores.add(new ArrayList<>(blocks.size()));
        }
        long read = 0;
        long address = 0;
        int s = 0;
        for (int bi = 0; bi < blocks.size(); bi++) {
            Block b = blocks.get(bi);
            int firstStage = s;
            for (int j = 0; j < stagesPerBlock; j++, s++) {
                long kDepth = Math.min((long) perStage * kl, op.k() - (long) j * perStage * kl);
                pinning.stage(pieces, blockPieces.get(bi), stagesPerBlock, j, s, kDepth, aPieces, e, eb);
                if (!dry) {
                    stages.add(new Stage(address, pinning.load, pinning.pin, pinning.unpinAt[s], b.items().length,
                        pinning.aLoad));
                }
                address += (pinning.load + 255) / 256 * 256;
                read += pinning.load;
                pinning.unpin(s);
            }
            if (!dry) {
                addTiles(op, b, cores, firstStage, ml, nl, kl, e, eb, perStage, form);
            }
        }
        return new Layout(describe, globalK, stages, cores, read, totalStages);
    }

    // stage() keeps its passes in small methods on purpose: as one 1.3 KB method of nested loops C2 compiled it
    // twice (once on-stack) in a Llama-3-8B run, among that run's costliest compilations.

    /** The last stage that uses each (piece, stage-in-block), indexed {@code id * stagesPerBlock + j}. */
    private static int[] lastUses(List<int[]> blockPieces, int pieceCount, int stagesPerBlock) {
        int[] lastUse = new int[pieceCount * stagesPerBlock];
        for (int bi = 0; bi < blockPieces.size(); bi++) {
            for (int j = 0; j < stagesPerBlock; j++) {
                for (int id : blockPieces.get(bi)) {
                    lastUse[id * stagesPerBlock + j] = bi * stagesPerBlock + j;
                }
            }
        }
        return lastUse;
    }

    /** One matrix tile per core for its output tile of the block. */
    private static void addTiles(Operator op, Block b, List<List<Work>> cores, int firstStage, int ml, int nl,
                                 int kl, int e, int eb, int perStage, Form form) {
        MatrixTile tile = null; // one object for the block's alike tiles (a record): most are whole tiles
        for (int t = 0; t < b.items().length; t++) {
            int m = (int) Math.min(ml, op.rowsOf(b.items()[t]) - (long) b.rows()[t] * ml);
            int n = (int) Math.min(nl, op.n() - (long) b.cols()[t] * nl);
            if (tile == null || tile.m() != m || tile.n() != n) {
                int bBytes = eb == e ? 0 : eb;
                tile = form == Form.EXACT && bBytes == 0 ? new MatrixTile(firstStage, m, n, op.k(), kl, perStage)
                    : new MatrixTile(firstStage, m, n, op.k(), kl, perStage, form.padded() ? ml : m,
                        form.padded() ? nl : n, form.padded(), form.resultBytes(), bBytes, 0, form.loadsInFlight());
            }
            cores.get(t).add(tile);
        }
    }

    /** Which pieces stay pinned in the global buffer until their last use, within the pin budget. */
    private static final class Pinning {
        private final int[] lastUse;
        private final boolean[] resident;
        private final long[] unpinAt;
        private final List<List<Integer>> unpinKeys;
        private final long pinBudget;
        private long pinned;
        /** The last stage's bytes loaded from HBM, of them the A operand's, and bytes pinned. */
        long load;
        long aLoad;
        long pin;

        Pinning(int[] lastUse, int totalStages, long pinBudget) {
            this.lastUse = lastUse;
            this.resident = new boolean[lastUse.length];
            this.unpinAt = new long[totalStages];
            this.unpinKeys = new ArrayList<>(java.util.Collections.nCopies(totalStages, null));
            this.pinBudget = pinBudget;
        }

        /** Stage {@code s} (stage {@code j} of its block): loads each piece not resident, pinning what fits. */
        void stage(Pieces pieces, int[] ids, int stagesPerBlock, int j, int s, long kDepth, long aPieces, int e,
                   int eb) {
            load = 0;
            aLoad = 0;
            pin = 0;
            for (int id : ids) {
                int key = id * stagesPerBlock + j;
                if (resident[key]) {
                    continue;
                }
                long bytes = pieces.extent(id) * kDepth * (id < aPieces ? e : eb);
                load += bytes;
                aLoad += id < aPieces ? bytes : 0;
                int last = lastUse[key];
                if (last > s && pinned + bytes <= pinBudget) {
                    pinned += bytes;
                    pin += bytes;
                    resident[key] = true;
                    unpinAt[last] += bytes;
                    if (unpinKeys.get(last) == null) {
                        unpinKeys.set(last, new ArrayList<>());
                    }
                    unpinKeys.get(last).add(key);
                }
            }
        }

        /** Releases the pieces whose last use was stage {@code s}. */
        void unpin(int s) {
            pinned -= unpinAt[s];
            if (unpinKeys.get(s) != null) {
                for (int key : unpinKeys.get(s)) {
                    resident[key] = false;
                }
            }
        }
    }

    static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}

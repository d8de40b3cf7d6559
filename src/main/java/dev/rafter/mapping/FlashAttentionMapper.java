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
 */
public final class FlashAttentionMapper {
    private static final int[] BLOCKS = {128, 64, 32, 16};

    private FlashAttentionMapper() {}

    // plan() is split into small steps on purpose: as one 1.7 KB method of nested loops, called once per decode
    // step, C2 compiled it three times (two on-stack replacements) late in a Llama-3-8B run, the costliest
    // compilations of that run.
    public static TileProgram plan(HardwareSpec hw, Operator op) {
        int e = op.dataType().bytes();
        int ekv = op.operandBType().bytes();
        long d = op.k();
        List<Operator.Segment> parts = op.parts();
        // One block size for the whole kernel, chosen for its largest rows and keys (varlen kernels fix theirs).
        long m = 0;
        long n = 0;
        for (Operator.Segment s : parts) {
            m = Math.max(m, s.m());
            n = Math.max(n, s.n());
        }
        int cores = hw.cores();
        long globalCapacity = hw.globalBuffer().capacityBytes();
        long[] tile = tile(m, n, d, e, ekv, cores, hw.core().localBuffer().capacityBytes(), globalCapacity);
        if (tile == null) {
            throw new InputException("core.local_buffer.capacity_kib: no flash-attention tile of op " + op.id()
                + " (head dim " + d + ") fits the local buffer and two stages of the global buffer");
        }
        long br = tile[0];
        long bc = tile[1];
        Tasks work = new Tasks(parts, br, bc, op.causal());
        long tasks = work.tasks;
        if (tasks > GemmMapper.MAX_TILES) {
            throw new InputException("op " + op.id() + " '" + op.name() + "': " + tasks + " Q tiles exceed the "
                + GemmMapper.MAX_TILES + " a tile-level simulation handles; split the operator");
        }
        long blocks = ceilDiv(tasks, cores);
        long[] base = stageBases(work, cores, blocks);
        Stages staging = new Stages(work, d, e, ekv, bc, ceilDiv(n, bc),
            globalCapacity - 2 * (cores * (br * d * e + 2 * bc * d * ekv)));
        List<List<Work>> perCore = new ArrayList<>(cores);
        for (int c = 0; c < cores; c++) {
            perCore.add(new ArrayList<>());
        }
        for (int b = 0; b < blocks; b++) {
            long t0 = (long) b * cores;
            long t1 = Math.min(tasks, t0 + cores);
            staging.addBlock(t0, t1, (int) (base[b + 1] - base[b]));
            addTiles(work, perCore, t0, t1, (int) base[b], d, ekv, bc);
        }
        long write = 0;
        double once = 0.0;
        for (Operator.Segment s : parts) {
            write += s.batch() * s.m() * d * e;
            once += s.batch() * (s.m() * d * e + 2.0 * s.n() * d * ekv);
        }
        String why = String.format(Locale.ROOT,
            "flash: %sQ tiles of %d rows, K/V blocks of %d keys%s; %d Q tiles in %d blocks of "
                + "%d cores; HBM read %.3g MB (Q, K, V once: %.3g MB)",
            op.segments().isEmpty() ? "" : "variable length over " + parts.size() + " groups, ", br, bc,
            op.causal() ? ", causal (masked blocks skipped)" : "", tasks, blocks, cores, staging.read / 1e6,
            once / 1e6);
        return new TileProgram(staging.stages, perCore, staging.read, write, why);
    }

    /** {Br, Bc}: the largest Br, then Bc, whose tiles fit the local buffer and two stages the global one; or null. */
    private static long[] tile(long m, long n, long d, int e, int ekv, int cores, long capacity,
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
        return null;
    }

    /** The first stage of each block of Q tiles: a block has as many stages as its farthest-seeing Q tile. */
    private static long[] stageBases(Tasks work, int cores, long blocks) {
        long[] base = new long[(int) blocks + 1];
        for (int b = 0; b < blocks; b++) {
            int most = 0;
            for (long t = (long) b * cores; t < Math.min(work.tasks, (long) (b + 1) * cores); t++) {
                most = Math.max(most, work.visible(t));
            }
            base[b + 1] = base[b] + most;
        }
        return base;
    }

    /** Each core's matrix tile and online-softmax vector tile for its Q tile of the block. */
    private static void addTiles(Tasks work, List<List<Work>> perCore, long t0, long t1, int first, long d,
                                 int ekv, long bc) {
        for (long t = t0; t < t1; t++) {
            int rows = (int) work.rows(t);
            int v = work.visible(t);
            long keys = Math.min(work.keys(work.item(t)), (long) v * bc);
            List<Work> core = perCore.get((int) (t - t0));
            core.add(new MatrixTile(first, rows, (int) d, 2 * keys, (int) (2 * bc), 1, rows, (int) d, false, 0,
                ekv));
            long scores = rows * keys;
            core.add(new VectorTile(first + v - 1, scores, 0, 0, 5 * scores + 2L * rows * d * v, scores));
        }
    }

    /** The global buffer's stages, block by block: what each loads from HBM, pins for a later block and unpins. */
    private static final class Stages {
        private final Tasks work;
        private final long d;
        private final int e;
        private final int ekv;
        private final long bc;
        private final long kvBlocks;
        private final long pinBudget;
        private final java.util.Map<Long, boolean[]> resident = new java.util.HashMap<>(); // pinned K/V per item
        private long pinned;
        private long address;
        final List<Stage> stages = new ArrayList<>();
        long read;

        Stages(Tasks work, long d, int e, int ekv, long bc, long kvBlocks, long pinBudget) {
            this.work = work;
            this.d = d;
            this.e = e;
            this.ekv = ekv;
            this.bc = bc;
            this.kvBlocks = kvBlocks;
            this.pinBudget = pinBudget;
        }

        void addBlock(long t0, long t1, int stageCount) {
            long[] users = new long[stageCount];
            long queries = 0;
            for (long t = t0; t < t1; t++) {
                int v = work.visible(t);
                for (int j = 0; j < v; j++) {
                    users[j]++;
                }
                users[v - 1]++; // the online-softmax vector tile
                queries += work.rows(t) * d * e;
            }
            long firstItemOfBlock = work.item(t0);
            long lastItemOfBlock = work.item(t1 - 1);
            // Per item of the block: the most K/V blocks one of its Q tiles here sees (the stages it uses).
            int[] seen = new int[(int) (lastItemOfBlock - firstItemOfBlock + 1)];
            for (long t = t0; t < t1; t++) {
                int i = (int) (work.item(t) - firstItemOfBlock);
                seen[i] = Math.max(seen[i], work.visible(t));
            }
            for (int j = 0; j < stageCount; j++) {
                long load = j == 0 ? queries : 0;
                long pin = 0;
                long unpin = 0;
                for (long item = firstItemOfBlock; item <= lastItemOfBlock; item++) {
                    if (seen[(int) (item - firstItemOfBlock)] <= j) {
                        continue;
                    }
                    boolean later = work.endTask(item) > t1; // Q tiles of this item run in a later block
                    long keys = Math.min(bc, work.keys(item) - (long) j * bc);
                    long bytes = 2 * keys * d * ekv;
                    boolean[] pins = resident.get(item);
                    if (pins != null && pins[j]) {
                        if (!later) {
                            pins[j] = false;
                            unpin += bytes;
                        }
                        continue;
                    }
                    load += bytes;
                    if (later && pinned + bytes <= pinBudget) {
                        resident.computeIfAbsent(item, x -> new boolean[(int) kvBlocks])[j] = true;
                        pinned += bytes;
                        pin += bytes;
                    }
                }
                pinned -= unpin;
                stages.add(new Stage(address, load, pin, unpin, (int) users[j], j == 0 ? queries : 0));
                address += (load + 255) / 256 * 256;
                read += load;
            }
            for (long item = firstItemOfBlock; item <= lastItemOfBlock; item++) {
                if (work.endTask(item) <= t1) {
                    resident.remove(item); // its last block
                }
            }
        }
    }

    /**
     * The kernel's Q tiles in order: segment by segment, item by item (sequence x KV head), Q tile by Q tile; each
     * with its rows and the key blocks it sees (causal: up to its last query position in its own KV length).
     */
    private static final class Tasks {
        private final long[] firstTask;
        private final long[] firstItem;
        private final long[] qTiles;
        private final long[] rowsOf;
        private final long[] keysOf;
        private final int[][] visible;
        private final long br;
        final long tasks;

        Tasks(List<Operator.Segment> parts, long br, long bc, boolean causal) {
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
                Operator.Segment part = parts.get(s);
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
                    long keys = causal ? Math.min(n, n - q + lastRow / group + 1) : n;
                    visible[s][t] = (int) ceilDiv(Math.max(1, keys), bc);
                }
                task += part.batch() * qTiles[s];
                item += part.batch();
            }
            tasks = task;
        }

        /** The segment of task {@code t} (the last one starting at or before it). */
        private int segmentOfTask(long t) {
            return last(firstTask, t);
        }

        private int segmentOfItem(long item) {
            return last(firstItem, item);
        }

        private static int last(long[] starts, long x) {
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
            return lo;
        }

        int visible(long t) {
            int s = segmentOfTask(t);
            return visible[s][(int) ((t - firstTask[s]) % qTiles[s])];
        }

        long rows(long t) {
            int s = segmentOfTask(t);
            return Math.min(br, rowsOf[s] - ((t - firstTask[s]) % qTiles[s]) * br);
        }

        long item(long t) {
            int s = segmentOfTask(t);
            return firstItem[s] + (t - firstTask[s]) / qTiles[s];
        }

        long firstTask(long item) {
            int s = segmentOfItem(item);
            return firstTask[s] + (item - firstItem[s]) * qTiles[s];
        }

        long endTask(long item) {
            return firstTask(item) + qTiles[segmentOfItem(item)];
        }

        /** The KV length of {@code item}. */
        long keys(long item) {
            return keysOf[segmentOfItem(item)];
        }
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}

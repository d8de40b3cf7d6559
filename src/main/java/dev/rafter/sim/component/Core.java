package dev.rafter.sim.component;

import dev.rafter.mapping.GemmPlan;
import dev.rafter.mapping.LaneSplit;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.sim.ClockDomain;
import dev.rafter.sim.Scheduler;
import dev.rafter.sim.trace.SliceKind;
import dev.rafter.sim.trace.TraceSink;
import java.util.List;

/**
 * One core: its controller runs the core's tile program over its local buffer and PE arrays. Parameters: local
 * buffer capacity, lanes (PE arrays). Statistics (via the trace): per-array compute and the reason the arrays wait.
 *
 * <p>For each chunk of each tile it reserves local-buffer space (waiting if full: buffer_full), waits for the
 * chunk's global-buffer stage (memory), loads the operands over the interconnect (interconnect), and computes on
 * the arrays; at most {@link #PREFETCH} chunk loads run ahead of the computation (double buffering). After a
 * tile's last chunk its result is stored through the global buffer to HBM. A core whose tiles are done waits for
 * the rest of the operator (dependency); a core without tiles in the operator is idle.
 */
public final class Core {
    /** Chunk loads that may be in flight or waiting to compute: double buffering. */
    public static final int PREFETCH = 2;

    private final int index;
    private final HardwareSpec.Core spec;
    private final Scheduler scheduler;
    private final TraceSink sink;
    private final ClockDomain clock;
    private final PeArray[] arrays;
    private final GlobalBuffer globalBuffer;
    private final Interconnect interconnect;
    private final Hbm hbm;
    private final long capacity;

    // Program of the current operator.
    private long opId;
    private int elementBytes;
    private List<GemmPlan.Tile> tiles = List.of();
    private Runnable onDone;
    private Runnable onStoreWritten;
    private int issueTile;
    private int issueChunk;
    private int computeTile;
    private int computeChunk;
    private int inFlight;
    private int loaded;
    private boolean computing;
    private boolean waitingForStage;
    private int storesPending;
    private long used;

    // What the arrays are doing since when.
    private SliceKind state = SliceKind.IDLE;
    private long stateSince;
    long storeBytes;
    long loadBytes;

    public Core(int index, HardwareSpec.Core spec, Scheduler scheduler, TraceSink sink, ClockDomain clock,
                PeArray[] arrays, GlobalBuffer globalBuffer, Interconnect interconnect, Hbm hbm) {
        this.index = index;
        this.spec = spec;
        this.scheduler = scheduler;
        this.sink = sink;
        this.clock = clock;
        this.arrays = arrays;
        this.globalBuffer = globalBuffer;
        this.interconnect = interconnect;
        this.hbm = hbm;
        this.capacity = spec.localBuffer().capacityBytes();
    }

    /**
     * Starts the core's share of an operator. {@code onDone} runs when its last result has left the core;
     * {@code onStoreWritten} when each result has reached HBM.
     */
    public void begin(long opId, int elementBytes, List<GemmPlan.Tile> tiles, Runnable onDone,
                      Runnable onStoreWritten) {
        this.opId = opId;
        this.elementBytes = elementBytes;
        this.tiles = tiles;
        this.onDone = onDone;
        this.onStoreWritten = onStoreWritten;
        issueTile = issueChunk = computeTile = computeChunk = inFlight = loaded = storesPending = 0;
        computing = false;
        waitingForStage = false;
        used = 0;
        enter(tiles.isEmpty() ? SliceKind.IDLE : SliceKind.STALL_MEMORY);
        if (tiles.isEmpty()) {
            onDone.run();
            return;
        }
        advance();
    }

    /** Closes the current state at the operator's end (called by the device when every core is done). */
    public void endOperator() {
        close();
        state = SliceKind.IDLE;
    }

    private void advance() {
        issueLoads();
        startCompute();
        updateState();
    }

    private void issueLoads() {
        while (!waitingForStage && issueTile < tiles.size() && inFlight + loaded < PREFETCH) {
            GemmPlan.Tile t = tiles.get(issueTile);
            int j = issueChunk;
            long bytes = operandBytes(t, j) + (j == 0 ? (long) t.m() * t.n() * elementBytes : 0);
            if (used + bytes > capacity && used > 0) {
                return; // buffer_full: retried when a compute or a store frees space
            }
            int stage = t.stage(j);
            if (!globalBuffer.isReady(stage)) {
                waitingForStage = true;
                globalBuffer.whenReady(stage, () -> {
                    waitingForStage = false;
                    advance();
                });
                return;
            }
            used += bytes;
            inFlight++;
            boolean releasesStage = j == t.chunks() - 1 || t.stage(j + 1) != stage;
            long operands = operandBytes(t, j);
            loadBytes += operands;
            if (++issueChunk == t.chunks()) {
                issueChunk = 0;
                issueTile++;
            }
            interconnect.transfer(opId, index, operands, false, () -> {
                inFlight--;
                loaded++;
                if (releasesStage) {
                    globalBuffer.release(stage);
                }
                advance();
            });
        }
    }

    private long operandBytes(GemmPlan.Tile t, int j) {
        long k = t.chunkK(j);
        return ((long) t.m() * k + k * t.n()) * elementBytes;
    }

    private void startCompute() {
        if (computing || loaded == 0) {
            return;
        }
        GemmPlan.Tile t = tiles.get(computeTile);
        int j = computeChunk;
        loaded--;
        computing = true;
        enter(SliceKind.COMPUTE);
        long now = scheduler.now();
        long k = t.chunkK(j);
        long cycles = 0;
        long[][] shares = LaneSplit.shares(spec, t.m(), t.n());
        for (int lane = 0; lane < arrays.length; lane++) {
            cycles = Math.max(cycles, arrays[lane].compute(opId, now, shares[lane][0], shares[lane][1], k, clock));
        }
        boolean lastChunk = j == t.chunks() - 1;
        long freed = operandBytes(t, j);
        if (++computeChunk == t.chunks()) {
            computeChunk = 0;
            computeTile++;
        }
        scheduler.schedule(clock.ps(cycles), () -> {
            computing = false;
            used -= freed;
            if (lastChunk) {
                store(t);
            }
            advance();
        });
    }

    private void store(GemmPlan.Tile t) {
        long bytes = (long) t.m() * t.n() * elementBytes;
        storesPending++;
        storeBytes += bytes;
        interconnect.transfer(opId, index, bytes, true, () -> {
            used -= bytes;
            storesPending--;
            hbm.transfer(opId, 0, bytes, true, onStoreWritten);
            advance();
        });
    }

    private boolean finished() {
        return computeTile >= tiles.size() && storesPending == 0 && !computing;
    }

    private void updateState() {
        if (computing) {
            return;
        }
        if (finished()) {
            if (state != SliceKind.STALL_DEPENDENCY && state != SliceKind.IDLE) {
                enter(SliceKind.STALL_DEPENDENCY);
                Runnable done = onDone;
                onDone = null;
                if (done != null) {
                    done.run();
                }
            }
            return;
        }
        if (inFlight > 0 || (computeTile >= tiles.size() && storesPending > 0)) {
            enter(SliceKind.STALL_INTERCONNECT);
        } else if (waitingForStage) {
            enter(SliceKind.STALL_MEMORY);
        } else {
            enter(SliceKind.STALL_BUFFER_FULL);
        }
    }

    /** Switches the arrays' state, emitting the stall interval that ends now on every array's track. */
    private void enter(SliceKind next) {
        if (next != state) {
            close();
            state = next;
        }
    }

    /** Emits the current wait (if any) up to now on every array's track and restarts the interval. */
    private void close() {
        long now = scheduler.now();
        if (state != SliceKind.COMPUTE && now > stateSince) {
            for (PeArray a : arrays) {
                sink.slice(a.track(), state, opId, stateSince, now, 0);
            }
        }
        stateSince = now;
    }

    /** Why this core cannot finish, for deadlock reports; null when it has nothing left to do. */
    public String waiting() {
        if (finished()) {
            return null;
        }
        return "core " + index + " (tile " + computeTile + "/" + tiles.size() + ", " + inFlight + " loads in flight, "
            + loaded + " loaded, waiting for stage: " + waitingForStage + ", local buffer " + used + "/" + capacity
            + " bytes)";
    }

    public PeArray[] arrays() {
        return arrays;
    }

    public long loadBytes() {
        return loadBytes;
    }

    public long storeBytes() {
        return storeBytes;
    }
}

package dev.rafter.sim.component;

import dev.rafter.mapping.TensorRole;
import dev.rafter.mapping.LaneSplit;
import dev.rafter.mapping.MatrixTile;
import dev.rafter.mapping.VectorTile;
import dev.rafter.mapping.Work;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.sim.ClockDomain;
import dev.rafter.sim.Scheduler;
import dev.rafter.sim.message.CoreTransfer;
import dev.rafter.sim.message.MemoryAccess;
import dev.rafter.sim.steady.Counters;
import dev.rafter.sim.steady.Digest;
import dev.rafter.sim.steady.Frame;
import dev.rafter.sim.steady.Jump;
import dev.rafter.sim.steady.Periodic;
import dev.rafter.sim.trace.SliceKind;
import dev.rafter.sim.trace.TraceSink;
import java.util.List;

/**
 * One core: its controller runs the core's tile program over its local buffer, PE arrays and vector unit.
 * Parameters: local buffer capacity, lanes (PE arrays). Statistics (via the trace): per-array compute and the
 * reason the arrays wait.
 *
 * <p>For each chunk of each piece of work it reserves local-buffer space (waiting if full: buffer_full), waits
 * for the chunk's global-buffer stage (memory), loads the operands over the interconnect (interconnect), and
 * computes (matrix tiles on the arrays, vector tiles on the vector unit, during which the arrays are idle); at most
 * {@link Work#loadsInFlight} chunk loads run ahead of the computation (double buffering; a GEMM main loop's
 * pipeline stages). Results are stored through the
 * global buffer to HBM. A core whose work is done waits for the rest of the operator (dependency); a core without
 * work in the operator is idle.
 */
public final class Core implements Periodic {
    /**
     * The declaration the catalogue reads: a core's controller, which joins its arrays, vector unit, DMA slot, the
     * global buffer and memory (see {@link Wiring}); it has no track of its own: the arrays' tracks show its
     * waits.
     */
    public static final ComponentKind KIND = new ComponentKind("core",
        "a core's controller: runs its tile program over its PE arrays, vector unit and local buffer",
        new ComponentKind.Placement(ComponentKind.Scope.CORE, hw -> 1, null),
        List.of(ComponentKind.Parameter.number("cores", "cores", 1, 1 << 20, null, "cores of the device"),
            ComponentKind.Parameter.number("clock_mhz", "MHz", 1, 1e5, null, "the core clock"),
            ComponentKind.Parameter.number("core.simt.registers", "registers", 1, 1 << 24, "none",
                "32-bit registers per core: with a kernel's registers per thread, its co-resident CTAs"),
            ComponentKind.Parameter.number("core.simt.mma_sync_macs_per_cycle", "MACs/cycle", 1, 1 << 24, "none",
                "dense 16-bit MACs per core per cycle through the warp-level mma.sync path (FlashAttention-2)"),
            ComponentKind.Parameter.number("core.simt.mma_sync_latency_cycles", "cycles", 0, 1 << 20, "none",
                "issue to result of one mma.sync"),
            ComponentKind.Parameter.number("core.simt.fp32_latency_cycles", "cycles", 0, 1 << 20, "none",
                "issue to result of a dependent FP32 add or max"),
            ComponentKind.Parameter.number("core.simt.shuffle_latency_cycles", "cycles", 0, 1 << 20, "none",
                "issue to result of a warp shuffle"),
            ComponentKind.Parameter.number("core.simt.threads", "threads", 32, 1 << 20, "none",
                "resident threads per core: with a kernel's threads per CTA, its co-resident CTAs"),
            ComponentKind.Parameter.number("core.simt.special_function_latency_cycles", "cycles", 0, 1 << 20,
                "core.simt.fp32_latency_cycles", "issue to result of a special-function op (reciprocal, rsqrt)"),
            ComponentKind.Parameter.number("core.simt.barrier_latency_cycles", "cycles", 0, 1 << 20, "0",
                "what a CTA barrier (__syncthreads) adds once every warp has arrived"),
            ComponentKind.Parameter.number("core.simt.fa2_peak_fraction", "fraction", 0, 1, "none",
                "of the arrays' dense peak FlashAttention-2's forward reaches on full cores: its per-block chain")),
        List.of(new ComponentKind.Port("arrays", ComponentKind.Port.Direction.OUT, List.of(),
                "matrix tiles to its PE arrays"),
            new ComponentKind.Port("vector", ComponentKind.Port.Direction.OUT, List.of(),
                "vector tiles to its vector unit"),
            new ComponentKind.Port("stages", ComponentKind.Port.Direction.OUT, List.of(),
                "waits for global-buffer stages and releases them"),
            new ComponentKind.Port("transfer", ComponentKind.Port.Direction.OUT, List.of(CoreTransfer.class),
                "tile loads into and result stores from its local buffer"),
            new ComponentKind.Port("results", ComponentKind.Port.Direction.OUT,
                List.of(MemoryAccess.ResultWrite.class), "its results, written to memory")),
        List.of(), null, null,
        in -> new Core(in.core(), in.hardware().core(), in.scheduler(), in.sink(), clock(in.hardware()),
            in.peers().all("arrays", PeArray.class).toArray(new PeArray[0]),
            in.peers().one("vector", VectorUnit.class), in.peers().one("stages", GlobalBuffer.class),
            in.peers().one("transfer", Interconnect.class), in.peers().one("results", MemorySystem.class)));

    /** The clock domain of a device's cores. */
    public static ClockDomain clock(HardwareSpec hw) {
        return new ClockDomain("core", hw.clockMhz());
    }

    /** Room for the deepest pipeline's loads (a ring). */
    private static final int RING = MatrixTile.MAX_LOADS_IN_FLIGHT;

    private final int index;
    private final HardwareSpec.Core spec;
    private final Scheduler scheduler;
    private final TraceSink sink;
    /** The clock of the operator running (its operating point, {@link #clock(ClockDomain)}). */
    private ClockDomain clock;
    private final PeArray[] arrays;
    private final VectorUnit vectorUnit;
    private final GlobalBuffer globalBuffer;
    private final Interconnect interconnect;
    private final MemorySystem memory;
    private final long capacity;
    /** Whether results stay in a write-back global buffer (see {@link #keepResults}) instead of going to memory. */
    private boolean resultsStayInBuffer;

    // Program of the current operator.
    private long opId;
    private int elementBytes;
    private dev.rafter.hw.DataType type; // the operands', which set the arrays' MACs per cycle
    private List<Work> tiles = List.of();
    private Runnable onDone;
    private Runnable onStoreWritten;
    private int issueTile;
    private int issueChunk;
    private int computeTile;
    private int computeChunk;
    // The works at issueTile and computeTile (null past the end) and their chunk counts, kept in fields: the
    // event loop reads them at every chunk.
    private Work issueWork;
    private int issueChunks;
    private Work computeWork;
    private int computeChunks;
    /** Arrival times of the loads issued and not yet computed, oldest first (a ring of RING). */
    private final long[] arrivals = new long[RING];
    private int arrivalHead;
    private int queued;
    private boolean computing;
    /**
     * When the computation in progress starts (it may lie ahead: operands still in flight). A computation whose
     * operands are on their way is started when it is decided, not by an event on their arrival: nothing the core
     * does in between depends on it, except that its load still counts against the loads in flight until then.
     */
    private long computeStart;
    private boolean waitingForStage;
    private boolean announcedDone;
    private int storesPending;
    private long used;
    /** Where this core's next result goes in memory: results of different cores start on different channels. */
    private long storeAddress;

    // What the arrays are doing since when.
    private SliceKind state = SliceKind.IDLE;
    private long stateSince;
    long storeBytes;
    long loadBytes;

    public Core(int index, HardwareSpec.Core spec, Scheduler scheduler, TraceSink sink, ClockDomain clock,
                PeArray[] arrays, VectorUnit vectorUnit, GlobalBuffer globalBuffer, Interconnect interconnect,
                MemorySystem memory) {
        this.index = index;
        this.spec = spec;
        this.scheduler = scheduler;
        this.sink = sink;
        this.clock = clock;
        this.arrays = arrays;
        this.vectorUnit = vectorUnit;
        this.globalBuffer = globalBuffer;
        this.interconnect = interconnect;
        this.memory = memory;
        this.capacity = spec.localBuffer().capacityBytes();
        scheduler.holdsDeferred(this::scheduleDeferredDone);
    }

    /**
     * Whether the core's results stay in the global buffer when stored (a write-back L2: they reach memory only when
     * evicted, written by whichever operator evicts them) instead of being written through to memory.
     */
    public void keepResults(boolean on) {
        this.resultsStayInBuffer = on;
    }

    /**
     * Starts the core's share of an operator. {@code onDone} runs when its last result has left the core;
     * {@code onStoreWritten} when each result has reached HBM.
     */
    public void begin(long opId, dev.rafter.hw.DataType type, List<Work> tiles, Runnable onDone,
                      Runnable onStoreWritten) {
        scheduleDeferredDone();
        this.opId = opId;
        this.type = type;
        this.elementBytes = type.bytes();
        this.tiles = tiles;
        this.onDone = onDone;
        this.onStoreWritten = onStoreWritten;
        issueTile = issueChunk = computeTile = computeChunk = storesPending = arrivalHead = queued = 0;
        tilesMoved();
        computing = false;
        waitingForStage = false;
        announcedDone = false;
        used = 0;
        storeAddress = memory.firstResultAddress(index);
        enter(tiles.isEmpty() ? SliceKind.IDLE : SliceKind.STALL_MEMORY);
        if (tiles.isEmpty()) {
            announcedDone = true;
            onDone.run();
            return;
        }
        advance();
    }

    /**
     * Marks the core as waiting on something outside it for operator {@code opId} (e.g. a collective on the device
     * links) until {@link #endOperator()}.
     */
    public void waitOutside(long opId, SliceKind reason) {
        scheduleDeferredDone();
        close();
        this.opId = opId;
        state = reason;
    }

    /**
     * Takes the state the core has after operator {@code opId} ran to now (idle since now, nothing emitted) when
     * that operator was not simulated but reused.
     */
    public void skipTo(long opId) {
        scheduleDeferredDone();
        this.opId = opId;
        state = SliceKind.IDLE;
        stateSince = scheduler.now();
    }

    /** Closes the current state at the operator's end (called by the device when every core is done). */
    public void endOperator() {
        scheduleDeferredDone();
        close();
        state = SliceKind.IDLE;
    }

    private void advance() {
        issueLoads();
        startCompute();
        updateState();
    }

    private void issueLoads() {
        int startingLater = computing && computeStart > scheduler.now() ? 1 : 0;
        while (!waitingForStage && issueWork != null && queued + startingLater < issueWork.loadsInFlight()) {
            Work t = issueWork;
            int j = issueChunk;
            long operands = t.loadBytes(j, elementBytes);
            long bytes = operands + t.reserveBytes(j, elementBytes);
            if (used + bytes > capacity && used > 0) {
                return; // buffer_full: retried when a compute or a store frees space
            }
            int stage = t.stage(j);
            if (!globalBuffer.isReady(stage)) {
                waitingForStage = true;
                globalBuffer.whenReady(stage, stageReady);
                return;
            }
            used += bytes;
            boolean releasesStage = j == issueChunks - 1 || t.stage(j + 1) != stage;
            loadBytes += operands;
            if (++issueChunk == issueChunks) {
                issueChunk = 0;
                issueTile++;
                issueWork = issueTile < tiles.size() ? tiles.get(issueTile) : null;
                issueChunks = issueWork == null ? 0 : issueWork.chunks();
            }
            // The arrival time is known now: no event per load; the global buffer learns when this core is done
            // with the stage (the computation that needs the data starts at its arrival: startCompute).
            long arrival = interconnect.reserveLoad(opId, index, operands);
            arrivals[(arrivalHead + queued++) % RING] = arrival;
            if (releasesStage) {
                globalBuffer.releaseAt(stage, arrival);
            }
        }
    }

    private void startCompute() {
        if (computing || queued == 0) {
            return;
        }
        long now = scheduler.now();
        long arrival = arrivals[arrivalHead];
        if (arrival > now) {
            enter(SliceKind.STALL_INTERCONNECT); // until the operands are here
        }
        long start = Math.max(now, arrival);
        computeStart = start;
        arrivalHead = (arrivalHead + 1) % RING;
        queued--;
        Work t = computeWork;
        int j = computeChunk;
        computing = true;
        long cycles = 0;
        if (t instanceof MatrixTile tile) {
            enter(SliceKind.COMPUTE, start);
            long k = tile.arrayK(j);
            long[][] shares = shares(tile.arrayM(), tile.arrayN());
            long[] macs = laneMacs(shares, (long) tile.arrayM() * tile.arrayN() * k, k,
                (long) tile.m() * tile.n() * tile.chunkK(j));
            for (int lane = 0; lane < arrays.length; lane++) {
                cycles = Math.max(cycles, arrays[lane].compute(opId, start, shares[lane][0], shares[lane][1], k,
                    macs[lane], type, clock));
            }
            cycles += tile.chunkLatencyCycles();
        } else if (t instanceof VectorTile tile) {
            enter(SliceKind.IDLE, start); // the arrays have no part in a vector operator
            cycles = vectorUnit.compute(opId, start, tile.flops(), tile.specialFunctions(),
                tile.loadBytes(j, elementBytes) + tile.storeBytes(j, elementBytes), clock)
                + tile.exposedLatencyCycles();
        }
        long freed = t.loadBytes(j, elementBytes);
        long stored = t.storeBytes(j, elementBytes);
        if (++computeChunk == computeChunks) {
            computeChunk = 0;
            computeTile++;
            computeWork = computeTile < tiles.size() ? tiles.get(computeTile) : null;
            computeChunks = computeWork == null ? 0 : computeWork.chunks();
        }
        if (cycles != lastCycles) {
            lastCycles = cycles;
            lastCyclesPs = clock.ps(cycles);
        }
        computeDone.freed = freed;
        computeDone.stored = stored;
        if (deferring && waitingForStage && queued == 0 && stored == 0 && state == SliceKind.COMPUTE) {
            // Its end changes nothing outside this core and emits no slice: deferred (see deferredDone).
            deferredDone = true;
            deferredEnd = start + lastCyclesPs;
            deferredOrder = scheduler.reserveOrder();
        } else {
            scheduler.at(start + lastCyclesPs, computeDone);
        }
    }

    /**
     * Whether a computation's end may be deferred (on by default; off, every end is an event, for tests comparing
     * both paths).
     */
    private boolean deferring = true;
    /**
     * A computation's end held back instead of scheduled: the core waits for a stage, has no load queued and the
     * computation (on the arrays) stores nothing, so its end only frees its operands and turns the core's wait for
     * memory on, which nobody outside the core sees until the stage arrives (the wait's slice is emitted when it
     * ends, as ever). The end is applied (as of its own time) or scheduled in
     * the place its event would have had ({@link Scheduler#reserveOrder}) when the stage arrives, when the pending
     * events are read, or when nothing else is pending; a quarter of a decode step's events were such ends.
     */
    private boolean deferredDone;
    private long deferredEnd;
    private long deferredOrder;

    /** Switches deferring computations' ends on or off (a test compares both paths). */
    public void deferComputeEnds(boolean on) {
        scheduleDeferredDone();
        this.deferring = on;
    }

    /** Applies the deferred end where it would have run by now; else leaves it deferred. */
    private void applyDeferredDoneIfDue() {
        if (deferredDone && scheduler.ranBefore(deferredEnd, deferredOrder)) {
            deferredDone = false;
            applyDeferredDone();
        }
    }

    /** Applies the deferred end where it would have run by now; else schedules it as an event in its own place. */
    private void scheduleDeferredDone() {
        if (deferredDone) {
            deferredDone = false;
            if (scheduler.ranBefore(deferredEnd, deferredOrder)) {
                applyDeferredDone();
            } else {
                scheduler.atInOrder(deferredEnd, deferredOrder, computeDone);
            }
        }
    }

    /**
     * What {@link ComputeDone#run} does at the deferred end, where the core still waits for its stage with nothing
     * queued (no store, no load issued, no computation started): the operands leave the buffer and the arrays wait
     * for memory from then.
     */
    private void applyDeferredDone() {
        computing = false;
        used -= computeDone.freed;
        enter(SliceKind.STALL_MEMORY, deferredEnd);
    }

    /**
     * Runs the next operator's tiles at {@code at} (a throttled operator's operating point): read when its
     * computations start, so the clock belongs to the operator's execution, not to the core.
     */
    public void clock(ClockDomain at) {
        if (at.mhz() != clock.mhz()) {
            clock = at;
            lastCycles = -1;
        }
    }

    // The last computation's length in ps, for the next one (most have the same length).
    private long lastCycles = -1;
    private long lastCyclesPs;

    // Each lane's useful MACs for the last two chunk shapes used (padded MACs, k, useful MACs, shares), the one used
    // last first: a tile's last chunk (shallower) alternates with the others.
    private long macsPadded0 = -1;
    private long macsK0;
    private long macsUseful0;
    private long[][] macsShares0;
    private long[] macs0;
    private long macsPadded1 = -1;
    private long macsK1;
    private long macsUseful1;
    private long[][] macsShares1;
    private long[] macs1;

    /**
     * Each lane's share of a chunk's useful MACs: a padded tile (tile quantisation) keeps the arrays busy for its
     * padded shape; its useful MACs, the real ones, are what the trace counts (utilisation, energy), shared out in
     * proportion to the lanes' padded shares, lane 0 taking the remainder.
     */
    private long[] laneMacs(long[][] shares, long padded, long k, long useful) {
        if (padded == macsPadded0 && k == macsK0 && useful == macsUseful0 && shares == macsShares0) {
            return macs0;
        }
        long[] out;
        if (padded == macsPadded1 && k == macsK1 && useful == macsUseful1 && shares == macsShares1) {
            out = macs1; // moves to the first slot, which holds the shape used last
        } else {
            out = new long[arrays.length];
            long rest = useful;
            for (int lane = 1; lane < arrays.length; lane++) {
                out[lane] = useful * (shares[lane][0] * shares[lane][1] * k) / padded;
                rest -= out[lane];
            }
            out[0] = rest;
        }
        // The shape takes the first slot, the one it held the second.
        macsPadded1 = macsPadded0;
        macsK1 = macsK0;
        macsUseful1 = macsUseful0;
        macsShares1 = macsShares0;
        macs1 = macs0;
        macsPadded0 = padded;
        macsK0 = k;
        macsUseful0 = useful;
        macsShares0 = shares;
        macs0 = out;
        return out;
    }

    // Lane shares of the last tile shape: consecutive chunks (and most tiles) have the same shape.
    private int sharesM = -1;
    private int sharesN = -1;
    private long[][] lastShares;

    private long[][] shares(int m, int n) {
        if (m != sharesM || n != sharesN) {
            lastShares = LaneSplit.shares(spec, m, n);
            sharesM = m;
            sharesN = n;
        }
        return lastShares;
    }

    private void store(long bytes) {
        storesPending++;
        storeBytes += bytes;
        long address = storeAddress;
        storeAddress = memory.afterResult(address, bytes);
        interconnect.transfer(new CoreTransfer.ResultStore(opId, index, bytes), new StoreArrival(bytes, address));
    }

    // The core's events, as objects that fast-forwarding can read (see Periodic); kinds 10, 12 and 13 in digests.

    /** A stage this core waits for has arrived. */
    private final Runnable stageReady = new Event(10) {
        @Override
        public void run() {
            scheduleDeferredDone();
            waitingForStage = false;
            advance();
        }
    };

    private abstract class Event implements Runnable, Periodic {
        private final int kind;

        Event(int kind) {
            this.kind = kind;
        }

        @Override
        public void digest(Frame frame, Digest out) {
            out.add(kind);
            out.add(index);
        }

        @Override
        public void shift(Jump jump) {}
    }

    /** The computation in progress (at most one): its end is one event object, reused. */
    private final ComputeDone computeDone = new ComputeDone();

    /** A computation has ended: its operands leave the buffer, its result (if any) is stored. */
    private final class ComputeDone extends Event {
        private long freed;
        private long stored;

        ComputeDone() {
            super(12);
        }

        @Override
        public void run() {
            computing = false;
            used -= freed;
            if (stored > 0) {
                store(stored);
            }
            advance();
        }

        @Override
        public void digest(Frame frame, Digest out) {
            super.digest(frame, out);
            out.add(freed);
            out.add(stored);
        }
    }

    /** A result has crossed the interconnect: it leaves the buffer for memory. */
    private final class StoreArrival extends Event {
        private final long bytes;
        private long address;

        StoreArrival(long bytes, long address) {
            super(13);
            this.bytes = bytes;
            this.address = address;
        }

        @Override
        public void run() {
            applyDeferredDoneIfDue();
            used -= bytes;
            storesPending--;
            if (!resultsStayInBuffer) {
                memory.transfer(new MemoryAccess.ResultWrite(opId, TensorRole.ACTIVATIONS, memory.results(), address,
                    bytes), onStoreWritten);
            }
            advance();
        }

        @Override
        public void digest(Frame frame, Digest out) {
            super.digest(frame, out);
            out.add(bytes);
            out.add(Math.floorMod(address, frame.addressPeriod()));
        }

        @Override
        public void shift(Jump jump) {
            address += jump.storeAddresses()[index];
        }
    }

    /**
     * Everything that decides this core's future: its place in its work (relative to the frame's first work of
     * the frame's stage), the loads in flight, its flags, buffer use, where its next result goes (modulo the
     * interleave period) and its current state with how long it has lasted.
     */
    @Override
    public void digest(Frame frame, Digest out) {
        scheduleDeferredDone();
        int base = frame.works()[index];
        out.add(issueTile - base);
        out.add(issueChunk);
        out.add(computeTile - base);
        out.add(computeChunk);
        out.add(queued);
        for (int i = 0; i < queued; i++) {
            out.add(frame.untilPs(arrivals[(arrivalHead + i) % RING]));
        }
        out.add(computing);
        out.add(computing ? frame.untilPs(computeStart) : 0);
        out.add(waitingForStage);
        out.add(announcedDone);
        out.add(storesPending);
        out.add(used);
        out.add(Math.floorMod(storeAddress, frame.addressPeriod()));
        out.add(state.ordinal());
        out.add(frame.nowPs() - stateSince);
    }

    @Override
    public void shift(Jump jump) {
        scheduleDeferredDone();
        issueTile += jump.works()[index];
        computeTile += jump.works()[index];
        tilesMoved();
        for (int i = 0; i < RING; i++) {
            arrivals[i] += jump.timePs();
        }
        stateSince += jump.timePs();
        computeStart += jump.timePs();
        storeAddress += jump.storeAddresses()[index];
    }

    @Override
    public void counters(Counters counters) {
        scheduleDeferredDone();
        loadBytes = counters.next(loadBytes);
        storeBytes = counters.next(storeBytes);
    }

    /** Refreshes the works at issueTile and computeTile after the indices moved. */
    private void tilesMoved() {
        issueWork = issueTile < tiles.size() ? tiles.get(issueTile) : null;
        issueChunks = issueWork == null ? 0 : issueWork.chunks();
        computeWork = computeTile < tiles.size() ? tiles.get(computeTile) : null;
        computeChunks = computeWork == null ? 0 : computeWork.chunks();
    }

    /** The work the core computes now or next (fast-forwarding: nothing before it matters any more). */
    public int computeTile() {
        return computeTile;
    }

    /** Where the core's next result goes. */
    public long storeAddress() {
        return storeAddress;
    }

    private boolean finished() {
        return computeTile >= tiles.size() && storesPending == 0 && !computing;
    }

    private void updateState() {
        if (computing) {
            return;
        }
        if (finished()) {
            if (!announcedDone) {
                announcedDone = true;
                enter(SliceKind.STALL_DEPENDENCY);
                onDone.run();
            }
            return;
        }
        if (queued > 0 || (computeTile >= tiles.size() && storesPending > 0)) {
            enter(SliceKind.STALL_INTERCONNECT);
        } else if (waitingForStage) {
            enter(SliceKind.STALL_MEMORY);
        } else {
            enter(SliceKind.STALL_BUFFER_FULL);
        }
    }

    /** Switches the arrays' state, emitting the stall interval that ends now on every array's track. */
    private void enter(SliceKind next) {
        enter(next, scheduler.now());
    }

    /** Switches the arrays' state at {@code time} (now or later: a computation waiting for its operands). */
    private void enter(SliceKind next, long time) {
        if (next != state) {
            close(time);
            state = next;
        }
    }

    /** Emits the current wait (if any) up to now on every array's track and restarts the interval. */
    private void close() {
        close(scheduler.now());
    }

    private void close(long time) {
        if (state != SliceKind.COMPUTE && time > stateSince) {
            for (PeArray a : arrays) {
                sink.slice(a.track(), state, opId, stateSince, time, 0);
            }
        }
        stateSince = time;
    }

    /** Why this core cannot finish, for deadlock reports; null when it has nothing left to do. */
    public String waiting() {
        applyDeferredDoneIfDue();
        if (finished()) {
            return null;
        }
        return "core " + index + " (tile " + computeTile + "/" + tiles.size() + ", " + queued + " loads queued, "
            + "waiting for stage: " + waitingForStage + ", local buffer " + used + "/" + capacity + " bytes)";
    }

    public long loadBytes() {
        return loadBytes;
    }

    public long storeBytes() {
        return storeBytes;
    }
}

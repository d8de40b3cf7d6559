package dev.rafter.sim.component;

import dev.rafter.sim.component.ComponentKind.Parameter;
import dev.rafter.sim.component.ComponentKind.Placement;
import dev.rafter.sim.component.ComponentKind.Port;
import dev.rafter.sim.component.ComponentKind.Scope;
import dev.rafter.sim.component.ComponentKind.Statistic;
import dev.rafter.sim.component.ComponentKind.Utilisation;
import dev.rafter.energy.EnergyUse;
import java.util.Set;
import dev.rafter.sim.trace.SliceKind;
import dev.rafter.sim.message.CoreTransfer;

import dev.rafter.mapping.Stage;
import dev.rafter.sim.message.MemoryAccess;
import dev.rafter.sim.steady.Counters;
import dev.rafter.sim.steady.Digest;
import dev.rafter.sim.steady.Frame;
import dev.rafter.sim.steady.Jump;
import dev.rafter.sim.steady.Periodic;
import java.util.ArrayList;
import java.util.List;

/**
 * The global buffer's contents: it loads the stages of the running operator from HBM in order, at most
 * {@link #WINDOW} stages ahead of the oldest one still in use (double buffering; more where the cores keep more
 * loads in flight, {@link #begin(long, List, int)}) and only while they fit in its capacity, and tells waiting
 * cores when a stage has arrived. Parameters: capacity. Statistics: bytes loaded,
 * peak occupancy.
 */
public final class GlobalBuffer implements Periodic {
    /** The declaration the catalogue reads; its track is the buffer's port towards the cores. */
    public static final ComponentKind KIND = new ComponentKind("global_buffer",
        "the on-chip SRAM shared by all cores, staged in from memory",
        new Placement(Scope.DEVICE, hw -> 1, (core, i) -> "global_buffer"),
        List.of(Parameter.number("global_buffer.capacity_mib", "MiB", 1.0 / 1024, 1 << 20, null, "capacity"),
            Parameter.number("global_buffer.bytes_per_cycle", "B/cycle", 1, 1 << 24, null, "port to the cores"),
            Parameter.choice("global_buffer.keeps_contents", List.of("true", "false"), "false",
                "a cache whose contents outlive a kernel (a GPU's L2): operators read their producers' resident"
                    + " output from it")),
        List.of(new Port("stage", Port.Direction.OUT, List.of(MemoryAccess.StageFill.class,
                MemoryAccess.WriteBack.class), "fills its stages from memory, writing back the results they evict"),
            new Port("cores", Port.Direction.OUT, List.of(CoreTransfer.TileLoad.class),
                "tiles to the cores over the interconnect (its track is this port)"),
            new Port("stages", Port.Direction.IN, List.of(), "cores wait for stages and release them")),
        List.of(Statistic.ofAll("bytes", "B", Statistic.Measure.AMOUNT, Statistic.Combine.SUM,
                "bytes through its port"),
            Statistic.ofAll("busy_ps", "ps", Statistic.Measure.DURATION, Statistic.Combine.BUSY_FRACTION,
                "time its port is busy")),
        new Utilisation("global_buffer", List.of("bytes"),
            hw -> hw.globalBuffer().bytesPerCycle() * hw.clockHz(), true),
        new EnergyUse("global_buffer", GlobalBuffer::energyJ, a -> a.model().sramLeakageW(
            a.hardware().globalBuffer().capacityMib() * 1024) * a.voltageRatio()),
        in -> new GlobalBuffer(in.peers().one("stage", MemorySystem.class),
            in.hardware().globalBuffer().capacityBytes(), in.scheduler()));

    /**
     * Memory fills are written, core loads read, core stores written, drains to memory read; per byte, from and to
     * every memory tier.
     */
    private static double energyJ(dev.rafter.energy.EnergyAccount a, EnergyUse.Counts c) {
        double write = a.model().sramWriteToRead();
        double readPjPerByte = a.model().sramReadPjPer64b(a.hardware().globalBuffer().capacityMib() * 1024) / 8;
        return (MemoryController.countAllTiers(c, "read_bytes") * write + c.count("dma", "load_bytes")
            + c.count("dma", "store_bytes") * write + MemoryController.countAllTiers(c, "write_bytes"))
            * readPjPerByte
            * a.dynamicPj();
    }

    /** Stages in flight: one being consumed while the next one loads. */
    public static final int WINDOW = 2;

    private final MemorySystem memory;
    private final long capacity;
    /** Stages the running operator may have in flight. */
    private int window = WINDOW;

    private long opId;
    // An array, not the mapper's list: the lists come as ArrayList or as immutable lists of either kind, and their
    // mix at this hot call site made C2 recompile the cores' load path when decode followed prefill.
    private Stage[] stages = new Stage[0];
    private boolean[] ready;
    private boolean[] released;
    /**
     * Per stage, the users that have said when they will be done with it ({@link #releaseAt}) and the latest of
     * those times: the stage is released once, at that time, when the last user has said.
     */
    private int[] announced;
    private long[] releaseTimes;
    private List<List<Runnable>> waiters;
    private int nextLoad;
    /** The newest stage anyone has waited for. */
    private int maxWaited;
    private int oldestInUse;
    private long occupied;
    long peakOccupied;
    long bytesLoaded;
    /** Bytes of evicted results written to memory ({@link Stage#writeBackBytes}). */
    long bytesWrittenBack;
    /** Run when each stage's write-back has reached memory (the device counts them among its writes). */
    private Runnable writeBackDone;
    /** Told each time a stage starts loading (fast-forwarding takes its checkpoints then); null: nobody. */
    private Runnable onLoad;

    private final dev.rafter.sim.Scheduler scheduler;

    public GlobalBuffer(MemorySystem memory, long capacity, dev.rafter.sim.Scheduler scheduler) {
        this.memory = memory;
        this.capacity = capacity;
        this.scheduler = scheduler;
    }

    public void begin(long opId, List<Stage> stages) {
        begin(opId, stages, WINDOW);
    }

    /**
     * Starts an operator whose stages load at most {@code window} ahead of the oldest in use: as many as the
     * k-steps a GEMM's cores keep in flight (its pipeline stages), so that memory's latency is not paid per
     * stage when the cores would hide it.
     */
    public void begin(long opId, List<Stage> stages, int window) {
        this.window = Math.max(WINDOW, window);
        this.opId = opId;
        this.stages = stages.toArray(new Stage[0]);
        this.ready = new boolean[stages.size()];
        this.released = new boolean[stages.size()];
        this.announced = new int[stages.size()];
        this.releaseTimes = new long[stages.size()];
        this.waiters = new ArrayList<>(stages.size());
        for (int i = 0; i < stages.size(); i++) {
            waiters.add(null);
        }
        this.nextLoad = 0;
        this.maxWaited = -1;
        this.oldestInUse = 0;
        this.occupied = 0;
        loadMore();
    }

    private void loadMore() {
        while (nextLoad < stages.length && nextLoad < oldestInUse + window) {
            Stage s = stages[nextLoad];
            if (occupied + s.loadBytes() > capacity && occupied > 0) {
                return;
            }
            occupied += s.loadBytes();
            peakOccupied = Math.max(peakOccupied, occupied);
            bytesLoaded += s.loadBytes() - s.residentBytes();
            int index = nextLoad++;
            fill(s, new StageEvent(true, index));
            if (s.writeBackBytes() > 0) {
                // The victims go out as the fill comes in: behind the stage's read on the channels.
                bytesWrittenBack += s.writeBackBytes();
                memory.transfer(new MemoryAccess.WriteBack(opId, dev.rafter.mapping.TensorRole.ACTIVATIONS,
                    memory.results(), writeBackAddress(memory, s), s.writeBackBytes()), writeBackDone);
            }
            if (onLoad != null) {
                onLoad.run();
            }
        }
    }

    /**
     * Reads a stage's bytes from memory: one read where both its operands lie in one region (always so with one
     * memory), else each operand's part from its own region, and the stage arrives when both have.
     */
    private void fill(Stage s, StageEvent arrival) {
        if (s.residentBytes() > 0) {
            fillAroundResident(s, arrival);
            return;
        }
        if (s.otherBytes() == 0 || s.region().equals(s.otherRegion())) {
            memory.transfer(new MemoryAccess.StageFill(opId, s.role(), s.region(), s.tierAddress(), s.loadBytes()),
                arrival);
        } else if (s.otherBytes() == s.loadBytes()) {
            memory.transfer(new MemoryAccess.StageFill(opId, s.otherRole(), s.otherRegion(), s.otherTierAddress(),
                s.loadBytes()), arrival);
        } else {
            Runnable both = afterTwo(arrival);
            memory.transfer(new MemoryAccess.StageFill(opId, s.role(), s.region(), s.tierAddress(),
                s.streamedBytes()), both);
            memory.transfer(new MemoryAccess.StageFill(opId, s.otherRole(), s.otherRegion(), s.otherTierAddress(),
                s.otherBytes()), both);
        }
    }

    /** Runs {@code arrival} on the second of two calls: a stage read in two parts arrives with its later part. */
    private static Runnable afterTwo(Runnable arrival) {
        return new Runnable() {
            private int left = 2;

            @Override
            public void run() {
                if (--left == 0) {
                    arrival.run();
                }
            }
        };
    }

    /**
     * Reads what of a stage is not resident (left by the operators before): as {@link #fill} reads a whole stage,
     * each operand's part from its own address; a stage that is all resident arrives at once (its cores then pay
     * only the global buffer's port and the interconnect, the L2's bandwidth and latency).
     */
    private void fillAroundResident(Stage s, StageEvent arrival) {
        long streamed = s.memoryStreamedBytes();
        long other = s.memoryOtherBytes();
        if (streamed + other == 0) {
            scheduler.schedule(0, arrival);
        } else if (other == 0 || streamed > 0 && s.region().equals(s.otherRegion())) {
            memory.transfer(new MemoryAccess.StageFill(opId, s.role(), s.region(), s.tierAddress(), streamed + other),
                arrival);
        } else if (streamed == 0) {
            memory.transfer(new MemoryAccess.StageFill(opId, s.otherRole(), s.otherRegion(), s.otherTierAddress(),
                other), arrival);
        } else {
            Runnable both = afterTwo(arrival);
            memory.transfer(new MemoryAccess.StageFill(opId, s.role(), s.region(), s.tierAddress(), streamed), both);
            memory.transfer(new MemoryAccess.StageFill(opId, s.otherRole(), s.otherRegion(), s.otherTierAddress(),
                other), both);
        }
    }

    /**
     * Where a stage's write-back goes: the results' tier at the stage's offset (which lines are evicted is not
     * tracked, only how many bytes).
     */
    public static long writeBackAddress(MemorySystem memory, Stage s) {
        return memory.results().baseAddress() + s.address();
    }

    /** Runs {@code done} each time a stage's write-back has reached memory. */
    public void onWriteBack(Runnable done) {
        this.writeBackDone = done;
    }

    /** Runs {@code listener} each time a stage starts loading (null: none). */
    public void onLoad(Runnable listener) {
        this.onLoad = listener;
    }

    /**
     * A user of {@code stage} is done with it at {@code timePs} (its last load from it arrives then; now or later).
     * When every user has said so, one event releases the stage at the latest of their times: the same moment as
     * an event per user would, with one event instead of one per core.
     */
    public void releaseAt(int stage, long timePs) {
        releaseTimes[stage] = Math.max(releaseTimes[stage], timePs);
        if (++announced[stage] == stages[stage].users()) {
            scheduler.at(releaseTimes[stage], new StageEvent(false, stage));
        }
    }

    /** Event: a stage's data has arrived from memory ({@code arrival}), or its users are all done with it. */
    private final class StageEvent implements Runnable, Periodic {
        private final boolean arrival;
        private int stage;

        StageEvent(boolean arrival, int stage) {
            this.arrival = arrival;
            this.stage = stage;
        }

        @Override
        public void run() {
            if (arrival) {
                arrived(stage);
            } else {
                release(stage);
            }
        }

        @Override
        public void digest(Frame frame, Digest out) {
            out.add(arrival ? 1 : 2);
            out.add(stage - frame.stage());
        }

        @Override
        public void shift(Jump jump) {
            stage += jump.stages();
        }
    }

    /**
     * The stages from the oldest in use to the newest loaded or waited for: whether each has arrived, the users
     * that have said when they are done with it and the latest such time, and who waits for it; the occupancy. (The peak occupancy needs nothing: a repeating state repeats it.)
     */
    @Override
    public void digest(Frame frame, Digest out) {
        int end = windowEnd();
        out.add(oldestInUse - frame.stage());
        out.add(nextLoad - frame.stage());
        out.add(end - frame.stage());
        out.add(occupied);
        for (int i = oldestInUse; i < end; i++) {
            out.add(ready[i]);
            out.add(released[i]);
            out.add(announced[i]);
            out.add(frame.untilPs(releaseTimes[i]));
            List<Runnable> w = waiters.get(i);
            out.add(w == null ? -1 : w.size());
            if (w != null) {
                for (Runnable r : w) {
                    if (r instanceof Periodic p) {
                        p.digest(frame, out);
                    } else {
                        out.opaque();
                    }
                }
            }
        }
    }

    /** One past the newest stage that is loaded or has a waiter. */
    private int windowEnd() {
        int end = Math.max(nextLoad, maxWaited + 1);
        while (end > nextLoad && waiters.get(end - 1) == null) {
            end--;
        }
        return end;
    }

    /** The oldest stage in use, for fast-forwarding: nothing before it matters any more. */
    public int oldestInUse() {
        return oldestInUse;
    }

    /** The next stage to load. */
    public int nextLoad() {
        return nextLoad;
    }

    /**
     * Moves the window {@code jump.stages()} stages ahead; the stages skipped count as loaded and released by all
     * their users.
     */
    @Override
    public void shift(Jump jump) {
        int d = jump.stages();
        int end = windowEnd();
        for (int i = end - 1; i >= oldestInUse; i--) {
            ready[i + d] = ready[i];
            released[i + d] = released[i];
            announced[i + d] = announced[i];
            releaseTimes[i + d] = releaseTimes[i] + jump.timePs();
            waiters.set(i + d, waiters.get(i));
        }
        for (int i = oldestInUse; i < oldestInUse + d; i++) {
            ready[i] = true;
            released[i] = true;
            announced[i] = stages[i].users();
            waiters.set(i, null);
        }
        oldestInUse += d;
        nextLoad += d;
        maxWaited += d;
    }

    @Override
    public void counters(Counters counters) {
        bytesLoaded = counters.next(bytesLoaded);
        bytesWrittenBack = counters.next(bytesWrittenBack);
    }

    private void arrived(int stage) {
        ready[stage] = true;
        List<Runnable> w = waiters.get(stage);
        if (w != null) {
            waiters.set(stage, null);
            for (int i = 0; i < w.size(); i++) {
                w.get(i).run();
            }
            w.clear();
            spareWaiterLists.add(w);
        }
    }

    /**
     * Emptied lists of waiters, for the next stages waited for: a stage's waiters (often every core) grew a new
     * list stage after stage, and where several stages have waiters at once (a decode attention's), one spare
     * list was not enough.
     */
    private final ArrayList<List<Runnable>> spareWaiterLists = new ArrayList<>();

    public boolean isReady(int stage) {
        return ready[stage];
    }

    /** Runs {@code r} once the stage has arrived (at once if it has). */
    public void whenReady(int stage, Runnable r) {
        if (ready[stage]) {
            r.run();
            return;
        }
        maxWaited = Math.max(maxWaited, stage);
        List<Runnable> w = waiters.get(stage);
        if (w == null) {
            int spare = spareWaiterLists.size();
            w = spare > 0 ? spareWaiterLists.remove(spare - 1) : new ArrayList<>(4);
            waiters.set(stage, w);
        }
        w.add(r);
    }

    /**
     * Every user is done with the stage (their times told through {@link #releaseAt}): frees its streamed bytes and
     * the pins it ends.
     */
    private void release(int stage) {
        released[stage] = true;
        Stage s = stages[stage];
        occupied -= s.heldBytes() + s.unpinBytes();
        while (oldestInUse < stages.length && released[oldestInUse]) {
            oldestInUse++;
        }
        loadMore();
    }

    /** Stages not yet released by all their users (0 when the operator's data flow finished cleanly). */
    public int stagesInUse() {
        int n = 0;
        for (int i = 0; i < stages.length; i++) {
            if (!released[i]) {
                n++;
            }
        }
        return n;
    }

    public long bytesLoaded() {
        return bytesLoaded;
    }

    public long bytesWrittenBack() {
        return bytesWrittenBack;
    }

    public String waitingSummary() {
        return "global buffer: " + stagesInUse() + " stage(s) in use, next to load " + nextLoad + " of "
            + stages.length + ", " + occupied + " of " + capacity + " bytes occupied";
    }
}

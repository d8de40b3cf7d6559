package dev.rafter.sim;

import dev.rafter.hw.Collective;
import dev.rafter.hw.CollectivePlan;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.mapping.NearMemoryOffload;
import dev.rafter.mapping.Region;
import dev.rafter.mapping.TensorPlacement;
import dev.rafter.mapping.TensorRole;
import dev.rafter.mapping.TileProgram;
import dev.rafter.mapping.Work;
import dev.rafter.sim.component.Assembly;
import dev.rafter.sim.component.Catalogue;
import dev.rafter.sim.component.Core;
import dev.rafter.sim.component.DeviceLink;
import dev.rafter.sim.component.GlobalBuffer;
import dev.rafter.sim.component.MemoryController;
import dev.rafter.sim.component.Interconnect;
import dev.rafter.sim.component.MemoryChannel;
import dev.rafter.sim.component.MemorySystem;
import dev.rafter.sim.component.NearMemoryUnit;
import dev.rafter.sim.message.LinkTransfer;
import dev.rafter.sim.message.MemoryAccess;
import dev.rafter.sim.steady.Counters;
import dev.rafter.sim.steady.Digest;
import dev.rafter.sim.steady.Frame;
import dev.rafter.sim.steady.Jump;
import dev.rafter.sim.steady.Periodic;
import dev.rafter.sim.trace.SliceKind;
import dev.rafter.sim.trace.TraceSink;
import dev.rafter.sim.trace.Track;
import java.util.ArrayList;
import java.util.List;

/**
 * One accelerator: its components (memory channels and controllers, global buffer, interconnect, cores with PE
 * arrays and a vector unit, device links, and instances of registered kinds), built by the {@link Catalogue} from
 * the hardware model and connected as the wiring says ({@code sim/component/Wiring}: which port reaches which, with
 * the latency of each connection), on the tracks the catalogue places. The device drives them: it starts tile
 * programs on the cores and runs collectives over the links.
 */
public final class Device {
    /** What a collective reads and writes: the activations it reduces or gathers. */
    private static final TensorRole COLLECTIVE_ROLE = TensorRole.ACTIVATIONS;
    private final MemorySystem memory;
    /** Where collectives read and write: the activations' region. */
    private final Region collectiveRegion;
    private final GlobalBuffer globalBuffer;
    private final Interconnect interconnect;
    private final Core[] cores;
    private final DeviceLink deviceLink;
    private final HardwareSpec.DeviceLink linkSpec;
    private final Scheduler scheduler;
    private final long dispatchPs;
    private long hbmWritesPending;
    /** Collective slices not yet written back (apart from the programs' writes: the two may overlap). */
    private long collectiveWritesPending;
    /** Whether a collective marks the cores as waiting for it (operators one at a time); see {@link #overlapping}. */
    private boolean collectivesHoldCores = true;
    private int linkStepsPending;
    private long collectiveReadBytes;
    private long collectiveWriteBytes;

    public Device(HardwareSpec hw, Scheduler scheduler, TraceSink sink, List<Track> tracks) {
        this(hw, scheduler, sink, tracks, TensorPlacement.FIRST_TIER);
    }

    /**
     * A device whose tensors lie where {@code placement} puts them: its components as the catalogue builds them
     * from {@code hw} and the wiring ({@link Catalogue#assemble}), one memory controller per tier.
     */
    public Device(HardwareSpec hw, Scheduler scheduler, TraceSink sink, List<Track> tracks,
                  TensorPlacement.Policy placement) {
        this.scheduler = scheduler;
        this.hw = hw;
        this.nominalClock = Core.clock(hw);
        this.dispatchPs = Math.round(hw.deviceDispatchNs() * 1000);
        this.linkSpec = hw.deviceLink();
        Assembly parts = Catalogue.assemble(hw, tracks, sink, scheduler, placement);
        this.deviceLink = parts.one(DeviceLink.KIND, DeviceLink.class);
        this.memory = parts.one(MemorySystem.KIND, MemorySystem.class);
        this.globalBuffer = parts.one(GlobalBuffer.KIND, GlobalBuffer.class);
        this.interconnect = parts.one(Interconnect.KIND, Interconnect.class);
        this.cores = parts.of(Core.KIND, Core.class).toArray(new Core[0]);
        this.collectiveRegion = placement.regionOf(COLLECTIVE_ROLE);
        List<NearMemoryUnit> units = parts.of(NearMemoryUnit.KIND, NearMemoryUnit.class);
        this.nearMemory = units.isEmpty() ? null : units.get(0);
        this.placement = placement;
        globalBuffer.onWriteBack(writeDone);
    }

    private final HardwareSpec hw;
    /** The cores' clock as the hardware gives it. */
    private final ClockDomain nominalClock;

    /**
     * Runs the next operator at {@code mhz} (its operating point; the hardware's clock_mhz is the nominal one):
     * the cores' cycles and the interconnect's per-cycle rates and latency follow it; memory, given in GB/s and
     * ns, does not. Call between operators, on a settled device.
     */
    public void clock(double mhz) {
        ClockDomain at = mhz == nominalClock.mhz() ? nominalClock : new ClockDomain("core", mhz);
        for (Core c : cores) {
            c.clock(at);
        }
        // As the wiring gives it at the device's clock (Wiring: interconnect.latency_cycles).
        interconnect.clock(hw, at, at.ps(hw.interconnect().latencyCycles()));
    }

    /** Whether results stay in a write-back global buffer (see {@link Core#keepResults}); default: written through. */
    private boolean keepResults;

    /**
     * Makes the global buffer write-back (default: write-through): results stay in it when stored, and reach memory
     * only as the write-back a later program's stages carry ({@link dev.rafter.mapping.Stage#writeBackBytes}).
     */
    public Device keepResults(boolean on) {
        this.keepResults = on;
        for (Core c : cores) {
            c.keepResults(on);
        }
        return this;
    }

    /** Whether results stay in the global buffer ({@link #keepResults}). */
    public boolean keepsResults() {
        return keepResults;
    }

    /** The near-memory units, or null. */
    private final NearMemoryUnit nearMemory;
    private final TensorPlacement.Policy placement;
    /** Bytes that offloaded operators moved over the channels: operands sent down, results read back. */
    private long nearMemoryChannelBytes;

    /**
     * Runs an operator on the near-memory units ({@link NearMemoryUnit}): the cores write its small operand (a
     * GEMM's activations, an attention's queries) to the units' tier over the ordinary path, the units compute, and
     * the cores read the result back; the cores wait meanwhile (their arrays record a memory stall).
     */
    public void runNearMemory(long opId, TensorRole streamed, NearMemoryOffload.Work work, Runnable done) {
        Region region = placement.regionOf(streamed);
        for (Core c : cores) {
            c.waitOutside(opId, SliceKind.STALL_MEMORY);
        }
        nearMemoryChannelBytes += work.operandBytes() + work.resultBytes();
        memory.transfer(new MemoryAccess.NearMemoryOperand(opId, TensorRole.ACTIVATIONS, region,
            region.baseAddress(), work.operandBytes()), () -> nearMemory.run(opId, work, () -> memory.transfer(
                new MemoryAccess.NearMemoryResult(opId, TensorRole.ACTIVATIONS, region, region.baseAddress(),
                    work.resultBytes()), () -> {
                        for (Core c : cores) {
                            c.endOperator();
                        }
                        done.run();
                    })));
    }

    /** Bytes offloaded operators moved over the channels (operands down, results back). */
    public long nearMemoryChannelBytes() {
        return nearMemoryChannelBytes;
    }

    /**
     * Whether operators may run beside each other (a collective on the links beside a program on the cores): a
     * collective then leaves the cores alone, which go on with their program or stay idle.
     */
    public Device overlapping(boolean on) {
        this.collectivesHoldCores = !on;
        return this;
    }

    public static ClockDomain coreClock(HardwareSpec hw) {
        return Core.clock(hw);
    }

    /** The trace tracks of a device, as the catalogue places them. */
    public static List<Track> tracks(HardwareSpec hw) {
        return Catalogue.tracks(hw);
    }

    /**
     * Charges the start of a kernel ({@code dispatch} in the hardware model: launch gap, ramp and drain) on the
     * timeline, then runs {@code then}. The arrays record the time as a dispatch wait.
     */
    public void dispatch(long opId, Runnable then) {
        if (dispatchPs == 0) {
            then.run();
            return;
        }
        for (Core c : cores) {
            c.waitOutside(opId, SliceKind.STALL_DISPATCH);
        }
        scheduler.schedule(dispatchPs, then);
    }

    /** Brings the device to the state every kernel finds (see {@link MemoryChannel#settle}). */
    public void settle() {
        memory.settle();
    }

    /** Leaves the device as operator {@code opId} would have, reused instead of simulated, ending now. */
    public void skipTo(long opId) {
        for (Core c : cores) {
            c.skipTo(opId);
        }
    }

    /**
     * Runs one tile program on operands of {@code type}; {@code done} runs when every result is in HBM (with
     * {@link #keepResults}: in the global buffer) and every write-back its stages carry has reached memory.
     */
    public void runProgram(long opId, dev.rafter.hw.DataType type, TileProgram program, Runnable done) {
        int elementBytes = type.bytes();
        coresLeft = cores.length;
        programDone = done;
        if (!keepResults) {
            for (List<Work> work : program.cores()) {
                for (Work w : work) {
                    hbmWritesPending += w.storingChunks(elementBytes);
                }
            }
        }
        for (dev.rafter.mapping.Stage s : program.stages()) {
            if (s.writeBackBytes() > 0) {
                hbmWritesPending++;
            }
        }
        // The stages in flight follow the cores' pipelines: a GEMM's k-steps in flight per core.
        int window = Work.DOUBLE_BUFFERED;
        for (List<Work> work : program.cores()) {
            if (!work.isEmpty()) {
                window = Math.max(window, work.get(0).loadsInFlight());
            }
        }
        globalBuffer.begin(opId, program.stages(), window);
        for (int c = 0; c < cores.length; c++) {
            List<Work> work = c < program.cores().size() ? program.cores().get(c) : List.of();
            cores[c].begin(opId, type, work, coreDone, writeDone);
        }
    }

    /** Cores of the running program still computing, and what runs once it is done. */
    private int coresLeft;
    private Runnable programDone;

    private void finishIfDone() {
        if (coresLeft == 0 && hbmWritesPending == 0) {
            coresLeft = -1;
            for (Core c : cores) {
                c.endOperator();
            }
            programDone.run();
        }
    }

    private final Runnable coreDone = () -> {
        coresLeft--;
        finishIfDone();
    };

    /** Event: a result has reached memory (kind 20 in digests). */
    private final Runnable writeDone = new WriteDone();

    private final class WriteDone implements Runnable, Periodic {
        @Override
        public void run() {
            hbmWritesPending--;
            finishIfDone();
        }

        @Override
        public void digest(Frame frame, Digest out) {
            out.add(20);
        }

        @Override
        public void shift(Jump jump) {}
    }

    /**
     * The program's remaining-work counters: they do not decide the next repetition (only reaching zero ends the
     * program, which fast-forwarding never jumps to), so they are counters, advanced like totals.
     */
    void counters(Counters counters) {
        hbmWritesPending = counters.next(hbmWritesPending);
        coresLeft = (int) counters.next(coresLeft);
    }

    /**
     * NCCL's pipelining unit: its default 4 MiB buffer (NCCL_BUFFSIZE) in 8 slots (NCCL_STEPS), so a step moves
     * 512 KiB at a time and the next slice follows right behind it.
     */
    static final long COLLECTIVE_SLICE_BYTES = 512 * 1024;
    /** At most this many slices per collective (bounds the events of a huge collective; its time barely moves). */
    static final int MAX_COLLECTIVE_SLICES = 64;

    /**
     * Runs a collective of {@code tensorBytes} per device ({@link Collective} says which bytes) over {@code devices}
     * devices as its plan says ({@link CollectivePlan}: algorithm and protocol chosen from the cost table): the
     * per-call latency, then the data in slices, pipelined as NCCL does: each slice reads its share of what the
     * collective reads from memory, crosses the algorithm's hops one after another (each hop sends the slice's share
     * of the payload on the wire, at the protocol's payload fraction, and pays the hop latency), and writes its
     * share of the result; slices follow each other through the links' queue. The cores wait meanwhile (their
     * arrays record the time as an interconnect stall), unless operators overlap ({@link #overlapping}).
     */
    public void runCollective(long opId, Collective collective, long tensorBytes, int devices, Runnable done) {
        CollectivePlan plan = CollectivePlan.choose(linkSpec, collective, tensorBytes, devices);
        long readBytes = collective.readBytes(tensorBytes, devices);
        long writeBytes = collective.writeBytes(tensorBytes, devices);
        if (collectivesHoldCores) {
            for (Core c : cores) {
                c.waitOutside(opId, SliceKind.STALL_INTERCONNECT);
            }
        }
        int hops = plan.hops();
        long perHop = (plan.egressBytes() + hops - 1) / hops;
        int slices = (int) Math.max(1, Math.min(MAX_COLLECTIVE_SLICES,
            (perHop + COLLECTIVE_SLICE_BYTES - 1) / COLLECTIVE_SLICE_BYTES));
        long hopPs = Math.round(plan.cost().hopLatencyNs() * 1000);
        double payload = plan.cost().payloadFraction();
        int[] left = {slices};
        collectiveReadBytes += readBytes;
        collectiveWriteBytes += writeBytes;
        linkStepsPending += slices * hops;
        collectiveWritesPending += slices;
        Runnable sliceDone = () -> {
            collectiveWritesPending--;
            if (--left[0] == 0) {
                if (collectivesHoldCores) {
                    for (Core c : cores) {
                        c.endOperator();
                    }
                }
                done.run();
            }
        };
        scheduler.schedule(Math.round(plan.cost().baseLatencyNs() * 1000), () -> {
            long readAt = 0;
            long writeAt = 0;
            for (int i = 0; i < slices; i++) {
                long read = share(readBytes, slices, i);
                long write = share(writeBytes, slices, i);
                long wire = (long) Math.ceil(share(perHop, slices, i) / payload);
                long from = readAt;
                long to = writeAt;
                readAt += read;
                writeAt += write;
                memory.transfer(new MemoryAccess.CollectiveRead(opId, COLLECTIVE_ROLE, collectiveRegion, from,
                    read),
                    () -> hop(opId, wire, hopPs, hops, () -> memory.transfer(
                        new MemoryAccess.CollectiveWrite(opId, COLLECTIVE_ROLE, collectiveRegion, to, write),
                        sliceDone)));
            }
        });
    }

    /** Where a system's collective reads and writes next in the activations' region (see {@link #collectiveAccess}). */
    private long systemReadAt;
    private long systemWriteAt;

    /**
     * A system's collective or send reads ({@code write} false) or writes {@code bytes} of its activations on this
     * device's memory (the fabric moves its messages: {@code sim/fabric/FabricCollectives}); {@code done} runs once
     * they are served. Reads and writes each go on from where the last left off, from the region's start after
     * {@link #beginCommunication}.
     */
    public void collectiveAccess(long opId, boolean write, long bytes, Runnable done) {
        if (write) {
            long at = systemWriteAt;
            systemWriteAt += bytes;
            collectiveWriteBytes += bytes;
            memory.transfer(new MemoryAccess.CollectiveWrite(opId, COLLECTIVE_ROLE, collectiveRegion, at, bytes), done);
        } else {
            long at = systemReadAt;
            systemReadAt += bytes;
            collectiveReadBytes += bytes;
            memory.transfer(new MemoryAccess.CollectiveRead(opId, COLLECTIVE_ROLE, collectiveRegion, at, bytes), done);
        }
    }

    /**
     * A system's collective or send begins on this device: its accesses start at the region's start. Where
     * {@code settled}, the device is idle and its memory is brought to the state every kernel finds, so that the
     * communication's timing depends on itself alone (as a kernel's does).
     */
    public void beginCommunication(boolean settled) {
        systemReadAt = 0;
        systemWriteAt = 0;
        if (settled) {
            memory.settle();
        }
    }

    /** Counts what a replayed communication read and wrote, as its simulated twin did. */
    public void replayCommunication(long readBytes, long writeBytes) {
        collectiveReadBytes += readBytes;
        collectiveWriteBytes += writeBytes;
    }

    /** Sends a slice over {@code hopsLeft} hops, one after another, then runs {@code then}. */
    private void hop(long opId, long wireBytes, long hopPs, int hopsLeft, Runnable then) {
        if (hopsLeft == 0) {
            then.run();
            return;
        }
        linkStepsPending--;
        deviceLink.send(new LinkTransfer(opId, wireBytes), hopPs, () -> hop(opId, wireBytes, hopPs, hopsLeft - 1,
            then));
    }

    /** Part {@code i} of {@code total} cut into {@code n} near-equal parts. */
    private static long share(long total, int n, int i) {
        return total / n + (i < total % n ? 1 : 0);
    }

    /** The components that still hold work, for a deadlock report. */
    public List<String> waiting() {
        List<String> out = new ArrayList<>();
        for (Core c : cores) {
            String w = c.waiting();
            if (w != null) {
                out.add(w);
            }
        }
        if (globalBuffer.stagesInUse() > 0) {
            out.add(globalBuffer.waitingSummary());
        }
        if (linkStepsPending > 0) {
            out.add("device link: " + linkStepsPending + " collective hops pending");
        }
        if (hbmWritesPending + collectiveWritesPending > 0) {
            out.add("hbm: " + (hbmWritesPending + collectiveWritesPending) + " result writes pending");
        }
        return out;
    }

    public Core[] cores() {
        return cores;
    }

    /** The first tier's controller. */
    public MemoryController memory() {
        return memory.tier(0);
    }

    /** Every tier's controller, by the accesses' regions. */
    public MemorySystem memorySystem() {
        return memory;
    }

    public Interconnect interconnect() {
        return interconnect;
    }

    /** Bytes that collectives read from memory, bypassing the global buffer's stages. */
    public long collectiveReadBytes() {
        return collectiveReadBytes;
    }

    /** Bytes that collectives wrote to memory. */
    public long collectiveWriteBytes() {
        return collectiveWriteBytes;
    }

    public DeviceLink deviceLink() {
        return deviceLink;
    }

    public GlobalBuffer globalBuffer() {
        return globalBuffer;
    }
}

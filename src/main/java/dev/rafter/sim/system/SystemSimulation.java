package dev.rafter.sim.system;

import dev.rafter.config.InputException;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.hw.SystemSpec;
import dev.rafter.mapping.TensorPlacement;
import dev.rafter.sim.DeadlockException;
import dev.rafter.sim.Device;
import dev.rafter.sim.Kernel;
import dev.rafter.sim.Simulation;
import dev.rafter.sim.component.Catalogue;
import dev.rafter.sim.component.Host;
import dev.rafter.sim.fabric.Fabric;
import dev.rafter.sim.fabric.FabricCollectives;
import dev.rafter.sim.fabric.FabricGraph;
import dev.rafter.sim.trace.RunStats;
import dev.rafter.sim.trace.TeeSink;
import dev.rafter.sim.trace.TraceSink;
import dev.rafter.sim.trace.Track;
import dev.rafter.workload.Operator;
import dev.rafter.workload.OperatorOrder;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.OperatorStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * Devices of a system computing on one kernel, joined by its fabric. Each device (rank) runs its shard's operator
 * stream one operator after another on its own {@link Device}; a collective operator waits until every device of
 * its group has reached it (a slow device delays the others: the early ones record the wait as an interconnect
 * stall), then runs as traffic on the system's fabric ({@link FabricCollectives}) and ends for all of them at once.
 * The first {@code tensor_parallel x expert_parallel x pipeline_parallel x data_parallel} devices of the system take
 * part, replica by replica: stage {@code s} of replica {@code d} is devices {@code (d x pp + s) x ep x tp} onwards,
 * {@code ep} tensor-parallel groups of {@code tp} devices one after another; an all-to-all (a mixture of experts'
 * dispatch and combine, {@link #experts}) runs between the devices of a stage with the same tensor-parallel rank,
 * every other collective within a tensor-parallel group; replicas run the same streams on their own devices, sharing the fabric; with a pipeline, each stage runs
 * its layers for each micro-batch ({@link StageStream}) and hands the activations to the next stage's device of the
 * same tensor-parallel rank, a send that starts when both devices have reached it (NCCL's send/recv). A multi-rank
 * trace ({@link #ranks}) gives each device a stream of its own instead, and each collective the process group it
 * joins.
 *
 * <p>Exact shortcuts, each tested equal to simulating everything ({@link #reuse}, {@link #mirror}):
 * <ul>
 *   <li>an operator whose shape already ran on a device of the same hardware is replayed from its sums (every
 *       operator starts alone on a settled device, so its timing and sums depend on its shape alone);</li>
 *   <li>a collective whose plan already ran is replayed where it always finds its links idle, so that its time and
 *       link use depend on its plan alone: with one group (its collectives run one at a time), or on a single-switch
 *       fabric, where each link is one device's and a device takes part in one communication at a time;</li>
 *   <li>identical devices running identical streams ({@link #mirror}): every device's timeline is the same, so one
 *       device is simulated and stands for the others; the collectives still cross the whole fabric.</li>
 * </ul>
 * <p>A device whose hardware has a host ({@code host.framework}) has a CPU thread of its own launching its kernels
 * (one process per GPU, as torchrun and serving engines' workers run): a kernel starts no earlier than its launch,
 * and a collective is a call like any other, so a device reaches the group's barrier only once its host has launched
 * it (the host's per-operator and per-kernel costs, as a single device's). An operator of several kernels is then
 * simulated in full (its later kernels may wait for launches), as a single device's is. A pipeline stage's send or
 * receive is a call too (a copy of the activations, as PyTorch's send and recv are): its host launches it before
 * the device reaches the other side.
 *
 * <p>By dependencies ({@link #order}), each device starts an operator once its deps have ended, so a collective
 * or a pipeline's send or receive runs on the fabric while independent compute goes on (see {@link Rank}).
 *
 * <p>A collective's and a send's messages read and write each device's memory as they go ({@link
 * FabricCollectives}: the chunk sent is read, the chunk received written, and a reduction reads the device's own
 * chunk too), on the device's own memory system: in strict order at a collective's start each member is idle and
 * its memory settled, as for a kernel; by dependencies the traffic shares the channels with compute running beside
 * it. Since that contention makes an operator's time depend on what else runs, neither shortcut is taken by
 * dependencies: every device is simulated and nothing is replayed. With the mirror shortcut, the devices not
 * simulated lend their memories to the collectives all the same (idle devices of their hardware, as the simulated
 * one is at a collective's start).
 *
 * <p>By dependencies with a host, each device's host issues its calls in program order as a thread of its own
 * ({@link Host#streams}): an operator starts once its launch is in the stream, its deps have ended and its engine
 * is free, so a collective, whose launch is issued like any kernel's, runs on the communication stream beside the
 * compute launched after it.
 */
public final class SystemSimulation {
    /**
     * One device after the run: its sums, when it finished its last operator, and how its time was spent: computing,
     * communicating (in a collective, send or receive: from reaching it to its end; by dependencies a send or
     * receive from the start of its transfer), and of that the time exposed, with the cores idle ({@code
     * collectivePs} in strict order; less where communication overlapped compute).
     */
    public record DeviceResult(int index, String name, HardwareSpec hardware, RunStats stats, long endPs,
                               long operators, long computePs, long collectivePs, long reusedOperators,
                               long exposedPs, long l2DirtyBytesLeft) {}

    /** One direction of a fabric wire after the run. */
    public record LinkResult(String name, long bytes, long busyPs, double pjPerBit) {
        public double energyJ() {
            return 8.0 * bytes * pjPerBit * 1e-12;
        }
    }

    /** Collectives run with one algorithm: how many and their time on the fabric (from launch to end). */
    public record AlgorithmTotals(String algorithm, long collectives, long timePs) {}

    /**
     * What a run produced. {@code simulatedDevices} is how many devices were simulated ({@code devices.size()}
     * unless mirrored: 1); {@code fabricEnergyJ} what the fabric's links spent, also by phase.
     */
    public record Result(long endPs, long events, double wallS, List<DeviceResult> devices, List<LinkResult> links,
                         List<AlgorithmTotals> algorithms, Map<String, Double> fabricEnergyByPhaseJ,
                         int simulatedDevices, long reusedCollectives, long collectives, OperatorOrder order) {
        public double fabricEnergyJ() {
            return links.stream().mapToDouble(LinkResult::energyJ).sum();
        }
    }

    private final SystemSpec spec;
    private final FabricGraph graph;
    private final int tensorParallel;
    private int stages = 1;
    private int microBatches = 1;
    private int replicas = 1;
    private int experts = 1;
    private int layers;
    private boolean reuse = true;
    private boolean mirror = true;
    private TensorPlacement.Policy placement = TensorPlacement.FIRST_TIER;
    private int sequences;
    /** A multi-rank trace's streams, device by device (null: every device runs the stream {@link #run} is given). */
    private List<OperatorSource> rankStreams;
    private List<List<Integer>> rankGroups;
    private CollectiveGroups groupOf;

    /** Which of the {@link #ranks} groups a device's collective joins. */
    public interface CollectiveGroups {
        /** The index of the group device {@code device}'s collective {@code op} joins. */
        int of(int device, Operator op);
    }
    private OperatorOrder order = OperatorOrder.STRICT;

    /** A run on the first {@code tensorParallel} devices of {@code spec} (the caller checks there are as many). */
    public SystemSimulation(SystemSpec spec, int tensorParallel) {
        if (tensorParallel > spec.deviceCount()) {
            throw new IllegalArgumentException("tensor parallel " + tensorParallel + " on " + spec.deviceCount()
                + " devices");
        }
        this.spec = spec;
        this.graph = new FabricGraph(spec);
        this.tensorParallel = Math.max(1, tensorParallel);
    }

    /**
     * A pipeline of {@code stages} stages over {@code layers} layers, {@code microBatches} per step; the caller checks
     * the system has {@code tensor_parallel x stages} devices, and runs the stream of one micro-batch.
     */
    public SystemSimulation pipeline(int stages, int microBatches, int layers) {
        if (devicesPerStage() * stages > spec.deviceCount()) {
            throw new IllegalArgumentException(devicesPerStage() * stages + " devices of " + spec.deviceCount());
        }
        this.stages = stages;
        this.microBatches = microBatches;
        this.layers = layers;
        return this;
    }

    /**
     * Expert parallelism: each stage's devices are {@code experts} tensor-parallel groups whose all-to-alls run
     * across the groups (set before {@link #pipeline} and {@link #replicas}; the caller checks the system has the
     * devices).
     */
    public SystemSimulation experts(int experts) {
        if (tensorParallel * experts > spec.deviceCount()) {
            throw new IllegalArgumentException(tensorParallel * experts + " devices of " + spec.deviceCount());
        }
        this.experts = experts;
        return this;
    }

    /** Devices of one stage: its tensor-parallel groups, one per expert-parallel rank. */
    private int devicesPerStage() {
        return tensorParallel * experts;
    }

    /**
     * {@code replicas} copies of the whole (data parallelism), each on its own devices, all on the one fabric; the
     * caller checks the system has them.
     */
    public SystemSimulation replicas(int replicas) {
        if (devicesPerReplica() * replicas > spec.deviceCount()) {
            throw new IllegalArgumentException(devicesPerReplica() * replicas + " devices of " + spec.deviceCount());
        }
        this.replicas = replicas;
        return this;
    }

    private int devicesPerReplica() {
        return devicesPerStage() * stages;
    }

    /** Devices taking part. */
    private int devices() {
        return devicesPerReplica() * replicas;
    }

    /** Whether operators and collectives that already ran are replayed (default on; exact, see the class). */
    public SystemSimulation reuse(boolean on) {
        this.reuse = on;
        return this;
    }

    /**
     * Whether identical devices running identical streams are simulated once (default on; exact, see the class).
     * Off, or with events wanted, every device is simulated.
     */
    public SystemSimulation mirror(boolean on) {
        this.mirror = on;
        return this;
    }

    /** Where tensors lie on each device, by role. */
    public SystemSimulation placement(TensorPlacement.Policy placement) {
        this.placement = placement;
        return this;
    }

    /**
     * When each device starts an operator: {@code strict} (default) one after another; {@code dependencies} as its
     * deps allow, a collective or a pipeline's send or receive running on the fabric beside independent compute.
     */
    public SystemSimulation order(OperatorOrder order) {
        this.order = order;
        return this;
    }

    /** Sequences per batch (a workload's {@code run.batch}), for a serving host's per-sequence cost. */
    public SystemSimulation sequences(int sequences) {
        this.sequences = sequences;
        return this;
    }

    /**
     * Each device runs a stream of its own ({@code streams.get(r)} on device r: a multi-rank trace's rank r, on a
     * simulation made for {@code streams.size()} devices), and a collective joins the devices of
     * {@code groups.get(groupOf.of(r, op))} rather than a tensor-parallel group. The caller checks that the members
     * of a group run the same collectives in the same order; none is skipped by the mirror shortcut.
     */
    public SystemSimulation ranks(List<OperatorSource> streams, List<List<Integer>> groups, CollectiveGroups groupOf) {
        if (streams.size() != tensorParallel) {
            throw new IllegalArgumentException(streams.size() + " streams for " + tensorParallel + " devices");
        }
        this.rankStreams = List.copyOf(streams);
        this.rankGroups = List.copyOf(groups);
        this.groupOf = groupOf;
        return this;
    }

    /** Whether every device runs the same hardware, so that one can stand for all. */
    boolean identicalDevices() {
        HardwareSpec first = spec.devices().get(0).hardware();
        for (int i = 1; i < devices(); i++) {
            if (!spec.devices().get(i).hardware().equals(first)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Runs {@code source} (one shard's stream: every device of the tensor-parallel group runs the same one) on the
     * devices. {@code trace} receives every device's and the fabric's slices (null: none; with one, everything is
     * simulated: no replay, no mirror), {@code listeners} gives a device's operator listener (null: none; with
     * the mirror shortcut only device 0's is asked for).
     */
    public Result run(OperatorSource source, SystemTrace trace, IntFunction<Simulation.OpListener> listeners) {
        boolean byDependencies = order == OperatorOrder.DEPENDENCIES;
        // One stage: every device runs the same stream, so identical devices have identical timelines.
        // With replicas, their collectives share the fabric at once (a PCIe uplink, a NIC): no mirror.
        // Several groups at once (expert and tensor parallelism together): a mirror would launch only the first's.
        boolean oneGroupAtATime = rankStreams != null ? rankGroups.size() <= 1
            : stages == 1 && replicas == 1 && (experts == 1 || tensorParallel == 1);
        // A multi-rank trace's devices run streams of their own: none stands for another. By dependencies a
        // device's compute and communication share its memory, so each device's timeline is its own.
        boolean mirrored = mirror && rankStreams == null && oneGroupAtATime && identicalDevices() && trace == null
            && !byDependencies;
        int simulated = mirrored ? 1 : devices();
        Kernel kernel = new Kernel();
        Rank[] ranks = new Rank[simulated];
        Fabric[] fabric = new Fabric[1];
        // A collective's run repeats where it always finds its links idle: with one group and no pipeline they run
        // one at a time; on a single switch each link is one device's, and a device takes part in one at a time
        // (not so by dependencies with a pipeline: a device then sends or receives during a collective).
        // By dependencies a collective's memory traffic meets whatever compute runs beside it: nothing repeats.
        SharedRun run = new SharedRun(graph, placement, order, devicesPerStage(), groupOf, reuse && trace == null
            && !byDependencies && (oneGroupAtATime || graph.linksServeOneDeviceEach()));
        List<OperatorStream> streams = new ArrayList<>();
        long wallStart = System.nanoTime();
        long end;
        try {
            for (int r = 0; r < simulated; r++) {
                streams.add(new OperatorStream(rankStreams == null ? source : rankStreams.get(r)));
            }
            end = kernel.run(clock -> {
                TraceSink fabricTrace = trace == null ? null : trace.fabric();
                // Each communication's messages carry its own number, so its link use is its own, whatever else
                // crosses the fabric meanwhile.
                fabric[0] = new Fabric(graph, clock, (track, kind, id, start, stop, amount) -> {
                    run.onLink(id, track.index(), stop - start, amount);
                    if (fabricTrace != null) {
                        fabricTrace.slice(track, kind, id, start, stop, amount);
                    }
                });
                run.start(clock, fabric[0]);
                for (int r = 0; r < simulated; r++) {
                    HardwareSpec hw = spec.devices().get(r).hardware();
                    List<Track> tracks = Device.tracks(hw);
                    RunStats stats = new RunStats(tracks);
                    TraceSink extra = trace == null ? null : trace.device(r);
                    TraceSink sink = extra == null ? stats : new TeeSink(List.of(stats, extra));
                    Simulation.OpListener listener = listeners == null ? null : listeners.apply(r);
                    Iterator<StageStream.Item> items = stages == 1 && microBatches == 1 ? new SingleStage(streams.get(r))
                        : new StageStream(streams.get(r), r % devicesPerReplica() / devicesPerStage(), stages,
                            microBatches, layers, byDependencies);
                    Host host = hw.host().on() ? new Host(hw.host(), sink, Catalogue.tracksOf(tracks, Host.KIND),
                        sequences) : null;
                    ranks[r] = new Rank(r, hw, new Device(hw, clock, sink, tracks, placement), stats, sink,
                        items, listener, run, reuse && extra == null && !byDependencies, host);
                    if (byDependencies) {
                        ranks[r].byDependencies();
                    }
                }
                if (rankStreams != null) {
                    run.rankGroups = new SharedRun.Group[rankGroups.size()];
                    for (int g = 0; g < rankGroups.size(); g++) {
                        run.rankGroups[g] = group(run, ranks, simulated, rankGroups.get(g));
                    }
                }
                for (int s = 0; rankStreams == null && s < stages * replicas * experts; s++) {
                    // Tensor-parallel group s: expert rank s % ep of stage s / ep % pp of replica s / ep / pp,
                    // devices (in the system's order) s x tp onwards.
                    List<Integer> devices = new ArrayList<>();
                    for (int t = 0; t < tensorParallel; t++) {
                        devices.add(s * tensorParallel + t);
                    }
                    SharedRun.Group g = group(run, ranks, simulated, devices);
                    for (Rank m : g.members) {
                        m.group = g;
                    }
                }
                for (int s = 0; experts > 1 && s < stages * replicas; s++) {
                    for (int t = 0; t < tensorParallel; t++) {
                        // The same tensor-parallel rank of each of the stage's expert ranks.
                        List<Integer> devices = new ArrayList<>();
                        for (int e = 0; e < experts; e++) {
                            devices.add((s * experts + e) * tensorParallel + t);
                        }
                        SharedRun.Group g = group(run, ranks, simulated, devices);
                        for (Rank m : g.members) {
                            m.expertGroup = g;
                        }
                    }
                }
                run.ranks = ranks;
                run.standIns = new Device[devices()];
                for (int d = simulated; d < devices(); d++) {
                    // A device the mirror does not simulate: its memory serves its share of the collectives.
                    HardwareSpec hw = spec.devices().get(d).hardware();
                    run.standIns[d] = new Device(hw, clock, (track, kind, id, start, stop, amount) -> { },
                        Device.tracks(hw), placement);
                }
                for (Rank r : ranks) {
                    clock.schedule(0, r::begin);
                }
            });
        } finally {
            for (OperatorStream s : streams) {
                s.close();
            }
        }
        List<String> waiting = new ArrayList<>();
        for (Rank r : ranks) {
            if (r.workLeft()) {
                waiting.add(spec.devices().get(r.index).name() + ": operators left to run");
            }
            waiting.addAll(r.device.waiting());
        }
        if (!waiting.isEmpty()) {
            throw new DeadlockException(end, waiting);
        }
        if (ranks[0].operators == 0) {
            throw new InputException("no operators to simulate (check --phase)");
        }
        double wall = (System.nanoTime() - wallStart) * 1e-9;
        List<DeviceResult> devices = new ArrayList<>();
        for (int i = 0; i < devices(); i++) {
            Rank r = ranks[mirrored ? 0 : i];
            devices.add(new DeviceResult(i, spec.devices().get(i).name(), r.hw, r.stats, r.endPs, r.operators,
                r.computePs, r.collectivePs, r.reused, r.scheduler == null ? r.collectivePs : r.exposedPs,
                r.l2 == null ? 0 : r.l2.dirty()));
        }
        List<LinkResult> links = new ArrayList<>();
        for (FabricGraph.DirectedLink l : graph.links()) {
            links.add(new LinkResult(l.name(), fabric[0].bytesMoved(l.index()) + run.replayedBytes[l.index()],
                fabric[0].busyPs(l.index()) + run.replayedBusyPs[l.index()], l.parameters().pjPerBit()));
        }
        List<AlgorithmTotals> algorithms = new ArrayList<>();
        run.byAlgorithm.forEach((a, t) -> algorithms.add(new AlgorithmTotals(a, t[0], t[1])));
        Map<String, Double> byPhase = new LinkedHashMap<>();
        double total = links.stream().mapToDouble(LinkResult::energyJ).sum();
        long allBytes = 0;
        for (long[] b : run.wireBytesByPhase.values()) {
            allBytes += b[0];
        }
        for (Map.Entry<String, long[]> e : run.wireBytesByPhase.entrySet()) {
            // Every link of a system charges the same energy per bit unless the file says otherwise: share the
            // fabric's energy by the bytes each phase put on the wires.
            byPhase.put(e.getKey(), allBytes == 0 ? 0 : total * e.getValue()[0] / allBytes);
        }
        return new Result(end, kernel.events(), wall, List.copyOf(devices), List.copyOf(links),
            List.copyOf(algorithms), byPhase, simulated, run.reusedCollectives, run.collectives, order);
    }

    /** The group of {@code devices}, of which those below {@code simulated} must arrive. */
    private static SharedRun.Group group(SharedRun run, Rank[] ranks, int simulated, List<Integer> devices) {
        List<Rank> members = new ArrayList<>();
        for (int d : devices) {
            if (d < simulated) {
                members.add(ranks[d]);
            }
        }
        return run.new Group(devices, members);
    }

    /** A stage that is the whole model: the operators as they come. */
    private record SingleStage(Iterator<Operator> ops) implements Iterator<StageStream.Item> {
        @Override
        public boolean hasNext() {
            return ops.hasNext();
        }

        @Override
        public StageStream.Item next() {
            return new StageStream.Compute(ops.next());
        }
    }

}

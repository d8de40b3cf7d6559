package dev.rafter.sim.system;

import dev.rafter.config.InputException;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.hw.SystemSpec;
import dev.rafter.mapping.L2Residency;
import dev.rafter.mapping.OperatorMapper;
import dev.rafter.mapping.TensorPlacement;
import dev.rafter.mapping.TileProgram;
import dev.rafter.roofline.Roofline;
import dev.rafter.sim.DeadlockException;
import dev.rafter.sim.Device;
import dev.rafter.sim.Kernel;
import dev.rafter.sim.OperatorKernels;
import dev.rafter.sim.Scheduler;
import dev.rafter.sim.Simulation;
import dev.rafter.sim.component.Catalogue;
import dev.rafter.sim.component.Core;
import dev.rafter.sim.component.Host;
import dev.rafter.sim.fabric.Fabric;
import dev.rafter.sim.fabric.FabricAlgorithm;
import dev.rafter.sim.fabric.FabricCollectives;
import dev.rafter.sim.fabric.FabricGraph;
import dev.rafter.sim.fabric.FabricOp;
import dev.rafter.sim.fabric.FabricPlan;
import dev.rafter.sim.schedule.OperatorScheduler;
import dev.rafter.sim.schedule.OperatorSchedulers;
import dev.rafter.sim.trace.RunStats;
import dev.rafter.sim.trace.SliceKind;
import dev.rafter.sim.trace.TeeSink;
import dev.rafter.sim.trace.TraceSink;
import dev.rafter.sim.trace.Track;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;
import dev.rafter.workload.OperatorOrder;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.OperatorStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
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
        Run run = new Run(reuse && trace == null && !byDependencies && (oneGroupAtATime
            || graph.linksServeOneDeviceEach()));
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
                    run.rankGroups = new Run.Group[rankGroups.size()];
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
                    Run.Group g = group(run, ranks, simulated, devices);
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
                        Run.Group g = group(run, ranks, simulated, devices);
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
    private static Run.Group group(Run run, Rank[] ranks, int simulated, List<Integer> devices) {
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

    /** The side of a send/recv that arrived first: its device and its item. */
    private record Waiting(Rank rank, StageStream.Exchange exchange) {}

    /** A replayable operator: what its first run took and added. */
    private record Replay(long durationPs, RunStats.Sums totalDelta, RunStats.Sums own, Roofline.Bound bound,
                          String mapping) {}

    /** A group's collective of one kind and size, the key of its plan. */
    private record PlanKey(OpKind kind, long bytes) {}

    /**
     * A plan with what each launch of it needs, worked out once: its description (ops.csv's mapping), its
     * algorithm's name, and its hash (a plan hashes deeply, and keys the replays).
     */
    private static final class Planned {
        final FabricPlan plan;
        final String description;
        final String algorithm;
        private final int hash;

        Planned(FabricPlan plan) {
            this.plan = plan;
            this.description = plan.describe();
            this.algorithm = plan.algorithm().name().toLowerCase(Locale.ROOT);
            this.hash = plan.hashCode();
        }

        @Override
        public boolean equals(Object o) {
            return o == this || o instanceof Planned p && hash == p.hash && plan.equals(p.plan);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    /**
     * A replayable collective: its time, what it put on each link, and on each simulated member (in the group's
     * order) what it added to the run's sums and to its own, and the bytes it read and wrote.
     */
    private record CollectiveReplay(long durationPs, long[] bytes, long[] busyPs, RunStats.Sums[] totalDelta,
                                    RunStats.Sums[] own, long[] readBytes, long[] writeBytes) {}

    /** State shared by the devices of one run: the group's barrier, plans, replays and fabric totals. */
    private final class Run {
        Rank[] ranks;
        /** The devices the mirror does not simulate, by index (null where simulated): their memories only. */
        Device[] standIns;
        /** A multi-rank trace's process groups, as {@link #ranks} gives them (null: tensor-parallel groups). */
        Group[] rankGroups;
        Scheduler clock;
        Fabric fabric;
        /** Per directed pair of devices (from << 32 | to): the side of a send/recv that arrived first. */
        final Map<Long, Waiting> waitingToExchange = new HashMap<>();
        final Map<HardwareSpec, Map<Simulation.ReuseKey, Replay>> replays = new HashMap<>();
        final Map<HardwareSpec, Map<Operator.Shape, List<TileProgram>>> programs = new HashMap<>();
        final Map<String, FabricPlan> plans = new HashMap<>();
        /** Replays by plan: groups whose plans are equal share them. */
        final Map<Planned, CollectiveReplay> collectiveReplays = new HashMap<>();
        final long[] replayedBytes = new long[graph.links().size()];
        final long[] replayedBusyPs = new long[graph.links().size()];
        final Map<String, long[]> byAlgorithm = new LinkedHashMap<>();
        final Map<String, long[]> wireBytesByPhase = new LinkedHashMap<>();
        long reusedCollectives;
        long collectives;
        /** Whether collectives that already ran are replayed. */
        final boolean reuse;

        Run(boolean reuse) {
            this.reuse = reuse;
        }

        /** A tensor-parallel group: its devices (for the plan) and those of them simulated (who must arrive). */
        final class Group {
            final List<Integer> devices;
            final List<Rank> members;
            int arrived;
            Operator pending;
            /** This group's plans by collective and size: a decode step launches the same few again and again. */
            final Map<PlanKey, Planned> planned = new HashMap<>();

            Group(List<Integer> devices, List<Rank> members) {
                this.devices = List.copyOf(devices);
                this.members = List.copyOf(members);
            }

            /** A device has reached a collective; the last of the simulated devices to arrive launches it. */
            void arrive(Operator op) {
                if (pending == null) {
                    pending = op;
                } else if (pending.kind() != op.kind() || pending.elements() != op.elements()) {
                    throw new IllegalStateException("devices disagree on a collective: " + pending.name() + " ("
                        + pending.elements() + " elements) and " + op.name() + " (" + op.elements() + ")");
                }
                if (++arrived == members.size()) {
                    arrived = 0;
                    Operator collective = pending;
                    pending = null;
                    launch(this, collective);
                }
            }
        }

        /**
         * A device has reached its side of a send/recv with {@code peer}; when the other side is there too, the
         * activations cross the fabric and both go on.
         */
        void exchange(Rank rank, int peer, StageStream.Exchange e) {
            int from = e.send() ? rank.index : peer;
            int to = e.send() ? peer : rank.index;
            long key = ((long) from << 32) | to;
            Waiting other = waitingToExchange.remove(key);
            if (other == null) {
                waitingToExchange.put(key, new Waiting(rank, e));
                return;
            }
            FabricPlan plan = plans.computeIfAbsent("send/" + from + "/" + to + "/" + e.bytes(),
                k -> FabricPlan.choose(graph, FabricOp.SEND_RECV, e.bytes(), FabricAlgorithm.AUTO, List.of(from, to)));
            long launched = clock.now();
            rank.transferring();
            other.rank.transferring();
            Communication c = begin();
            Rank sender = e.send() ? rank : other.rank;
            Rank receiver = e.send() ? other.rank : rank;
            sender.device.beginCommunication(false);
            receiver.device.beginCommunication(false);
            // By dependencies a send or receive is an operator (its token); in order it belongs to none.
            long token = e.token() == null ? -1 : e.token().id();
            FabricCollectives.Memories memories = (device, write, bytes, done) ->
                (device == from ? sender : receiver).device.collectiveAccess(token, write, bytes, done);
            FabricCollectives.send(fabric, plan, from, to, c.id, memories, () -> {
                end(c, e.op());
                count("send_recv", launched);
                rank.exchanged(e);
                other.rank.exchanged(other.exchange);
            });
        }

        /** A communication in flight: what its own messages put on each link. */
        private final class Communication {
            final long id = nextCommunication++;
            final long[] bytes = new long[graph.links().size()];
            final long[] busyPs = new long[graph.links().size()];
        }

        private long nextCommunication;
        private final Map<Long, Communication> inFlight = new HashMap<>();

        private Communication begin() {
            Communication c = new Communication();
            inFlight.put(c.id, c);
            return c;
        }

        /** A slice of communication {@code id} on link {@code link}. */
        void onLink(long id, int link, long busyPs, long bytes) {
            Communication c = inFlight.get(id);
            c.bytes[link] += bytes;
            c.busyPs[link] += busyPs;
        }

        /** Ends a communication: its wire bytes count for the phase of {@code op}. */
        private void end(Communication c, Operator op) {
            inFlight.remove(c.id);
            long wire = 0;
            for (long b : c.bytes) {
                wire += b;
            }
            wireBytesByPhase.computeIfAbsent(op.phase().key(), k -> new long[1])[0] += wire;
        }

        private void count(String algorithm, long launched) {
            long[] a = byAlgorithm.computeIfAbsent(algorithm, k -> new long[2]);
            a[0]++;
            a[1] += clock.now() - launched;
        }

        void start(Scheduler clock, Fabric fabric) {
            this.clock = clock;
            this.fabric = fabric;
        }

        List<TileProgram> programs(HardwareSpec hw, Operator op) {
            return programs.computeIfAbsent(hw, k -> new HashMap<>())
                .computeIfAbsent(op.shape(), k -> OperatorMapper.programs(hw, op, placement));
        }

        Map<Simulation.ReuseKey, Replay> replays(HardwareSpec hw) {
            return replays.computeIfAbsent(hw, k -> new HashMap<>());
        }

        private void launch(Group group, Operator op) {
            long bytes = op.elements() * op.dataType().bytes();
            Planned planned = group.planned.computeIfAbsent(new PlanKey(op.kind(), bytes), k -> {
                FabricOp fabricOp = FabricOp.valueOf(op.kind().collective().name());
                return new Planned(plans.computeIfAbsent(fabricOp + "/" + bytes + "/" + group.devices, s ->
                    FabricPlan.choose(graph, fabricOp, bytes, FabricAlgorithm.AUTO, group.devices)));
            });
            FabricPlan plan = planned.plan;
            long launched = clock.now();
            collectives++;
            // One group: its collectives run one at a time on an idle fabric, so a plan's run repeats exactly.
            boolean replayable = reuse;
            CollectiveReplay kept = replayable ? collectiveReplays.get(planned) : null;
            Runnable ended = () -> {
                count(planned.algorithm, launched);
                for (Rank r : group.members) {
                    r.collectiveEnded(planned.description);
                }
            };
            if (kept != null) {
                reusedCollectives++;
                for (int m = 0; m < group.members.size(); m++) {
                    Rank r = group.members.get(m);
                    r.stats.addReplayed(kept.totalDelta[m], kept.own[m]);
                    r.device.replayCommunication(kept.readBytes[m], kept.writeBytes[m]);
                }
                long wire = 0;
                for (int l = 0; l < replayedBytes.length; l++) {
                    replayedBytes[l] += kept.bytes[l];
                    replayedBusyPs[l] += kept.busyPs[l];
                    wire += kept.bytes[l];
                }
                wireBytesByPhase.computeIfAbsent(op.phase().key(), k -> new long[1])[0] += wire;
                clock.schedule(kept.durationPs, ended);
                return;
            }
            Communication c = begin();
            // In strict order every member is idle at the start: its memory is settled, as for a kernel.
            boolean settled = order == OperatorOrder.STRICT;
            Device[] memories = new Device[graph.devices()];
            long[] opIds = new long[graph.devices()];
            for (int d : group.devices) {
                memories[d] = standIns[d] != null ? standIns[d] : ranks[d].device;
                opIds[d] = standIns[d] != null ? op.id() : ranks[d].waitingIn.id();
                memories[d].beginCommunication(settled);
            }
            int members = group.members.size();
            RunStats.Sums[] before = new RunStats.Sums[members];
            long[] readBefore = new long[members];
            long[] writeBefore = new long[members];
            for (int m = 0; replayable && m < members; m++) {
                Rank r = group.members.get(m);
                before[m] = r.stats.total().copy();
                readBefore[m] = r.device.collectiveReadBytes();
                writeBefore[m] = r.device.collectiveWriteBytes();
            }
            FabricCollectives.Memories access = (device, write, amount, done) ->
                memories[device].collectiveAccess(opIds[device], write, amount, done);
            FabricCollectives.start(fabric, plan, c.id, access, () -> {
                end(c, op);
                if (replayable) {
                    RunStats.Sums[] totalDelta = new RunStats.Sums[members];
                    RunStats.Sums[] own = new RunStats.Sums[members];
                    long[] read = new long[members];
                    long[] written = new long[members];
                    for (int m = 0; m < members; m++) {
                        Rank r = group.members.get(m);
                        // Only the collective's memory traffic has ended yet: the cores' wait ends below.
                        totalDelta[m] = r.stats.total().since(before[m]);
                        own[m] = r.stats.current().copy();
                        read[m] = r.device.collectiveReadBytes() - readBefore[m];
                        written[m] = r.device.collectiveWriteBytes() - writeBefore[m];
                    }
                    collectiveReplays.put(planned, new CollectiveReplay(clock.now() - launched, c.bytes, c.busyPs,
                        totalDelta, own, read, written));
                }
                ended.run();
            });
        }
    }

    /**
     * One simulated device running its stream: in order ({@link #next}), or by dependencies ({@link #scheduler}: a
     * compute operator on the cores, one at a time; the group's collectives one at a time in stream order, as on an
     * NCCL communicator's stream; sends and receives beside both). Nothing is reused by dependencies: a system's
     * communication reads and writes the device's memory beside compute.
     */
    private final class Rank implements OperatorScheduler.Launcher {
        final int index;
        final HardwareSpec hw;
        final Device device;
        final RunStats stats;
        final TraceSink sink;
        final Iterator<StageStream.Item> ops;
        final Simulation.OpListener listener;
        Run.Group group;
        /** Its all-to-all group under expert parallelism (null: none). */
        Run.Group expertGroup;
        final Run run;
        final boolean reuse;
        final Roofline roofline;
        final Map<Simulation.ReuseKey, Replay> replays;
        /** What its global buffer holds between operators where it keeps its contents (as a lone device's), else null. */
        final L2Residency l2;
        long operators;
        long computePs;
        long collectivePs;
        long reused;
        long endPs;
        boolean finished;
        /** When this device reached the collective it waits in. */
        private long arrivedPs;
        /**
         * The collective it waits in, as its own stream has it: the group launches the first arriver's, and a
         * multi-rank trace's ranks number their operators each their own way.
         */
        private Operator waitingIn;
        /** The CPU thread launching this device's kernels, or null (none: a kernel starts when the device is free). */
        final Host host;
        /** Starts operators by their dependencies (null: one after another). */
        OperatorScheduler scheduler;
        /** By dependencies: the sends and receives taken from the stream and not yet started, by their token's id. */
        final Map<Long, StageStream.Exchange> exchanges = new HashMap<>();
        /** By dependencies: what runs when an operator started by the scheduler ends, by id. */
        private final Map<Long, Runnable> endings = new HashMap<>();
        /** By dependencies: communications in flight, whether the cores compute, and the time accounted up to. */
        private int communicating;
        private boolean computing;
        private long accountedPs;
        long exposedPs;

        Rank(int index, HardwareSpec hw, Device device, RunStats stats, TraceSink sink,
             Iterator<StageStream.Item> ops,
             Simulation.OpListener listener, Run run, boolean reuse, Host host) {
            this.host = host;
            this.index = index;
            this.hw = hw;
            this.device = device;
            this.stats = stats;
            this.sink = sink;
            this.ops = ops;
            this.listener = listener;
            this.run = run;
            this.reuse = reuse;
            this.roofline = new Roofline(hw, placement);
            this.replays = run.replays(hw);
            this.l2 = hw.globalBuffer().keepsContents()
                ? new L2Residency(hw.globalBuffer().capacityBytes()) : null;
            device.keepResults(l2 != null);
        }

        /** Starts by dependencies (see the class); its host, if any, issues as a thread of its own. */
        void byDependencies() {
            scheduler = OperatorSchedulers.dependencies(op -> exchanges.containsKey(op.id()));
            if (host != null) {
                host.streams(run.clock);
            }
        }

        @Override
        public boolean hosted() {
            return host != null;
        }

        /** Hands {@code op} to the host: a collective, send or receive is one launch, a computation its programs. */
        @Override
        public void issue(Operator op, Runnable launched) {
            if (host == null) {
                launched.run();
                return;
            }
            boolean oneCall = op.kind().isCollective() || exchanges.containsKey(op.id());
            host.call(op, oneCall ? 1 : run.programs(hw, op).size(), launched);
        }

        void begin() {
            if (scheduler == null) {
                next();
            } else {
                scheduler.start(operatorsByDependencies(), this);
            }
        }

        boolean workLeft() {
            return ops.hasNext() || (scheduler == null ? !finished : scheduler.unfinished() > 0);
        }

        /**
         * The stream as the scheduler takes it: a send or receive as its token, and each collective after the one
         * before it (one communicator's calls run in the order issued, so every device of a group reaches them in
         * the same order and none waits in one while a peer waits in another).
         */
        private Iterator<Operator> operatorsByDependencies() {
            return new Iterator<>() {
                long previous = -1;
                long previousCollective = -1;

                @Override
                public boolean hasNext() {
                    return ops.hasNext();
                }

                @Override
                public Operator next() {
                    StageStream.Item item = ops.next();
                    Operator op;
                    if (item instanceof StageStream.Exchange e) {
                        op = e.token();
                        exchanges.put(op.id(), e);
                    } else {
                        op = ((StageStream.Compute) item).op();
                        if (op.kind().isCollective()) {
                            if (previousCollective >= 0) {
                                op = after(op, previous, previousCollective);
                            }
                            previousCollective = op.id();
                        }
                    }
                    previous = op.id();
                    return op;
                }
            };
        }

        @Override
        public void launch(Operator op, boolean alone, Runnable ended) {
            endings.put(op.id(), ended);
            if (host != null) {
                host.running(op.id());
            }
            StageStream.Exchange e = exchanges.remove(op.id());
            if (e != null) {
                run.exchange(this, index + (e.send() ? devicesPerStage() : -devicesPerStage()), e);
                return;
            }
            operators++;
            if (op.kind().isCollective()) {
                arrivedPs = run.clock.now();
                waitingIn = op;
                stats.start(op.id());
                communicating(1);
                groupFor(op).arrive(op);
            } else {
                computing(true);
                compute(op);
            }
        }

        @Override
        public void settle() {
            device.settle();
        }

        /** Counts the time since the last change, then the communications in flight change by {@code change}. */
        private void communicating(int change) {
            account();
            communicating += change;
            if (!computing && communicating == (change > 0 ? 1 : 0)) {
                idleCores(change > 0);
            }
        }

        /** Counts the time since the last change, then the cores start or stop computing. */
        private void computing(boolean on) {
            account();
            computing = on;
            if (communicating > 0) {
                idleCores(!on);
            }
        }

        /** The cores wait for communication (an interconnect stall, as in strict order), or that wait is over. */
        private void idleCores(boolean waiting) {
            for (Core c : device.cores()) {
                if (waiting) {
                    c.waitOutside(-1, SliceKind.STALL_INTERCONNECT);
                } else {
                    c.endOperator();
                }
            }
        }

        private void account() {
            long now = run.clock.now();
            if (communicating > 0) {
                collectivePs += now - accountedPs;
                if (!computing) {
                    exposedPs += now - accountedPs;
                }
            }
            accountedPs = now;
        }

        /** An operator started by the scheduler has ended. */
        private void ended(long id) {
            endPs = run.clock.now();
            if (host != null) {
                host.stopped();
            }
            endings.remove(id).run();
        }

        void next() {
            if (!ops.hasNext()) {
                finished = true;
                endPs = run.clock.now();
                return;
            }
            StageStream.Item item = ops.next();
            if (item instanceof StageStream.Exchange e) {
                if (host == null) {
                    exchange(e);
                    return;
                }
                // The device idles until its host has issued the send or receive (NCCL's, a kernel launch).
                host.afterLaunch(run.clock, StageStream.call(e), true, () -> exchange(e));
                return;
            }
            Operator op = ((StageStream.Compute) item).op();
            operators++;
            if (host == null) {
                start(op);
                return;
            }
            // The device idles until the host has launched the operator's first kernel (a collective's too: an
            // NCCL call is a kernel launch, so a device reaches the group only once its host has issued it).
            host.afterLaunch(run.clock, op, true, () -> start(op));
        }

        /** Reaches its side of a send/recv (in order). */
        private void exchange(StageStream.Exchange e) {
            arrivedPs = run.clock.now();
            // Not an operator: the wait counts in the run's totals, as an interconnect stall.
            for (Core c : device.cores()) {
                c.waitOutside(-1, SliceKind.STALL_INTERCONNECT);
            }
            run.exchange(this, index + (e.send() ? devicesPerStage() : -devicesPerStage()), e);
        }

        private void start(Operator op) {
            if (op.kind().isCollective()) {
                arrivedPs = run.clock.now();
                waitingIn = op;
                stats.beginOperator(op.id());
                for (Core c : device.cores()) {
                    c.waitOutside(op.id(), SliceKind.STALL_INTERCONNECT);
                }
                groupFor(op).arrive(op);
            } else {
                compute(op);
            }
        }

        /** The group collective {@code op} of this device joins. */
        private Run.Group groupFor(Operator op) {
            return run.rankGroups != null ? run.rankGroups[groupOf.of(index, op)]
                : op.kind() == OpKind.ALL_TO_ALL && expertGroup != null ? expertGroup : group;
        }

        /**
         * Its send or receive has met the other side and crosses the fabric. By dependencies it counts as
         * communication from now: a receive is posted early, and waiting for its sender is no traffic.
         */
        void transferring() {
            if (scheduler != null) {
                communicating(1);
            }
        }

        /** Its send or receive is over. */
        void exchanged(StageStream.Exchange e) {
            if (scheduler != null) {
                communicating(-1);
                if (host != null) {
                    host.finished(run.clock.now());
                }
                ended(e.token().id());
                return;
            }
            for (Core c : device.cores()) {
                c.endOperator();
            }
            if (host != null) {
                host.finished(run.clock.now());
            }
            collectivePs += run.clock.now() - arrivedPs;
            next();
        }

        void collectiveEnded(String mapping) {
            Operator op = waitingIn;
            if (scheduler != null) {
                communicating(-1);
                if (host != null) {
                    host.finished(run.clock.now());
                }
                report(op, arrivedPs, run.clock.now(), stats.finish(op.id()), roofline.of(op), mapping);
                return;
            }
            for (Core c : device.cores()) {
                c.endOperator();
            }
            long now = run.clock.now();
            if (host != null) {
                host.finished(now);
            }
            collectivePs += now - arrivedPs;
            report(op, arrivedPs, now, stats.current(), roofline.of(op), mapping);
        }

        private void compute(Operator op) {
            Scheduler clock = run.clock;
            long start = clock.now();
            boolean inL2 = l2 != null && !roofline.of(op).nearMemory();
            long resident = inL2 ? l2.run(op) : 0;
            long evicted = inL2 ? l2.lastWrittenBack() : 0;
            Simulation.ReuseKey shape = new Simulation.ReuseKey(op.shape(), resident, evicted);
            // With a host, only a one-kernel operator runs as its twins did: later kernels may wait for launches.
            boolean reusable = reuse && (host == null || run.programs(hw, op).size() == 1);
            Replay kept = reusable ? replays.get(shape) : null;
            if (kept != null) {
                reused++;
                stats.replay(op.id(), kept.totalDelta(), kept.own());
                clock.schedule(kept.durationPs(), () -> {
                    device.skipTo(op.id());
                    if (host != null) {
                        host.finished(clock.now());
                    }
                    computePs += kept.durationPs();
                    report(op, start, clock.now(), kept.own(), kept.bound(), kept.mapping());
                });
                return;
            }
            if (communicating == 0) {
                // By dependencies a collective's or send's accesses may be in the memory's queues: the kernel
                // finds them there rather than a settled memory.
                device.settle();
            }
            stats.beginOperator(op.id());
            RunStats.Sums before = reusable ? stats.total().copy() : null;
            List<TileProgram> programs = L2Residency.writingBack(L2Residency.readingResident(run.programs(hw, op),
                resident, op.activationInputBytes()), evicted);
            String mapping = OperatorKernels.mapping(op, resident, evicted, programs);
            OperatorKernels.runInOrder(device, clock, host, scheduler != null, op, programs, 0, p -> { }, () -> {
                long end = clock.now();
                RunStats.Sums sums = stats.current();
                Roofline.Bound bound = OperatorKernels.checkedBound(roofline, device, op, resident, evicted, start,
                    end);
                if (reusable) {
                    replays.put(shape, new Replay(end - start, stats.total().since(before), sums.copy(),
                        bound, mapping));
                }
                computePs += end - start;
                report(op, start, end, sums, bound, mapping);
            });
        }

        private void report(Operator op, long start, long end, RunStats.Sums sums, Roofline.Bound bound,
                            String mapping) {
            sink.operator(op, start, end);
            if (listener != null) {
                listener.finished(new Simulation.OpResult(op, start, end, sums, bound, mapping));
            }
            if (scheduler == null) {
                next();
                return;
            }
            if (!op.kind().isCollective()) {
                computing(false);
            }
            ended(op.id());
        }
    }

    /** {@code op} after {@code previousCollective} as well as its own deps (none: the operator before it). */
    private static Operator after(Operator op, long previous, long previousCollective) {
        long[] deps = op.deps().length > 0 ? op.deps() : new long[] {previous};
        for (long d : deps) {
            if (d == previousCollective) {
                return op;
            }
        }
        long[] more = java.util.Arrays.copyOf(deps, deps.length + 1);
        more[deps.length] = previousCollective;
        return new Operator(op.id(), op.name(), op.kind(), op.phase(), op.layer(), op.step(), op.batch(), op.m(),
            op.n(), op.k(), op.elements(), op.dataType(), more, op.causal(), op.operandBType(), op.segments());
    }
}

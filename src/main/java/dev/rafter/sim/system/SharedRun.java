package dev.rafter.sim.system;

import dev.rafter.hw.HardwareSpec;
import dev.rafter.mapping.OperatorMapper;
import dev.rafter.mapping.TensorPlacement;
import dev.rafter.mapping.TileProgram;
import dev.rafter.sim.Device;
import dev.rafter.sim.Scheduler;
import dev.rafter.sim.Simulation;
import dev.rafter.sim.fabric.Fabric;
import dev.rafter.sim.fabric.FabricAlgorithm;
import dev.rafter.sim.fabric.FabricCollectives;
import dev.rafter.sim.fabric.FabricGraph;
import dev.rafter.sim.fabric.FabricOp;
import dev.rafter.sim.fabric.FabricPlan;
import dev.rafter.sim.trace.RunStats;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;
import dev.rafter.workload.OperatorOrder;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What the devices of one {@link SystemSimulation} run share: the groups' barriers, the sends and receives waiting
 * for their other side, the collectives' plans and replays, the operators' programs and replays by hardware, and the
 * fabric's totals.
 */
final class SharedRun {
    Rank[] ranks;
    /** The devices the mirror does not simulate, by index (null where simulated): their memories only. */
    Device[] standIns;
    /** A multi-rank trace's process groups, as {@link SystemSimulation#ranks} gives them (null: tensor-parallel). */
    Group[] rankGroups;
    Scheduler clock;
    Fabric fabric;
    /** Per directed pair of devices (from << 32 | to): the side of a send/recv that arrived first. */
    final Map<Long, Waiting> waitingToExchange = new HashMap<>();
    final Map<HardwareSpec, Map<Simulation.ReuseKey, Rank.Replay>> replays = new HashMap<>();
    final Map<HardwareSpec, Map<Operator.Shape, List<TileProgram>>> programs = new HashMap<>();
    final Map<String, FabricPlan> plans = new HashMap<>();
    /** Replays by plan: groups whose plans are equal share them. */
    final Map<Planned, CollectiveReplay> collectiveReplays = new HashMap<>();
    final long[] replayedBytes;
    final long[] replayedBusyPs;
    final Map<String, long[]> byAlgorithm = new LinkedHashMap<>();
    final Map<String, long[]> wireBytesByPhase = new LinkedHashMap<>();
    long reusedCollectives;
    long collectives;
    /** Whether collectives that already ran are replayed. */
    final boolean reuse;
    final FabricGraph graph;
    /** Where tensors lie on each device, by role. */
    final TensorPlacement.Policy placement;
    final OperatorOrder order;
    /** Devices of one pipeline stage: a send's peer is this many devices on, a receive's as many back. */
    final int devicesPerStage;
    /** Which of {@link #rankGroups} a device's collective joins (a multi-rank trace's; else null). */
    final SystemSimulation.CollectiveGroups groupOf;

    SharedRun(FabricGraph graph, TensorPlacement.Policy placement, OperatorOrder order, int devicesPerStage,
              SystemSimulation.CollectiveGroups groupOf, boolean reuse) {
        this.graph = graph;
        this.placement = placement;
        this.order = order;
        this.devicesPerStage = devicesPerStage;
        this.groupOf = groupOf;
        this.reuse = reuse;
        this.replayedBytes = new long[graph.links().size()];
        this.replayedBusyPs = new long[graph.links().size()];
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

    Map<Simulation.ReuseKey, Rank.Replay> replays(HardwareSpec hw) {
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

    /** The side of a send/recv that arrived first: its device and its item. */
    record Waiting(Rank rank, StageStream.Exchange exchange) {}

    /** A group's collective of one kind and size, the key of its plan. */
    record PlanKey(OpKind kind, long bytes) {}

    /**
     * A plan with what each launch of it needs, worked out once: its description (ops.csv's mapping), its
     * algorithm's name, and its hash (a plan hashes deeply, and keys the replays).
     */
    static final class Planned {
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
    record CollectiveReplay(long durationPs, long[] bytes, long[] busyPs, RunStats.Sums[] totalDelta,
                                    RunStats.Sums[] own, long[] readBytes, long[] writeBytes) {}
}

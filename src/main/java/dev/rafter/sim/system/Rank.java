package dev.rafter.sim.system;

import dev.rafter.hw.HardwareSpec;
import dev.rafter.mapping.L2Residency;
import dev.rafter.mapping.TileProgram;
import dev.rafter.roofline.Roofline;
import dev.rafter.sim.Device;
import dev.rafter.sim.OperatorKernels;
import dev.rafter.sim.Scheduler;
import dev.rafter.sim.Simulation;
import dev.rafter.sim.component.Core;
import dev.rafter.sim.component.Host;
import dev.rafter.sim.schedule.OperatorScheduler;
import dev.rafter.sim.schedule.OperatorSchedulers;
import dev.rafter.sim.trace.RunStats;
import dev.rafter.sim.trace.SliceKind;
import dev.rafter.sim.trace.TraceSink;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * One simulated device of a {@link SystemSimulation} running its stream: in order ({@link #next}), or by
 * dependencies ({@link #scheduler}: a compute operator on the cores, one at a time; the group's collectives one at a
 * time in stream order, as on an NCCL communicator's stream; sends and receives beside both). Nothing is reused by dependencies: a system's
 * communication reads and writes the device's memory beside compute.
 */
final class Rank implements OperatorScheduler.Launcher {
    final int index;
    final HardwareSpec hw;
    final Device device;
    final RunStats stats;
    final TraceSink sink;
    final Iterator<StageStream.Item> ops;
    final Simulation.OpListener listener;
    SharedRun.Group group;
    /** Its all-to-all group under expert parallelism (null: none). */
    SharedRun.Group expertGroup;
    final SharedRun run;
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
    Operator waitingIn;
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
         Simulation.OpListener listener, SharedRun run, boolean reuse, Host host) {
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
        this.roofline = new Roofline(hw, run.placement);
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
            run.exchange(this, index + (e.send() ? run.devicesPerStage : -run.devicesPerStage), e);
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
        run.exchange(this, index + (e.send() ? run.devicesPerStage : -run.devicesPerStage), e);
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
    private SharedRun.Group groupFor(Operator op) {
        return run.rankGroups != null ? run.rankGroups[run.groupOf.of(index, op)]
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

/** A replayable operator: what its first run took and added. */
record Replay(long durationPs, RunStats.Sums totalDelta, RunStats.Sums own, Roofline.Bound bound,
                      String mapping) {}

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

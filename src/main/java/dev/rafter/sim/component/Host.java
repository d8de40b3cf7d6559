package dev.rafter.sim.component;

import dev.rafter.hw.HostModel;
import dev.rafter.sim.component.ComponentKind.Parameter;
import dev.rafter.sim.component.ComponentKind.Placement;
import dev.rafter.sim.component.ComponentKind.Scope;
import dev.rafter.sim.component.ComponentKind.Statistic;
import dev.rafter.sim.trace.SliceKind;
import dev.rafter.sim.trace.TraceSink;
import dev.rafter.sim.trace.Track;
import dev.rafter.workload.Operator;
import dev.rafter.sim.Scheduler;
import java.util.ArrayDeque;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The CPU thread that launches the device's kernels into one stream ({@code host:} in the hardware file; present
 * only when {@code host.framework} is not {@code none}). Parameters: the framework path, the launch queue's depth,
 * the cost table. It issues kernels in program order, each costing CPU time ({@link HostModel}: per forward step,
 * per operator, per kernel), and may run ahead of the device by at most {@code queue_depth} launches not yet
 * finished. The device starts a kernel no earlier than its launch: when the host is slower the device idles (the
 * second track, "launch wait"), when faster the host runs ahead. Under {@code serving} the host waits at each step
 * for the device to drain and for a synchronisation round trip (the sampled tokens) before it schedules the next.
 * Statistics (via the trace): CPU time issuing, CPU time in synchronisations, device time waiting for a launch,
 * kernels launched.
 *
 * <p>In strict order issue times are worked out when the device asks for a kernel (the host's timeline depends only
 * on its own costs and on kernels that have already finished), so the host adds no events of its own. By
 * dependencies ({@link #streams}) operators run beside each other and finish out of order, so the host issues as a
 * thread of its own, one event per launch: the scheduler hands it the operators in program order as it takes them,
 * and an operator becomes ready once its first kernel is in the stream.
 */
public final class Host {
    /** The declaration the catalogue reads. */
    public static final ComponentKind KIND = new ComponentKind("host",
        "the CPU that launches kernels into the device's stream (framework costs, launch queue)",
        new Placement(Scope.DEVICE, hw -> hw.host().on() ? 2 : 0, (core, i) -> i == 0 ? "host" : "launch wait"),
        List.of(Parameter.choice("host.framework", List.of("none", "eager", "compiled", "graph", "serving"), "none",
                "the path that issues kernels"),
            Parameter.number("host.queue_depth", "launches", 2, 1 << 20,
                Integer.toString(HostModel.DEFAULT_QUEUE_DEPTH), "launches issued and not finished, at most"),
            Parameter.file("host.costs", null, "the CPU cost table (models/host/*.yaml); required unless none")),
        List.of(),
        List.of(Statistic.of("busy_ps", "ps", Statistic.Measure.DURATION, EnumSet.of(SliceKind.HOST_ISSUE),
                Statistic.Combine.SUM, "CPU time issuing (framework work and launches)"),
            Statistic.of("sync_ps", "ps", Statistic.Measure.DURATION, EnumSet.of(SliceKind.HOST_SYNC),
                Statistic.Combine.SUM, "CPU time waiting in synchronisations (device drain and round trip)"),
            Statistic.of("launch_wait_ps", "ps", Statistic.Measure.DURATION, EnumSet.of(SliceKind.LAUNCH_WAIT),
                Statistic.Combine.SUM, "device time idle because the next kernel was not launched yet"),
            Statistic.of("kernels", "", Statistic.Measure.AMOUNT, EnumSet.of(SliceKind.HOST_ISSUE),
                Statistic.Combine.SUM, "kernels launched")),
        null, null, null);

    private final HostModel model;
    private final TraceSink sink;
    private final Track cpu;
    private final Track waitTrack;
    private final long syncPs;
    private final long perKernelPs;
    private final long perStepPs;
    /** When the CPU is next free. */
    private long freeAt;
    /** Finish times of the last queue_depth kernels, by kernel number modulo the depth. */
    private final long[] finished;
    private long issued;
    private long completed;
    private boolean started;
    private int stepPhase = -1;
    private int step;

    /** {@code sequences}: sequences per batch, for the serving path's per-sequence cost (0 when unknown). */
    public Host(HostModel model, TraceSink sink, List<Track> tracks, int sequences) {
        this.model = model;
        this.sink = sink;
        this.cpu = tracks.get(0);
        this.waitTrack = tracks.get(1);
        this.syncPs = ps(model.costs().syncNs());
        this.perKernelPs = ps(model.perKernelNs());
        this.perStepPs = ps(model.perStepNs(sequences));
        this.finished = new long[model.queueDepth()];
    }

    private static long ps(double ns) {
        return Math.round(ns * 1000);
    }

    /**
     * Issues the next kernel, which belongs to {@code op} ({@code first}: the operator's first kernel), when the
     * device is ready for it at {@code readyPs} (every earlier kernel has finished by then); returns the time the
     * launch is in the stream. A new forward step (a change of phase or step) first pays the step's cost.
     */
    public long launch(Operator op, boolean first, long readyPs) {
        long at = freeAt;
        long cost = perKernelPs;
        if (first) {
            if (startsStep(op)) {
                enterStep(op);
                if (model.syncsEachStep() && issued > 0) {
                    at = synchronise(op.id(), at, readyPs);
                }
                cost += perStepPs;
            }
            cost += ps(model.perOperatorNs(op.kind().key()));
        }
        if (issued >= finished.length) {
            // The queue is full until the kernel queue_depth launches back has finished.
            at = Math.max(at, finished[(int) (issued % finished.length)]);
        }
        long end = at + cost;
        sink.slice(cpu, SliceKind.HOST_ISSUE, op.id(), at, end, 1);
        issued++;
        freeAt = end;
        return end;
    }

    /** Whether {@code op} begins a forward step (a change of phase or step, or the first operator). */
    private boolean startsStep(Operator op) {
        return !started || op.phase().ordinal() != stepPhase || op.step() != step;
    }

    private void enterStep(Operator op) {
        started = true;
        stepPhase = op.phase().ordinal();
        step = op.step();
    }

    /**
     * A kernel finished at {@code endPs}: in strict order kernels finish in launch order; with {@link #streams} in
     * any order (the queue counts launches not finished), and a host held by a full queue or a drain goes on.
     */
    public void finished(long endPs) {
        finished[(int) (completed % finished.length)] = endPs;
        completed++;
        if (clock != null) {
            issueNext();
        }
    }

    /**
     * The host synchronises with the device, which drains at {@code drainedPs}: it waits from {@code fromPs} (when
     * it asks) until the device is done plus a round trip; returns when it goes on.
     */
    public long synchronise(long opId, long fromPs, long drainedPs) {
        long back = Math.max(fromPs, drainedPs) + syncPs;
        sink.slice(cpu, SliceKind.HOST_SYNC, opId, fromPs, back, 0);
        freeAt = Math.max(freeAt, back);
        return back;
    }

    /**
     * In strict order: runs {@code start} once the host has launched the next kernel of {@code op} ({@link #launch};
     * {@code first}: its first), at once where it is in the stream already, else later, the device waiting till then.
     */
    public void afterLaunch(Scheduler clock, Operator op, boolean first, Runnable start) {
        long now = clock.now();
        long launched = launch(op, first, now);
        if (launched > now) {
            deviceWaited(op.id(), now, launched);
            clock.schedule(launched - now, start);
        } else {
            start.run();
        }
    }

    /** The device idled from {@code fromPs} to {@code toPs} waiting for a launch of {@code opId}. */
    public void deviceWaited(long opId, long fromPs, long toPs) {
        if (toPs > fromPs) {
            sink.slice(waitTrack, SliceKind.LAUNCH_WAIT, opId, fromPs, toPs, 0);
        }
    }

    // --- By dependencies: the host as a thread of its own, issuing calls as events (see the class). ---

    /** An operator handed to the host: its kernels, how many are issued and in the stream, and who waits. */
    private static final class Call {
        final Operator op;
        final int kernels;
        final Runnable firstLaunched;
        int issuedKernels;
        int launchedKernels;
        boolean synced;
        int awaited = -1;
        Runnable whenAwaitedLaunched;

        Call(Operator op, int kernels, Runnable firstLaunched) {
            this.op = op;
            this.kernels = kernels;
            this.firstLaunched = firstLaunched;
        }
    }

    /** By dependencies: the clock the host issues on (null: strict order, {@link #launch} asked by the device). */
    private Scheduler clock;
    /** Calls handed and not wholly issued, in program order. */
    private final ArrayDeque<Call> calls = new ArrayDeque<>();
    /** Calls whose kernels are not all in the stream yet, by operator id. */
    private final Map<Long, Call> unlaunched = new HashMap<>();
    /** An issue of this host ends in an event not yet run (the host is busy until it does). */
    private boolean issuing;
    /** When the host began waiting for the device to drain before a serving step (-1: it does not wait). */
    private long syncFromPs = -1;
    /** Operators the device is running and not waiting for a launch, and since when none is. */
    private int active;
    private long idleSincePs;

    /**
     * Makes this host issue as a thread of its own on {@code clock} ({@code --order dependencies}): it issues each
     * call handed to it ({@link #call}) in program order, kernel after kernel, each after the one before it was
     * issued plus its CPU cost, while fewer than {@code queue_depth} launches are unfinished (finishing in any
     * order, one stream's or another's) and, under {@code serving}, after the device drained and a round trip at
     * each step. The device starts a kernel when it is launched and the scheduler's rules let it.
     */
    public Host streams(Scheduler clock) {
        this.clock = clock;
        return this;
    }

    /**
     * Hands the host the next operator in program order, of {@code kernels} kernels (at least its call is issued);
     * {@code launched} runs when its first kernel is in the stream.
     */
    public void call(Operator op, int kernels, Runnable launched) {
        Call c = new Call(op, Math.max(1, kernels), launched);
        calls.addLast(c);
        unlaunched.put(op.id(), c);
        issueNext();
    }

    /** Runs {@code kernel} once kernel {@code index} of {@code op} is in the stream (at once if it is). */
    public void whenLaunched(Operator op, int index, Runnable kernel) {
        Call c = unlaunched.get(op.id());
        if (c == null || c.launchedKernels > index) {
            kernel.run();
            return;
        }
        c.awaited = index;
        c.whenAwaitedLaunched = kernel;
    }

    /** Issues the next kernel if the host is free, the queue has room and (serving) the device has drained. */
    private void issueNext() {
        Call c = calls.peekFirst();
        if (issuing || c == null) {
            return;
        }
        long now = clock.now();
        if (freeAt > now) {
            issuing = true;
            clock.at(freeAt, this::issued);
            return;
        }
        if (issued - completed >= finished.length) {
            return; // a kernel's end goes on
        }
        boolean first = c.issuedKernels == 0;
        boolean newStep = first && startsStep(c.op);
        if (newStep && model.syncsEachStep() && issued > 0 && !c.synced) {
            if (syncFromPs < 0) {
                syncFromPs = now;
            }
            if (completed < issued) {
                return; // the last kernel's end goes on
            }
            synchronise(c.op.id(), syncFromPs, now);
            syncFromPs = -1;
            c.synced = true;
            issuing = true;
            clock.at(freeAt, this::issued);
            return;
        }
        long cost = perKernelPs;
        if (newStep) {
            enterStep(c.op);
            cost += perStepPs;
        }
        if (first) {
            cost += ps(model.perOperatorNs(c.op.kind().key()));
        }
        long end = now + cost;
        sink.slice(cpu, SliceKind.HOST_ISSUE, c.op.id(), now, end, 1);
        issued++;
        freeAt = end;
        if (++c.issuedKernels == c.kernels) {
            calls.pollFirst();
        }
        issuing = true;
        clock.at(end, () -> launched(c));
    }

    /** A synchronisation ended. */
    private void issued() {
        issuing = false;
        issueNext();
    }

    /** The next kernel of {@code c} is in the stream. */
    private void launched(Call c) {
        issuing = false;
        int index = c.launchedKernels++;
        if (c.launchedKernels == c.kernels) {
            unlaunched.remove(c.op.id());
        }
        if (index == 0) {
            c.firstLaunched.run();
        }
        if (c.awaited == index) {
            Runnable kernel = c.whenAwaitedLaunched;
            c.awaited = -1;
            c.whenAwaitedLaunched = null;
            kernel.run();
        }
        issueNext();
    }

    /**
     * By dependencies: the device starts running {@code opId} or a later kernel of it (it had been waiting for
     * the launch); when nothing else was running, the time since is the device's wait for a launch (an idle device
     * with work left waits for nothing else: the earliest unfinished operator's inputs are done).
     */
    public void running(long opId) {
        long now = clock.now();
        if (active++ == 0 && now > idleSincePs) {
            deviceWaited(opId, idleSincePs, now);
        }
    }

    /** By dependencies: an operator the device ran ended, or waits for the launch of its next kernel. */
    public void stopped() {
        if (--active == 0) {
            idleSincePs = clock.now();
        }
    }

    /** When the CPU is next free. */
    public long freeAt() {
        return freeAt;
    }

    public HostModel model() {
        return model;
    }
}

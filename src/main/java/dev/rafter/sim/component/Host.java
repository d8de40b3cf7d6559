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
import java.util.EnumSet;
import java.util.List;

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
 * <p>Issue times are worked out when the device asks for a kernel (the host's timeline depends only on its own
 * costs and on kernels that have already finished), so the host adds no events of its own. That holds while the
 * device runs one operator at a time, which is why a host runs under {@code --order strict} only.
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
            boolean newStep = !started || op.phase().ordinal() != stepPhase || op.step() != step;
            if (newStep) {
                started = true;
                stepPhase = op.phase().ordinal();
                step = op.step();
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

    /** A kernel finished at {@code endPs} (kernels finish in launch order). */
    public void finished(long endPs) {
        finished[(int) (completed % finished.length)] = endPs;
        completed++;
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

    /** The device idled from {@code fromPs} to {@code toPs} waiting for a launch of {@code opId}. */
    public void deviceWaited(long opId, long fromPs, long toPs) {
        if (toPs > fromPs) {
            sink.slice(waitTrack, SliceKind.LAUNCH_WAIT, opId, fromPs, toPs, 0);
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

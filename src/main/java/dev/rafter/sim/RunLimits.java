package dev.rafter.sim;

import dev.rafter.config.Check;
import dev.rafter.config.InputException;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.roofline.Roofline;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Workload;
import java.util.HashMap;
import java.util.Map;

/**
 * What a run may compute, checked before it starts: a pass over the operators (no simulation) that estimates, per
 * operator and for the whole run, the simulated time, the tiles the mapping materialises and the events the kernel
 * will execute, and rejects a run that would overflow the kernel's picosecond clock, exhaust memory or not finish,
 * naming the key to change. The estimates are deliberately generous (well above what real runs reach), so only
 * inputs far outside practice are refused.
 */
public final class RunLimits {
    /** The simulated time the kernel represents: {@code Long.MAX_VALUE / 4} ps (Kernel's run length), ~26 days. */
    public static final double MAX_SIMULATED_PS = Long.MAX_VALUE / 4.0;
    /**
     * The factor by which a run's simulated time is taken to exceed its slowest-path bound (roofline, or the
     * on-chip paths when slower) in the time check. Assumed: the bundled validation cases stay within 2x of their
     * roofline; 100x leaves room for badly mapped shapes.
     */
    static final double SLOWDOWN = 100;
    /** Operators of one run (a full GPT-3 run with 1023 decode steps lowers to 1.38 M). */
    public static final long MAX_OPERATORS = 100_000_000L;
    /**
     * Tiles of one operator, at least: the mapping keeps them in memory (about 50 bytes each, Simulation's plan
     * cache), so 20 M is about 1 GB.
     */
    public static final double MAX_TILES_PER_OPERATOR = 2e7;
    /** Kernel events of one run, at least: 1e11 is more than 8 hours at the measured 3.4 M events/s. */
    public static final double MAX_EVENTS = 1e11;

    /** Distinct shapes whose estimates the pass keeps at once. */
    private static final int SHAPES_KEPT = 100_000;

    private RunLimits() {}

    /** What the pass found: operators, a lower bound on events, and the slowest-path time estimate in ps. */
    public record Totals(long operators, double events, double simulatedPs) {}

    /** Checks a workload's size before it is lowered (lowering itself streams one operator per row). */
    public static void check(Workload w) {
        long ops = w.operatorCount();
        if (ops > MAX_OPERATORS) {
            throw InputException.located("run.output_tokens: " + w.run().layers() + " layers x "
                + w.run().outputTokens() + " output tokens lower to about " + ops + " operators, beyond the limit of "
                + MAX_OPERATORS + " per run; lower run.output_tokens or run.layers");
        }
    }

    /** The dry pass over {@code source} on {@code hw}; bad input names the operator, the quantity and the key. */
    public static Totals check(HardwareSpec hw, OperatorSource source) {
        Roofline roofline = new Roofline(hw);
        double clockHz = hw.clockHz();
        double onChipBytesPerS = Math.min(hw.globalBuffer().bytesPerCycle() * clockHz,
            Math.min((double) hw.cores() * hw.interconnect().bytesPerCycle(),
                (double) hw.cores() * hw.core().localBuffer().bytesPerCycle()) * clockHz);
        double latencyPs = hw.memory().latencyNs() * 1e3 + hw.interconnect().latencyCycles() * 1e12 / clockHz;
        long localBytes = Math.max(1, hw.core().localBuffer().capacityBytes());
        Totals quick = withinLimits(source, roofline, localBytes, onChipBytesPerS, latencyPs);
        if (quick != null) {
            return quick;
        }
        double[] sums = new double[2];
        // An operator's estimate depends on its shape alone, and a long run repeats a few hundred shapes (every
        // layer, every decode step): each shape is estimated once.
        Map<Operator.Shape, Estimate> byShape = new HashMap<>();
        // The shapes come round in the same order (layer after layer): the one that followed an operator's shape
        // last time is tried first, by one comparison, before a shape is built and looked up.
        Estimate[] previous = new Estimate[1];
        long count = source.forEach(op -> {
            Estimate guess = previous[0] == null ? null : previous[0].next;
            Estimate found;
            if (guess != null && guess.shapeOf.sameShape(op)) {
                found = guess;
            } else {
                found = byShape.get(op.shape());
                if (found == null) {
                    if (byShape.size() == SHAPES_KEPT) {
                        byShape.clear(); // a trace of ever new shapes: memory stays bounded
                    }
                    found = new Estimate(op, estimate(op, roofline, localBytes, onChipBytesPerS, latencyPs));
                    byShape.put(op.shape(), found);
                }
                if (previous[0] != null) {
                    previous[0].next = found;
                }
            }
            previous[0] = found;
            double[] estimate = found.tilesAndPs;
            double tiles = estimate[0];
            if (tiles > MAX_TILES_PER_OPERATOR) {
                throw InputException.located("op " + op.id() + " '" + op.name() + "' (" + op.kind().key() + "): at "
                    + "least " + Check.fmt(Math.ceil(tiles)) + " tiles of the " + Check.fmt(localBytes / 1024.0)
                    + " KiB local buffer, beyond the limit of " + Check.fmt(MAX_TILES_PER_OPERATOR)
                    + " per operator; a smaller operator or a larger core.local_buffer.capacity_kib");
            }
            double ps = estimate[1];
            sums[0] += tiles;
            sums[1] += ps;
            if (!(sums[1] <= MAX_SIMULATED_PS)) {
                throw InputException.located("op " + op.id() + " '" + op.name() + "': the run could last "
                    + Check.fmt(sums[1] * 1e-12 / SLOWDOWN) + " s or more of simulated time, beyond the "
                    + Check.fmt(Math.floor(MAX_SIMULATED_PS * 1e-12 / SLOWDOWN)) + " s the simulator can represent"
                    + " with margin; raise the slow rates (clock_mhz " + Check.fmt(hw.clockMhz())
                    + ", memory.bandwidth_gb_per_s " + Check.fmt(hw.memory().bandwidthGbPerS())
                    + ", bytes_per_cycle) or run fewer operators");
            }
            if (sums[0] > MAX_EVENTS) {
                throw InputException.located("op " + op.id() + " '" + op.name() + "': the run needs at least "
                    + Check.fmt(sums[0]) + " events, beyond the limit of " + Check.fmt(MAX_EVENTS)
                    + " (hours of wall time); run fewer or smaller operators (--phase, run.layers, run.output_tokens)");
            }
        });
        if (count > MAX_OPERATORS) {
            throw InputException.located(count + " operators, beyond the limit of " + MAX_OPERATORS + " per run");
        }
        return new Totals(count, sums[0], sums[1]);
    }

    /** The relative margin by which the totals by shape and count must pass: their sums round otherwise. */
    private static final double MARGIN = 1e-6;

    /**
     * The totals from the operators by shape and count ({@link OperatorSource#repeated}: Llama-3-8B's 461 k
     * operators are 15 k there), when they pass every limit with a margin; else null, and the pass over every
     * operator finds and names the one that crosses a limit (as it does for a source without that form). Exact: an
     * operator's estimate depends on its shape alone and is not negative, so the sums of the full pass stay within
     * the margin of these.
     */
    private static Totals withinLimits(OperatorSource source, Roofline roofline, long localBytes,
                                       double onChipBytesPerS, double latencyPs) {
        Map<Operator.Shape, double[]> byShape = new HashMap<>();
        double[] sums = new double[2];
        boolean[] tooLarge = {false};
        long count = source.repeated((op, times) -> {
            if (byShape.size() == SHAPES_KEPT) {
                byShape.clear();
            }
            double[] estimate = byShape.computeIfAbsent(op.shape(),
                s -> estimate(op, roofline, localBytes, onChipBytesPerS, latencyPs));
            tooLarge[0] |= !(estimate[0] <= MAX_TILES_PER_OPERATOR);
            sums[0] += times * estimate[0];
            sums[1] += times * estimate[1];
        });
        boolean within = count >= 0 && !tooLarge[0] && count <= MAX_OPERATORS && sums[0] * (1 + MARGIN) <= MAX_EVENTS
            && sums[1] * (1 + MARGIN) <= MAX_SIMULATED_PS;
        return within ? new Totals(count, sums[0], sums[1]) : null;
    }

    /** A shape's estimate ({@link #estimate}), {@code shapeOf} an operator of that shape. */
    private static final class Estimate {
        final Operator shapeOf;
        final double[] tilesAndPs;
        /** The estimate of the shape that followed this one last time (a guess for the next operator). */
        Estimate next;

        Estimate(Operator shapeOf, double[] tilesAndPs) {
            this.shapeOf = shapeOf;
            this.tilesAndPs = tilesAndPs;
        }
    }

    /** An operator's tiles (at least) and slowest-path time estimate in ps: {tiles, ps}. */
    private static double[] estimate(Operator op, Roofline roofline, long localBytes, double onChipBytesPerS,
                                     double latencyPs) {
        Roofline.Bound bound = roofline.of(op);
        double tiles = tiles(op, localBytes);
        double onChipS = op.minBytes() / onChipBytesPerS;
        return new double[] {tiles, SLOWDOWN * (Math.max(bound.seconds(), onChipS) * 1e12 + tiles * latencyPs)};
    }

    /**
     * A lower bound on the tiles the mapping cuts an operator into: a GEMM's local tile keeps two accumulators
     * of its m x n outputs in the local buffer, so a tile has at most capacity / (2 bytes) outputs; a vector chunk
     * keeps inputs and outputs of two chunks; an all-reduce is one transfer per link step.
     */
    static double tiles(Operator op, long localBytes) {
        int e = op.dataType().bytes();
        OpKind kind = op.kind();
        if (!op.segments().isEmpty()) {
            return op.segments().stream().mapToDouble(s -> tiles(op.part(s), localBytes)).sum();
        }
        return switch (kind) {
            case GEMM, GROUPED_GEMM, ATTENTION, FLASH_ATTENTION -> Math.max(1, (double) op.batch() * op.m() * op.n() / (localBytes / (2.0 * e)));
            case ALL_REDUCE, ALL_GATHER, REDUCE_SCATTER, ALL_TO_ALL -> 2.0 * Math.max(1, op.n() - 1);
            default -> Math.max(1, (double) op.elements() * (kind.inputsPerElement() + kind.outputsPerElement()) * e
                / (localBytes / 2.0));
        };
    }
}

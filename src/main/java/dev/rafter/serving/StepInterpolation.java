package dev.rafter.serving;

import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;
import dev.rafter.workload.StepLowering;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.LongFunction;
import java.util.function.Predicate;

/**
 * The layers' time in a serving step, approximated from exact simulations at grid points ({@code serve --step-timing interpolated}). Nothing is fitted: every grid point is
 * a step lowered and its operators priced exactly by {@link StepTimer}, each as it runs in that step (with what it
 * finds in the global buffer); between two points the time is interpolated linearly.
 * <ul>
 *   <li>Decode sequences (one new token each), each over its own KV length, are replaced by as many sequences over
 *       one common KV length, their mean, interpolated within intervals of {@link #KV_GRID}; the step's other
 *       sequences (prefill chunks, speculative verifications) stay as they are.</li>
 *   <li>Up to {@link #EXACT_TOKENS} tokens (every decode-only step under the default sequence limit) the layers are
 *       interpolated whole along the KV length that way, so a step on a grid point is timed exactly; a step without
 *       decode sequences is exact.</li>
 *   <li>Above it, the layers' operators but attention, which depend on the token count, are interpolated within
 *       intervals of {@link #TOKEN_GRID}, each grid point priced in a step of one prompt of that many tokens, and
 *       attention along the KV length as above (exact without decode sequences). On a device whose global buffer
 *       keeps results between kernels the two parts are priced in different steps, so what the rest finds there
 *       after attention (how much the KV cache's reads pushed out) is that of the grid step's attention.</li>
 * </ul>
 * An interval runs from just above one multiple of its grid to the next, (g, g + G]: the tile or key-block count
 * changes on entering it (a GEMM of 1025 rows takes a row of tiles more than one of 1024, and a whole wave more
 * on an H100), so its two end points are like points and the time between them is close to linear. Below the
 * grid the intervals are (2^i, 2^(i+1)]. The error against exact timing is measured, not bounded here (README,
 * serve section; StepInterpolationTest). A step's dynamic energy and FLOPs are interpolated with the same weights
 * as its time, between the same two exact simulations: on an end point they are the simulated ones.
 */
final class StepInterpolation {
    /** Token counts up to this are timed exactly: every decode-only step under the default sequence limit. */
    static final long EXACT_TOKENS = 256;
    /** Token grid: 64 rows, the fewest rows of a GEMM tile in the hardware files' tile lists (64, 128, 256): every
     *  tile's row count changes only at a multiple of 64, so inside an interval no GEMM gains a row of tiles. */
    static final long TOKEN_GRID = 64;
    /** KV grid: 64 keys, whole key blocks of 64 and 128 keys (FlashAttentionMapper's blocks for a head dim of 128
     *  on h100.yaml, and FlashAttention-2's split-KV block): a 128-key interval bends at its 64-key mid-point
     *  (Llama-3-8B on h100.yaml). Smaller blocks (32, 16 keys, on smaller buffers) change inside an interval. */
    static final long KV_GRID = 64;

    /**
     * Exact time, energy and FLOPs of the operators that a predicate takes of a step of some groups (no sequence
     * emitting), each as it runs in the step (simulated once per shape and what it finds, in the step timer's memo).
     */
    private final BiFunction<List<StepLowering.Group>, Predicate<Operator>, StepTimer.Cost> price;
    private final Map<Long, StepTimer.Cost> restOfLayer = new HashMap<>();
    /** Attention at grid points, beside a prefill chunk. */
    private final Map<List<StepLowering.Group>, StepTimer.Cost> attentionCost = new HashMap<>();
    /** The layers whole at grid points, in steps of few tokens. */
    private final Map<List<StepLowering.Group>, StepTimer.Cost> layersCost = new HashMap<>();
    private long interpolatedSteps;

    /** Steps priced by {@code price}. */
    StepInterpolation(BiFunction<List<StepLowering.Group>, Predicate<Operator>, StepTimer.Cost> price) {
        this.price = price;
    }

    /**
     * Time, dynamic energy and FLOPs of the layers of the step of {@code groups}; {@code exact} prices what a
     * predicate takes of that step exactly.
     */
    StepTimer.Cost layers(List<StepLowering.Group> groups, Function<Predicate<Operator>, StepTimer.Cost> exact) {
        long tokens = 0;
        long decoding = 0;
        long decodeKv = 0;
        List<StepLowering.Group> others = new ArrayList<>();
        for (StepLowering.Group g : groups) {
            tokens += g.sequences() * g.queryTokens();
            if (g.queryTokens() == 1) {
                decoding += g.sequences();
                decodeKv += g.sequences() * g.kvLength();
            } else {
                others.add(g);
            }
        }
        interpolatedSteps++;
        long s = decoding;
        if (tokens <= EXACT_TOKENS) {
            // The rest of the layers is exact here: with the attention, as it runs beside it, interpolated whole.
            return decoding == 0 ? exact.apply(StepTimer::inLayer)
                : interpolate(decodeKv, s, KV_GRID, kv -> gridStep(layersCost, s, kv, others, StepTimer::inLayer));
        }
        StepTimer.Cost rest = interpolate(tokens, 1, TOKEN_GRID, this::restAt);
        StepTimer.Cost attention = decoding == 0 ? exact.apply(StepInterpolation::isAttention)
            : interpolate(decodeKv, s, KV_GRID, kv -> gridStep(attentionCost, s, kv, others,
                StepInterpolation::isAttention));
        return rest.plus(attention);
    }

    /**
     * The time at {@code total / count} (a mean, or a count when {@code count} is 1) from the end points of its
     * interval of {@code grid}: exact on an end point. Time, energy and FLOPs take the same weights.
     */
    static StepTimer.Cost interpolate(long total, long count, long grid, LongFunction<StepTimer.Cost> at) {
        long x = ceilDiv(total, count);
        long hi = x > grid ? ceilDiv(x, grid) * grid : x == 1 ? 1 : Long.highestOneBit(x - 1) * 2;
        long lo = x > grid ? hi - grid + 1 : hi / 2 + 1;
        StepTimer.Cost high = at.apply(hi);
        if (x == hi && total == hi * count || lo >= hi) {
            return high;
        }
        StepTimer.Cost low = at.apply(lo);
        double along = Math.max(0, Math.min(1, (total - (double) lo * count) / ((double) (hi - lo) * count)));
        return new StepTimer.Cost(low.ps() + Math.round((high.ps() - low.ps()) * along),
            low.femtojoules() + Math.round((high.femtojoules() - low.femtojoules()) * along),
            low.flops() + (high.flops() - low.flops()) * along);
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    /** The layers' operators but attention over {@code tokens} new tokens. */
    private StepTimer.Cost restAt(long tokens) {
        return restOfLayer.computeIfAbsent(tokens, t -> price.apply(List.of(new StepLowering.Group(1, t, t)),
            op -> StepTimer.inLayer(op) && !isAttention(op)));
    }

    /**
     * What {@code counted} takes of the step of {@code decoding} sequences over {@code kvLength} positions beside
     * {@code others}, kept in {@code memo}.
     */
    private StepTimer.Cost gridStep(Map<List<StepLowering.Group>, StepTimer.Cost> memo, long decoding, long kvLength,
                                    List<StepLowering.Group> others, Predicate<Operator> counted) {
        List<StepLowering.Group> groups = new ArrayList<>(others.size() + 1);
        groups.add(new StepLowering.Group(decoding, 1, kvLength));
        groups.addAll(others);
        List<StepLowering.Group> key = List.copyOf(groups);
        StepTimer.Cost known = memo.get(key);
        if (known != null) {
            return known;
        }
        StepTimer.Cost c = price.apply(key, counted);
        memo.put(key, c);
        return c;
    }

    static boolean isAttention(Operator op) {
        return op.kind() == OpKind.FLASH_ATTENTION;
    }

    long interpolatedSteps() {
        return interpolatedSteps;
    }

    long gridPoints() {
        return restOfLayer.size() + attentionCost.size() + layersCost.size();
    }
}

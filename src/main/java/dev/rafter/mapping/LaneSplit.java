package dev.rafter.mapping;

import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareSpec;

/**
 * How a core splits one local tile (m x n x k) over its PE arrays ("lanes"): along n when there are at least as
 * many column folds as lanes, else along m; each lane gets a contiguous share, rounded to whole array widths so
 * no lane gets a partial fold it could avoid. The tile takes as long as its slowest lane.
 */
public final class LaneSplit {
    private LaneSplit() {}

    /** Per-lane (m, n) shares of the tile; lanes without work get zeros. */
    public static long[][] shares(HardwareSpec.Core core, long m, long n) {
        long[][] out = new long[core.peArrays()][];
        split(core, m, n, (lane, laneM, laneN) -> out[lane] = new long[] {laneM, laneN});
        return out;
    }

    /** Cycles of the tile on the core at the arrays' sustained rate for operands of {@code type}: the slowest lane. */
    public static long cycles(HardwareSpec.Core core, long m, long n, long k, DataType type) {
        // Without an array per lane (the mapping asks this for every local tile it weighs: a tenth of a long decode
        // run's garbage), and each distinct share's cycles once: neighbouring lanes mostly get the same share.
        long[] worst = {0, -1, -1, 0}; // slowest lane's cycles; the last share (m, n) and its cycles
        split(core, m, n, (lane, laneM, laneN) -> {
            if (laneM != worst[1] || laneN != worst[2]) {
                worst[1] = laneM;
                worst[2] = laneN;
                worst[3] = core.peArray().sustainedCycles(laneM, laneN, k, type);
            }
            worst[0] = Math.max(worst[0], worst[3]);
        });
        return worst[0];
    }

    /** A lane's share of a tile: {@code m} rows of {@code n} columns. */
    private interface Share {
        void lane(int lane, long m, long n);
    }

    /** Gives each lane its share of the m x n tile, in lane order (see the class comment). */
    private static void split(HardwareSpec.Core core, long m, long n, Share out) {
        int lanes = core.peArrays();
        HardwareSpec.PeArray pe = core.peArray();
        boolean alongN = ceilDiv(n, pe.cols()) >= lanes || ceilDiv(n, pe.cols()) >= ceilDiv(m, pe.rows());
        long total = alongN ? n : m;
        long unit = alongN ? pe.cols() : pe.rows();
        long units = ceilDiv(total, unit);
        long given = 0;
        for (int i = 0; i < lanes; i++) {
            long u = units / lanes + (i < units % lanes ? 1 : 0);
            long share = Math.min(u * unit, total - given);
            share = Math.max(share, 0);
            given += share;
            out.lane(i, alongN ? (share > 0 ? m : 0) : share, alongN ? share : (share > 0 ? n : 0));
        }
    }

    static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}

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
        int lanes = core.peArrays();
        HardwareSpec.PeArray pe = core.peArray();
        boolean alongN = ceilDiv(n, pe.cols()) >= lanes || ceilDiv(n, pe.cols()) >= ceilDiv(m, pe.rows());
        long total = alongN ? n : m;
        long unit = alongN ? pe.cols() : pe.rows();
        long units = ceilDiv(total, unit);
        long[][] out = new long[lanes][2];
        long given = 0;
        for (int i = 0; i < lanes; i++) {
            long u = units / lanes + (i < units % lanes ? 1 : 0);
            long share = Math.min(u * unit, total - given);
            share = Math.max(share, 0);
            given += share;
            out[i][0] = alongN ? (share > 0 ? m : 0) : share;
            out[i][1] = alongN ? share : (share > 0 ? n : 0);
        }
        return out;
    }

    /** Cycles of the tile on the core at the arrays' sustained rate for operands of {@code type}: the slowest lane. */
    public static long cycles(HardwareSpec.Core core, long m, long n, long k, DataType type) {
        long worst = 0;
        for (long[] s : shares(core, m, n)) {
            worst = Math.max(worst, core.peArray().sustainedCycles(s[0], s[1], k, type));
        }
        return worst;
    }

    static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}

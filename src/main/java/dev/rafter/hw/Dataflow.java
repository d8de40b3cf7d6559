package dev.rafter.hw;

/**
 * Systolic-array dataflows with the operand mapping of the SCALE-Sim v2 fold model (scalesim-project/scale-sim-v2,
 * compute/systolic_compute_*.py):
 * which GEMM dimension is laid over the array rows (Sr), over the columns (Sc), and streamed in time (T).
 */
public enum Dataflow {
    OUTPUT_STATIONARY, WEIGHT_STATIONARY, INPUT_STATIONARY;

    /** Spatial rows for a GEMM (M x K) * (K x N). */
    public long spatialRows(long m, long n, long k) {
        return this == OUTPUT_STATIONARY ? m : k;
    }

    public long spatialCols(long m, long n, long k) {
        return switch (this) {
            case OUTPUT_STATIONARY, WEIGHT_STATIONARY -> n;
            case INPUT_STATIONARY -> m;
        };
    }

    public long temporal(long m, long n, long k) {
        return switch (this) {
            case OUTPUT_STATIONARY -> k;
            case WEIGHT_STATIONARY -> m;
            case INPUT_STATIONARY -> n;
        };
    }

    /** Cycles of one fold: R + C + T - 2 for os; 2R + C + T - 2 for ws and is (stationary operand preload). */
    public long cyclesPerFold(int rows, int cols, long temporal) {
        long fill = this == OUTPUT_STATIONARY ? rows : 2L * rows;
        return fill + cols + temporal - 2;
    }

    /**
     * Exact cycles of a GEMM tile on one array under the SCALE-Sim fold model: folds x cycles per fold, with
     * folds = ceil(Sr/R) * ceil(Sc/C). SCALE-Sim prints this minus one (the index of the last cycle).
     */
    public long cycles(int rows, int cols, long m, long n, long k) {
        if (m <= 0 || n <= 0 || k <= 0) {
            return 0;
        }
        long folds = ceilDiv(spatialRows(m, n, k), rows) * ceilDiv(spatialCols(m, n, k), cols);
        return folds * cyclesPerFold(rows, cols, temporal(m, n, k));
    }

    /**
     * Cycles when successive folds overlap (the next fold's operands stream in while the current one drains, as
     * a real array can, though SCALE-Sim fills and drains each fold): every fold but the last costs max(T, R) cycles, the
     * last pays the full fill and drain. One fold gives exactly the plain fold model.
     */
    public long overlappedCycles(int rows, int cols, long m, long n, long k) {
        if (m <= 0 || n <= 0 || k <= 0) {
            return 0;
        }
        long folds = ceilDiv(spatialRows(m, n, k), rows) * ceilDiv(spatialCols(m, n, k), cols);
        long t = temporal(m, n, k);
        return (folds - 1) * Math.max(t, rows) + cyclesPerFold(rows, cols, t);
    }

    public String key() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}

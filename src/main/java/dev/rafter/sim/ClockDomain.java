package dev.rafter.sim;

/**
 * Converts cycles of one clock to picoseconds. Durations are rounded once from the exact cycle count (never
 * accumulated per cycle), so a clock sweep needs no rounding tricks.
 */
public record ClockDomain(String name, double mhz) {
    public ClockDomain {
        if (!(mhz > 0)) {
            throw new IllegalArgumentException("clock " + name + ": " + mhz + " MHz");
        }
    }

    public long ps(double cycles) {
        return Math.round(cycles * 1e6 / mhz);
    }

    public double cycles(long ps) {
        return ps * mhz / 1e6;
    }

    /** Picoseconds to move {@code bytes} at {@code bytesPerCycle}. */
    public long transferPs(long bytes, double bytesPerCycle) {
        return ps(bytes / bytesPerCycle);
    }
}

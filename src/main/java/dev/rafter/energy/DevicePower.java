package dev.rafter.energy;

import static dev.rafter.config.Check.numberIn;

import dev.rafter.config.InputException;
import dev.rafter.config.Section;
import java.util.ArrayList;
import java.util.List;

/**
 * What a device's board draws beside its counted actions, from the hardware file's {@code power:} section: idle
 * (static) watts, TDP and power cap, the memory and link standards whose energy per bit its node table gives, and
 * optional voltage-frequency operating points that replace the table's curve.
 *
 * @param idleW           board power at idle in P0 (includes the SRAM leakage the account charges apart); NaN: none
 * @param tdpW            thermal design power
 * @param capW            power limit; a run above it is flagged, or throttled ({@code capPolicy})
 * @param memoryStandard  row of the table's {@code dram_pj_per_bit}, or null
 * @param linkStandard    row of the table's {@code link_pj_per_bit}, or null
 * @param operatingPoints {clock MHz, volts}, clocks increasing and voltages not decreasing; empty: the table's
 * @param capPolicy       what a run above the cap does: flagged, or run at a lower operating point
 */
public record DevicePower(double idleW, double tdpW, double capW, String memoryStandard, String linkStandard,
                          List<double[]> operatingPoints, CapPolicy capPolicy) {

    /**
     * {@code power.cap_policy}. FLAG reports a run above the cap ({@code above_cap}). THROTTLE runs each operator
     * whose average power is above the cap at the highest operating point that keeps it at or below the cap
     * ({@link #throttledClock}; the window is the operator, as a board's power limiter averages over milliseconds;
     * DVFS transition latency is not modelled).
     */
    public enum CapPolicy { FLAG, THROTTLE }

    public DevicePower {
        if (!Double.isNaN(idleW)) {
            numberIn("idle_w", idleW, 0, 1e6, false);
        }
        numberIn("tdp_w", tdpW, 0, 1e6, true);
        numberIn("cap_w", capW, 0, 1e6, true);
        if (!Double.isNaN(idleW) && idleW > tdpW) {
            throw new InputException("idle_w: " + dev.rafter.config.Check.fmt(idleW) + " W is above tdp_w ("
                + dev.rafter.config.Check.fmt(tdpW) + " W)");
        }
        operatingPoints = List.copyOf(operatingPoints);
        if (capPolicy == CapPolicy.THROTTLE && operatingPoints.isEmpty()) {
            throw new InputException("cap_policy: throttle needs operating_points (clock_mhz, voltage_v) to choose a"
                + " lower clock from");
        }
        for (int i = 1; i < operatingPoints.size(); i++) {
            double[] a = operatingPoints.get(i - 1);
            double[] b = operatingPoints.get(i);
            if (b[0] <= a[0] || b[1] < a[1]) {
                throw new InputException("operating_points: expected clocks increasing and voltages not decreasing"
                    + " (a monotone curve), got " + fmt(a) + " then " + fmt(b));
            }
        }
    }

    private static String fmt(double[] point) {
        return "{clock_mhz: " + dev.rafter.config.Check.fmt(point[0]) + ", voltage_v: "
            + dev.rafter.config.Check.fmt(point[1]) + "}";
    }

    /** Reads a hardware file's {@code power:} section. */
    public static DevicePower read(Section p) {
        double tdp = p.number("tdp_w");
        List<double[]> points = new ArrayList<>();
        if (p.has("operating_points")) {
            for (Section row : p.list("operating_points")) {
                points.add(new double[] {
                    row.build(() -> numberIn("clock_mhz", row.number("clock_mhz"), 0, 1e5, true)),
                    row.build(() -> numberIn("voltage_v", row.number("voltage_v"), 0, 5, true))});
            }
        }
        return p.build(() -> new DevicePower(p.number("idle_w", Double.NaN), tdp, p.number("cap_w", tdp),
            p.string("memory_standard", null), p.string("link_standard", null), points,
            p.choice("cap_policy", CapPolicy.class, CapPolicy.FLAG)));
    }

    /**
     * The clock an operator throttled to the cap runs at: the highest operating point below {@code clockMhz}
     * whose average power ({@code averageW}, the operator simulated at that clock) is at or below the cap; the
     * lowest such point when none is; {@code clockMhz} itself when its own power is within the cap. Points are
     * asked for from the highest down, and none below the one chosen.
     */
    public double throttledClock(double clockMhz, java.util.function.DoubleUnaryOperator averageW) {
        if (averageW.applyAsDouble(clockMhz) <= capW) {
            return clockMhz;
        }
        double chosen = clockMhz;
        for (int i = operatingPoints.size() - 1; i >= 0; i--) {
            double clock = operatingPoints.get(i)[0];
            if (clock >= clockMhz) {
                continue;
            }
            chosen = clock;
            if (averageW.applyAsDouble(clock) <= capW) {
                break;
            }
        }
        return chosen;
    }

    /** Whether the board's idle power is given. */
    public boolean hasIdle() {
        return !Double.isNaN(idleW);
    }
}

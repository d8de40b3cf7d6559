package dev.rafter.cli;

import dev.rafter.config.Check;
import dev.rafter.energy.DevicePower;
import dev.rafter.energy.EnergyAccount;
import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.sim.Simulation;
import dev.rafter.sim.component.Catalogue;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * {@code power.cap_policy: throttle}: simulates the run at the device's clock and, while its average power is
 * above the cap, at lower operating points ({@link DevicePower#throttledClock}); the run is then made at the clock
 * chosen. Summary.json's {@code power.throttle} says which clock and what it cost in time.
 *
 * @param hw the device at the clock chosen
 */
record Throttle(HardwareSpec hw, double nominalClockMhz, double nominalLatencyS, double nominalAverageW) {

    /** The throttled device, or null when the hardware's policy is to flag (or it has no board power). */
    static Throttle of(HardwareOptions hardware, HardwareSpec hw, Function<HardwareSpec, Simulation.Result> run) {
        DevicePower board = hw.energy() == null ? null : hw.energy().device();
        if (board == null || board.capPolicy() != DevicePower.CapPolicy.THROTTLE) {
            return null;
        }
        Map<Double, HardwareSpec> specs = new LinkedHashMap<>();
        Map<Double, double[]> latencyAndPower = new LinkedHashMap<>();
        double chosen = board.throttledClock(hw.clockMhz(), clock -> {
            HardwareSpec at = clock == hw.clockMhz() ? hw : atClock(hardware, clock);
            Simulation.Result r = run.apply(at);
            double seconds = r.endPs() * 1e-12;
            double joules = new EnergyAccount(at, at.energy(), Catalogue.energyUses(at))
                .of(r.stats().total().activity(seconds)).total();
            double watts = seconds == 0 ? 0 : joules / seconds;
            specs.put(clock, at);
            latencyAndPower.put(clock, new double[] {seconds, watts});
            return watts;
        });
        double[] nominal = latencyAndPower.get(hw.clockMhz());
        return new Throttle(specs.get(chosen), hw.clockMhz(), nominal[0], nominal[1]);
    }

    private static HardwareSpec atClock(HardwareOptions hardware, double clockMhz) {
        List<String> sets = new ArrayList<>(hardware.hardwareSets());
        sets.add("clock_mhz=" + Check.fmt(clockMhz));
        return HardwareLoader.load(hardware.hardware, sets);
    }

    /** Summary.json's {@code power.throttle}, for the run made at the chosen clock, {@code latencyS} long. */
    Map<String, Object> json(double latencyS) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("window", "run");
        m.put("nominal_clock_mhz", nominalClockMhz);
        m.put("clock_mhz", hw.clockMhz());
        m.put("nominal_average_w", nominalAverageW);
        m.put("nominal_latency_s", nominalLatencyS);
        m.put("time_lost_s", latencyS - nominalLatencyS);
        return m;
    }

    /** The line simulate prints. */
    String line(double latencyS) {
        return String.format(java.util.Locale.ROOT, "throttled to the %.0f W cap: %s MHz instead of %s MHz"
            + " (%.0f W there), %.4g s lost", hw.energy().device().capW(), Check.fmt(hw.clockMhz()),
            Check.fmt(nominalClockMhz), nominalAverageW, latencyS - nominalLatencyS);
    }
}

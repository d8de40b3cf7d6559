package dev.rafter.cli;

import dev.rafter.config.Check;
import dev.rafter.energy.DevicePower;
import dev.rafter.energy.EnergyAccount;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.sim.Simulation;
import dev.rafter.sim.component.Catalogue;
import dev.rafter.workload.Operator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BiFunction;
import java.util.function.ToDoubleFunction;

/**
 * {@code power.cap_policy: throttle}, operator by operator: an operator whose average power at the device's clock
 * is above the cap runs at the highest operating point below it whose power is at or below the cap (the lowest
 * point if none is), the others at the device's clock. Each point is tried by simulating the operators still above
 * the cap at it ({@link Simulation#clocks}: an operator's time depends on its own clock only); the run is then made
 * with the clocks chosen. Summary.json's {@code power.throttle} says what it cost.
 *
 * @param clocks the clock of each throttled operator by id, MHz; the others run at {@code nominalClockMhz}
 */
record Throttle(double nominalClockMhz, double capW, Map<Long, Double> clocks, double nominalLatencyS,
                double nominalAverageW) {

    /**
     * The throttling of a run on {@code hw}, or null when the hardware's policy is to flag (or it has no board
     * power); {@code run} simulates the run with the clocks it is given, telling the listener each operator.
     */
    static Throttle of(HardwareSpec hw, BiFunction<ToDoubleFunction<Operator>, Simulation.OpListener,
        Simulation.Result> run) {
        DevicePower board = hw.energy() == null ? null : hw.energy().device();
        if (board == null || board.capPolicy() != DevicePower.CapPolicy.THROTTLE) {
            return null;
        }
        double nominal = hw.clockMhz();
        // The power of each operator above the cap at the device's clock, then at each point tried: lower points
        // are tried only for the operators still above the cap.
        Map<Long, Map<Double, Double>> watts = new HashMap<>();
        Set<Long> above = new LinkedHashSet<>();
        EnergyAccount own = account(hw, nominal);
        Simulation.Result r = run.apply(op -> nominal, op -> {
            double w = averageW(own, op);
            if (w > board.capW()) {
                above.add(op.op().id());
                watts.computeIfAbsent(op.op().id(), id -> new HashMap<>()).put(nominal, w);
            }
        });
        double seconds = r.endPs() * 1e-12;
        double runW = seconds == 0 ? 0 : own.of(r.stats().total().activity(seconds)).total() / seconds;
        for (int i = board.operatingPoints().size() - 1; i >= 0 && !above.isEmpty(); i--) {
            double clock = board.operatingPoints().get(i)[0];
            if (clock >= nominal) {
                continue;
            }
            EnergyAccount at = account(hw, clock);
            Set<Long> trying = Set.copyOf(above);
            run.apply(op -> trying.contains(op.id()) ? clock : nominal, op -> {
                if (trying.contains(op.op().id())) {
                    double w = averageW(at, op);
                    watts.get(op.op().id()).put(clock, w);
                    if (w <= board.capW()) {
                        above.remove(op.op().id());
                    }
                }
            });
        }
        Map<Long, Double> chosen = new HashMap<>();
        watts.forEach((id, byClock) -> chosen.put(id, board.throttledClock(nominal, byClock::get)));
        return new Throttle(nominal, board.capW(), Map.copyOf(chosen), seconds, runW);
    }

    private static EnergyAccount account(HardwareSpec hw, double clockMhz) {
        HardwareSpec at = hw.withClockMhz(clockMhz);
        return new EnergyAccount(at, at.energy(), Catalogue.energyUses(at));
    }

    /** An operator's average power, W: its energy at the clock of {@code account} over its time. */
    static double averageW(EnergyAccount account, Simulation.OpResult op) {
        double seconds = op.latencyS();
        return seconds == 0 ? 0 : account.of(op.sums().activity(seconds)).total() / seconds;
    }

    /** Each operator's clock, MHz. */
    ToDoubleFunction<Operator> clockOf() {
        return op -> clocks.getOrDefault(op.id(), nominalClockMhz);
    }

    /** Summary.json's {@code power.throttle}, for the run made at the clocks chosen, {@code latencyS} long. */
    Map<String, Object> json(double latencyS) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("window", "operator");
        m.put("nominal_clock_mhz", nominalClockMhz);
        m.put("throttled_operators", clocks.size());
        m.put("nominal_average_w", nominalAverageW);
        m.put("nominal_latency_s", nominalLatencyS);
        m.put("time_lost_s", latencyS - nominalLatencyS);
        return m;
    }

    /** The line simulate prints. */
    String line(double latencyS) {
        Map<Double, Integer> byClock = new TreeMap<>(java.util.Comparator.reverseOrder());
        clocks.values().forEach(c -> byClock.merge(c, 1, Integer::sum));
        StringBuilder points = new StringBuilder();
        byClock.forEach((c, n) -> points.append(points.length() == 0 ? "" : ", ").append(n).append(" at ")
            .append(Check.fmt(c)).append(" MHz"));
        return String.format(java.util.Locale.ROOT, "throttled to the %.0f W cap: %s (the others at %s MHz; the run"
            + " drew %.0f W there), %.4g s lost", capW, clocks.isEmpty() ? "no operator" : points,
            Check.fmt(nominalClockMhz), nominalAverageW, latencyS - nominalLatencyS);
    }
}

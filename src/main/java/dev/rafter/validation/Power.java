package dev.rafter.validation;

import dev.rafter.energy.EnergyAccount;
import dev.rafter.energy.EnergyBreakdown;
import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.sim.Simulation;
import dev.rafter.sim.component.Catalogue;
import dev.rafter.workload.Operator;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Phase;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Board-level power checks on the bundled devices ({@code validation/power.csv}), one GEMM each:
 * <ul>
 *   <li>{@code tdp_bound}: the run's energy per FLOP (static and dynamic) stays at or below the board's upper bound,
 *       TDP over peak FLOP/s: a device cannot spend more than its TDP while it delivers at most its peak;</li>
 *   <li>{@code idle}: a tiny GEMM, whose time is almost all fixed latency, draws the board's idle power (within
 *       10%);</li>
 *   <li>{@code power_range}: the run's average power lies within a measured range {@code low_w..high_w}.</li>
 * </ul>
 * A row may change the device ({@code sets}: {@code ;}-separated {@code --set} assignments) to the board that was
 * measured, and give a {@code known_gap}: why a case that does not pass disagrees (reported, not a failure).
 */
final class Power {
    private final Path dir;

    Power(Path dir) {
        this.dir = dir;
    }

    void run(List<Validation.Check> out) {
        run(out, name -> true);
    }

    /** The cases whose name {@code wanted} accepts. */
    void run(List<Validation.Check> out, java.util.function.Predicate<String> wanted) {
        for (String[] row : Validation.rows(dir.resolve("power.csv"), 11)) {
            if (!wanted.test(row[0])) {
                continue;
            }
            Path hwFile = dir.resolveSibling("models").resolve("hardware").resolve(row[1] + ".yaml");
            HardwareSpec hw = HardwareLoader.load(hwFile, row[2].isEmpty() ? List.of() : List.of(row[2].split(";")));
            long m = Long.parseLong(row[4]);
            long n = Long.parseLong(row[5]);
            long k = Long.parseLong(row[6]);
            Operator op = Operator.gemm(0, row[0], Phase.PREFILL, 0, 0, 1, m, n, k, DataType.FP16);
            Simulation.OpResult[] result = new Simulation.OpResult[1];
            new Simulation(hw).run(OperatorSource.of(op), null, r -> result[0] = r);
            Simulation.OpResult r = result[0];
            EnergyBreakdown e = new EnergyAccount(hw, hw.energy(), Catalogue.energyUses(hw))
                .of(r.sums().activity(r.latencyS()));
            String name = row[0] + "@" + row[1];
            switch (row[3]) {
                case "tdp_bound" -> {
                    double bound = hw.energy().device().tdpW() / hw.peakFlopsPerS();
                    double perFlop = e.total() / (2.0 * m * n * k);
                    out.add(new Validation.Check("power", name, bound, perFlop, String.format(Locale.ROOT,
                        "%.3g pJ/FLOP <= TDP / peak = %.3g pJ/FLOP", perFlop * 1e12, bound * 1e12), perFlop <= bound));
                }
                case "idle" -> {
                    double idle = hw.energy().device().idleW();
                    double watts = e.total() / r.latencyS();
                    out.add(new Validation.Check("power", name, idle, watts, String.format(Locale.ROOT,
                        "average %.4g W within 10%% of idle %.4g W", watts, idle), Math.abs(watts / idle - 1) <= 0.1));
                }
                case "power_range" -> {
                    double low = dev.rafter.config.Numbers.parseDouble(row[7]);
                    double high = dev.rafter.config.Numbers.parseDouble(row[8]);
                    double watts = e.total() / r.latencyS();
                    out.add(new Validation.Check("power", name, (low + high) / 2, watts, String.format(Locale.ROOT,
                        "%.4g W <= average %.4g W <= %.4g W (%s)", low, watts, high, watts(e, r.latencyS())),
                        watts >= low && watts <= high, row[9].isEmpty() ? null : row[9]));
                }
                default -> throw new dev.rafter.config.InputException(dir.resolve("power.csv") + ": check '" + row[3]
                    + "': expected tdp_bound, idle or power_range");
            }
        }
    }

    /** What the average power is made of: each part's watts over the run, the largest first, the empty left out. */
    private static String watts(EnergyBreakdown e, double seconds) {
        StringBuilder b = new StringBuilder();
        e.parts().stream().filter(p -> p.dynamic() + p.staticEnergy() > 0)
            .sorted((x, y) -> Double.compare(y.dynamic() + y.staticEnergy(), x.dynamic() + x.staticEnergy()))
            .forEach(p -> b.append(b.length() == 0 ? "" : ", ").append(p.name()).append(' ').append(String.format(
                Locale.ROOT, "%.1f W", (p.dynamic() + p.staticEnergy()) / seconds)));
        return b.toString();
    }
}

package dev.rafter.validation;

import dev.rafter.config.Section;
import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.report.SimulationReport;
import dev.rafter.sim.Simulation;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Phase;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The findings of the SRAM/frequency study (Atmer et al., arXiv 2512.22066) as checks on a grid of simulations set out in
 * {@code validation/findings.yaml}. Each check states the finding and the threshold that makes it measurable.
 */
final class Findings {
    private final Path dir;

    Findings(Path dir) {
        this.dir = dir;
    }

    /** Latency and energy of one grid point. */
    private record Run(double latency, double energy) {
        double edp() {
            return latency * energy;
        }
    }

    void run(List<Validation.Check> out) {
        Path file = dir.resolve("findings.yaml");
        Section s = Section.load(file);
        Path hardware = dir.resolve(s.string("hardware")).normalize();
        Path decode = dir.resolve(s.string("decode_trace")).normalize();
        Path prefill = dir.resolve(s.string("prefill_trace")).normalize();
        List<Double> clocks = s.numberList("clocks_mhz");
        List<Double> buffers = s.numberList("local_buffers_kib");
        List<Double> bandwidths = s.numberList("bandwidths_gb_per_s");
        s.finish();

        double base = bandwidths.get(0);
        double wide = bandwidths.get(bandwidths.size() - 1);
        Run[][][] d = new Run[bandwidths.size()][clocks.size()][buffers.size()];
        for (int b = 0; b < bandwidths.size(); b++) {
            for (int c = 0; c < clocks.size(); c++) {
                for (int l = 0; l < buffers.size(); l++) {
                    d[b][c][l] = simulate(hardware, decode, Phase.DECODE, clocks.get(c), buffers.get(l),
                        bandwidths.get(b));
                }
            }
        }
        Run[] p = new Run[buffers.size()];
        for (int l = 0; l < buffers.size(); l++) {
            p[l] = simulate(hardware, prefill, Phase.PREFILL, 1000, buffers.get(l), base);
        }
        int kib64 = buffers.indexOf(64.0);
        int kib32 = buffers.indexOf(32.0);
        int kib16 = buffers.indexOf(16.0);
        int last = clocks.size() - 1;

        // 2. Prefill latency drops from 16 to 32 KB; beyond 64 KB the gain is marginal.
        double drop = 1 - p[kib32].latency() / p[kib16].latency();
        double beyond = 1 - p[buffers.size() - 1].latency() / p[kib64].latency();
        out.add(check("2: prefill 16->32 KB gain > 30%, 64 KB->largest gain < 15%", 0.30, drop,
            String.format(Locale.ROOT,
                "gain 16->32 KB %.0f%%, 64 KB->%.0f KB %.0f%%", 100 * drop, buffers.get(buffers.size() - 1),
                100 * beyond), drop > 0.30 && beyond < 0.15));

        // 3. Decode latency stops improving above roughly 400-600 MHz at the baseline bandwidth.
        double low = 1 - d[0][1][kib64].latency() / d[0][0][kib64].latency();
        double high = 1 - d[0][last][kib64].latency() / d[0][2][kib64].latency();
        out.add(check("3: decode 200->600 MHz gain > 40%, 1000->1400 MHz gain < 10% (64 KB)", 0.10, high,
            String.format(Locale.ROOT, "gain 200->600 MHz %.0f%%, 1000->1400 MHz %.0f%%", 100 * low, 100 * high),
            low > 0.40 && high < 0.10));

        // 4. A higher clock can lower total energy (less static energy).
        out.add(check("4: decode energy at the highest clock below the lowest (64 KB)", d[0][0][kib64].energy(),
            d[0][last][kib64].energy(), "J at " + clocks.get(last) + " MHz vs " + clocks.get(0) + " MHz",
            d[0][last][kib64].energy() < d[0][0][kib64].energy()));

        // 1. Energy grows with SRAM size (leakage and access energy) more than latency falls.
        boolean grows = true;
        for (int l = kib32 + 1; l < buffers.size(); l++) {
            grows &= d[0][last][l].energy() > d[0][last][l - 1].energy();
        }
        out.add(check("1: decode energy rises with every local-buffer step from 32 KB", d[0][last][kib32].energy(),
            d[0][last][buffers.size() - 1].energy(), "J at 32 KB vs the largest", grows));

        // 5. Best EDP at the baseline bandwidth: 32-64 KB at 1200-1400 MHz.
        int[] best = argmin(d[0]);
        boolean fifth = (best[1] == kib32 || best[1] == kib64) && clocks.get(best[0]) >= 1200;
        out.add(check("5: best decode EDP at " + Math.round(base) + " GB/s is 32-64 KB at 1200-1400 MHz", 64,
            buffers.get(best[1]), "KB at " + clocks.get(best[0]) + " MHz", fifth));

        // 6. More bandwidth moves the EDP optimum to larger buffers (4x: near 128 KB).
        int[] bestWide = argmin(d[bandwidths.size() - 1]);
        boolean sixth = buffers.get(bestWide[1]) > buffers.get(best[1]);
        out.add(check("6: at " + Math.round(wide) + " GB/s the best decode EDP moves to a larger buffer", 128,
            buffers.get(bestWide[1]), "KB at " + clocks.get(bestWide[0]) + " MHz (vs " + buffers.get(best[1])
                + " KB at " + Math.round(base) + " GB/s)", sixth));
    }

    private static Validation.Check check(String name, double expected, double simulated, String detail,
                                          boolean passed) {
        return new Validation.Check("findings", name, expected, simulated, detail, passed);
    }

    private static int[] argmin(Run[][] grid) {
        int[] best = {0, 0};
        for (int c = 0; c < grid.length; c++) {
            for (int l = 0; l < grid[c].length; l++) {
                if (grid[c][l].edp() < grid[best[0]][best[1]].edp()) {
                    best = new int[] {c, l};
                }
            }
        }
        return best;
    }

    private static Run simulate(Path hardware, Path trace, Phase phase, double clock, double kib,
                                double bandwidth) {
        HardwareSpec hw = HardwareLoader.load(hardware, List.of("clock_mhz=" + clock,
            "core.local_buffer.capacity_kib=" + kib, "memory.bandwidth_gb_per_s=" + bandwidth));
        SimulationReport report = new SimulationReport(hw, null);
        Simulation.Result r = new Simulation(hw).run(OperatorSource.ofTrace(trace, EnumSet.of(phase)),
            null, report);
        Map<String, Object> summary = report.summary(r);
        @SuppressWarnings("unchecked")
        Map<String, Object> energy = (Map<String, Object>) summary.get("energy_j");
        return new Run((double) summary.get("latency_s"), (double) energy.get("total"));
    }

}

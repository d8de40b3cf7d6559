package dev.rafter.validation;

import dev.rafter.config.InputException;
import dev.rafter.hw.SystemLoader;
import dev.rafter.hw.SystemSpec;
import dev.rafter.sim.component.Host;
import dev.rafter.sim.system.SystemSimulation;
import dev.rafter.sim.trace.RunStats;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Phase;
import dev.rafter.workload.Workload;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Devices computing on the bundled systems. {@code validation/systems.csv}: a workload's decode (its batch, the
 * prompt's KV cache, {@link #STEPS} steps) on 1, 2, 4... devices of a system with tensor parallelism, timed per
 * decode step, each device launched by a host of the {@code host} framework ({@code host.framework}; empty: none).
 * {@code faster}: every larger group is faster than one device; {@code not_faster}: none is more than
 * {@link #TOLERANCE} faster. A row with a {@code known_gap} that does not pass is reported as a known disagreement
 * with its source. {@code validation/pipeline.csv}: the bubble of a uniform pipeline ({@link #pipeline}).
 */
final class SystemCases {
    /** Decode steps timed (the KV lengths stay those of the full run). */
    static final int STEPS = 2;
    /** How much faster than one device still counts as "no faster": the run-to-run noise of a measured study. */
    static final double TOLERANCE = 0.05;

    private final Path dir;

    SystemCases(Path dir) {
        this.dir = dir;
    }

    void run(List<Validation.Check> out) {
        decode(out);
        pipeline(out);
    }

    /**
     * How far above its closed form a uniform pipeline's bubble may be: the closed form takes the sends between
     * stages as free, so they only add idle time (about 1% of the run for 8 MiB of activations over PCIe).
     */
    static final double BUBBLE_TOLERANCE = 0.02;

    /**
     * {@code pipeline.csv}: the layers of a workload's prefill (without the final norm and LM head, so every stage
     * does the same work) over {@code stages} devices, {@code micro_batches} micro-batches of one sequence each: the
     * first stage's idle share of the run must be (stages - 1) / (micro_batches + stages - 1), or up to
     * {@link #BUBBLE_TOLERANCE} more.
     */
    private void pipeline(List<Validation.Check> out) {
        for (String[] row : Validation.rows(dir.resolve("pipeline.csv"), 6)) {
            SystemSpec spec = SystemLoader.load(dir.resolveSibling("models").resolve("systems").resolve(row[1]
                + ".yaml"), List.of());
            int stages = Integer.parseInt(row[3]);
            int micro = Integer.parseInt(row[4]);
            Workload w = Workload.load(dir.resolveSibling("models").resolve("workloads").resolve(row[2] + ".yaml"),
                List.of("run.tensor_parallel=1", "run.batch=1"));
            OperatorSource whole = OperatorSource.of(w, java.util.EnumSet.of(Phase.PREFILL));
            OperatorSource layers = sink -> whole.forEach(op -> {
                if (op.layer() != dev.rafter.workload.Lowering.NO_LAYER) {
                    sink.accept(op);
                }
            });
            SystemSimulation.Result r = new SystemSimulation(spec, 1).pipeline(stages, micro, w.run().layers())
                .run(layers, null, null);
            double bubble = 1 - (double) r.devices().get(0).computePs() / r.endPs();
            double expected = (stages - 1.0) / (micro + stages - 1.0);
            out.add(new Validation.Check("systems", row[0] + "@" + row[1], expected, bubble, String.format(
                Locale.ROOT, "first stage idle %.4f of %.3f ms >= (stages-1)/(micro_batches+stages-1) = %.4f "
                    + "(+ up to %.2f for the sends)", bubble, r.endPs() * 1e-9, expected, BUBBLE_TOLERANCE),
                bubble >= expected - 1e-6 && bubble <= expected + BUBBLE_TOLERANCE));
        }
    }

    void decode(List<Validation.Check> out) {
        Path table = dir.resolve("systems.csv");
        for (String[] row : Validation.rows(table, 9)) {
            Path file = dir.resolveSibling("models").resolve("systems").resolve(row[1] + ".yaml");
            String host = row[5].isBlank() ? "none" : row[5].trim();
            Path workload = dir.resolveSibling("models").resolve("workloads").resolve(row[2] + ".yaml");
            List<Integer> devices = new ArrayList<>();
            for (String d : row[4].split(";")) {
                devices.add(Integer.parseInt(d.trim()));
            }
            boolean faster = switch (row[6]) {
                case "faster" -> true;
                case "not_faster" -> false;
                default -> throw new InputException(table + ": expect: expected faster or not_faster, got '"
                    + row[6] + "'");
            };
            List<Step> steps = decodeSteps(file, workload, Integer.parseInt(row[3]), devices,
                List.of("host.framework=" + host));
            boolean passed = holds(steps, faster);
            double one = steps.get(0).seconds();
            StringBuilder times = new StringBuilder();
            for (int i = 0; i < steps.size(); i++) {
                times.append(i == 0 ? "" : " / ").append(String.format(Locale.ROOT, "%.3f", steps.get(i).seconds() * 1e3));
            }
            double best = steps.stream().mapToDouble(Step::seconds).min().orElseThrow();
            String comparison = String.format(Locale.ROOT, "decode ms per step at %s devices (host %s): %s; "
                + "expected %s than 1 device; %s", row[4].replace(';', '/'), host, times,
                faster ? "faster" : "no faster", breakdown(steps.get(steps.size() - 1)));
            if (!faster && !passed) {
                comparison += "; " + breakEven(steps);
            }
            out.add(new Validation.Check("systems", row[0] + "@" + row[1], one, best, comparison, passed,
                row[7].isBlank() ? null : row[7]));
        }
    }

    /**
     * One decode step on {@code devices} devices (tensor parallel), as device 0 saw it: its time; the collectives
     * it joined and their mean time from reaching the group to the end; its host's CPU time issuing and its launches.
     */
    record Step(int devices, double seconds, double collectives, double collectiveS, double hostS, double launches) {}

    /** {@code faster}: every larger group is faster than one device; else none is more than TOLERANCE faster. */
    static boolean holds(List<Step> steps, boolean faster) {
        double one = steps.get(0).seconds();
        boolean passed = true;
        for (Step s : steps.subList(1, steps.size())) {
            passed &= faster ? s.seconds() < one : s.seconds() >= one * (1 - TOLERANCE);
        }
        return passed;
    }

    /** Where a group's step goes: its collectives and its host (the costs tensor parallelism adds or keeps). */
    static String breakdown(Step s) {
        String collectives = String.format(Locale.ROOT, "at %d devices per step %.0f collectives of %.1f us",
            s.devices(), s.collectives(), s.collectiveS() * 1e6);
        return s.launches() == 0 ? collectives : collectives + String.format(Locale.ROOT,
            ", host %.2f ms for %.0f launches (%.2f us each)", s.hostS() * 1e3, s.launches(),
            s.hostS() / s.launches() * 1e6);
    }

    /**
     * What the largest group's step lacks to be no faster than one device, as either missing cost alone: more time
     * in each collective (the device idles through it, so each adds its own), or a host so slow per launch that it
     * binds (its launches per step, all-reduce calls among them, then take at least the one-device step's time less
     * the tolerance; a host bound at one device too is bound at every degree, with more launches per step).
     */
    static String breakEven(List<Step> steps) {
        Step largest = steps.get(steps.size() - 1);
        double missing = steps.get(0).seconds() * (1 - TOLERANCE) - largest.seconds();
        String fabric = String.format(Locale.ROOT, "no faster at %d devices needs %.2f ms more per step: %.0f us more "
            + "per collective", largest.devices(), missing * 1e3, missing / largest.collectives() * 1e6);
        return largest.launches() == 0 ? fabric : fabric + String.format(Locale.ROOT,
            ", or a host above %.1f us per launch", hostBreakEvenS(steps) * 1e6);
    }

    /** The host's CPU time per launch at which the largest group's launches take the one-device step less TOLERANCE. */
    static double hostBreakEvenS(List<Step> steps) {
        return steps.get(0).seconds() * (1 - TOLERANCE) / steps.get(steps.size() - 1).launches();
    }

    /**
     * One decode step (of {@link #STEPS}) on each of the first {@code devices} counts of the system's devices, with
     * {@code deviceOverrides} (hardware keys, e.g. the host's) on every device.
     */
    static List<Step> decodeSteps(Path system, Path workloadFile, int batch, List<Integer> devices,
                                  List<String> deviceOverrides) {
        SystemSpec spec = SystemLoader.load(system, List.of(), deviceOverrides);
        List<Step> steps = new ArrayList<>();
        for (int n : devices) {
            steps.add(decodeStep(spec, workloadFile, batch, n));
        }
        return steps;
    }

    private static Step decodeStep(SystemSpec spec, Path workloadFile, int batch, int devices) {
        Workload w = Workload.load(workloadFile, List.of("run.tensor_parallel=" + devices, "run.batch=" + batch,
            "run.output_tokens=" + (STEPS + 1)));
        long[] span = {Long.MAX_VALUE, 0};
        SystemSimulation.Result r = new SystemSimulation(spec, devices).sequences(batch).run(
            OperatorSource.of(w, java.util.EnumSet.of(Phase.DECODE)), null, rank -> op -> {
                span[0] = Math.min(span[0], op.startPs());
                span[1] = Math.max(span[1], op.endPs());
            });
        long collectives = 0;
        long collectivePs = 0;
        for (SystemSimulation.AlgorithmTotals a : r.algorithms()) {
            collectives += a.collectives();
            collectivePs += a.timePs();
        }
        RunStats.Sums sums = r.devices().get(0).stats().total();
        return new Step(devices, (span[1] - span[0]) * 1e-12 / STEPS, (double) collectives / STEPS,
            collectives == 0 ? 0 : collectivePs * 1e-12 / collectives, sums.get(Host.KIND, "busy_ps") * 1e-12 / STEPS,
            (double) sums.get(Host.KIND, "kernels") / STEPS);
    }
}

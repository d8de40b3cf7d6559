package dev.rafter.validation;

import dev.rafter.config.InputException;
import dev.rafter.hw.SystemLoader;
import dev.rafter.hw.SystemSpec;
import dev.rafter.sim.system.SystemSimulation;
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

    private void decode(List<Validation.Check> out) {
        Path table = dir.resolve("systems.csv");
        for (String[] row : Validation.rows(table, 9)) {
            Path file = dir.resolveSibling("models").resolve("systems").resolve(row[1] + ".yaml");
            String host = row[5].isBlank() ? "none" : row[5].trim();
            SystemSpec spec = SystemLoader.load(file, List.of(), List.of("host.framework=" + host));
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
            List<Double> perStep = new ArrayList<>();
            for (int n : devices) {
                perStep.add(decodeStepS(spec, workload, Integer.parseInt(row[3]), n));
            }
            double one = perStep.get(0);
            boolean passed = true;
            StringBuilder times = new StringBuilder();
            for (int i = 0; i < devices.size(); i++) {
                times.append(i == 0 ? "" : " / ").append(String.format(Locale.ROOT, "%.3f", perStep.get(i) * 1e3));
                if (i > 0) {
                    double t = perStep.get(i);
                    passed &= faster ? t < one : t >= one * (1 - TOLERANCE);
                }
            }
            double best = perStep.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
            String comparison = String.format(Locale.ROOT, "decode ms per step at %s devices (host %s): %s; "
                + "expected %s than 1 device", row[4].replace(';', '/'), host, times, faster ? "faster" : "no faster");
            out.add(new Validation.Check("systems", row[0] + "@" + row[1], one, best, comparison, passed,
                row[7].isBlank() ? null : row[7]));
        }
    }

    /** One decode step's time on the first {@code devices} devices (tensor parallel). */
    private static double decodeStepS(SystemSpec spec, Path workloadFile, int batch, int devices) {
        Workload w = Workload.load(workloadFile, List.of("run.tensor_parallel=" + devices, "run.batch=" + batch,
            "run.output_tokens=" + (STEPS + 1)));
        long[] span = {Long.MAX_VALUE, 0};
        new SystemSimulation(spec, devices).sequences(batch).run(OperatorSource.of(w, java.util.EnumSet.of(Phase.DECODE)), null,
            rank -> r -> {
                span[0] = Math.min(span[0], r.startPs());
                span[1] = Math.max(span[1], r.endPs());
            });
        return (span[1] - span[0]) * 1e-12 / STEPS;
    }
}

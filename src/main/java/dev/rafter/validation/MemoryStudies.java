package dev.rafter.validation;

import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.hw.NearMemorySpec;
import dev.rafter.mapping.TensorPlacement;
import dev.rafter.mapping.TierPlacement;
import dev.rafter.sim.Simulation;
import dev.rafter.workload.Capacity;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Phase;
import dev.rafter.workload.Workload;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;

/**
 * The memory-technology studies of the hardware outlook, as checks. {@code validation/near-memory.csv}: study (b),
 * near-memory GEMV and attention ({@link #nearMemory}).
 */
final class MemoryStudies {
    /** How far below the internal-to-external bandwidth ratio batch-1 FC decode may speed up and still be "about". */
    static final double RATIO_TOLERANCE = 0.35;
    /** A speed-up below this is no help (the units' launch and operand traffic against the noise of a study). */
    static final double NO_HELP = 1.05;

    private final Path dir;

    MemoryStudies(Path dir) {
        this.dir = dir;
    }

    void run(List<Validation.Check> out) {
        nearMemory(out);
    }

    private Path models(String kind, String name) {
        return dir.resolveSibling("models").resolve(kind).resolve(name + ".yaml");
    }

    /** Decode times of one run, by what the units may take: the fully connected layers (GEMMs) and attention. */
    record DecodeTimes(double fcS, double attentionS) {}

    /** One decode step of {@code workload} (with {@code sets}) at {@code batch} on {@code hw}, timed by kind. */
    static DecodeTimes decode(HardwareSpec hw, Path workload, List<String> sets, int batch) {
        List<String> all = new ArrayList<>(sets);
        all.add("run.batch=" + batch);
        all.add("run.output_tokens=2");
        Workload w = Workload.load(workload, all);
        EnumSet<Phase> decode = EnumSet.of(Phase.DECODE);
        TensorPlacement.Policy placement = TierPlacement.of(hw, w.placement(), Capacity.of(w, decode), true);
        double[] s = new double[2];
        new Simulation(hw).placement(placement).run(OperatorSource.of(w, decode), null, r -> {
            if (r.op().kind() == OpKind.GEMM) {
                s[0] += r.latencyS();
            } else if (r.op().kind().isAttention()) {
                s[1] += r.latencyS();
            }
        });
        return new DecodeTimes(s[0], s[1]);
    }

    /**
     * Study (b), {@code near-memory.csv}: one decode step of a workload at each batch on a device with near-memory
     * units and on the same device without them. Three checks: at batch 1 the fully connected layers speed up by
     * about the units' internal-to-external bandwidth ratio (within {@link #RATIO_TOLERANCE} below it, never above);
     * they stop helping (speed-up below {@link #NO_HELP}) by the first batch past where the units' roof crosses the
     * cores' memory roof (the GEMV's FLOPs per weight byte equal to the units' peak over the device's memory
     * bandwidth); attention over the KV cache speeds up at every batch (its intensity does not grow with the batch:
     * each sequence reads its own KV cache).
     */
    private void nearMemory(List<Validation.Check> out) {
        for (String[] row : Validation.rows(dir.resolve("near-memory.csv"), 7)) {
            HardwareSpec units = HardwareLoader.load(models("hardware", row[1]), List.of());
            HardwareSpec plain = HardwareLoader.load(models("hardware", row[2]), List.of());
            Path workload = models("workloads", row[3]);
            List<String> sets = row[4].isBlank() ? List.of() : List.of(row[4].split(";"));
            NearMemorySpec spec = NearMemorySpec.of(units);
            double crossing = spec.macFlopsPerS() / plain.memoryBytesPerS();
            StringBuilder fc = new StringBuilder();
            StringBuilder attention = new StringBuilder();
            double first = 0;
            int stopped = -1;
            double worstAttention = Double.MAX_VALUE;
            for (String b : row[5].split(";")) {
                int batch = Integer.parseInt(b.trim());
                DecodeTimes with = decode(units, workload, sets, batch);
                DecodeTimes without = decode(plain, workload, sets, batch);
                double fcSpeedup = without.fcS() / with.fcS();
                double attSpeedup = without.attentionS() / with.attentionS();
                first = first == 0 ? fcSpeedup : first;
                if (stopped < 0 && fcSpeedup < NO_HELP) {
                    stopped = batch;
                }
                worstAttention = Math.min(worstAttention, attSpeedup);
                fc.append(fc.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%d: %.2fx", batch,
                    fcSpeedup));
                attention.append(attention.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%d: %.2fx",
                    batch, attSpeedup));
            }
            double ratio = spec.internalBandwidthRatio();
            out.add(new Validation.Check("memory-studies", row[0] + "_fc_batch1@" + row[1], ratio, first,
                String.format(Locale.ROOT, "batch-1 FC decode speed-up %.2fx, about the %.0fx internal-to-external "
                    + "bandwidth ratio (%.2f..%.0f)", first, ratio, ratio * (1 - RATIO_TOLERANCE), ratio),
                first >= ratio * (1 - RATIO_TOLERANCE) && first <= ratio));
            int limit = (int) Math.ceil(crossing);
            out.add(new Validation.Check("memory-studies", row[0] + "_fc_stops@" + row[1], crossing, stopped,
                String.format(Locale.ROOT, "FC speed-up by batch (%s) below %.2fx from batch %d; the roofs cross at "
                    + "%.2f FLOP per weight byte (units' %.1f TFLOP/s over %.2f TB/s): expected by batch %d", fc,
                    NO_HELP, stopped, crossing, spec.macFlopsPerS() / 1e12, plain.memoryBytesPerS() / 1e12, limit),
                stopped > 1 && stopped <= limit));
            out.add(new Validation.Check("memory-studies", row[0] + "_attention@" + row[1], 1, worstAttention,
                String.format(Locale.ROOT, "attention speed-up by batch (%s): above 1 at every batch", attention),
                worstAttention > NO_HELP));
        }
    }
}

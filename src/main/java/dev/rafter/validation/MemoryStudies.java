package dev.rafter.validation;

import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.hw.NearMemorySpec;
import dev.rafter.mapping.TensorPlacement;
import dev.rafter.mapping.TierPlacement;
import dev.rafter.plot.XyChart;
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
 * The memory-technology studies of the hardware outlook (Ma and Patterson), as checks, each printing its numbers:
 * {@code validation/near-memory.csv}, study (b), near-memory GEMV and attention ({@link #nearMemory});
 * {@code validation/hbf.csv}, study (a), a 70B-class model on one device with a flash tier ({@link #flashTier});
 * and a chart of each ({@link #charts}).
 */
final class MemoryStudies {
    /** How far below the internal-to-external bandwidth ratio batch-1 FC decode may speed up and still be "about". */
    static final double RATIO_TOLERANCE = 0.35;
    /** A speed-up below this is no help (the units' launch and operand traffic against the noise of a study). */
    static final double NO_HELP = 1.05;

    private final Path dir;
    private final List<SpeedupCurve> speedups = new ArrayList<>();
    private final List<LatencyCurve> latencies = new ArrayList<>();

    MemoryStudies(Path dir) {
        this.dir = dir;
    }

    void run(List<Validation.Check> out) {
        speedups.clear();
        latencies.clear();
        nearMemory(out);
        flashTier(out);
    }

    /** One case of study (b): speed-ups of the FC layers and of attention by batch, {batch, speed-up}. */
    record SpeedupCurve(String name, String workload, String hardware, String baseline, double bandwidthRatio,
                        List<double[]> fc, List<double[]> attention) {}

    /** One case of study (a): the HBF device's decode step by read latency, {us, s}, and the system's step. */
    record LatencyCurve(String name, String workload, String hardware, String system, int tensorParallel,
                        List<double[]> steps, double systemStepS) {}

    /**
     * The studies' charts from the last {@link #run}: {@code near-memory.png} (speed-up by batch against the
     * bandwidth ratio) and {@code hbf.png} (decode step by read latency against the system's), each with the cases
     * of its table; a table without cases has no chart.
     */
    List<Validation.Chart> charts() {
        List<Validation.Chart> out = new ArrayList<>();
        if (!speedups.isEmpty()) {
            out.add(new Validation.Chart("near-memory.png", speedupChart(speedups)));
        }
        if (!latencies.isEmpty()) {
            out.add(new Validation.Chart("hbf.png", latencyChart(latencies)));
        }
        return out;
    }

    List<SpeedupCurve> speedups() {
        return speedups;
    }

    List<LatencyCurve> latencies() {
        return latencies;
    }

    static XyChart speedupChart(List<SpeedupCurve> curves) {
        SpeedupCurve first = curves.get(0);
        XyChart chart = new XyChart(1000, 520, "Study (b): near-memory units' decode speed-up by batch",
            new XyChart.AxisSpec("batch", null, false, true), new XyChart.AxisSpec("speed-up over " + first.baseline(),
                null, false, false))
            .subtitle(first.workload() + " decode on " + first.hardware() + " over " + first.baseline() + ": the fully "
                + "connected layers gain until their intensity crosses the units' ridge, attention at every batch")
            .legend(XyChart.LegendPlace.OUTSIDE_RIGHT);
        List<Double> batches = new ArrayList<>();
        int colour = 0;
        for (SpeedupCurve c : curves) {
            String prefix = curves.size() == 1 ? "" : c.name() + ": ";
            chart.add(new XyChart.Series(prefix + "FC layers", XyChart.PALETTE[colour++ % XyChart.PALETTE.length],
                XyChart.Style.LINE_AND_MARKERS, 1.5f, false, c.fc()));
            chart.add(new XyChart.Series(prefix + "attention", XyChart.PALETTE[colour++ % XyChart.PALETTE.length],
                XyChart.Style.LINE_AND_MARKERS, 1.5f, false, c.attention()));
            double lo = c.fc().get(0)[0];
            double hi = c.fc().get(c.fc().size() - 1)[0];
            chart.add(new XyChart.Series(prefix + String.format(Locale.ROOT, "%.0fx internal/external bandwidth",
                c.bandwidthRatio()), XyChart.PALETTE[7], XyChart.Style.LINE, 1f, true, List.of(
                    new double[] {lo, c.bandwidthRatio()}, new double[] {hi, c.bandwidthRatio()})));
            c.fc().forEach(p -> batches.add(p[0]));
        }
        List<Double> ticks = batches.stream().distinct().sorted().toList();
        return chart.xTicks(ticks, ticks.stream().map(b -> String.valueOf(b.longValue())).toList());
    }

    static XyChart latencyChart(List<LatencyCurve> curves) {
        LatencyCurve first = curves.get(0);
        XyChart chart = new XyChart(1000, 520, "Study (a): decode step of " + first.workload()
            + " on one device with HBF",
            new XyChart.AxisSpec("HBF page read latency", "us", false, true), new XyChart.AxisSpec("decode step",
                "s", true, false))
            .subtitle("one decode step by HBF page read latency, KV cache in HBM; dashed: the HBM system's step")
            .legend(XyChart.LegendPlace.OUTSIDE_RIGHT);
        List<Double> latencyTicks = new ArrayList<>();
        int colour = 0;
        for (LatencyCurve c : curves) {
            String prefix = curves.size() == 1 ? "" : c.name() + ": ";
            java.awt.Color ink = XyChart.PALETTE[colour++ % XyChart.PALETTE.length];
            chart.add(new XyChart.Series(prefix + "one " + c.hardware() + " (weights in HBF)", ink,
                XyChart.Style.LINE_AND_MARKERS, 1.5f, false, c.steps()));
            double lo = c.steps().get(0)[0];
            double hi = c.steps().get(c.steps().size() - 1)[0];
            chart.add(new XyChart.Series(prefix + c.system() + ", " + c.tensorParallel() + " devices (HBM)", ink,
                XyChart.Style.LINE, 1f, true, List.of(new double[] {lo, c.systemStepS()},
                    new double[] {hi, c.systemStepS()})));
            c.steps().forEach(p -> latencyTicks.add(p[0]));
        }
        List<Double> ticks = latencyTicks.stream().distinct().sorted().toList();
        return chart.xTicks(ticks, ticks.stream().map(dev.rafter.plot.Units::plain).toList());
    }

    /** How much slower than at the sweep's shortest read latency still counts as the latency hidden. */
    static final double HIDDEN = 1.10;

    /** A decode step's time and energy per token. */
    record Step(double seconds, double joulesPerToken) {}

    /** One decode step of {@code w} on one device of {@code hw}, its tensors where {@code w} places them. */
    static Step deviceStep(HardwareSpec hw, Workload w) {
        EnumSet<Phase> decode = EnumSet.of(Phase.DECODE);
        TensorPlacement.Policy placement = TierPlacement.of(hw, w.placement(), Capacity.of(w, decode), false);
        Simulation.Result r = new Simulation(hw).placement(placement).run(OperatorSource.of(w, decode), null,
            op -> { });
        double seconds = r.endPs() * 1e-12;
        return new Step(seconds, energyJ(hw, r.stats(), seconds) / w.run().batch());
    }

    private static double energyJ(HardwareSpec hw, dev.rafter.sim.trace.RunStats stats, double seconds) {
        return new dev.rafter.energy.EnergyAccount(hw, hw.energy(), dev.rafter.sim.component.Catalogue
            .energyUses(hw)).of(stats.total().activity(seconds)).total();
    }

    /** One decode step of {@code w} over the first {@code tp} devices of {@code system}: time, energy per token. */
    static Step systemStep(dev.rafter.hw.SystemSpec system, Workload w, int tp) {
        dev.rafter.sim.system.SystemSimulation.Result r = new dev.rafter.sim.system.SystemSimulation(system, tp)
            .run(OperatorSource.of(w, EnumSet.of(Phase.DECODE)), null, null);
        double seconds = r.endPs() * 1e-12;
        double joules = r.fabricEnergyJ();
        for (dev.rafter.sim.system.SystemSimulation.DeviceResult d : r.devices()) {
            joules += energyJ(d.hardware(), d.stats(), seconds);
        }
        return new Step(seconds, joules / w.run().batch());
    }

    /**
     * Study (a), {@code hbf.csv}: a 70B-class model that needs several HBM devices on one device with its weights
     * in a High Bandwidth Flash tier and its KV cache in HBM, one decode step. Checks: it is refused on one device
     * of HBM alone and placed on the HBF device; with the flash latency hidden (the sweep's shortest read latency)
     * its step is within {@code 1..max_ratio} times the HBM system's of {@code tensor_parallel} devices (HBF reads
     * at about one device's HBM bandwidth, the system has several devices' bandwidth); and the read latency up to
     * which the latency stays hidden (the step at most {@link #HIDDEN} times the shortest latency's), against the
     * 10 us the outlook gives.
     */
    private void flashTier(List<Validation.Check> out) {
        for (String[] row : Validation.rows(dir.resolve("hbf.csv"), 9)) {
            Path workload = models("workloads", row[4]);
            List<String> sets = new ArrayList<>(row[5].isBlank() ? List.of() : List.of(row[5].split(";")));
            sets.add("run.output_tokens=2");
            int tp = Integer.parseInt(row[6]);
            List<String> one = new ArrayList<>(sets);
            one.add("run.tensor_parallel=1");
            Workload w = Workload.load(workload, one);
            HardwareSpec hbmOnly = HardwareLoader.load(models("hardware", row[2]), List.of());
            boolean refused;
            try {
                Capacity.check(w, EnumSet.of(Phase.DECODE), hbmOnly.memory().capacityGib());
                refused = false;
            } catch (dev.rafter.config.InputException e) {
                refused = true;
            }
            Path hbfFile = models("hardware", row[1]);
            HardwareSpec hbf = HardwareLoader.load(hbfFile, List.of());
            Step atStandard = deviceStep(hbf, w);
            List<String> systemSets = new ArrayList<>(sets);
            systemSets.add("run.tensor_parallel=" + tp);
            Step system = systemStep(dev.rafter.hw.SystemLoader.load(models("systems", row[3]), List.of()),
                Workload.load(workload, systemSets), tp);
            out.add(new Validation.Check("memory-studies", row[0] + "_fits@" + row[1], 1, refused ? 1 : 0,
                String.format(Locale.ROOT, "%s at tensor_parallel 1: %s on %s, runs on %s (weights in HBF, KV cache "
                    + "in HBM): %.2f ms and %.2f J per token; %s with %d devices: %.2f ms and %.2f J per token",
                    row[4], refused ? "refused" : "accepted", row[2], row[1], atStandard.seconds() * 1e3,
                    atStandard.joulesPerToken(), row[3], tp, system.seconds() * 1e3, system.joulesPerToken()),
                refused));
            StringBuilder sweep = new StringBuilder();
            List<double[]> steps = new ArrayList<>();
            double shortest = 0;
            double hiddenUpTo = -1;
            Step hidden = null;
            for (String l : row[7].split(";")) {
                double us = Double.parseDouble(l.trim());
                Step s = deviceStep(HardwareLoader.load(hbfFile, List.of("memory_tiers.hbf.read_latency_us=" + us)),
                    w);
                if (shortest == 0) {
                    shortest = s.seconds();
                    hidden = s;
                }
                steps.add(new double[] {us, s.seconds()});
                if (s.seconds() <= shortest * HIDDEN) {
                    hiddenUpTo = us;
                }
                sweep.append(sweep.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%s us: %.2f ms",
                    l.trim(), s.seconds() * 1e3));
            }
            latencies.add(new LatencyCurve(row[0], row[4], row[1], row[3], tp, steps, system.seconds()));
            double ratio = hidden.seconds() / system.seconds();
            double maxRatio = Double.parseDouble(row[8]);
            out.add(new Validation.Check("memory-studies", row[0] + "_vs_system@" + row[1], system.seconds(),
                hidden.seconds(), String.format(Locale.ROOT, "latency hidden, one HBF device's step %.2f ms is %.2fx "
                    + "the %d-device HBM system's %.2f ms (expected 1..%s); %.2f vs %.2f J per token",
                    hidden.seconds() * 1e3, ratio, tp, system.seconds() * 1e3, row[8], hidden.joulesPerToken(),
                    system.joulesPerToken()), ratio >= 1 && ratio <= maxRatio));
            out.add(new Validation.Check("memory-studies", row[0] + "_latency_hidden@" + row[1], 10, hiddenUpTo,
                String.format(Locale.ROOT, "decode step by HBF read latency (%s): hidden (within %.0f%%) up to %s us, "
                    + "below the outlook's 10-20 us", sweep, (HIDDEN - 1) * 100, hiddenUpTo), hiddenUpTo > 0
                    && hiddenUpTo < 10));
        }
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
            List<double[]> fcCurve = new ArrayList<>();
            List<double[]> attentionCurve = new ArrayList<>();
            double first = 0;
            int stopped = -1;
            double worstAttention = Double.MAX_VALUE;
            for (String b : row[5].split(";")) {
                int batch = Integer.parseInt(b.trim());
                DecodeTimes with = decode(units, workload, sets, batch);
                DecodeTimes without = decode(plain, workload, sets, batch);
                double fcSpeedup = without.fcS() / with.fcS();
                double attSpeedup = without.attentionS() / with.attentionS();
                fcCurve.add(new double[] {batch, fcSpeedup});
                attentionCurve.add(new double[] {batch, attSpeedup});
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
            speedups.add(new SpeedupCurve(row[0], row[3], row[1], row[2], ratio, fcCurve, attentionCurve));
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

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
 * {@code validation/stacked.csv}, study (c), 3D-stacked DRAM against the roofline ({@link #stackedDram}); and a
 * chart of each ({@link #charts}).
 */
final class MemoryStudies {
    /** How far below the internal-to-external bandwidth ratio batch-1 FC decode may speed up and still be "about". */
    static final double RATIO_TOLERANCE = 0.35;
    /** A speed-up below this is no help (the units' launch and operand traffic against the noise of a study). */
    static final double NO_HELP = 1.05;

    private final Path dir;
    private final List<SpeedupCurve> speedups = new ArrayList<>();
    private final List<LatencyCurve> latencies = new ArrayList<>();
    private final List<StackedCurve> stacked = new ArrayList<>();

    MemoryStudies(Path dir) {
        this.dir = dir;
    }

    void run(List<Validation.Check> out) {
        speedups.clear();
        latencies.clear();
        stacked.clear();
        nearMemory(out);
        flashTier(out);
        stackedDram(out);
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
        if (!stacked.isEmpty()) {
            out.add(new Validation.Chart("stacked.png", stackedChart(stacked)));
        }
        return out;
    }

    List<SpeedupCurve> speedups() {
        return speedups;
    }

    List<LatencyCurve> latencies() {
        return latencies;
    }

    List<StackedCurve> stacked() {
        return stacked;
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
                double us = dev.rafter.config.Numbers.parseDouble(l.trim());
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
            double maxRatio = dev.rafter.config.Numbers.parseDouble(row[8]);
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

    /** Simulates one decode step of {@code workload} (with {@code sets}) at {@code batch} on {@code hw}. */
    private static Simulation.Result decodeStep(HardwareSpec hw, Path workload, List<String> sets, int batch,
                                                Simulation.OpListener each) {
        List<String> all = new ArrayList<>(sets);
        all.add("run.batch=" + batch);
        all.add("run.output_tokens=2");
        Workload w = Workload.load(workload, all);
        EnumSet<Phase> decode = EnumSet.of(Phase.DECODE);
        TensorPlacement.Policy placement = TierPlacement.of(hw, w.placement(), Capacity.of(w, decode), true);
        return new Simulation(hw).placement(placement).run(OperatorSource.of(w, decode), null, each);
    }

    /** One decode step of {@code workload} (with {@code sets}) at {@code batch} on {@code hw}, timed by kind. */
    static DecodeTimes decode(HardwareSpec hw, Path workload, List<String> sets, int batch) {
        double[] s = new double[2];
        decodeStep(hw, workload, sets, batch, r -> {
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

    /**
     * One case of study (c): decode-step speed-ups over the baseline by batch, {batch, speed-up}: the roofline's, the
     * predicted one (the baseline's step less the time its roofline saves) and the simulated one at each clock
     * fraction of the stacked device (the first is 1).
     */
    record StackedCurve(String name, String workload, String hardware, String baseline, List<double[]> roofline,
                        List<double[]> predicted, List<Double> clockFractions, List<List<double[]>> simulated) {}

    static XyChart stackedChart(List<StackedCurve> curves) {
        StackedCurve first = curves.get(0);
        XyChart chart = new XyChart(1000, 520, "Study (c): 3D-stacked DRAM's decode speed-up by batch",
            new XyChart.AxisSpec("batch", null, false, true), new XyChart.AxisSpec("speed-up over " + first.baseline(),
                null, false, false))
            .subtitle(first.workload() + " decode step on " + first.hardware() + " over " + first.baseline()
                + ": the bandwidth ratio while memory-bound, falling where the ridges lie")
            .legend(XyChart.LegendPlace.OUTSIDE_RIGHT);
        List<Double> batches = new ArrayList<>();
        int colour = 0;
        for (StackedCurve c : curves) {
            String prefix = curves.size() == 1 ? "" : c.name() + ": ";
            chart.add(new XyChart.Series(prefix + "roofline", XyChart.PALETTE[7], XyChart.Style.LINE, 1f, true,
                c.roofline()));
            chart.add(new XyChart.Series(prefix + "predicted (base less roofline's saving)",
                XyChart.PALETTE[colour++ % XyChart.PALETTE.length], XyChart.Style.LINE, 1f, true, c.predicted()));
            for (int i = 0; i < c.clockFractions().size(); i++) {
                chart.add(new XyChart.Series(prefix + String.format(Locale.ROOT, "simulated, clock x%.1f",
                    c.clockFractions().get(i)), XyChart.PALETTE[colour++ % XyChart.PALETTE.length],
                    XyChart.Style.LINE_AND_MARKERS, 1.5f, false, c.simulated().get(i)));
            }
            c.roofline().forEach(p -> batches.add(p[0]));
        }
        List<Double> ticks = batches.stream().distinct().sorted().toList();
        return chart.xTicks(ticks, ticks.stream().map(b -> String.valueOf(b.longValue())).toList());
    }

    /** One decode step's simulated time and roofline bound, of the whole step and of its GEMMs (the FC layers). */
    record StepTimes(double stepS, double stepRooflineS, double fcS, double fcRooflineS) {}

    /** One decode step of {@code workload} (with {@code sets}) at {@code batch} on {@code hw}, with its bounds. */
    static StepTimes stepTimes(HardwareSpec hw, Path workload, List<String> sets, int batch) {
        double[] s = new double[3];
        Simulation.Result r = decodeStep(hw, workload, sets, batch, op -> {
            s[0] += op.bound().seconds();
            if (op.op().kind() == OpKind.GEMM) {
                s[1] += op.latencyS();
                s[2] += op.bound().seconds();
            }
        });
        return new StepTimes(r.endPs() * 1e-12, s[0], s[1], s[2]);
    }

    /**
     * Study (c), {@code stacked.csv}: one decode step at each batch on a device with 3D-stacked DRAM and on the
     * baseline. The roofline's prediction of the stacked step is the baseline's simulated step less the time the
     * roofline saves (what the faster memory roof removes; the time above the roofline, kernel launches and
     * latencies, stays), so the speed-up is the bandwidth ratio's only where the roofline is all of the step.
     * Checks: every batch's stacked step within {@code tolerance} of that prediction; the FC layers gain at every
     * batch until the roofline says they stop (past the baseline's ridge, where both are compute-bound) and not
     * from there; at each lower clock fraction f (the thermal limit), the FC layers of the largest batch take 1/f
     * as long (compute-bound), within the tolerance, and the batch-1 step's cost is printed.
     */
    private void stackedDram(List<Validation.Check> out) {
        for (String[] row : Validation.rows(dir.resolve("stacked.csv"), 9)) {
            Path hwFile = models("hardware", row[1]);
            HardwareSpec stack = HardwareLoader.load(hwFile, List.of());
            HardwareSpec base = HardwareLoader.load(models("hardware", row[2]), List.of());
            Path workload = models("workloads", row[3]);
            List<String> sets = row[4].isBlank() ? List.of() : List.of(row[4].split(";"));
            List<Double> fractions = new ArrayList<>();
            for (String f : row[6].split(";")) {
                fractions.add(dev.rafter.config.Numbers.parseDouble(f.trim()));
            }
            double tolerance = dev.rafter.config.Numbers.parseDouble(row[7]);
            List<double[]> roofCurve = new ArrayList<>();
            List<double[]> predictedCurve = new ArrayList<>();
            List<List<double[]>> simulated = new ArrayList<>();
            fractions.forEach(f -> simulated.add(new ArrayList<>()));
            StringBuilder steps = new StringBuilder();
            StringBuilder fc = new StringBuilder();
            double worst = 1;
            double worstPredicted = 0;
            double worstSimulated = 0;
            int fcStops = -1;
            int roofStops = -1;
            boolean fcGainsBefore = true;
            List<StepTimes[]> byClock = new ArrayList<>();
            String[] batches = row[5].split(";");
            for (String b : batches) {
                int batch = Integer.parseInt(b.trim());
                StepTimes onBase = stepTimes(base, workload, sets, batch);
                StepTimes[] onStack = new StepTimes[fractions.size()];
                for (int i = 0; i < fractions.size(); i++) {
                    HardwareSpec hw = fractions.get(i) == 1.0 ? stack : HardwareLoader.load(hwFile, List.of(
                        "clock_mhz=" + Math.round(stack.clockMhz() * fractions.get(i))));
                    onStack[i] = stepTimes(hw, workload, sets, batch);
                    simulated.get(i).add(new double[] {batch, onBase.stepS() / onStack[i].stepS()});
                }
                StepTimes s = onStack[0];
                byClock.add(onStack);
                double predicted = onBase.stepS() - (onBase.stepRooflineS() - s.stepRooflineS());
                double roofSpeedup = onBase.stepRooflineS() / s.stepRooflineS();
                roofCurve.add(new double[] {batch, roofSpeedup});
                predictedCurve.add(new double[] {batch, onBase.stepS() / predicted});
                double ratio = s.stepS() / predicted;
                if (Math.abs(ratio - 1) >= Math.abs(worst - 1)) {
                    worst = ratio;
                    worstPredicted = predicted;
                    worstSimulated = s.stepS();
                }
                double fcSpeedup = onBase.fcS() / s.fcS();
                double fcRoofSpeedup = onBase.fcRooflineS() / s.fcRooflineS();
                if (roofStops < 0 && fcRoofSpeedup < NO_HELP) {
                    roofStops = batch;
                }
                if (fcStops < 0 && fcSpeedup < NO_HELP) {
                    fcStops = batch;
                }
                if (roofStops < 0 && fcSpeedup < NO_HELP) {
                    fcGainsBefore = false;
                }
                steps.append(steps.length() == 0 ? "" : "; ").append(String.format(Locale.ROOT, "%d: %.1f -> %.1f "
                    + "us (predicted %.1f), roofline %.2fx, simulated %.2fx", batch, onBase.stepS() * 1e6,
                    s.stepS() * 1e6, predicted * 1e6, roofSpeedup, onBase.stepS() / s.stepS()));
                fc.append(fc.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%d: %.2fx (roofline "
                    + "%.2fx)", batch, fcSpeedup, fcRoofSpeedup));
            }
            stacked.add(new StackedCurve(row[0], row[3], row[1], row[2], roofCurve, predictedCurve, fractions,
                simulated));
            out.add(new Validation.Check("memory-studies", row[0] + "_step@" + row[1], worstPredicted,
                worstSimulated, String.format(Locale.ROOT, "decode step by batch, %s -> %s (%s); every step within "
                    + "%.0f%% of the prediction (worst %.2f)", row[2], row[1], steps, tolerance * 100, worst),
                Math.abs(worst - 1) <= tolerance));
            double baseRidge = base.peakFlopsPerS() / base.memoryBytesPerS();
            double stackRidge = stack.peakFlopsPerS() / stack.memoryBytesPerS();
            out.add(new Validation.Check("memory-studies", row[0] + "_ridge@" + row[1], roofStops, fcStops,
                String.format(Locale.ROOT, "FC speed-up by batch (%s) below %.2fx from batch %d, where the roofline's "
                    + "is (ridges: %.0f FLOP/byte on %s, %.0f on %s)", fc, NO_HELP, fcStops, baseRidge, row[2],
                    stackRidge, row[1]), roofStops > 0 && fcStops == roofStops && fcGainsBefore));
            int last = batches.length - 1;
            for (int i = 1; i < fractions.size(); i++) {
                double f = fractions.get(i);
                double slower = byClock.get(last)[i].fcS() / byClock.get(last)[0].fcS();
                double batch1 = byClock.get(0)[i].stepS() / byClock.get(0)[0].stepS();
                double batch1Roof = byClock.get(0)[i].stepRooflineS() / byClock.get(0)[0].stepRooflineS();
                out.add(new Validation.Check("memory-studies", String.format(Locale.ROOT, "%s_clock%.1f@%s", row[0], f,
                    row[1]), 1 / f, slower, String.format(Locale.ROOT, "logic clock x%.1f: batch %s's FC layers take "
                    + "%.2fx as long (compute-bound: expected %.2fx within %.0f%%); batch %s's step %.2fx as long, "
                    + "where the roofline gives %.2fx (memory-bound; the time above it is counted in core cycles)",
                    f, batches[last].trim(), slower, 1 / f, tolerance * 100, batches[0].trim(), batch1, batch1Roof),
                    Math.abs(slower * f - 1) <= tolerance));
            }
        }
    }
}

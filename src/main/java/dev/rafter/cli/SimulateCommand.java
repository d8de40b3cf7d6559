package dev.rafter.cli;

import dev.rafter.config.InputException;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.importer.Coverage;
import dev.rafter.importer.CoverageReport;
import dev.rafter.importer.TraceFile;
import dev.rafter.report.AtomicFile;
import dev.rafter.report.CompareChart;
import dev.rafter.report.Comparison;
import dev.rafter.report.MeasuredTimes;
import dev.rafter.report.OutputFolder;
import dev.rafter.report.PowerProfile;
import dev.rafter.report.SimulationReport;
import dev.rafter.report.StallChart;
import dev.rafter.report.TimelineChart;
import dev.rafter.roofline.RooflineReport;
import dev.rafter.sim.Device;
import dev.rafter.sim.RunLimits;
import dev.rafter.sim.Simulation;
import dev.rafter.sim.trace.CsvEventSink;
import dev.rafter.sim.trace.PerfettoSink;
import dev.rafter.sim.trace.TeeSink;
import dev.rafter.sim.trace.TraceSink;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.FutureTask;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "simulate", mixinStandardHelpOptions = true,
    description = "Simulate operators tile by tile on the device: summary.json, ops.csv, optional event traces.")
public class SimulateCommand extends CommandBase implements Callable<Integer> {
    @Mixin
    HardwareOptions hardware;

    @Mixin
    SourceOptions source;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "out/simulate",
        description = "output directory (default: ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--events", paramLabel = "csv|perfetto|both|none", defaultValue = "none",
        description = "event traces to write: events.csv, trace.json (Perfetto), both or none")
    String events;

    @Option(names = "--events-ops", paramLabel = "FROM:TO",
        description = "trace only operators with ids FROM..TO (inclusive), e.g. 0:20; default all")
    String eventsOps;

    @Option(names = "--measured", paramLabel = "M.csv",
        description = "measured operator times (op_id or kind,batch,m,n,k,elements, plus measured_s): adds "
            + "measured_s and error to ops.csv and prints the comparison")
    Path measured;

    @Mixin
    RunOptions running;

    @Option(names = "--timing", paramLabel = "kernel|wall", defaultValue = "kernel",
        description = "what an operator's time means: kernel (default: device time from its first kernel's start to "
            + "its last one's end, as profiler traces record) or wall (timed from the host around a synchronisation: "
            + "framework work, launches, kernels and the round trip; needs host.framework other than none)")
    String timing;
    @Option(names = "--cost", paramLabel = "FILE",
        description = "cost and carbon model (models/cost/*.yaml): adds cost per million tokens and g CO2e per "
            + "thousand tokens to the summary; default: the file the hardware names (cost:), for a device it prices;"
            + " none: no cost")
    Path costFile;

    @Option(names = "--system", paramLabel = "S",
        description = "a system of devices on a fabric (models/systems/*.yaml) instead of --hardware: the first "
            + "run.tensor_parallel devices each run their shard, and collectives cross the fabric")
    Path system;

    @Option(names = "--threads", paramLabel = "N",
        description = "threads that simulate: the stream's, and N-1 that simulate the distinct operator shapes ahead"
            + " of the running one (exact: every operator runs on a drained device); default: the machine's cores, at"
            + " most " + SimulateCommand.DEFAULT_THREADS_MOST)
    Integer threads;

    /**
     * The most threads a run takes by default. Assumed: the stream's own thread (replays, reports) bounds a run, and
     * three threads ahead measured no faster than one on a 2-core machine; more cores were not measured.
     */
    static final int DEFAULT_THREADS_MOST = 4;

    /** The default of {@code --threads} on a machine with {@code cores} processors. */
    static int defaultThreads(int cores) {
        return Math.max(1, Math.min(cores, DEFAULT_THREADS_MOST));
    }

    /** Whether --trace names a trace that carries measured times (checked without reading it whole). */
    boolean tracesMeasuredTimes() {
        return source.traceCarriesMeasuredTimes();
    }

    /** Makes {@code --hardware} optional on the simulate and sweep command lines, so that {@code --system} can stand for it. */
    static void hardwareOrSystem(picocli.CommandLine simulate) {
        picocli.CommandLine.Model.CommandSpec spec = simulate.getCommandSpec();
        picocli.CommandLine.Model.OptionSpec hardwareOption = spec.findOption("--hardware");
        spec.remove(hardwareOption);
        spec.addOption(picocli.CommandLine.Model.OptionSpec.builder(hardwareOption).required(false).build());
    }

    @Override
    public Integer call() {
        if (system != null) {
            return new SystemRun(this).call();
        }
        if (hardware.hardware == null) {
            throw new InputException("missing --hardware H or --system S (see 'rafter simulate --help')");
        }
        long[] window = window();
        Comparison.Measured fromFile = measured == null ? null : MeasuredTimes.read(measured);
        boolean csv = events.equals("csv") || events.equals("both");
        boolean perfetto = events.equals("perfetto") || events.equals("both");
        if (!csv && !perfetto && !events.equals("none")) {
            throw new InputException("--events: expected csv, perfetto, both or none, got '" + events + "'");
        }
        running.order(null);
        dev.rafter.workload.Timing timed = dev.rafter.workload.Timing.parse(timing, "--timing");
        cost = CostChoice.forHardware(costFile, hardware.hardware, hardware.hardwareSets());
        try (OutputFolder folder = OutputFolder.open(out, "--out", OUTPUTS)) {
            HardwareSpec hw = hardware.loadBesideWorkload();
            costDevice = cost.device(hw);
            SourceOptions.Run prepared = source.run(hw, hardware.workloadSets(), running.allowOvercommit);
            if (prepared.workload() != null
                && !prepared.workload().parallelism().equals(dev.rafter.workload.Workload.Parallelism.NONE)) {
                throw new InputException("run.pipeline_parallel, run.micro_batches, run.data_parallel, "
                    + "run.expert_parallel: these run "
                    + "over the devices of a system (--system), not on one device (--hardware)");
            }
            order = running.order(prepared.workload());
            placement = prepared.placement();
            var operators = prepared.operators();
            RunLimits.check(hw, operators);
            int sequences = prepared.sequences();
            HardwareSpec device = hw;
            throttle = Throttle.of(hw, (clocks, listener) -> simulation(device, sequences, timed).clocks(clocks)
                .run(operators, null, listener));
            TraceFile trace = operators instanceof TraceFile t ? t : null;
            Comparison comparison = fromFile != null ? new Comparison(fromFile, hw)
                : trace != null && trace.carriesMeasuredTimes()
                ? new Comparison(op -> trace.measured().of(op.id()), hw) : null;
            promptTokens = prepared.workload() == null ? 0 : prepared.workload().run().promptTokens();
            run(hw, operators, prepared.sequences(), folder, csv, perfetto, window, comparison, trace, timed);
        }
        return Main.OK;
    }

    /** Every file simulate may write, in the order they are moved into --out: the summary last. */
    static final List<String> OUTPUTS = List.of("ops.csv", "events.csv", "trace.json", "stalls.png", "timeline.png",
        "unmapped.csv", "compare.png", "power.png", "summary.json");

    /** When operators start ({@code --order}, else the workload's {@code run.order}). */
    private dev.rafter.workload.OperatorOrder order;
    private CostChoice cost;
    /** The cost file's entry for the device; null: the run is not billed. */
    private dev.rafter.energy.CostModel.Device costDevice;

    /** The run's throttling ({@code power.cap_policy: throttle}), or null. */
    private Throttle throttle;

    private Simulation simulation(HardwareSpec hw, int sequences, dev.rafter.workload.Timing timed) {
        Simulation s = new Simulation(hw);
        if (throttle != null) {
            s.clocks(throttle.clockOf());
        }
        return s.reuse(running.reuse()).threads(threads()).order(order).timing(timed)
            .sequences(sequences)
            .placement(placement == null ? dev.rafter.mapping.TensorPlacement.FIRST_TIER : placement);
    }

    /** Prompt tokens per sequence of a workload run (0 for a trace). */
    private long promptTokens;

    /** Where the workload's tensors lie (null for a trace: everything on the first tier). */
    private dev.rafter.mapping.TierPlacement placement;

    private void run(HardwareSpec hw, dev.rafter.workload.OperatorSource operators, int sequences, OutputFolder folder,
                     boolean csv,
                     boolean perfetto, long[] window, Comparison comparison, TraceFile traceFile,
                     dev.rafter.workload.Timing timed) {
        try (AtomicFile.Pending ops = new AtomicFile.Pending(folder.path("ops.csv"));
             AtomicFile.Pending eventsCsv = csv ? new AtomicFile.Pending(folder.path("events.csv")) : null;
             AtomicFile.Pending trace = perfetto ? new AtomicFile.Pending(folder.path("trace.json")) : null) {
            List<TraceSink> sinks = new ArrayList<>();
            if (eventsCsv != null) {
                sinks.add(new CsvEventSink(eventsCsv.writer(), Device.coreClock(hw)));
            }
            PerfettoSink perfettoSink = trace == null ? null : new PerfettoSink(trace.writer(), Device.tracks(hw));
            if (perfettoSink != null) {
                sinks.add(perfettoSink);
            }
            TimelineChart timeline = sinks.isEmpty() ? null : new TimelineChart(Device.tracks(hw));
            if (timeline != null) {
                sinks.add(timeline);
            }
            TraceSink eventSink = sinks.isEmpty() ? null : new TeeSink(sinks);
            if (eventSink != null && window != null) {
                eventSink = new OpWindowSink(eventSink, window[0], window[1]);
            }
            SimulationReport report = new SimulationReport(hw, ops.stream(), comparison,
                throttle == null ? null : throttle.clockOf()).sequences(sequences)
                .timing(timed).promptTokens(promptTokens).placement(placement);
            StallChart stalls = new StallChart(hw.cores() * hw.core().peArrays());
            warmUpCharts();
            Progress progress = new Progress();
            Simulation.Result result = simulation(hw, sequences, timed).run(operators, eventSink, r -> {
                report.finished(r);
                stalls.finished(r);
                if (comparison != null) {
                    comparison.finished(r);
                }
                progress.finished(r);
            });
            progress.done();
            if (comparison != null && comparison.noMatch() != null) {
                throw InputException.located(comparison.noMatch()); // nothing written: --out left as it was
            }
            // The charts are drawn on threads of their own while this one builds the summary (on a JVM that has
            // drawn nothing yet, each takes about 0.1 s); the files are written below, in order.
            FutureTask<byte[]> stallsPng = drawing("stalls", stalls::png);
            PowerProfile.Steps power = report.powerSteps(result.endPs());
            dev.rafter.energy.DevicePower board = power == null ? null : hw.energy().device();
            FutureTask<byte[]> powerPng = power == null || result.endPs() <= 0 ? null : drawing("power",
                () -> PowerProfile.png(power, result.endPs(), board.tdpW(), board.capW(), "Power on " + hw.name()));
            if (perfettoSink != null && power != null) {
                for (int i = 0; i < power.size(); i++) {
                    perfettoSink.counter("power (W)", power.startPs(i), power.watts(i));
                }
                perfettoSink.counter("power (W)", result.endPs(), power.watts(power.size() - 1));
            }
            if (eventSink != null) {
                eventSink.close();
            }
            Map<String, Object> summary = report.summary(result);
            if (throttle != null && summary.get("power") instanceof Map<?, ?> powerSection) {
                @SuppressWarnings("unchecked") Map<String, Object> section = (Map<String, Object>) powerSection;
                section.put("throttle", throttle.json(result.endPs() * 1e-12));
            }
            if (costDevice != null) {
                summary.put("cost", cost.model().ofSummary(costDevice, summary, report.flops(), sequences));
            }
            if (comparison != null) {
                Map<String, Object> c = new java.util.LinkedHashMap<>();
                c.put("operators_matched", comparison.matched());
                c.put("mape", comparison.mape());
                c.put("total_error", comparison.totalError());
                Map<String, Object> kinds = new java.util.LinkedHashMap<>();
                comparison.byKind().forEach((k, v) -> kinds.put(k, Map.of("operators", (long) v[0], "mape", v[1])));
                c.put("by_kind", kinds);
                summary.put("measured", c);
            }
            ops.commit();
            if (eventsCsv != null) {
                eventsCsv.commit();
            }
            if (trace != null) {
                trace.commit();
            }
            AtomicFile.writeBytes(folder.path("stalls.png"), dev.rafter.sim.Futures.join(stallsPng, "drawing stalls.png"));
            if (timeline != null) {
                timeline.write(folder.path("timeline.png"));
            }
            if (powerPng != null) {
                AtomicFile.writeBytes(folder.path("power.png"), dev.rafter.sim.Futures.join(powerPng, "drawing power.png"));
            }
            Coverage coverage = traceFile == null ? null : traceFile.coverage();
            if (coverage != null) {
                summary.put("coverage", CoverageReport.json(coverage));
                CoverageReport.writeUnmapped(folder.path("unmapped.csv"), coverage);
            }
            if (comparison != null && comparison.matched() > 0) {
                CompareChart.write(folder.path("compare.png"), comparison, "Simulated vs measured on " + hw.name());
            }
            AtomicFile.write(folder.path("summary.json"), w -> w.write(SimulationReport.json(summary)));
            folder.commit();
            print(summary, result);
            if (throttle != null) {
                out().println(throttle.line(result.endPs() * 1e-12));
            }
            if (coverage != null) {
                CoverageReport.lines(coverage).forEach(out()::println);
            }
            if (traceFile != null && !traceFile.format().equals("csv")) {
                out().println("operators run one after another in trace order: dependencies are kept by that order, "
                    + "independent streams do not overlap");
            }
            if (comparison != null) {
                if (comparison.matched() > 0) {
                    comparison.lines().forEach(out()::println);
                } else {
                    out().println("measured: no operator of this trace carries a measured time");
                }
            }
        }
    }

    /**
     * Draws an empty stall chart and power chart on a thread of its own and throws them away, so that the charts'
     * code (Java2D, its fonts, the PNG encoder) is loaded and first run on a spare core while the simulation runs:
     * drawn cold at its end, stalls.png and power.png took 40-60 ms more of a Llama-3-8B run's wall time. What
     * fails there fails again in the charts drawn at the end, which report it.
     */
    private static void warmUpCharts() {
        Thread thread = new Thread(() -> {
            try {
                new StallChart(1).png();
                PowerProfile.png(new PowerProfile(0).steps(1), 1, 0, 0, "");
            } catch (RuntimeException ignored) {
                // reported by the charts drawn at the end
            }
        }, "rafter-chart-warm-up");
        thread.setDaemon(true);
        thread.start();
    }

    /** Draws a chart's PNG file on a thread of its own; {@link dev.rafter.sim.Futures#join} takes its bytes. */
    private static FutureTask<byte[]> drawing(String chart, Callable<byte[]> png) {
        FutureTask<byte[]> task = new FutureTask<>(png);
        Thread thread = new Thread(task, "rafter-" + chart + "-chart");
        thread.setDaemon(true);
        thread.start();
        return task;
    }

    private long[] window() {
        if (eventsOps == null) {
            return null;
        }
        String[] parts = eventsOps.split(":", -1);
        try {
            long from = Long.parseLong(parts[0].trim());
            long to = parts.length == 2 ? Long.parseLong(parts[1].trim()) : -1;
            if (parts.length != 2 || from < 0 || to < from) {
                throw new NumberFormatException();
            }
            return new long[] {from, to};
        } catch (NumberFormatException e) {
            throw new InputException("--events-ops: expected FROM:TO with 0 <= FROM <= TO, e.g. 0:20, got '"
                + eventsOps + "'");
        }
    }

    /**
     * A status line on the terminal (only when there is one) every few seconds of a long run: operators done,
     * where in the model, simulated time so far.
     */
    private static final class Progress {
        private final boolean terminal = System.console() != null;
        private final long start = System.nanoTime();
        private long next = start + 3_000_000_000L;
        private long ops;
        private boolean printed;

        void finished(Simulation.OpResult r) {
            ops++;
            if (!terminal) {
                return;
            }
            long now = System.nanoTime();
            if (now >= next) {
                next = now + 1_000_000_000L;
                printed = true;
                System.err.printf("\r%d operators, now %s layer %d step %d, simulated %s, wall %.0f s   ", ops,
                    r.op().phase().key(), r.op().layer(), r.op().step(), RooflineReport.time(r.endPs() * 1e-12),
                    (now - start) * 1e-9);
                System.err.flush();
            }
        }

        void done() {
            if (printed) {
                System.err.println();
            }
        }
    }

    /** Passes on only the slices of operators inside an id window, so a long run can be traced in part. */
    private record OpWindowSink(TraceSink inner, long from, long to) implements TraceSink {
        @Override
        public void slice(dev.rafter.sim.trace.Track track, dev.rafter.sim.trace.SliceKind kind, long opId,
                          long startPs, long endPs, long amount) {
            if (wants(opId)) {
                inner.slice(track, kind, opId, startPs, endPs, amount);
            }
        }

        @Override
        public void operator(dev.rafter.workload.Operator op, long startPs, long endPs) {
            if (wants(op.id())) {
                inner.operator(op, startPs, endPs);
            }
        }

        @Override
        public boolean wants(long opId) {
            return opId >= from && opId <= to;
        }

        @Override
        public void close() {
            inner.close();
        }
    }

    @SuppressWarnings("unchecked")
    private int threads() {
        if (threads == null) {
            return defaultThreads(Runtime.getRuntime().availableProcessors());
        }
        if (threads < 1 || threads > 256) {
            throw new dev.rafter.config.InputException("--threads: " + threads + " is not a thread count (1..256)");
        }
        return threads;
    }

    /** A section of the summary: the report builds every section as a {@code Map<String, Object>}. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> section(Object value) {
        return (Map<String, Object>) value;
    }

    private void print(Map<String, Object> s, Simulation.Result r) {
        Map<String, Object> u = section(s.get("utilisation"));
        Map<String, Object> st = section(s.get("stall_cycles"));
        out().printf("%d operators on %s: latency %s (%s cycles), roofline %s (x%.2f)%n", r.operators(),
            s.get("hardware"), RooflineReport.time((double) s.get("latency_s")), s.get("cycles"),
            RooflineReport.time((double) s.get("roofline_s")), (double) s.get("latency_over_roofline"));
        Map<String, Object> phases = section(s.get("phases"));
        for (Map.Entry<String, Object> e : phases.entrySet()) {
            Map<String, Object> p = section(e.getValue());
            out().printf("  %-8s %6d operators, latency %s, roofline %s%s%n", e.getKey(), p.get("operators"),
                RooflineReport.time((double) p.get("latency_s")), RooflineReport.time((double) p.get("roofline_s")),
                p.get("energy_j") == null ? "" : String.format(Locale.ROOT,
                    ", energy %.4g J", (double) p.get("energy_j")));
            Map<String, Object> pu = section(p.get("utilisation"));
            out().printf("           bound by %s; utilisation: PE arrays %.2f, vector %.2f, HBM %.2f, global buffer %.2f,"
                + " interconnect %.2f, device links %.2f%n", p.get("binding"), pu.get("pe_array"), pu.get("vector_unit"),
                pu.get("hbm"), pu.get("global_buffer"), pu.get("interconnect"), pu.get("device_link"));
        }
        if (s.get("serving") instanceof Map<?, ?> sv) {
            List<String> parts = new ArrayList<>();
            if (sv.get("ttft_s") instanceof Double ttft) {
                parts.add("time to first token " + RooflineReport.time(ttft));
            }
            if (sv.get("tpot_s") instanceof Map<?, ?> t) {
                parts.add("time per output token " + RooflineReport.time((double) t.get("mean")) + " mean, "
                    + RooflineReport.time((double) t.get("p50")) + " p50, " + RooflineReport.time((double) t.get("p99"))
                    + " p99 over " + t.get("steps") + " steps");
            }
            // A trace does not say how many sequences it serves: no token rates for it.
            if (sv.get("tokens_per_s") instanceof Double tps) {
                String rate = String.format(Locale.ROOT,
                    "%.4g tokens/s (%s sequences x %s tokens)", tps, sv.get("sequences"),
                    sv.get("output_tokens"));
                if (sv.get("energy_per_output_token_j") instanceof Double ept) {
                    rate += String.format(Locale.ROOT, ", %.4g J per output token", ept);
                }
                parts.add(rate);
            }
            out().println("serving: " + String.join("; ", parts));
        }
        if (s.get("energy_j") instanceof Map<?, ?> energy) {
            out().printf("energy: %.4g J (static %.4g J, dynamic %.4g J), EDP %.4g J s%n", energy.get("total"),
                energy.get("static"), energy.get("dynamic"), s.get("edp_j_s"));
        }
        if (s.get("host") instanceof Map<?, ?> h) {
            out().printf("host (%s, %s timing): %d kernels launched, CPU busy %s (%.0f%% of the run), in "
                + "synchronisations %s; device waited %s for launches%n", h.get("framework"), h.get("timing"),
                h.get("kernels"), RooflineReport.time((double) h.get("busy_s")),
                100 * (double) h.get("busy_fraction"), RooflineReport.time((double) h.get("sync_s")),
                RooflineReport.time((double) h.get("device_launch_wait_s")));
        }
        if (s.get("power") instanceof Map<?, ?> p) {
            out().printf("power: average %.4g W, peak %.4g W (static %.4g W; TDP %.4g W, cap %.4g W)%s%n",
                p.get("average_w"), p.get("peak_w"), p.get("static_w"), p.get("tdp_w"), p.get("cap_w"),
                Boolean.TRUE.equals(p.get("above_cap")) ? "; ABOVE THE POWER CAP" : "");
            List<String> parts = new ArrayList<>();
            if (p.get("energy_per_token_j") instanceof Map<?, ?> ept) {
                for (String phase : List.of("prefill", "decode", "run")) {
                    if (ept.get(phase) instanceof Double j) {
                        parts.add(String.format(Locale.ROOT, "%s %.4g J", phase, j));
                    }
                }
            }
            if (p.get("tokens_per_s_per_w") instanceof Double tpw) {
                parts.add(String.format(Locale.ROOT, "%.4g tokens/s per W", tpw));
            }
            if (!parts.isEmpty()) {
                out().println("per token: " + String.join(", ", parts));
            }
        }
        printCost(out(), s, cost.source());
        out().printf("utilisation: PE arrays %.2f, HBM %.2f, global buffer %.2f, interconnect %.2f%n",
            u.get("pe_array"), u.get("hbm"), u.get("global_buffer"), u.get("interconnect"));
        if (s.get("memory_tiers") instanceof Map<?, ?> tiers) {
            List<String> parts = new ArrayList<>();
            for (Map.Entry<?, ?> e : tiers.entrySet()) {
                Map<String, Object> t = section(e.getValue());
                String used = t.get("used_bytes") instanceof Long bytes ? String.format(Locale.ROOT,
                    "%.1f of %.0f GiB %s", bytes / (1024.0 * 1024 * 1024), (double) t.get("capacity_gib"),
                    t.get("tensors")) : String.format(Locale.ROOT, "%.0f GiB", (double) t.get("capacity_gib"));
                String energy = t.get("energy_j") instanceof Double j ? String.format(Locale.ROOT, ", %.4g J at %.3g"
                    + " pJ/bit", j, (double) t.get("pj_per_bit")) : "";
                String flash = "";
                if (t.get("flash") instanceof Map<?, ?> f) {
                    flash = (f.get("read_buffer_hit_rate") instanceof Double h ? String.format(Locale.ROOT,
                        ", read buffer hit rate %.2f", h) : "") + (f.get("lifetime_years") instanceof Double y
                        ? String.format(Locale.ROOT, ", lifetime %.3g years at this write rate", y) : "");
                }
                parts.add(String.format(Locale.ROOT, "%s utilisation %.2f, %s%s%s", e.getKey(),
                    (double) t.get("utilisation"), used, energy, flash));
            }
            out().println("memory tiers: " + String.join("; ", parts));
        }
        if (s.get("near_memory") instanceof Map<?, ?> nm) {
            Map<String, Object> unit = section(nm.get("per_unit"));
            out().printf("near-memory units: %s beside %s, offload %s; per unit %.4g MB read inside its channel, "
                + "utilisation %.2f, %s%n", nm.get("units"), nm.get("beside"), nm.get("offload"),
                (double) unit.get("internal_bytes") / 1e6, (double) unit.get("utilisation"),
                unit.get("energy_j") instanceof Double j ? String.format(Locale.ROOT, "%.4g J", j) : "no energy");
        }
        out().printf("cycles per PE array: busy %s, memory %s, interconnect %s, buffer full %s, dependency %s,"
            + " dispatch %s, idle %s%n", st.get("busy"), st.get("memory"), st.get("interconnect"),
            st.get("buffer_full"), st.get("dependency"), st.get("dispatch"), st.get("idle"));
        out().printf("simulator: %d events in %.2f s (%s events/s), %d of %d operators reused%s%s; wrote %s%n",
            r.events(), r.wallS(), perSecond(r.events() / Math.max(r.wallS(), 1e-9)), r.reusedOperators(),
            r.operators(),
            r.aheadOperators() == 0 ? "" : ", " + r.aheadOperators() + " simulated ahead in parallel",
            r.fastForwardedStages() == 0 ? "" : ", " + r.fastForwardedStages() + " repeating stages fast-forwarded",
            out);
    }

    /** A rate with a unit prefix that leaves it readable: 850, 12.3 k, 4.56 M. */
    static String perSecond(double rate) {
        return rate >= 1e6 ? String.format(java.util.Locale.ROOT, "%.2f M", rate / 1e6)
            : rate >= 1e3 ? String.format(java.util.Locale.ROOT, "%.1f k", rate / 1e3)
            : String.format(java.util.Locale.ROOT, "%.0f", rate);
    }

    /**
     * The printed line of a summary's {@code cost} block, if it has one (simulate --cost, on a device or a system);
     * {@code source} follows the model's name and date ({@link CostChoice#source}).
     */
    static void printCost(java.io.PrintWriter out, Map<String, Object> s, String source) {
        if (s.get("cost") instanceof Map<?, ?> c) {
            Map<?, ?> g = (Map<?, ?>) c.get("g_co2e");
            String perTokens = c.get("usd_per_million_tokens") instanceof Double usd
                ? String.format(Locale.ROOT, "; $%.4g per million tokens, %.4g g CO2e per thousand tokens", usd,
                    (double) c.get("g_co2e_per_thousand_tokens")) : "";
            out.printf(Locale.ROOT, "cost (%s, %s%s): $%.4g, %.4g g CO2e (operational %.4g g, embodied %s)%s%n",
                c.get("model"), c.get("date"), source, c.get("usd"), g.get("total"), g.get("operational"),
                g.get("embodied") instanceof Double e ? String.format(Locale.ROOT, "%.4g g", e) : "not given",
                perTokens);
        }
    }
}

package dev.rafter.cli;

import dev.rafter.config.InputException;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.hw.SystemLoader;
import dev.rafter.hw.SystemSpec;
import dev.rafter.report.AtomicFile;
import dev.rafter.report.OutputFolder;
import dev.rafter.roofline.RooflineReport;
import dev.rafter.report.SimulationReport;
import dev.rafter.report.SystemReport;
import dev.rafter.sim.RunLimits;
import dev.rafter.sim.system.SystemSimulation;
import dev.rafter.sim.system.SystemTrace;
import dev.rafter.workload.OperatorOrder;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Workload;
import java.io.OutputStream;
import java.io.Writer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code simulate --system S}: the devices of a system computing on its fabric ({@link SystemSimulation}), written
 * as summary.json (with per-device and fabric blocks, {@link SystemReport}) and ops.csv (the first device's
 * operators; the others run the same shard's stream).
 */
final class SystemRun {
    private final SimulateCommand command;

    SystemRun(SimulateCommand command) {
        this.command = command;
    }

    Integer call() {
        if (command.hardware.hardware != null) {
            throw new InputException("--system: give --hardware or --system, not both");
        }
        refuse(command.measured != null, "--measured");
        refuse(command.threads != null, "--threads");
        refuse(!command.timing.equals("kernel"), "--timing");
        refuse(!command.events.equals("none") && !command.events.equals("perfetto"), "--events " + command.events
            + " (perfetto is)");
        refuse(command.eventsOps != null, "--events-ops");
        if (command.source.from.trace != null) {
            return new RankTraceRun(command).call();
        }
        // system.fabric.link.latency_ns=... names a key of the system file, as fabric.link.latency_ns=... does.
        SystemSpec spec = load(command.system, command.hardware.hardwareSets());
        // --cost FILE lacking a device: exit 2 before the run; the hardware's default bills only devices it prices.
        cost = CostChoice.forSystem(command.costFile, command.system, systemSets(command.hardware.hardwareSets()),
            deviceSets(command.hardware.hardwareSets()));
        List<dev.rafter.energy.CostModel.Device> billed = cost.devices(spec);
        try (OutputFolder folder = OutputFolder.open(command.out, "--out", SimulateCommand.OUTPUTS)) {
            Outcome outcome;
            boolean traced = command.events.equals("perfetto");
            try (AtomicFile.Pending ops = new AtomicFile.Pending(folder.path("ops.csv"));
                 AtomicFile.Pending traceFile = traced ? new AtomicFile.Pending(folder.path("trace.json")) : null) {
                outcome = simulate(spec, command.system, command.source, command.hardware.workloadSets(),
                    command.running, ops.stream(), traced ? traceFile.writer() : null);
                ops.commit();
                if (traceFile != null) {
                    traceFile.commit();
                }
            }
            if (billed != null) {
                outcome.summary().put("cost", cost(cost.model(), billed, outcome));
            }
            AtomicFile.write(folder.path("summary.json"), w -> w.write(SimulationReport.json(outcome.summary())));
            folder.commit();
            print(outcome.summary(), outcome.result());
        }
        return Main.OK;
    }

    /** A system run's summary and result, and the FLOPs each device of the run delivered. */
    record Outcome(Map<String, Object> summary, SystemSimulation.Result result, double[] deviceFlops) {}

    /** The cost file's entry for each device of the system, by its hardware's name (exit 2 naming one it lacks). */
    static List<dev.rafter.energy.CostModel.Device> costDevices(dev.rafter.energy.CostModel cost, Path file,
                                                                      SystemSpec spec) {
        List<dev.rafter.energy.CostModel.Device> out = new ArrayList<>();
        for (var d : spec.devices()) {
            if (d.hardware().energy() == null) {
                throw new InputException("--cost " + file + ": device " + d.name() + "'s hardware has no energy "
                    + "tables (energy:), so a run has no energy to cost");
            }
            out.add(cost.device(d.hardware().name(), file.toString()));
        }
        return out;
    }

    /**
     * The {@code cost} block of a system run: every device the run used is held for its whole time, the energy is
     * the system's (devices and fabric), the output tokens those of every replica.
     */
    static Map<String, Object> cost(dev.rafter.energy.CostModel cost, List<dev.rafter.energy.CostModel.Device> all,
                                    Outcome outcome) {
        List<dev.rafter.energy.CostModel.Device> used = new ArrayList<>();
        for (SystemSimulation.DeviceResult d : outcome.result().devices()) {
            used.add(all.get(d.index()));
        }
        Map<String, Object> s = outcome.summary();
        double tokens = s.get("serving") instanceof Map<?, ?> sv && sv.get("output_tokens") instanceof Long n
            && sv.get("sequences") instanceof Number seqs ? (double) n * seqs.longValue() : 0;
        return cost.of(used, (double) s.get("latency_s"),
            (double) ((Map<?, ?>) s.get("energy_j")).get("total"), outcome.deviceFlops(), tokens);
    }

    /**
     * The system file with the {@code --set} (or {@code --vary}) values of hardware paths: {@code system.KEY} and
     * {@code KEY} name a key of the system file, {@code host.KEY} the host of every device.
     */
    static SystemSpec load(Path system, List<String> hardwareSets) {
        return SystemLoader.load(system, systemSets(hardwareSets), deviceSets(hardwareSets));
    }

    /** The {@code --set}s that name keys of the system file ({@code system.KEY} or {@code KEY}), as its keys. */
    static List<String> systemSets(List<String> hardwareSets) {
        return hardwareSets.stream().filter(set -> !isHostKey(set))
            .map(set -> set.startsWith("system.") ? set.substring("system.".length()) : set).toList();
    }

    /** The {@code --set}s that apply to every device's hardware file ({@code host.*}). */
    static List<String> deviceSets(List<String> hardwareSets) {
        return hardwareSets.stream().filter(SystemRun::isHostKey).toList();
    }

    /** What the run is billed by (printed with its cost line). */
    private CostChoice cost = CostChoice.NONE;

    /** The workload of a run on {@code spec}, checked: its parallel degrees must fit the system's devices. */
    static SourceOptions.Run prepare(SystemSpec spec, Path system, SourceOptions source, List<String> workloadSets,
                                     RunOptions running) {
        HardwareSpec hw = spec.devices().get(0).hardware();
        SourceOptions.Run prepared = source.run(hw, workloadSets, running.allowOvercommit);
        Workload workload = prepared.workload();
        int tensorParallel = workload.run().tensorParallel();
        Workload.Parallelism parallelism = workload.parallelism();
        int devices = tensorParallel * parallelism.experts() * parallelism.stages() * parallelism.replicas();
        if (devices > spec.deviceCount()) {
            throw new InputException(source.from.workload + ": run.tensor_parallel x "
                + (parallelism.experts() > 1 ? "run.expert_parallel x " : "")
                + "run.pipeline_parallel x run.data_parallel: " + tensorParallel + " x "
                + (parallelism.experts() > 1 ? parallelism.experts() + " x " : "") + parallelism.stages()
                + " x " + parallelism.replicas() + " devices asked for, more than the " + spec.deviceCount()
                + " of system " + system + (parallelism.experts() > 1 && tensorParallel > 1
                    ? " (for expert parallelism alone, --set run.tensor_parallel=1)" : ""));
        }
        RunLimits.check(hw, prepared.operators());
        return prepared;
    }

    /**
     * Runs the workload (with {@code workloadSets}) on {@code spec}: the first device's operators to {@code ops}
     * (null: none), every device's and the fabric's slices to {@code trace} (null: none).
     */
    static Outcome simulate(SystemSpec spec, Path system, SourceOptions source, List<String> workloadSets,
                            RunOptions running, OutputStream ops, Writer trace) {
        SourceOptions.Run prepared = prepare(spec, system, source, workloadSets, running);
        Workload workload = prepared.workload();
        int tensorParallel = workload.run().tensorParallel();
        Workload.Parallelism parallelism = workload.parallelism();
        int devices = tensorParallel * parallelism.experts() * parallelism.stages() * parallelism.replicas();
        SystemSimulation simulation = new SystemSimulation(spec, tensorParallel).reuse(running.reuse())
            .placement(prepared.policy())
            .experts(parallelism.experts())
            .pipeline(parallelism.stages(), parallelism.microBatches(), workload.run().layers())
            .replicas(parallelism.replicas())
            .sequences(prepared.sequences())
            .order(running.order(workload));
        // A pipeline runs the stream of one micro-batch: the batch cut into micro_batches.
        OperatorSource operators = parallelism.microBatches() == 1 ? prepared.operators()
            : source.source(concat(workloadSets, "run.batch=" + workload.run().batch() / parallelism.microBatches(),
                "run.micro_batches=1"));
        List<SimulationReport> reports = new ArrayList<>();
        long promptTokens = workload.run().promptTokens();
        SystemTrace systemTrace = trace == null ? null : new SystemTrace(trace, spec, devices);
        if (systemTrace != null && running.order(workload) == OperatorOrder.DEPENDENCIES) {
            systemTrace.overlapping();
        }
        SystemSimulation.Result result = simulation.run(operators, systemTrace, rank -> {
            SimulationReport report = new SimulationReport(spec.devices().get(rank).hardware(),
                rank == 0 ? ops : null, null).sequences(prepared.sequences())
                .promptTokens(promptTokens).placement(prepared.placement());
            reports.add(report);
            return report;
        });
        Map<String, Object> summary = SystemReport.summary(spec, result, reports, tensorParallel, parallelism);
        if (systemTrace != null) {
            systemTrace.close();
        }
        // Mirrored devices (beyond the reports) did what the first did.
        double[] flops = new double[result.devices().size()];
        for (int i = 0; i < flops.length; i++) {
            flops[i] = reports.get(i < reports.size() ? i : 0).flops();
        }
        return new Outcome(summary, result, flops);
    }

    /** Whether a {@code --set} names a device's host key ({@code host.framework=...}), set on every device. */
    static boolean isHostKey(String set) {
        return set.startsWith("host.");
    }

    private static List<String> concat(List<String> sets, String... more) {
        List<String> out = new ArrayList<>(sets);
        out.addAll(List.of(more));
        return out;
    }

    private static void refuse(boolean given, String option) {
        if (given) {
            throw new InputException(option + ": not available with --system yet (use --hardware)");
        }
    }

    void print(Map<String, Object> s, SystemSimulation.Result r) {
        Map<String, Object> system = SystemReport.section(s.get("system"));
        if (system.containsKey("ranks")) {
            command.out().printf(Locale.ROOT, "%s: %d of %d devices (one per rank of the trace), %d operators on the "
                + "first: latency %s, roofline %s%n", system.get("name"), system.get("devices"),
                system.get("devices_in_system"), r.devices().get(0).operators(),
                RooflineReport.time((double) s.get("latency_s")), RooflineReport.time((double) s.get("roofline_s")));
        } else {
            command.out().printf(Locale.ROOT, "%s: %d of %d devices (tensor parallel %d, pipeline %d x %d "
                + "micro-batches, data parallel %d%s), %d operators on the first: latency %s, roofline %s%n",
                system.get("name"),
                system.get("devices"), system.get("devices_in_system"), system.get("tensor_parallel"),
                system.get("pipeline_parallel"), system.get("micro_batches"), system.get("data_parallel"),
                (int) system.get("expert_parallel") == 1 ? "" : ", expert parallel " + system.get("expert_parallel"),
                r.devices().get(0).operators(),
                RooflineReport.time((double) s.get("latency_s")), RooflineReport.time((double) s.get("roofline_s")));
        }
        for (Map.Entry<String, Object> e : SystemReport.section(s.get("phases")).entrySet()) {
            Map<String, Object> p = SystemReport.section(e.getValue());
            command.out().printf(Locale.ROOT, "  %-8s latency %s, roofline %s%s, device bound by %s%n", e.getKey(),
                RooflineReport.time((double) p.get("latency_s")), RooflineReport.time((double) p.get("roofline_s")),
                p.get("energy_j") == null ? "" : String.format(Locale.ROOT, ", energy %.4g J (all devices and "
                    + "links)", (double) p.get("energy_j")), p.get("binding"));
        }
        SystemSimulation.DeviceResult first = r.devices().get(0);
        double end = Math.max(1, r.endPs());
        command.out().printf(Locale.ROOT, "device %s: computing %.1f%% of the time, in collectives %.1f%%%s%n",
            first.name(), 100 * first.computePs() / end, 100 * first.collectivePs() / end,
            first.exposedPs() == first.collectivePs() ? "" : String.format(Locale.ROOT, " (%.1f%% hidden behind "
                + "compute)", 100 * (first.collectivePs() - first.exposedPs()) / end));
        Map<String, Object> fabric = SystemReport.section(s.get("fabric"));
        List<String> algorithms = new ArrayList<>();
        SystemReport.section(fabric.get("collectives")).forEach((a, v) -> {
            Map<String, Object> m = SystemReport.section(v);
            algorithms.add(String.format(Locale.ROOT, "%s %d in %s", a, (long) m.get("collectives"),
                RooflineReport.time((double) m.get("time_s"))));
        });
        String busiest = (String) fabric.get("busiest_link");
        command.out().printf(Locale.ROOT, "fabric: %.4g GB on the wires; collectives: %s; busiest link %s%n",
            (long) fabric.get("bytes") / 1e9, algorithms.isEmpty() ? "none" : String.join(", ", algorithms),
            busiest == null ? "none" : busiest + String.format(Locale.ROOT, " (utilisation %.2f)", (double)
                SystemReport.section(SystemReport.section(fabric.get("links")).get(busiest)).get("utilisation")));
        if (s.get("energy_j") instanceof Map<?, ?> energy) {
            command.out().printf(Locale.ROOT, "energy: %.4g J over %d devices and the fabric (static %.4g J, dynamic "
                + "%.4g J, fabric %.4g J)%n", energy.get("total"), r.devices().size(), energy.get("static"),
                energy.get("dynamic"), r.fabricEnergyJ());
        }
        SimulateCommand.printCost(command.out(), s, cost.source());
        command.out().println("binds: " + system.get("binding"));
        command.out().printf(Locale.ROOT, "simulator: %d events in %.2f s (%s events/s), %d of %d device(s) simulated, "
                + "%d of %d collectives reused; wrote %s%n", r.events(), r.wallS(),
            SimulateCommand.perSecond(r.events() / Math.max(r.wallS(), 1e-9)), r.simulatedDevices(), r.devices().size(),
            r.reusedCollectives(), r.collectives(), command.out);
    }
}

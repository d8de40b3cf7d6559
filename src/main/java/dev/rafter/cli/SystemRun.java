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
        refuse(command.costFile != null, "--cost");
        refuse(command.threads != null, "--threads");
        refuse(!command.timing.equals("kernel"), "--timing");
        refuse(!command.events.equals("none") && !command.events.equals("perfetto"), "--events " + command.events
            + " (perfetto is)");
        refuse(command.eventsOps != null, "--events-ops");
        refuse(command.source.from.trace != null, "--trace");
        // system.fabric.link.latency_ns=... names a key of the system file, as fabric.link.latency_ns=... does.
        SystemSpec spec = SystemLoader.load(command.system, command.hardware.hardwareSets().stream()
            .map(set -> set.startsWith("system.") ? set.substring("system.".length()) : set).toList());
        HardwareSpec hw = spec.devices().get(0).hardware();
        if (hw.host().on()) {
            throw new InputException("--system: host.framework " + hw.host().framework().key() + ": a host feeding"
                + " the devices of a system is not modelled yet (host.framework none)");
        }
        try (OutputFolder folder = OutputFolder.open(command.out, "--out", SimulateCommand.OUTPUTS)) {
            SourceOptions.Run prepared = command.source.run(hw, command.hardware.workloadSets(),
                command.running.allowOvercommit);
            if (command.running.order(prepared.workload()) != OperatorOrder.STRICT) {
                throw new InputException("--order: a system runs each device's operators in strict order for now");
            }
            Workload workload = prepared.workload();
            int tensorParallel = workload.run().tensorParallel();
            Workload.Parallelism parallelism = workload.parallelism();
            int devices = tensorParallel * parallelism.experts() * parallelism.stages() * parallelism.replicas();
            if (devices > spec.deviceCount()) {
                throw new InputException(command.source.from.workload + ": run.tensor_parallel x "
                    + (parallelism.experts() > 1 ? "run.expert_parallel x " : "")
                    + "run.pipeline_parallel x run.data_parallel: " + tensorParallel + " x "
                    + (parallelism.experts() > 1 ? parallelism.experts() + " x " : "") + parallelism.stages()
                    + " x " + parallelism.replicas() + " devices asked for, more than the " + spec.deviceCount()
                    + " of system " + command.system + (parallelism.experts() > 1 && tensorParallel > 1
                        ? " (for expert parallelism alone, --set run.tensor_parallel=1)" : ""));
            }
            RunLimits.check(hw, prepared.operators());
            SystemSimulation simulation = new SystemSimulation(spec, tensorParallel).reuse(command.running.reuse())
                .placement(prepared.policy())
                .experts(parallelism.experts())
                .pipeline(parallelism.stages(), parallelism.microBatches(), workload.run().layers())
                .replicas(parallelism.replicas());
            // A pipeline runs the stream of one micro-batch: the batch cut into micro_batches.
            OperatorSource operators = parallelism.microBatches() == 1 ? prepared.operators()
                : command.source.source(concat(command.hardware.workloadSets(),
                    "run.batch=" + workload.run().batch() / parallelism.microBatches(), "run.micro_batches=1"));
            List<SimulationReport> reports = new ArrayList<>();
            Map<String, Object> summary;
            SystemSimulation.Result result;
            boolean traced = command.events.equals("perfetto");
            try (AtomicFile.Pending ops = new AtomicFile.Pending(folder.path("ops.csv"));
                 AtomicFile.Pending traceFile = traced ? new AtomicFile.Pending(folder.path("trace.json")) : null) {
                long promptTokens = prepared.workload() == null ? 0 : prepared.workload().run().promptTokens();
                SystemTrace trace = traced ? new SystemTrace(traceFile.writer(), spec, devices) : null;
                result = simulation.run(operators, trace, rank -> {
                    SimulationReport report = new SimulationReport(spec.devices().get(rank).hardware(),
                        rank == 0 ? ops.stream() : null, null).sequences(prepared.sequences())
                        .promptTokens(promptTokens).placement(prepared.placement());
                    reports.add(report);
                    return report;
                });
                summary = SystemReport.summary(spec, result, reports, tensorParallel, parallelism);
                ops.commit();
                if (trace != null) {
                    trace.close();
                    traceFile.commit();
                }
            }
            AtomicFile.write(folder.path("summary.json"), w -> w.write(SimulationReport.json(summary)));
            folder.commit();
            print(summary, result);
        }
        return Main.OK;
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

    private void print(Map<String, Object> s, SystemSimulation.Result r) {
        Map<String, Object> system = SystemReport.section(s.get("system"));
        command.out().printf(Locale.ROOT, "%s: %d of %d devices (tensor parallel %d, pipeline %d x %d micro-batches, "
                + "data parallel %d%s), %d operators on the first: latency %s, roofline %s%n", system.get("name"),
            system.get("devices"), system.get("devices_in_system"), system.get("tensor_parallel"),
            system.get("pipeline_parallel"), system.get("micro_batches"), system.get("data_parallel"),
            (int) system.get("expert_parallel") == 1 ? "" : ", expert parallel " + system.get("expert_parallel"),
            r.devices().get(0).operators(),
            RooflineReport.time((double) s.get("latency_s")), RooflineReport.time((double) s.get("roofline_s")));
        for (Map.Entry<String, Object> e : SystemReport.section(s.get("phases")).entrySet()) {
            Map<String, Object> p = SystemReport.section(e.getValue());
            command.out().printf(Locale.ROOT, "  %-8s latency %s, roofline %s%s, device bound by %s%n", e.getKey(),
                RooflineReport.time((double) p.get("latency_s")), RooflineReport.time((double) p.get("roofline_s")),
                p.get("energy_j") == null ? "" : String.format(Locale.ROOT, ", energy %.4g J (all devices and "
                    + "links)", (double) p.get("energy_j")), p.get("binding"));
        }
        SystemSimulation.DeviceResult first = r.devices().get(0);
        double end = Math.max(1, r.endPs());
        command.out().printf(Locale.ROOT, "device %s: computing %.1f%% of the time, in collectives %.1f%%%n",
            first.name(), 100 * first.computePs() / end, 100 * first.collectivePs() / end);
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
        command.out().println("binds: " + system.get("binding"));
        command.out().printf(Locale.ROOT, "simulator: %d events in %.2f s (%s events/s), %d of %d device(s) simulated, "
                + "%d of %d collectives reused; wrote %s%n", r.events(), r.wallS(),
            SimulateCommand.perSecond(r.events() / Math.max(r.wallS(), 1e-9)), r.simulatedDevices(), r.devices().size(),
            r.reusedCollectives(), r.collectives(), command.out);
    }
}

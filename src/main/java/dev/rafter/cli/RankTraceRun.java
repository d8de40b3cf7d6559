package dev.rafter.cli;

import dev.rafter.config.InputException;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.hw.SystemSpec;
import dev.rafter.importer.CoverageReport;
import dev.rafter.importer.RankTraces;
import dev.rafter.report.AtomicFile;
import dev.rafter.report.Comparison;
import dev.rafter.report.OutputFolder;
import dev.rafter.report.SimulationReport;
import dev.rafter.report.SystemReport;
import dev.rafter.sim.RunLimits;
import dev.rafter.sim.system.SystemSimulation;
import dev.rafter.sim.system.SystemTrace;
import dev.rafter.workload.OperatorOrder;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Workload;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code simulate --system S --trace T}: a multi-rank PyTorch profiler trace ({@link RankTraces}: one Kineto file
 * per rank, or a folder of them) replayed on the system, rank r on device r, each rank's collectives joining the
 * other members of their process group on the fabric. Writes what a system run writes: ops.csv (rank 0's
 * operators, with their measured times as a single-device replay of that trace has them), summary.json (per-device
 * blocks, and per rank its trace and coverage) and, by choice, trace.json.
 */
final class RankTraceRun {
    private final SimulateCommand command;

    RankTraceRun(SimulateCommand command) {
        this.command = command;
    }

    Integer call() {
        // A trace runs as written: workload paths, --layers and --decode-steps are refused here, as on one device.
        command.source.workload(command.hardware.workloadSets());
        if (command.running.order(null) != OperatorOrder.STRICT) {
            throw new InputException("--order: a multi-rank trace replays each device's operators in strict order "
                + "for now");
        }
        SystemSpec spec = SystemRun.load(command.system, command.hardware.hardwareSets());
        RankTraces traces = RankTraces.read(command.source.from.trace, command.source.phases(), spec.deviceCount(),
            command.system.toString());
        int world = traces.ranks().size();
        List<OperatorSource> streams = new ArrayList<>();
        for (RankTraces.Rank rank : traces.ranks()) {
            RunLimits.check(spec.devices().get(rank.rank()).hardware(), rank.source());
            streams.add(rank.source());
        }
        List<List<Integer>> groups = traces.groups().stream().map(RankTraces.Group::ranks).toList();
        SystemSimulation simulation = new SystemSimulation(spec, world).reuse(command.running.reuse())
            .ranks(streams, groups, traces::groupOf);
        try (OutputFolder folder = OutputFolder.open(command.out, "--out", SimulateCommand.OUTPUTS)) {
            boolean traced = command.events.equals("perfetto");
            Map<String, Object> summary;
            SystemSimulation.Result result;
            try (AtomicFile.Pending ops = new AtomicFile.Pending(folder.path("ops.csv"));
                 AtomicFile.Pending traceFile = traced ? new AtomicFile.Pending(folder.path("trace.json")) : null) {
                SystemTrace systemTrace = traced ? new SystemTrace(traceFile.writer(), spec, world) : null;
                List<SimulationReport> reports = new ArrayList<>();
                result = simulation.run(null, systemTrace, device -> {
                    HardwareSpec hw = spec.devices().get(device).hardware();
                    RankTraces.Rank rank = traces.ranks().get(device);
                    // Rank 0's ops.csv carries its measured times, as a single-device replay of its trace does.
                    Comparison measured = device == 0 ? new Comparison(op -> rank.measuredS(op.id()), hw) : null;
                    SimulationReport report = new SimulationReport(hw, device == 0 ? ops.stream() : null, measured);
                    reports.add(report);
                    return measured == null ? report : r -> {
                        report.finished(r);
                        measured.finished(r);
                    };
                });
                summary = SystemReport.summary(spec, result, reports, world, Workload.Parallelism.NONE);
                if (systemTrace != null) {
                    systemTrace.close();
                }
                ops.commit();
                if (traceFile != null) {
                    traceFile.commit();
                }
            }
            Map<String, Object> system = new LinkedHashMap<>(SystemReport.section(summary.get("system")));
            // The parallelism of a traced run is what its process groups were, not a workload's degrees.
            for (String degree : List.of("tensor_parallel", "pipeline_parallel", "micro_batches", "data_parallel",
                "expert_parallel")) {
                system.remove(degree);
            }
            system.put("ranks", world);
            system.put("process_groups", groups.size());
            summary.put("system", system);
            List<Map<String, Object>> ranks = new ArrayList<>();
            for (RankTraces.Rank rank : traces.ranks()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("rank", rank.rank());
                m.put("trace", rank.file().toString());
                m.put("coverage", CoverageReport.json(rank.coverage()));
                ranks.add(m);
            }
            summary.put("ranks", ranks);
            AtomicFile.write(folder.path("summary.json"), w -> w.write(SimulationReport.json(summary)));
            folder.commit();
            new SystemRun(command).print(summary, result);
            command.out().println("ranks: " + (world == 1 ? "1 trace on device 0" : world + " traces on devices 0.."
                + (world - 1)) + ", " + groups.size() + " process group(s) joining " + result.collectives()
                + " collectives");
        }
        return Main.OK;
    }
}

package dev.rafter.cli;

import dev.rafter.report.OutputFolder;
import dev.rafter.sweep.Sweep;
import dev.rafter.sweep.SweepPlan;
import dev.rafter.sweep.SweepReport;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "sweep", mixinStandardHelpOptions = true,
    description = "Simulate every combination of hardware and workload values: sweep.csv, sweep.png, one summary per point.")
public final class SweepCommand extends CommandBase implements Callable<Integer> {
    @Mixin
    HardwareOptions hardware;

    @Mixin
    SourceOptions source;

    @Option(names = "--vary", required = true, paramLabel = "K=v1,v2,...",
        description = "a path and its values, e.g. core.local_buffer.capacity_kib=16,32,64 or run.batch=1,8,64;"
            + " run.* and model.* vary the workload, the rest the hardware (repeatable)")
    List<String> vary = new ArrayList<>();

    @Option(names = "--jobs", paramLabel = "N",
        description = "points run in parallel (default: the number of processors)")
    int jobs = Runtime.getRuntime().availableProcessors();

    @Option(names = "--out", defaultValue = "out/sweep", paramLabel = "DIR", description = "output directory")
    Path out;

    @Option(names = "--resume", description = "reuse the points already in DIR/points")
    boolean resume;

    @Option(names = "--allow-overcommit",
        description = "run workload points even when they do not fit memory.capacity_gib per device")
    boolean allowOvercommit;

    @Override
    public Integer call() {
        if (jobs < 1 || jobs > 1024) {
            throw new dev.rafter.config.InputException("--jobs: expected 1..1024, got " + jobs);
        }
        SweepPlan plan = SweepPlan.parse(vary);
        source.phases();
        try (OutputFolder folder = OutputFolder.open(out, "--out", List.of("sweep.png", "sweep.csv"))) {
            String points = OutputFolder.kind(out.resolve("points"));
            if (points != null && !points.equals("a directory")) {
                throw new dev.rafter.config.InputException("--out " + out + ": " + out.resolve("points") + " is "
                    + points + ", expected the directory of point summaries");
            }
            out().printf("sweep of %d points over %s%n", plan.size(), String.join(" x ", plan.paths()));
            Sweep.Operators operators = new Sweep.Operators() {
                private final java.util.Map<List<String>, String> hashes = new java.util.HashMap<>();

                @Override
                public dev.rafter.workload.OperatorSource source(dev.rafter.hw.HardwareSpec hw, List<String> sets) {
                    return SweepCommand.this.source.run(hw, sets, allowOvercommit).operators();
                }

                @Override
                public synchronized String contentHash(List<String> sets) {
                    return hashes.computeIfAbsent(sets, SweepCommand.this.source::contentHash);
                }

                @Override
                public int sequences(List<String> sets) {
                    var w = SweepCommand.this.source.workload(sets);
                    return w == null ? 0 : w.run().batch();
                }
            };
            List<Sweep.Point> done = new Sweep(hardware.hardware, hardware.overrides, plan, operators,
                source.describe(), Main.build(), out, resume, out()).run(jobs);
            SweepReport.write(plan, done, folder.staging(), out, out());
            folder.commit();
        }
        return Main.OK;
    }
}

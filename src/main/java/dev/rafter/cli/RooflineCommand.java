package dev.rafter.cli;

import dev.rafter.roofline.Roofline;
import dev.rafter.roofline.RooflineReport;
import dev.rafter.report.OutputFolder;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "roofline", mixinStandardHelpOptions = true,
    description = "Analytic roofline bound of every operator: roofline.csv, roofline.png and a summary table.")
public final class RooflineCommand extends CommandBase implements Callable<Integer> {
    @Mixin
    HardwareOptions hardware;

    @Mixin
    SourceOptions source;

    @Option(names = "--out", paramLabel = "DIR", description = "directory for roofline.csv and roofline.png")
    Path out;

    @Override
    public Integer call() {
        if (out == null) {
            RooflineReport.run(roofline(), source.source(hardware.workloadSets()),
                source.subject(hardware.workloadSets()), null, out());
            return Main.OK;
        }
        try (OutputFolder folder = OutputFolder.open(out, "--out", List.of("roofline.png", "roofline.csv"))) {
            Roofline roofline = roofline();
            RooflineReport.run(roofline, source.source(hardware.workloadSets()),
                source.subject(hardware.workloadSets()), folder.staging(), out());
            folder.commit();
        }
        out().printf("%nwrote %s and %s%n", out.resolve("roofline.csv"), out.resolve("roofline.png"));
        return Main.OK;
    }

    /** The device's roofline, each operand's bytes on the tier the workload's placement gives its role. */
    private Roofline roofline() {
        dev.rafter.hw.HardwareSpec hw = hardware.loadBesideWorkload();
        List<String> sets = hardware.workloadSets();
        if (hw.memoryTiers().size() == 1 || source.workload(sets) == null) {
            return new Roofline(hw);
        }
        // Capacity is not the roofline's concern (overcommit allowed); a placement on a missing tier still is.
        return new Roofline(hw, source.run(hw, sets, true).policy());
    }
}

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
            RooflineReport.run(new Roofline(hardware.loadBesideWorkload()), source.source(hardware.workloadSets()),
                source.subject(hardware.workloadSets()), null, out());
            return Main.OK;
        }
        try (OutputFolder folder = OutputFolder.open(out, "--out", List.of("roofline.png", "roofline.csv"))) {
            Roofline roofline = new Roofline(hardware.loadBesideWorkload());
            RooflineReport.run(roofline, source.source(hardware.workloadSets()),
                source.subject(hardware.workloadSets()), folder.staging(), out());
            folder.commit();
        }
        out().printf("%nwrote %s and %s%n", out.resolve("roofline.csv"), out.resolve("roofline.png"));
        return Main.OK;
    }
}

package dev.rafter.cli;

import dev.rafter.report.AtomicFile;
import dev.rafter.workload.Lowering;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.TraceCsv;
import dev.rafter.workload.Workload;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "lower", mixinStandardHelpOptions = true,
    description = "Lower a workload into its operator trace CSV (streamed; per-device shapes).")
public final class LowerCommand extends CommandBase implements Callable<Integer> {
    @Option(names = "--workload", required = true, paramLabel = "W", description = "workload model YAML")
    Path workload;

    @Option(names = "--phase", paramLabel = "P", defaultValue = "all", description = "prefill, decode or all")
    String phase;

    @Option(names = "--out", required = true, paramLabel = "T.csv", description = "trace file to write")
    Path out;

    @Override
    public Integer call() {
        AtomicFile.checkTarget(out);
        var phases = OperatorSource.phases(phase);
        Workload w = Workload.load(workload);
        dev.rafter.sim.RunLimits.check(w);
        long[] count = {0};
        AtomicFile.write(out, writer -> {
            TraceCsv.writeHeader(writer);
            count[0] = Lowering.lower(w, phases, op -> {
                try {
                    TraceCsv.writeRow(writer, op);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        });
        out().printf("wrote %s: %d operators of %s (%s)%n", out, count[0], w.describe(), phase);
        return Main.OK;
    }
}

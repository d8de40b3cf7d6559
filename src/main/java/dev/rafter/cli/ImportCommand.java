package dev.rafter.cli;

import dev.rafter.config.InputException;
import dev.rafter.importer.Coverage;
import dev.rafter.importer.CoverageReport;
import dev.rafter.importer.Importers;
import dev.rafter.importer.ModelHint;
import dev.rafter.importer.TraceImporter;
import dev.rafter.report.AtomicFile;
import dev.rafter.workload.TraceCsv;
import dev.rafter.workload.Workload;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code import}: a trace captured elsewhere (PyTorch profiler / Kineto JSON, Chakra ET; gzipped or not, told
 * apart by content) written as Rafter's trace CSV with each operator's measured time, so a user can inspect or edit
 * it before simulating. Prints the coverage: what mapped, what did not.
 */
@Command(name = "import", mixinStandardHelpOptions = true,
    description = "Convert a PyTorch profiler (Kineto) or Chakra trace into Rafter's trace CSV with measured_s.")
public final class ImportCommand extends CommandBase implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "IN", description = "trace to import: .json, .json.gz, .et, .et.gz")
    Path in;

    @Option(names = "--out", required = true, paramLabel = "T.csv", description = "trace CSV to write")
    Path out;

    @Option(names = "--model-hint", paramLabel = "WORKLOAD.yaml", description = "the model a CUDA-graph trace ran"
        + " (a workload file: its model, run.batch sequences, run.prompt_tokens cached tokens each, run.data_type):"
        + " graph-replayed kernels are then mapped from their kernel names")
    Path modelHint;

    @Override
    public Integer call() {
        AtomicFile.checkTarget(out);
        TraceImporter importer = Importers.detect(in);
        if (importer == null) {
            throw new InputException(in + ": not a PyTorch profiler (Kineto) JSON or Chakra execution trace "
                + "(Rafter's own trace CSV needs no import)");
        }
        ModelHint hint = modelHint == null ? null : ModelHint.of(Workload.load(modelHint));
        Coverage[] coverage = new Coverage[1];
        AtomicFile.write(out, writer -> {
            TraceCsv.writeHeaderWithMeasured(writer);
            coverage[0] = importer.read(in, op -> {
                try {
                    TraceCsv.writeRow(writer, op.op(), op.measuredS());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }, hint);
            if (coverage[0].mapped() == 0) {
                // a CSV of no operators would pass for an import (the Kineto reader names the first op itself)
                long ops = coverage[0].unmappedCount();
                List<String> names = coverage[0].unmapped().keySet().stream().limit(3).toList();
                throw InputException.located(in + ": no op could be imported as an operator: " + (ops == 0
                    ? "the trace holds no ops" : ops + " ops, none of which maps (" + String.join(", ", names)
                    + (coverage[0].unmapped().size() > names.size() ? ", ..." : "") + ")"));
            }
        });
        // Every op that did not map, beside the trace: T-unmapped.csv.
        String stem = out.getFileName().toString().replaceFirst("\\.csv$", "");
        Path unmapped = out.resolveSibling(stem + "-unmapped.csv");
        AtomicFile.checkTarget(unmapped);
        CoverageReport.writeUnmapped(unmapped, coverage[0]);
        out().printf("wrote %s: %d operators from %s (%s)%n", out, coverage[0].mapped(), in, importer.format());
        CoverageReport.lines(coverage[0], unmapped.toString()).forEach(out()::println);
        return Main.OK;
    }
}

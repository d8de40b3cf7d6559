package dev.rafter.cli;

import dev.rafter.config.CsvWriter;
import dev.rafter.config.InputException;
import dev.rafter.plot.StudyCharts;
import dev.rafter.report.AtomicFile;
import dev.rafter.report.OutputFolder;
import dev.rafter.validation.Validation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "validate", mixinStandardHelpOptions = true,
    description = "Run the checks in validation/ (closed-form array timing, roofline bounds); exit 1 if one fails.")
public final class ValidateCommand extends CommandBase implements Callable<Integer> {
    @Option(names = "--out", paramLabel = "DIR",
        description = "write validation.csv and the studies' charts (near-memory.png, hbf.png, stacked.png) here")
    Path out;

    @Option(names = "--cases", paramLabel = "DIR",
        description = "directory of validation cases (default: validation/ of the Rafter checkout that runs)")
    Path cases;

    @Override
    public Integer call() {
        Path dir = cases != null ? cases : defaultCases();
        if (!Files.isDirectory(dir)) {
            throw new InputException("--cases " + dir + ": not a directory of validation cases");
        }
        OutputFolder folder = out == null ? null : OutputFolder.open(out, "--out", outputs());
        try {
            return run(dir, folder);
        } finally {
            if (folder != null) {
                folder.close();
            }
        }
    }

    private int run(Path dir, OutputFolder folder) {
        Validation validation = new Validation(dir);
        List<Validation.Check> checks = validation.run();
        long failed = 0;
        long gaps = 0;
        for (Validation.Check c : checks) {
            if (c.failed()) {
                failed++;
            } else if (!c.passed()) {
                gaps++;
            }
            out().printf("%-4s %-13s %-40s expected %-14.6g simulated %-14.6g %s%n", c.passed() ? "ok"
                    : c.failed() ? "FAIL" : "GAP", c.suite(), c.name(), c.expected(), c.simulated(),
                c.comparison() + (c.failed() || c.passed() ? "" : "; known gap: " + c.knownGap()));
        }
        if (folder != null) {
            AtomicFile.write(folder.path("validation.csv"), w -> {
                w.write("suite,name,expected,simulated,comparison,passed\n");
                for (Validation.Check c : checks) {
                    w.write(CsvWriter.cell(c.suite()) + "," + CsvWriter.cell(c.name()) + "," + c.expected() + ","
                        + c.simulated() + "," + CsvWriter.quoted(new StringBuilder(), c.comparison()) + "," + c.passed()
                        + "\n");
                }
            });
            for (Validation.Chart c : validation.charts()) {
                byte[] image = StudyCharts.png(c.chart().width(), c.chart().height(), c.chart()::draw);
                AtomicFile.writeBytes(folder.path(c.file()), image);
            }
            folder.commit();
        }
        out().printf("%d passed, %d failed%s%n", checks.size() - failed - gaps, failed, gaps == 0 ? ""
            : ", " + gaps + " known gap" + (gaps == 1 ? "" : "s"));
        return failed == 0 ? Main.OK : Main.CHECK_FAILED;
    }

    /** The charts, then validation.csv (the summary, moved in last). */
    private static List<String> outputs() {
        List<String> names = new java.util.ArrayList<>(Validation.CHART_FILES);
        names.add("validation.csv");
        return names;
    }

    /**
     * {@code validation/} of the checkout this Rafter runs from (the jar is {@code target/rafter.jar}, the classes
     * {@code target/classes}), so validate works from any working directory; {@code ./validation} as a fallback.
     */
    static Path defaultCases() {
        try {
            Path code = Path.of(ValidateCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            // The launcher runs a copy of the jar (target/run/rafter-*.jar), tests the classes (target/classes): the
            // checkout is the nearest folder above that holds the pom and validation/.
            Path dir = code.toAbsolutePath().getParent();
            for (int up = 0; dir != null && up < 4; up++, dir = dir.getParent()) {
                if (Files.isDirectory(dir.resolve("validation")) && Files.isRegularFile(dir.resolve("pom.xml"))) {
                    return dir.resolve("validation");
                }
            }
        } catch (java.net.URISyntaxException | RuntimeException e) {
            // fall back to the working directory
        }
        return Path.of("validation");
    }
}

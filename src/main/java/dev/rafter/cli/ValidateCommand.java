package dev.rafter.cli;

import dev.rafter.report.AtomicFile;
import dev.rafter.validation.Validation;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "validate", mixinStandardHelpOptions = true,
    description = "Run the checks in validation/ (closed-form array timing, roofline bounds); exit 1 if one fails.")
public final class ValidateCommand extends CommandBase implements Callable<Integer> {
    @Option(names = "--out", paramLabel = "DIR", description = "write validation.csv here")
    Path out;

    @Option(names = "--cases", paramLabel = "DIR", defaultValue = "validation",
        description = "directory of validation cases (default: ${DEFAULT-VALUE})")
    Path cases;

    @Override
    public Integer call() {
        List<Validation.Check> checks = new Validation(cases).run();
        long failed = 0;
        for (Validation.Check c : checks) {
            if (!c.passed()) {
                failed++;
            }
            out().printf("%-4s %-13s %-40s expected %-14.6g simulated %-14.6g %s%n", c.passed() ? "ok" : "FAIL",
                c.suite(), c.name(), c.expected(), c.simulated(), c.comparison());
        }
        if (out != null) {
            AtomicFile.write(out.resolve("validation.csv"), w -> {
                w.write("suite,name,expected,simulated,comparison,passed\n");
                for (Validation.Check c : checks) {
                    w.write(c.suite() + "," + c.name() + "," + c.expected() + "," + c.simulated() + ",\""
                        + c.comparison() + "\"," + c.passed() + "\n");
                }
            });
        }
        out().printf("%d passed, %d failed%n", checks.size() - failed, failed);
        return failed == 0 ? Main.OK : Main.CHECK_FAILED;
    }
}

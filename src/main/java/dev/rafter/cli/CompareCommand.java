package dev.rafter.cli;

import dev.rafter.config.InputException;
import picocli.CommandLine.Command;

/**
 * {@code compare}: {@code simulate} with measured times, for a user checking Rafter against a real device: the
 * per-operator error in ops.csv, the MAPE per kind and the operators that miss most.
 */
@Command(name = "compare", mixinStandardHelpOptions = true,
    description = "Simulate a trace and compare with measured operator times (--measured M.csv, or those the "
        + "trace carries): per-operator error, MAPE per kind, worst operators.")
public final class CompareCommand extends SimulateCommand {
    @Override
    public Integer call() {
        if (measured == null && !tracesMeasuredTimes()) {
            throw new InputException("compare: --measured M.csv is required (a CSV with measured_s and op_id or "
                + "kind,batch,m,n,k,elements) unless --trace carries measured times (an imported trace, or a CSV "
                + "with a measured_s column)");
        }
        return super.call();
    }
}

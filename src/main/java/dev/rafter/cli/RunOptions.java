package dev.rafter.cli;

import dev.rafter.workload.OperatorOrder;
import dev.rafter.workload.Workload;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * How operators run, shared by {@code simulate} and {@code sweep}: {@code --no-reuse}, {@code --allow-overcommit},
 * {@code --order}.
 */
public final class RunOptions {
    @Option(names = "--no-reuse", description = "simulate every operator, even one identical to an operator that "
        + "already ran (by default its result is reused: exact, and the outputs are the same)")
    boolean noReuse;

    @Option(names = "--allow-overcommit",
        description = "run a workload even when it does not fit memory.capacity_gib per device")
    boolean allowOvercommit;

    @Option(names = "--order", paramLabel = "O", description = "strict (default: one operator after another) or "
        + "dependencies (an operator starts when its deps have ended and its engine, cores or device links, is free;"
        + " overrides run.order)")
    String order;

    /** The order of a run: {@code --order}, else the workload's {@code run.order}, else strict. */
    OperatorOrder order(Workload workload) {
        if (order != null) {
            return OperatorOrder.parse(order, "--order");
        }
        return workload == null ? OperatorOrder.STRICT : workload.run().order();
    }

    /** Whether identical operators are reused. */
    boolean reuse() {
        return !noReuse;
    }

    /** These options as command-line arguments (for a sweep's executors). */
    List<String> arguments() {
        List<String> args = new ArrayList<>();
        if (allowOvercommit) {
            args.add("--allow-overcommit");
        }
        if (noReuse) {
            args.add("--no-reuse");
        }
        if (order != null) {
            args.add("--order");
            args.add(order);
        }
        return args;
    }
}

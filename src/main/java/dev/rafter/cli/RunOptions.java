package dev.rafter.cli;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** How operators run, shared by {@code simulate} and {@code sweep}: {@code --no-reuse}, {@code --allow-overcommit}. */
public final class RunOptions {
    @Option(names = "--no-reuse", description = "simulate every operator, even one identical to an operator that "
        + "already ran (by default its result is reused: exact, and the outputs are the same)")
    boolean noReuse;

    @Option(names = "--allow-overcommit",
        description = "run a workload even when it does not fit memory.capacity_gib per device")
    boolean allowOvercommit;

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
        return args;
    }
}

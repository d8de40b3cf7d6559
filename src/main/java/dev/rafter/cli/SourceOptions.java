package dev.rafter.cli;

import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Phase;
import dev.rafter.workload.Workload;
import java.nio.file.Path;
import java.util.Set;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/** {@code (--workload W | --trace T) [--phase P]}: where the operators come from. */
public final class SourceOptions {
    static final class Exclusive {
        @Option(names = "--workload", paramLabel = "W", description = "workload model YAML, lowered on the fly")
        Path workload;

        @Option(names = "--trace", paramLabel = "T", description = "operator trace CSV (as written by 'lower')")
        Path trace;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Exclusive from;

    @Option(names = "--phase", paramLabel = "P", defaultValue = "all",
        description = "prefill, decode or all (default: ${DEFAULT-VALUE})")
    String phase;

    public Set<Phase> phases() {
        return OperatorSource.phases(phase);
    }

    /** What the operators are, for records that must tell runs apart (e.g. sweep points). */
    public String describe() {
        return (from.workload != null ? "workload " + from.workload : "trace " + from.trace) + ", phase " + phase;
    }

    public OperatorSource source() {
        Set<Phase> phases = phases();
        return from.workload != null ? OperatorSource.of(Workload.load(from.workload), phases)
            : OperatorSource.ofTrace(from.trace, phases);
    }
}

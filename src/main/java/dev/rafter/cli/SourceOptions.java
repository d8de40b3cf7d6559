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

        @Option(names = "--trace", paramLabel = "T", description = "operator trace: Rafter's CSV (as 'lower' and "
            + "'import' write it), a PyTorch profiler (Kineto) JSON or a Chakra execution trace, gzipped or not, "
            + "told apart by content")
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

    /**
     * The content hash of the operators: the trace file's bytes, or the workload as loaded (so comments do not
     * count), with the phases; sweep points are keyed by it.
     */
    public String contentHash() {
        String what = from.workload != null
            ? "workload " + dev.rafter.sweep.SweepKey.sha256(Workload.load(from.workload).toString())
            : "trace " + dev.rafter.sweep.SweepKey.sha256(checkedTrace());
        return dev.rafter.sweep.SweepKey.sha256(what + ", phase " + phase);
    }

    /** The trace file, refused at once if it is not a regular file (a pipe or device would block the reader). */
    private Path checkedTrace() {
        dev.rafter.config.InputFiles.checkRegular(from.trace, Long.MAX_VALUE);
        return from.trace;
    }

    /** Whether --trace names a trace with measured times (an imported format, or a CSV with measured_s). */
    public boolean traceCarriesMeasuredTimes() {
        return from.trace != null && new dev.rafter.importer.TraceFile(checkedTrace(), phases()).carriesMeasuredTimes();
    }

    public OperatorSource source() {
        Set<Phase> phases = phases();
        if (from.workload != null) {
            Workload w = Workload.load(from.workload);
            dev.rafter.sim.RunLimits.check(w);
            return OperatorSource.of(w, phases);
        }
        return new dev.rafter.importer.TraceFile(checkedTrace(), phases);
    }
}

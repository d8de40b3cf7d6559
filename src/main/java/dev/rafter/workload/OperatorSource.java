package dev.rafter.workload;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;
import java.util.function.Consumer;

/** Where operators come from: a workload lowered on the fly, or a trace file read line by line. */
public interface OperatorSource {
    /** Streams the operators in trace order; returns how many were emitted. */
    long forEach(Consumer<Operator> out);

    static OperatorSource of(Workload workload, Set<Phase> phases) {
        return out -> Lowering.lower(workload, phases, out);
    }

    /** A fixed list of operators (tests, validation, benchmarks). */
    static OperatorSource of(Operator... ops) {
        return out -> {
            for (Operator op : ops) {
                out.accept(op);
            }
            return ops.length;
        };
    }

    static OperatorSource ofTrace(Path trace, Set<Phase> phases) {
        return out -> {
            long[] kept = {0};
            TraceCsv.read(trace, op -> {
                if (phases.contains(op.phase())) {
                    kept[0]++;
                    out.accept(op);
                }
            });
            return kept[0];
        };
    }

    /** Parses {@code --phase}: prefill, decode or all. */
    static Set<Phase> phases(String text) {
        return switch (text) {
            case "all" -> EnumSet.allOf(Phase.class);
            case "prefill" -> EnumSet.of(Phase.PREFILL);
            case "decode" -> EnumSet.of(Phase.DECODE);
            default -> throw new dev.rafter.config.InputException("--phase: expected prefill, decode or all, got '"
                + text + "'");
        };
    }
}

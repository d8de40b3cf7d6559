package dev.rafter.workload;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;
import java.util.function.Consumer;

/** Where operators come from: a workload lowered on the fly, or a trace file read line by line. */
public interface OperatorSource {
    /** Streams the operators in trace order; returns how many were emitted. */
    long forEach(Consumer<Operator> out);

    /**
     * The operators by shape and count ({@link Lowering#repeated}: a lowered workload's layers once each where they
     * are alike), for a pass that needs every operator's shape but not each operator; returns how many operators
     * {@link #forEach} emits, or -1, emitting nothing, where the source has no shorter form (the default).
     */
    default long repeated(java.util.function.ObjLongConsumer<Operator> out) {
        return -1;
    }

    static OperatorSource of(Workload workload, Set<Phase> phases) {
        return new OperatorSource() {
            @Override
            public long forEach(Consumer<Operator> out) {
                return Lowering.lower(workload, phases, out);
            }

            @Override
            public long repeated(java.util.function.ObjLongConsumer<Operator> out) {
                return Lowering.repeated(workload, phases, out);
            }
        };
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

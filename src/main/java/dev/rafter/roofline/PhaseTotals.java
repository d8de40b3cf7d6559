package dev.rafter.roofline;

import dev.rafter.workload.Operator;
import dev.rafter.workload.Phase;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;

/** Roofline totals per phase and per operator name within a phase, accumulated while operators stream by. */
public final class PhaseTotals {
    /** Running sums for one group of operators. */
    public static final class Sum {
        public long ops;
        public double flops;
        public double bytes;
        public double computeS;
        public double memoryS;
        public double rooflineS;
        public long computeBoundOps;

        void add(Roofline.Bound b) {
            ops++;
            flops += b.flops();
            bytes += b.bytes();
            computeS += b.computeS();
            memoryS += b.memoryS();
            rooflineS += b.seconds();
            if (b.computeBound()) {
                computeBoundOps++;
            }
        }
    }

    private final Map<Phase, Sum> phases = new EnumMap<>(Phase.class);
    private final Map<Phase, Map<String, Sum>> byName = new EnumMap<>(Phase.class);
    private final Sum total = new Sum();

    public void add(Operator op, Roofline.Bound b) {
        phases.computeIfAbsent(op.phase(), p -> new Sum()).add(b);
        byName.computeIfAbsent(op.phase(), p -> new LinkedHashMap<>()).computeIfAbsent(op.name(), n -> new Sum())
            .add(b);
        total.add(b);
    }

    public Map<Phase, Sum> phases() {
        return phases;
    }

    public Map<String, Sum> byName(Phase phase) {
        return byName.getOrDefault(phase, Map.of());
    }

    public Sum total() {
        return total;
    }
}

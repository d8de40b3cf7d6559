package dev.rafter.importer;

import dev.rafter.workload.Operator;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Phase;
import dev.rafter.workload.TraceCsv;
import java.nio.file.Path;
import java.util.Set;
import java.util.function.Consumer;

/**
 * A {@code --trace} file in any format Rafter reads, told apart by content ({@link Importers}): Rafter's CSV, a
 * PyTorch profiler (Kineto) trace or a Chakra execution trace. Streams its operators of the chosen phases and, as
 * it goes, records their measured times (an imported trace's kernel times, or the CSV's {@code measured_s}) and,
 * for an imported trace, its coverage.
 */
public final class TraceFile implements OperatorSource {
    private final Path file;
    private final Set<Phase> phases;
    private final TraceImporter importer;
    private final boolean measuredColumn;
    private final MeasuredSeconds measured = new MeasuredSeconds();
    private Coverage coverage;

    public TraceFile(Path file, Set<Phase> phases) {
        this.file = file;
        this.phases = phases;
        this.importer = Importers.detect(file);
        this.measuredColumn = importer == null && TraceCsv.hasMeasuredColumn(file);
    }

    /** The importer's format name, or {@code csv}. */
    public String format() {
        return importer == null ? "csv" : importer.format();
    }

    /** Whether the trace may carry measured times (an imported format, or a CSV with a measured_s column). */
    public boolean carriesMeasuredTimes() {
        return importer != null || measuredColumn;
    }

    /** Measured seconds by op id, filled while the operators stream (NaN where none). */
    public MeasuredSeconds measured() {
        return measured;
    }

    /** The importer's coverage once the operators have streamed; null for a CSV. */
    public Coverage coverage() {
        return coverage;
    }

    @Override
    public long forEach(Consumer<Operator> out) {
        long[] kept = {0};
        if (importer == null) {
            TraceCsv.read(file, op -> {
                if (phases.contains(op.phase())) {
                    kept[0]++;
                    out.accept(op);
                }
            }, (op, t) -> measured.put(op.id(), t));
            return kept[0];
        }
        coverage = importer.read(file, imported -> {
            Operator op = imported.op();
            if (phases.contains(op.phase())) {
                measured.put(op.id(), imported.measuredS());
                kept[0]++;
                out.accept(op);
            }
        });
        return kept[0];
    }

    /** Measured seconds by operator id: dense ids (as importers and lowered traces number them) in an array. */
    public static final class MeasuredSeconds {
        private double[] byId = new double[0];
        private final java.util.HashMap<Long, Double> sparse = new java.util.HashMap<>();
        private long count;

        void put(long id, double seconds) {
            if (Double.isNaN(seconds)) {
                return;
            }
            count++;
            if (id >= 0 && id < (1 << 28)) {
                if (id >= byId.length) {
                    int size = (int) Math.max(id + 1, Math.min(1 << 28, byId.length * 2L + 16));
                    double[] grown = java.util.Arrays.copyOf(byId, size);
                    java.util.Arrays.fill(grown, byId.length, size, Double.NaN);
                    byId = grown;
                }
                byId[(int) id] = seconds;
            } else {
                sparse.put(id, seconds);
            }
        }

        /** The measured time of op {@code id}, or NaN. */
        public double of(long id) {
            if (id >= 0 && id < byId.length) {
                return byId[(int) id];
            }
            Double t = sparse.get(id);
            return t == null ? Double.NaN : t;
        }

        /** Operators with a measured time so far. */
        public long count() {
            return count;
        }
    }
}

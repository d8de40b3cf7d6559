package dev.rafter.cli;

import dev.rafter.workload.OperatorOrder;

import dev.rafter.config.InputException;
import dev.rafter.workload.Capacity;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Phase;
import dev.rafter.workload.Workload;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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

    @Option(names = "--layers", paramLabel = "N",
        description = "run only the first N layers of the workload (sets run.layers; a quick look)")
    Integer layers;

    @Option(names = "--decode-steps", paramLabel = "N",
        description = "run only the first N decode steps of the workload (a quick look; the KV lengths stay those "
            + "of the full run)")
    Integer decodeSteps;

    public Set<Phase> phases() {
        return OperatorSource.phases(phase);
    }

    /** What the operators are, for records that must tell runs apart (e.g. sweep points). */
    public String describe() {
        return (from.workload != null ? "workload " + from.workload : "trace " + from.trace) + ", phase " + phase
            + (layers == null ? "" : ", --layers " + layers) + (decodeSteps == null ? "" : ", --decode-steps "
            + decodeSteps);
    }

    /**
     * The workload with the workload paths of {@code --set} (and a sweep point's {@code --vary} values) applied,
     * then narrowed by {@code --layers} and {@code --decode-steps}; null for {@code --trace}, where those are
     * refused.
     */
    public Workload workload(List<String> sets) {
        if (from.workload == null) {
            if (!sets.isEmpty()) {
                throw new InputException("--set " + sets.get(0) + ": a workload path (run.*, model.*) needs "
                    + "--workload; a trace runs as written");
            }
            if (layers != null || decodeSteps != null) {
                throw new InputException((layers != null ? "--layers" : "--decode-steps") + ": narrows a --workload"
                    + " run; a trace runs as written");
            }
            return null;
        }
        Workload w = Workload.load(from.workload, sets);
        if (layers == null && decodeSteps == null) {
            return w;
        }
        List<String> narrowed = new ArrayList<>(sets);
        if (layers != null) {
            if (layers < 1 || layers > w.model().layers()) {
                throw new InputException("--layers: expected 1.." + w.model().layers() + " (the model's layers), got "
                    + layers);
            }
            narrowed.add("run.layers=" + layers);
        }
        if (decodeSteps != null) {
            if (decodeSteps < 0) {
                throw new InputException("--decode-steps: expected 0 or more, got " + decodeSteps);
            }
            // Decode step s has KV length prompt_tokens + s whatever output_tokens is, so fewer output tokens run
            // exactly the first steps of the full run.
            narrowed.add("run.output_tokens=" + Math.min(w.run().outputTokens(), decodeSteps + 1L));
        }
        return Workload.load(from.workload, narrowed);
    }

    /**
     * The content hash of the operators: the trace file's bytes, or the workload as loaded (so comments do not
     * count, and every --set/--vary value and narrowing does), with the phases; sweep points are keyed by it.
     */
    public String contentHash(List<String> sets) {
        Workload w = workload(sets);
        // run.order came after saved points: a strict run keeps the text (and the key) it had before it.
        String what = w != null
            ? "workload " + dev.rafter.sweep.SweepKey.sha256(w.run().order() == OperatorOrder.STRICT
                ? w.toString().replace(", order=STRICT", "") : w.toString())
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

    /** What runs, in a chart title: the workload's model name, or the trace's file name. */
    public String subject(List<String> sets) {
        Workload w = workload(sets);
        return w != null ? w.model().name() : from.trace.getFileName().toString();
    }

    /** The operators, with no capacity check (roofline). */
    public OperatorSource source(List<String> sets) {
        Workload w = workload(sets);
        return w != null ? source(w) : new dev.rafter.importer.TraceFile(checkedTrace(), phases());
    }

    private OperatorSource source(Workload w) {
        dev.rafter.sim.RunLimits.check(w);
        return OperatorSource.of(w, phases());
    }

    /**
     * The operators of a run on {@code hw}: a workload that does not fit {@code memory.capacity_gib} per device
     * is refused unless {@code allowOvercommit}. {@code sequences} is the batch (0 for a trace: not known).
     */
    public Run run(dev.rafter.hw.HardwareSpec hw, List<String> sets, boolean allowOvercommit) {
        Workload w = workload(sets);
        if (w == null) {
            return new Run(new dev.rafter.importer.TraceFile(checkedTrace(), phases()), null, null);
        }
        if (!allowOvercommit && hw.memoryTiers().size() == 1) {
            Capacity.check(w, phases(), hw.memory().capacityGib());
        }
        // One tier: checked above, as before tiers existed; several: per tier, by the placement.
        dev.rafter.mapping.TierPlacement placement = dev.rafter.mapping.TierPlacement.of(hw, w.placement(),
            Capacity.of(w, phases()), allowOvercommit || hw.memoryTiers().size() == 1);
        return new Run(source(w), w, placement);
    }

    /**
     * The operators of a run, the workload they come from and where its tensors lie on the device (both null for
     * a trace: everything on the first tier).
     */
    public record Run(OperatorSource operators, Workload workload, dev.rafter.mapping.TierPlacement placement) {
        /** Where the tensors lie, for the simulation. */
        public dev.rafter.mapping.TensorPlacement.Policy policy() {
            return placement == null ? dev.rafter.mapping.TensorPlacement.FIRST_TIER : placement;
        }

        /** Sequences per batch, 0 when not known (a trace). */
        public int sequences() {
            return workload == null ? 0 : workload.run().batch();
        }
    }
}

package dev.rafter.hw;

import static dev.rafter.config.Check.intIn;
import static dev.rafter.config.Check.numberIn;

import dev.rafter.config.InputException;
import dev.rafter.config.Section;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * The host that launches the device's kernels, from a hardware file's {@code host:} section: which framework path
 * issues them ({@code framework}), how many launches may wait in the stream ({@code queue_depth}) and what each
 * call costs the CPU ({@code costs}, a table under {@code models/host/}). {@code none} (the default) models no host:
 * kernels start as soon as the device is free, as before the host existed.
 */
public record HostModel(Framework framework, int queueDepth, Costs costs) {
    /** How the host issues kernels. */
    public enum Framework {
        /** no host: the device never waits for a launch */
        NONE,
        /** PyTorch eager: per operator the Python and dispatcher cost, per kernel a driver launch */
        EAGER,
        /** torch.compile: guards per compiled call (a forward step), per kernel a driver launch */
        COMPILED,
        /** a CUDA-graph replay per forward step: a fixed replay cost plus a small cost per node */
        GRAPH,
        /** a serving engine: per step a synchronisation (the sampled tokens), scheduling and sampling, then a graph */
        SERVING;

        public String key() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * Launches that may be issued and not yet finished: 1024, assumed (the CUDA runtime's pending-launch queue is
     * commonly described as about a thousand entries; no published measurement found). It only matters when
     * the host runs that far ahead of the device.
     */
    public static final int DEFAULT_QUEUE_DEPTH = 1024;

    public static final HostModel NONE = new HostModel(Framework.NONE, DEFAULT_QUEUE_DEPTH, null);

    public HostModel {
        intIn("queue_depth", queueDepth, 2, 1 << 20);
        if (framework != Framework.NONE && costs == null) {
            throw new InputException("costs: required when framework is " + framework.key()
                + " (a host cost table, e.g. costs: ../host/pytorch-cuda.yaml)");
        }
    }

    /** Whether a host is modelled. */
    public boolean on() {
        return framework != Framework.NONE;
    }

    /** CPU time before a forward step's first kernel (a step is a run of operators of one phase and step), ns. */
    public double perStepNs(int sequences) {
        return switch (framework) {
            case NONE, EAGER -> 0;
            case COMPILED -> costs.compiledCallNs();
            case GRAPH -> costs.graphLaunchNs();
            case SERVING -> costs.servingStepNs() + sequences * costs.servingSequenceNs() + costs.graphLaunchNs();
        };
    }

    /** Whether the host waits for the device and a synchronisation round trip before each step. */
    public boolean syncsEachStep() {
        return framework == Framework.SERVING;
    }

    /** CPU time per operator before its first kernel (the framework's per-call work), ns. */
    public double perOperatorNs(String kind) {
        return framework == Framework.EAGER ? costs.eagerOpNs(kind) : 0;
    }

    /** CPU time to issue one kernel, ns. */
    public double perKernelNs() {
        return switch (framework) {
            case NONE -> 0;
            case EAGER -> costs.launchNs();
            case COMPILED -> costs.launchNs() + costs.compiledKernelNs();
            case GRAPH, SERVING -> costs.graphNodeNs();
        };
    }

    /** As a record prints, for sweep keys (which hash the hardware's text). */
    @Override
    public String toString() {
        return "HostModel[framework=" + framework.key() + ", queueDepth=" + queueDepth + ", costs=" + costs + "]";
    }

    /**
     * A host cost table ({@code models/host/*.yaml}), every figure in ns of CPU time. {@code eagerOpNsByKind}:
     * per-operator-kind eager costs (key: the kind, e.g. {@code gemm}); kinds not listed cost {@code eagerOpNs}.
     */
    public record Costs(String name, double launchNs, double syncNs, double eagerOpNs,
                        Map<String, Double> eagerOpNsByKind, double compiledCallNs, double compiledKernelNs,
                        double graphLaunchNs, double graphNodeNs, double servingStepNs, double servingSequenceNs,
                        String file) {
        public Costs {
            dev.rafter.config.Check.nonBlank("name", name);
            numberIn("launch_ns", launchNs, 0, 1e9, false);
            numberIn("sync_ns", syncNs, 0, 1e9, false);
            numberIn("eager.op_ns", eagerOpNs, 0, 1e9, false);
            eagerOpNsByKind = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(eagerOpNsByKind));
            for (var e : eagerOpNsByKind.entrySet()) {
                numberIn("eager.by_kind." + e.getKey(), e.getValue(), 0, 1e9, false);
            }
            numberIn("compiled.call_ns", compiledCallNs, 0, 1e9, false);
            numberIn("compiled.kernel_ns", compiledKernelNs, 0, 1e9, false);
            numberIn("graph.launch_ns", graphLaunchNs, 0, 1e9, false);
            numberIn("graph.node_ns", graphNodeNs, 0, 1e9, false);
            numberIn("serving.step_ns", servingStepNs, 0, 1e10, false);
            numberIn("serving.sequence_ns", servingSequenceNs, 0, 1e9, false);
        }

        /** The eager per-operator cost of an operator kind (its key), ns. */
        public double eagerOpNs(String kind) {
            Double v = eagerOpNsByKind.get(kind);
            return v == null ? eagerOpNs : v;
        }

        /** Reads a cost table strictly. */
        public static Costs load(Path file) {
            return Section.read(file, Costs::read);
        }

        static Costs read(Section s) {
            String name = s.string("name");
            double launch = s.number("launch_ns");
            double sync = s.number("sync_ns");
            Section eager = s.section("eager");
            double op = eager.number("op_ns");
            Map<String, Double> byKind = new java.util.TreeMap<>();
            if (eager.has("by_kind")) {
                Section k = eager.section("by_kind");
                for (String kind : k.keys()) {
                    byKind.put(kind, k.number(kind));
                }
            }
            Section compiled = s.section("compiled");
            double call = compiled.number("call_ns");
            double kernel = compiled.number("kernel_ns");
            Section graph = s.section("graph");
            double replay = graph.number("launch_ns");
            double node = graph.number("node_ns");
            Section serving = s.section("serving");
            double step = serving.number("step_ns");
            double sequence = serving.number("sequence_ns");
            return s.build(() -> new Costs(name, launch, sync, op, byKind, call, kernel, replay, node, step,
                sequence, s.file()));
        }

        /** As a record prints without the file's path (sweep keys should not depend on where a checkout lies). */
        @Override
        public String toString() {
            return "Costs[name=" + name + ", launchNs=" + launchNs + ", syncNs=" + syncNs + ", eagerOpNs=" + eagerOpNs
                + ", eagerOpNsByKind=" + eagerOpNsByKind + ", compiledCallNs=" + compiledCallNs
                + ", compiledKernelNs=" + compiledKernelNs + ", graphLaunchNs=" + graphLaunchNs + ", graphNodeNs="
                + graphNodeNs + ", servingStepNs=" + servingStepNs + ", servingSequenceNs=" + servingSequenceNs + "]";
        }
    }
}

package dev.rafter.workload;

import dev.rafter.config.Check;
import dev.rafter.config.InputException;
import dev.rafter.config.Section;
import dev.rafter.hw.DataType;
import java.nio.file.Path;

/**
 * A transformer, how it is run and where its tensors lie ({@code placement:}); loaded strictly from
 * {@code models/workloads/*.yaml}.
 */
public record Workload(TransformerSpec model, RunSpec run, Placement placement, Parallelism parallelism) {

    /**
     * Parallelism beyond the tensor-parallel shards, which only a system ({@code simulate --system}) runs:
     * pipeline parallelism ({@code run.pipeline_parallel}, {@code run.micro_batches}: the layers split over
     * {@code stages} devices in turn, each step's batch cut into {@code microBatches} that follow one another through
     * the stages) and data parallelism ({@code run.data_parallel}: {@code replicas} copies of the whole, each
     * running {@code run.batch} sequences, sharing the fabric) and expert parallelism ({@code run.expert_parallel}:
     * a mixture of experts' experts spread over {@code experts} devices, each serving {@code run.batch / experts} of
     * the sequences; see {@link Lowering}).
     */
    public record Parallelism(int stages, int microBatches, int replicas, int experts) {
        /** None: one stage, the whole batch at once, one replica, every expert on each device. */
        public static final Parallelism NONE = new Parallelism(1, 1, 1, 1);

        public Parallelism {
            Check.intIn("pipeline_parallel", stages, 1, 4096);
            Check.intIn("micro_batches", microBatches, 1, 1 << 20);
            Check.intIn("data_parallel", replicas, 1, 4096);
            Check.intIn("expert_parallel", experts, 1, 4096);
        }

        public Parallelism(int stages, int microBatches, int replicas) {
            this(stages, microBatches, replicas, 1);
        }

        /** As before expert parallelism existed when there is none: sweep keys hash this text. */
        @Override
        public String toString() {
            return "Parallelism[stages=" + stages + ", microBatches=" + microBatches + ", replicas=" + replicas
                + (experts == 1 ? "" : ", experts=" + experts) + "]";
        }
    }

    /** A workload on one device's worth of parallelism (tensor-parallel shards at most). */
    public Workload(TransformerSpec model, RunSpec run, Placement placement) {
        this(model, run, placement, Parallelism.NONE);
    }

    /**
     * The memory tier (by name) of the weights, the KV cache and the activations; null for a role the file leaves
     * out, which goes to the first tier that has room for it.
     */
    public record Placement(String weights, String kvCache, String activations) {
        /** Nothing named: every role on the first tier that fits. */
        public static final Placement FIRST_FIT = new Placement(null, null, null);
    }

    /** A workload whose tensors go to the first tier that fits. */
    public Workload(TransformerSpec model, RunSpec run) {
        this(model, run, Placement.FIRST_FIT);
    }

    /** As a record prints, without a placement that names nothing: sweep keys hash this text. */
    @Override
    public String toString() {
        return "Workload[model=" + model + ", run=" + run
            + (placement.equals(Placement.FIRST_FIT) ? "" : ", placement=" + placement)
            + (parallelism.equals(Parallelism.NONE) ? "" : ", parallelism=" + parallelism) + "]";
    }

    public Workload {
        placement = placement == null ? Placement.FIRST_FIT : placement;
        parallelism = parallelism == null ? Parallelism.NONE : parallelism;
        if (parallelism.stages() > run.layers()) {
            throw new InputException("run.pipeline_parallel: " + parallelism.stages() + " stages for "
                + run.layers() + " layers (at least one layer per stage)");
        }
        if (run.batch() % parallelism.microBatches() != 0) {
            throw new InputException("run.micro_batches: " + parallelism.microBatches() + " micro-batches do not "
                + "divide the batch of " + run.batch() + " sequences");
        }
        int ep = parallelism.experts();
        if (ep > 1 && model.experts() % ep != 0) {
            throw new InputException("run.expert_parallel: " + model.experts() + " experts (model.experts) cannot be"
                + " spread evenly over " + ep + " devices");
        }
        if (ep > 1 && model.routing() != TransformerSpec.Routing.UNIFORM) {
            throw new InputException("run.expert_parallel: model.routing " + model.routing().name()
                .toLowerCase(java.util.Locale.ROOT) + " is not modelled with experts spread over devices (uniform is)");
        }
        if (run.batch() % ((long) parallelism.microBatches() * ep) != 0) {
            throw new InputException("run.expert_parallel: " + ep + " devices x " + parallelism.microBatches()
                + " micro-batches do not divide the batch of " + run.batch() + " sequences (each device serves its"
                + " share)");
        }
        int tp = run.tensorParallel();
        if (model.heads() % tp != 0) {
            throw new InputException("run.tensor_parallel: " + model.heads() + " heads cannot be split over " + tp
                + " devices");
        }
        if (model.ffnDim() % tp != 0) {
            throw new InputException("run.tensor_parallel: ffn_dim " + model.ffnDim() + " is not divisible by " + tp);
        }
        if (model.kvHeads() % tp != 0 && tp % model.kvHeads() != 0) {
            throw new InputException("run.tensor_parallel: " + model.kvHeads() + " KV heads can be neither split nor"
                + " replicated over " + tp + " devices");
        }
        if (run.layers() > model.layers()) {
            throw new InputException("run.layers: " + run.layers() + " exceeds the model's " + model.layers()
                + " layers");
        }
        if (run.promptTokens() + run.outputTokens() > model.contextLength()) {
            throw new InputException("run.prompt_tokens: prompt " + run.promptTokens() + " + output "
                + run.outputTokens() + " tokens exceed the context length " + model.contextLength());
        }
        // Derived shapes must stay within what a trace row may hold (TraceCsv's bounds), so no count overflows.
        long tokens = (long) run.batch() * run.promptTokens();
        long scoreRows = (long) run.promptTokens() * (model.heads() / model.kvHeads());
        if (scoreRows > TraceCsv.MAX_DIMENSION) {
            throw new InputException("run.prompt_tokens: prompt_tokens " + run.promptTokens() + " x "
                + model.heads() / model.kvHeads() + " query heads per KV head = " + scoreRows
                + " rows of the attention scores is beyond the supported " + TraceCsv.MAX_DIMENSION);
        }
        if (tokens > TraceCsv.MAX_DIMENSION) {
            throw new InputException("run.batch: batch " + run.batch() + " x prompt_tokens " + run.promptTokens()
                + " = " + tokens + " tokens is beyond the supported " + TraceCsv.MAX_DIMENSION
                + " rows of one GEMM");
        }
        long kvLength = (long) run.promptTokens() + run.outputTokens();
        long heads = model.heads() / tp;
        long widest = Math.max(Math.max(model.dModel(), model.ffnDim() / tp),
            Math.max((long) model.expertsPerToken() * model.dModel(), heads * kvLength));
        if (widest > TraceCsv.MAX_ELEMENTS / tokens) {
            throw new InputException("run.batch: " + tokens + " tokens x " + widest + " elements per token is beyond"
                + " the supported " + TraceCsv.MAX_ELEMENTS + " elements of one operator");
        }
        if (kvLength > TraceCsv.MAX_DIMENSION) {
            throw new InputException("run.output_tokens: a KV length of " + kvLength + " is beyond the supported "
                + TraceCsv.MAX_DIMENSION);
        }
    }

    /** Operators a full run lowers to (prefill and every decode step), for the limits checked before a run. */
    public long operatorCount() {
        long attention = run.attention() == RunSpec.Attention.FLASH ? 1 : 3;
        long perLayer = 13L + attention + (model.experts() > 1 ? 3L + 5L * model.experts() : 3L);
        long perPass = perLayer * run.layers() + 2;
        return perPass * (1L + run.decodeSteps());
    }

    public static Workload load(Path file) {
        return load(file, java.util.List.of());
    }

    /** The top-level keys of a workload file; a {@code --set}/{@code --vary} path starting with one goes here. */
    public static final java.util.List<String> SECTIONS = java.util.List.of("run", "model", "placement");

    /**
     * Whether an assignment {@code path=value} (or a bare path) names a workload field: its first segment is
     * {@code run}, {@code model} or {@code placement}; every other path belongs to the hardware file.
     */
    public static boolean isWorkloadPath(String assignment) {
        int eq = assignment.indexOf('=');
        String path = (eq < 0 ? assignment : assignment.substring(0, eq)).trim();
        int dot = path.indexOf('.');
        return SECTIONS.contains(dot < 0 ? path : path.substring(0, dot));
    }

    /** Loads a workload with {@code --set} overrides of its fields (e.g. {@code run.batch=16}) applied first. */
    public static Workload load(Path file, java.util.List<String> overrides) {
        Section s = Section.load(file).override(overrides);
        Section m = s.section("model");
        TransformerSpec model = m.build(() -> new TransformerSpec(m.string("name"), m.int32("layers"),
            m.int32("d_model"), m.int32("heads"), m.int32("kv_heads", m.int32("heads")),
            m.int32("ffn_dim"), m.choice("ffn", TransformerSpec.FfnKind.class),
            m.choice("norm", TransformerSpec.NormKind.class), m.int32("vocab"),
            m.int32("experts", 1), m.int32("experts_per_token", 1), m.bool("bias", false),
            m.bool("learned_positions", false), m.int32("context_length"),
            m.bool("tied_embeddings", false),
            m.choice("routing", TransformerSpec.Routing.class, TransformerSpec.Routing.UNIFORM),
            m.integer("routing_seed", 0),
            m.choice("expert_kernel", TransformerSpec.ExpertKernel.class, TransformerSpec.ExpertKernel.GROUPED)));
        Section r = s.section("run");
        RunSpec run = r.build(() -> new RunSpec(r.int32("batch"), r.int32("prompt_tokens"),
            r.int32("output_tokens"), r.int32("tensor_parallel", 1),
            r.choice("data_type", DataType.class, DataType.FP16), r.int32("layers", model.layers()),
            r.choice("attention", RunSpec.Attention.class, RunSpec.Attention.FLASH),
            r.choice("kv_data_type", DataType.class, r.choice("data_type", DataType.class, DataType.FP16)),
            r.choice("weight_data_type", DataType.class, r.choice("data_type", DataType.class, DataType.FP16)),
            r.choice("order", OperatorOrder.class, OperatorOrder.STRICT)));
        Placement placement = Placement.FIRST_FIT;
        if (s.has("placement")) {
            Section p = s.section("placement");
            placement = new Placement(p.string("weights", null), p.string("kv_cache", null),
                p.string("activations", null));
        }
        Parallelism parallelism = r.build(() -> new Parallelism(r.int32("pipeline_parallel", 1),
            r.int32("micro_batches", 1), r.int32("data_parallel", 1), r.int32("expert_parallel", 1)));
        Placement where = placement;
        Workload w = s.build(() -> new Workload(model, run, where, parallelism));
        s.finish();
        return w;
    }

    /** Query heads per device. */
    public int headsPerDevice() {
        return model.heads() / run.tensorParallel();
    }

    /** KV heads per device: split when divisible, else each device keeps one replicated KV head. */
    public int kvHeadsPerDevice() {
        int tp = run.tensorParallel();
        return model.kvHeads() % tp == 0 ? model.kvHeads() / tp : 1;
    }

    public String describe() {
        double p = model.parameters();
        return p >= 1e9 ? String.format(java.util.Locale.ROOT, "%s (%.2f B parameters)", model.name(), p / 1e9)
            : String.format(java.util.Locale.ROOT, "%s (%.2f M parameters)", model.name(), p / 1e6);
    }
}

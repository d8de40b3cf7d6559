package dev.rafter.workload;

import dev.rafter.config.InputException;
import java.util.Locale;
import java.util.Set;

/**
 * What one device must hold for a workload run, under tensor parallelism: the weights of the layers run (plus the
 * embeddings, final norm and LM head when the whole model runs), the KV cache at the final length, and the live
 * activations. Pure arithmetic over the workload; {@link #check} compares it with {@code memory.capacity_gib}.
 *
 * <p>Weights: every parameter is taken as split evenly over the tensor-parallel devices (Megatron-LM splits the
 * attention and FFN weights and the vocabulary; the norm scales it replicates are below 0.01% of the total).
 * KV cache: K and V of every layer run, for every sequence, at prompt + output tokens when the run decodes (prompt
 * tokens when it only prefills), for the KV heads this device keeps. Activations: the input and output of the
 * largest operator of one pass (prefill when it runs, else one decode step), as a framework frees activations layer
 * by layer; the attention scores count only where they are materialised ({@code attention: unfused}). Weights in
 * {@code weight_data_type}, the KV cache in {@code kv_data_type}, activations in {@code data_type}. Under expert
 * parallelism ({@code run.expert_parallel} = P) a device holds E/P of each layer's experts and serves batch / P of
 * the sequences (see {@link Lowering}).
 */
public record Capacity(int tensorParallel, long weightBytes, long kvCacheBytes, long activationBytes,
                       long finalLength) {
    private static final double GIB = 1024.0 * 1024 * 1024;

    /** The sum (kept in a double: adversarial shapes may exceed a long's bytes). */
    public double totalBytes() {
        return (double) weightBytes + kvCacheBytes + activationBytes;
    }

    /** The footprint per device of the run as configured. */
    public static Capacity of(Workload w, Set<Phase> phases) {
        return of(w, phases, w.run().tensorParallel());
    }

    /** The footprint per device if the same run were split over {@code tp} devices. */
    public static Capacity of(Workload w, Set<Phase> phases, int tp) {
        TransformerSpec m = w.model();
        RunSpec run = w.run();
        long bytes = run.dataType().bytes();
        long weightBytes = run.weightDataType().bytes();
        long kvBytes = run.kvDataType().bytes();
        boolean whole = run.layers() == m.layers();
        int ep = w.parallelism().experts();
        double layerParams = (double) run.layers() * m.parametersPerLayer();
        if (ep > 1) {
            layerParams -= (double) run.layers() * (m.experts() - m.experts() / ep) * m.parametersPerExpert();
        }
        long batch = run.batch() / ep;
        double outside = whole ? m.parameters() - (double) m.layers() * m.parametersPerLayer() : 0;
        long weights = saturated(Math.ceil((layerParams + outside) * weightBytes / tp));

        boolean decode = phases.contains(Phase.DECODE);
        long finalLength = (long) run.promptTokens() + (decode ? run.outputTokens() : 0);
        long kvHeads = kvHeadsPerDevice(m, tp);
        long hd = m.headDim();
        long kv = saturated(2.0 * run.layers() * batch * finalLength * kvHeads * hd * kvBytes);

        boolean prefill = phases.contains(Phase.PREFILL);
        long query = prefill ? run.promptTokens() : 1;
        long kvLength = prefill ? run.promptTokens() : (long) run.promptTokens() + run.outputTokens() - 1;
        double tokens = (double) batch * query;
        double heads = m.heads() / tp;
        double ffn = m.ffnDim() / tp;
        double largest = Math.max(tokens * m.dModel(), tokens * (heads + 2 * kvHeads) * hd);
        if (run.attention() == RunSpec.Attention.UNFUSED) {
            largest = Math.max(largest, batch * heads * query * kvLength); // the materialised scores
        }
        double ffnWidth = ffn * (m.ffn() == TransformerSpec.FfnKind.SWIGLU ? 2 : 1) * m.expertsPerToken();
        largest = Math.max(largest, tokens * ffnWidth);
        if (whole) {
            largest = Math.max(largest, batch * (double) ceilDiv(m.vocab(), tp));
        }
        long activations = saturated(2.0 * largest * bytes);
        return new Capacity(tp, weights, kv, activations, finalLength);
    }

    /**
     * Rejects a run that does not fit {@code capacityGib} per device, saying what it needs and the smallest
     * tensor-parallel degree that would hold it.
     */
    public static void check(Workload w, Set<Phase> phases, double capacityGib) {
        Capacity need = of(w, phases);
        double capacity = capacityGib * GIB;
        if (need.totalBytes() <= capacity) {
            return;
        }
        int fits = devicesThatFit(w, phases, capacity);
        String advice = fits > 0
            ? String.format(Locale.ROOT, "%d devices (run.tensor_parallel=%d) would hold it, %s per device",
                fits, fits, gib(of(w, phases, fits).totalBytes()))
            : "no tensor-parallel split of its " + w.model().heads() + " heads holds it";
        throw InputException.located(String.format(Locale.ROOT, "memory.capacity_gib: %s on %d device%s needs %s per"
                + " device (weights %s + KV cache %s at %d tokens + activations %s), beyond the %s of"
                + " memory.capacity_gib; %s, or pass --allow-overcommit", w.model().name(), w.run().tensorParallel(),
            w.run().tensorParallel() == 1 ? "" : "s", gib(need.totalBytes()), gib(need.weightBytes()),
            gib(need.kvCacheBytes()), need.finalLength(), gib(need.activationBytes()), gib(capacity), advice));
    }

    /** The smallest tensor-parallel degree the model can be split over whose footprint fits; -1 if none. */
    public static int devicesThatFit(Workload w, Set<Phase> phases, double capacityBytes) {
        TransformerSpec m = w.model();
        for (int tp = 1; tp <= m.heads(); tp++) {
            boolean splits = m.heads() % tp == 0 && m.ffnDim() % tp == 0
                && (m.kvHeads() % tp == 0 || tp % m.kvHeads() == 0);
            if (splits && of(w, phases, tp).totalBytes() <= capacityBytes) {
                return tp;
            }
        }
        return -1;
    }

    /** KV heads per device: split when divisible, else one replicated KV head (as {@link Workload} keeps). */
    private static long kvHeadsPerDevice(TransformerSpec m, int tp) {
        return m.kvHeads() % tp == 0 ? m.kvHeads() / tp : 1;
    }

    private static String gib(double bytes) {
        return String.format(Locale.ROOT, "%.1f GiB", bytes / GIB);
    }

    private static long saturated(double bytes) {
        return bytes >= Long.MAX_VALUE ? Long.MAX_VALUE : (long) bytes;
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}

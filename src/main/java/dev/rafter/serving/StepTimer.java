package dev.rafter.serving;

import dev.rafter.config.InputException;
import dev.rafter.energy.EnergyAccount;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.sim.OperatorTimer;
import dev.rafter.sim.Simulation;
import dev.rafter.sim.StreamScan;
import dev.rafter.sim.component.Catalogue;
import dev.rafter.sim.fabric.FabricCollectives;
import dev.rafter.workload.Lowering;
import dev.rafter.workload.Operator;
import dev.rafter.workload.RunSpec;
import dev.rafter.workload.StepLowering;
import dev.rafter.workload.TransformerSpec;
import dev.rafter.workload.Workload;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The time of a serving step on the hardware model, exactly as {@code simulate} runs the step: under the strict
 * order every operator starts alone on a settled device, so its duration (its kernels' dispatch included) is a
 * function of its shape and of what it finds in the global buffer from the operators before it in the step (on a
 * device whose L2 outlives a kernel: {@link StreamScan}), and a step takes the sum of its operators' durations.
 * Each step starts with the buffer empty: what the step before left there, the host's sampling and scheduling in
 * between, is not carried over. Durations are kept per operator shape and what it finds, and per step composition;
 * only operators not seen before are simulated ({@link OperatorTimer}). Under {@link StepTiming#INTERPOLATED} the
 * layers' time comes from {@link StepInterpolation} instead (an approximation); the operators outside the layers
 * (final norm, LM head) stay exact.
 *
 * <p>A step's dynamic energy is kept the same way: each operator shape's, from the counts its simulation left
 * (as {@code simulate} charges an operator: {@link EnergyAccount}, at the device's voltage), summed over the step
 * and, since the lowering is one device's share, times the group's {@code run.tensor_parallel} devices; a collective
 * that crosses a system's fabric adds its links' energy instead. Static power is not part of a step: it is drawn
 * over the whole serving span, idle or not (the caller's {@link #staticW}).
 */
public final class StepTimer {
    /**
     * What a step (or an operator, or a part of a step) takes: its time, the dynamic energy its devices spend
     * (every device of the tensor-parallel group, and the fabric's links) and the FLOPs they deliver (as {@code
     * simulate} counts them: the roofline bound's). Energy is kept in whole femtojoules, as time in picoseconds, so
     * that sums do not depend on their order: a step summed operator by operator and the same step summed in parts
     * (as {@link StepInterpolation} adds a layer's parts) are equal to the last digit. Energy is 0 on a device
     * without energy tables.
     */
    public record Cost(long ps, long femtojoules, double flops) {
        static final Cost NONE = new Cost(0, 0, 0);

        /** Femtojoules in a joule. */
        static final double FJ_PER_J = 1e15;

        public double joules() {
            return femtojoules / FJ_PER_J;
        }

        Cost plus(Cost o) {
            return new Cost(ps + o.ps, femtojoules + o.femtojoules, flops + o.flops);
        }

        Cost times(long n) {
            return new Cost(ps * n, femtojoules * n, flops * n);
        }
    }

    /** Step compositions kept (a few hundred bytes each); the least recently used go first. */
    private static final int STEP_ENTRIES = 200_000;

    private final Workload workload;
    private final HardwareSpec hw;
    /** Where collectives run on a system's fabric; null: on the device's own link model. */
    private final FabricGroup fabric;
    private final boolean stepsRepeat;
    /**
     * Whether the global buffer keeps what one operator leaves for the next: then a layer's operators find there what
     * the layer before left, and the first layer (after an empty buffer) differs from the rest.
     */
    private final boolean bufferKept;
    /** The workload as given: lowered whole where the lowered layers do not stand for the rest. */
    private final Workload whole;
    /**
     * Layers lowered for a step, standing for all it runs: one where the buffer keeps nothing (every layer takes the
     * same time), two where it keeps results (the second stands for every later layer once the buffer settles);
     * 0: all of them (random routing lowers each layer differently).
     */
    private final int layersLowered;
    /** Layers a step runs. */
    private final int layersRun;
    private final Map<Simulation.ReuseKey, Cost> operatorCost = new HashMap<>();
    private final Map<List<StepLowering.Group>, Cost> stepCost = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<List<StepLowering.Group>, Cost> eldest) {
            return size() > STEP_ENTRIES;
        }
    };
    private long operatorLookups;
    private long operatorHits;
    private long steps;
    private long stepHits;
    private final StepTiming timing;
    /** Null under exact timing. */
    private final StepInterpolation interpolation;
    /** One device's energy account; null on a device without energy tables (no energy kept). */
    private final EnergyAccount energy;
    /** Devices whose share the lowering is: the tensor-parallel group. */
    private final int devices;

    public StepTimer(HardwareSpec hw, Workload workload) {
        this(hw, workload, null);
    }

    /** Steps of a tensor-parallel group of a system: its collectives timed on the fabric ({@code fabric}). */
    public StepTimer(HardwareSpec hw, Workload workload, FabricGroup fabric) {
        this(hw, workload, fabric, StepTiming.EXACT);
    }

    /** Steps timed by {@code timing}; interpolation needs flash attention and the same routing every step. */
    public StepTimer(HardwareSpec hw, Workload workload, FabricGroup fabric, StepTiming timing) {
        this.hw = hw;
        this.timing = timing;
        this.fabric = fabric;
        this.energy = hw.energy() == null ? null : new EnergyAccount(hw, hw.energy(), Catalogue.energyUses(hw));
        this.devices = workload.run().tensorParallel();
        // Random MoE routing draws from the step number and the layer: the same composition lowers differently
        // each step and each layer. Otherwise every layer lowers to the same operators, and where the buffer keeps
        // nothing between operators they also take the same time: one layer (with the LM head when the whole model
        // runs) is lowered and its time counted once per layer run; where it keeps results, two.
        this.stepsRepeat = workload.model().experts() == 1
            || workload.model().routing() == TransformerSpec.Routing.UNIFORM;
        this.bufferKept = hw.globalBuffer().keepsContents();
        this.whole = workload;
        this.layersRun = workload.run().layers();
        int standIn = bufferKept ? 2 : 1;
        this.layersLowered = stepsRepeat && layersRun > standIn ? standIn : 0;
        this.workload = layersLowered > 0 ? firstLayers(workload, layersLowered) : workload;
        if (timing == StepTiming.INTERPOLATED && (!stepsRepeat
                || workload.run().attention() != RunSpec.Attention.FLASH)) {
            throw new InputException("--step-timing interpolated: needs run.attention flash and routing that is the"
                + " same every step (uniform or no experts); use --step-timing exact");
        }
        this.interpolation = timing == StepTiming.INTERPOLATED
            ? new StepInterpolation((groups, counted) -> priced(0, groups, 0, counted)) : null;
    }

    /** The workload cut to its first {@code n} layers, keeping the final norm and LM head when the whole model runs. */
    private static Workload firstLayers(Workload w, int n) {
        TransformerSpec m = w.model();
        RunSpec r = w.run();
        boolean whole = r.layers() == m.layers();
        TransformerSpec model = whole ? new TransformerSpec(m.name(), n, m.dModel(), m.heads(), m.kvHeads(),
            m.ffnDim(), m.ffn(), m.norm(), m.vocab(), m.experts(), m.expertsPerToken(), m.bias(),
            m.learnedPositions(), m.contextLength(), m.tiedEmbeddings(), m.routing(), m.routingSeed(),
            m.expertKernel()) : m;
        return new Workload(model, new RunSpec(r.batch(), r.promptTokens(), r.outputTokens(), r.tensorParallel(),
            r.dataType(), n, r.attention(), r.kvDataType(), r.weightDataType(), r.order()));
    }

    /**
     * Picoseconds the step takes: {@code groups} (in a canonical order, so equal compositions meet in the memo)
     * with {@code emitting} sequences through the LM head; {@code step} numbers it.
     */
    public long stepPs(int step, List<StepLowering.Group> groups, long emitting) {
        return step(step, groups, emitting).ps();
    }

    /** The time, dynamic energy and FLOPs of the step (see {@link #stepPs}). */
    public Cost step(int step, List<StepLowering.Group> groups, long emitting) {
        steps++;
        // Interpolated steps cost a few look-ups; a memo of their compositions would only hold heap.
        List<StepLowering.Group> key = stepsRepeat && interpolation == null ? withEmitting(groups, emitting) : null;
        if (key != null) {
            Cost known = stepCost.get(key);
            if (known != null) {
                stepHits++;
                return known;
            }
        }
        if (interpolation != null) {
            return interpolation.layers(groups, counted -> priced(step, groups, emitting, counted))
                .plus(priced(step, groups, emitting, StepTimer::outsideLayers));
        }
        Cost total = priced(step, groups, emitting, op -> true);
        if (key != null) {
            stepCost.put(key, total);
        }
        return total;
    }

    /** The groups with the emitting count appended as a pseudo group (the memo key). */
    private static List<StepLowering.Group> withEmitting(List<StepLowering.Group> groups, long emitting) {
        List<StepLowering.Group> key = new ArrayList<>(groups.size() + 1);
        key.addAll(groups);
        key.add(new StepLowering.Group(1, 1, Math.max(1, emitting + 1)));
        return List.copyOf(key);
    }

    static boolean inLayer(Operator op) {
        return op.layer() != Lowering.NO_LAYER;
    }

    static boolean outsideLayers(Operator op) {
        return op.layer() == Lowering.NO_LAYER;
    }

    /**
     * The exact time, energy and FLOPs of the operators of the step of {@code groups} (with {@code emitting} sequences
     * through the LM head; {@code step} numbers it) that {@code counted} takes, each as it runs in the step: the step
     * lowered with the layers that stand for all ({@link #layersLowered}), the last of them counted for the layers not
     * lowered. Two layers stand for all only where the buffer holds after the second what it held after the first
     * (each result a layer later): then every later layer finds what the second found; otherwise the step is lowered
     * whole.
     */
    Cost priced(int step, List<StepLowering.Group> groups, long emitting, Predicate<Operator> counted) {
        List<Operator> ops = lowered(workload, step, groups, emitting);
        if (layersLowered == 1) {
            return price(ops, op -> inLayer(op) && counted.test(op)).times(layersRun)
                .plus(price(ops, op -> outsideLayers(op) && counted.test(op)));
        }
        if (layersLowered == 2) {
            Cost[] layers = new Cost[3];
            if (price(ops, counted, 2, layers)) {
                return layers[0].plus(layers[1].times(layersRun - 1)).plus(layers[2]);
            }
            ops = lowered(whole, step, groups, emitting);
        }
        return price(ops, counted);
    }

    private List<Operator> lowered(Workload w, int step, List<StepLowering.Group> groups, long emitting) {
        List<Operator> ops = new ArrayList<>();
        StepLowering.lower(w, stepsRepeat ? 0 : step, groups, emitting, ops::add);
        return ops;
    }

    /** {@link #price(List, Predicate, int, Cost[])} summed over every operator. */
    private Cost price(List<Operator> ops, Predicate<Operator> counted) {
        Cost[] sum = new Cost[1];
        price(ops, counted, 0, sum);
        return sum[0];
    }

    /**
     * Sums the exact time, energy and FLOPs of those of {@code ops} that {@code counted} takes, each as it runs in the
     * stream of all of {@code ops} (in their order, the buffer empty before the first), simulating those not seen
     * before. With {@code layers} 2 ({@code ops} of two layers and what follows them) into {@code sums}: the first
     * layer's, the second's, the rest's; and returns whether the buffer held after the second layer what it held after
     * the first, each result one layer later. Otherwise all into {@code sums[0]}, returning true.
     */
    private boolean price(List<Operator> ops, Predicate<Operator> counted, int layers, Cost[] sums) {
        StreamScan scan = bufferKept ? new StreamScan(hw) : null;
        OperatorTimer timer = null;
        long[] ps = new long[sums.length];
        long[] femtojoules = new long[sums.length];
        double[] flops = new double[sums.length];
        long[] afterFirst = null;
        long layerIds = 0;
        boolean settled = true;
        int part = 0;
        try {
            for (Operator op : ops) {
                if (layers == 2 && op.layer() != part && part < 2) {
                    // Entering the second layer, or what follows it: what the buffer holds now.
                    if (part == 0) {
                        afterFirst = scan.contents();
                        layerIds = op.id() - ops.get(0).id();
                    } else {
                        settled = scan.holdsAsShifted(afterFirst, layerIds);
                    }
                    part++;
                }
                // Every operator leaves the buffer as it does, counted or not.
                StreamScan.Scanned s = scan == null ? null : scan.next(op);
                if (!counted.test(op)) {
                    continue;
                }
                Simulation.ReuseKey key = s == null ? new Simulation.ReuseKey(op.shape(), 0, 0) : s.key();
                operatorLookups++;
                Cost c = operatorCost.get(key);
                if (c != null) {
                    operatorHits++;
                } else {
                    if (timer == null && !(fabric != null && op.kind().isCollective())) {
                        timer = new OperatorTimer(hw);
                    }
                    c = simulate(op, s == null ? new StreamScan.Scanned(op, 0, 0, key) : s, timer);
                    operatorCost.put(key, c);
                }
                ps[part] += c.ps();
                femtojoules[part] += c.femtojoules();
                flops[part] += c.flops();
            }
            if (layers == 2 && part == 1) {
                settled = scan.holdsAsShifted(afterFirst, layerIds); // nothing follows the second layer
            }
        } finally {
            if (timer != null) {
                timer.close();
            }
        }
        for (int i = 0; i < sums.length; i++) {
            sums[i] = new Cost(ps[i], femtojoules[i], flops[i]);
        }
        return settled;
    }

    /** The cost of {@code op}, finding what {@code s} says: on the fabric for a system's collective, else simulated. */
    private Cost simulate(Operator op, StreamScan.Scanned s, OperatorTimer timer) {
        if (fabric != null && op.kind().isCollective()) {
            // The fabric's links carry the whole group's traffic; what the collective reads and writes in each
            // device's memory is not in this figure (FabricCollectives keeps the bytes, not their energy).
            FabricCollectives.Result r = fabric.collective(op);
            return new Cost(r.timePs(), energy == null ? 0 : Math.round(r.energyJ() * Cost.FJ_PER_J), 0);
        }
        OperatorTimer.Timed t = timer.time(s);
        return new Cost(t.durationPs(), energy == null ? 0
            : Math.round(devices * energy.of(t.sums().activity(0)).dynamic() * Cost.FJ_PER_J),
            devices * t.bound().flops());
    }

    /**
     * The static power of the group's devices while serving, busy or idle, W: each device's leakage and its board's
     * idle power beyond it ({@link EnergyAccount#staticW}), as {@code simulate} charges over a run; NaN without
     * energy tables.
     */
    public double staticW() {
        return energy == null ? Double.NaN : devices * energy.staticW();
    }

    /** Whether steps carry energy (the device has energy tables). */
    public boolean hasEnergy() {
        return energy != null;
    }

    /** The device whose steps this times. */
    public HardwareSpec hardware() {
        return hw;
    }

    /** Devices of the group whose steps this times. */
    public int devices() {
        return devices;
    }

    /** How often the memo served, for the report. */
    public Map<String, Object> memo() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("steps", steps);
        m.put("step_hits", stepHits);
        m.put("operator_lookups", operatorLookups);
        m.put("operator_hits", operatorHits);
        m.put("operator_shapes_simulated", (long) operatorCost.size());
        if (interpolation != null) {
            m.put("interpolated_steps", interpolation.interpolatedSteps());
            m.put("grid_points", interpolation.gridPoints());
        }
        return m;
    }

    public StepTiming timing() {
        return timing;
    }

    public long operatorShapesSimulated() {
        return operatorCost.size();
    }
}

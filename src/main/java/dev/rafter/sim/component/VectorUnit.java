package dev.rafter.sim.component;

import dev.rafter.sim.component.ComponentKind.Parameter;
import dev.rafter.sim.component.ComponentKind.Placement;
import dev.rafter.sim.component.ComponentKind.Port;
import dev.rafter.sim.component.ComponentKind.Scope;
import dev.rafter.sim.component.ComponentKind.Statistic;
import dev.rafter.sim.component.ComponentKind.Utilisation;
import dev.rafter.energy.EnergyUse;
import java.util.List;
import java.util.Set;

import dev.rafter.hw.HardwareSpec;
import dev.rafter.sim.ClockDomain;
import dev.rafter.sim.trace.SliceKind;
import dev.rafter.sim.trace.TraceSink;
import dev.rafter.sim.trace.Track;

/**
 * A core's vector unit. Parameters: lanes x flops per lane per cycle; special-function results per cycle (exp,
 * tanh, reciprocal, rsqrt on separate units, as NVIDIA's SFUs; 0: not modelled apart); it reads and writes its
 * operands in the local buffer at the buffer's bytes per cycle. Port: {@link #compute}. Statistics (via the trace):
 * busy cycles, FLOPs and special functions (each charged the table's {@code special_function_pj} on top of the
 * FLOP its operator counts for it). A chunk takes the longest of its FLOPs at full width, its special functions at their rate
 * and its local-buffer traffic (the three pipelines overlap).
 */
public final class VectorUnit {
    /** The declaration the catalogue reads. */
    public static final ComponentKind KIND = new ComponentKind("vector_unit",
        "a core's vector unit: softmax, norms, activations, elementwise",
        new Placement(Scope.CORE, hw -> 1, (core, i) -> "core" + core + ".vector"),
        List.of(Parameter.number("core.vector_unit.lanes", "lanes", 1, 65_536, null, "SIMD lanes"),
            Parameter.number("core.vector_unit.flops_per_lane_per_cycle", "FLOP/cycle", 1, 1024, null,
                "per lane"),
            Parameter.number("core.vector_unit.special_functions_per_cycle", "results/cycle", 0, 65_536, "0",
                "exp, rsqrt...; 0: as FLOPs")),
        List.of(new Port("compute", Port.Direction.IN, List.of(), "vector tiles from its core (a call)")),
        List.of(Statistic.ofAll("busy_ps", "ps", Statistic.Measure.DURATION, Statistic.Combine.BUSY_FRACTION,
                "time computing"),
            Statistic.ofAll("flops", "FLOPs", Statistic.Measure.AMOUNT, Statistic.Combine.SUM,
                "floating-point operations"),
            Statistic.of("special_functions", "results", Statistic.Measure.AMOUNT,
                Set.of(SliceKind.SPECIAL_FUNCTIONS), Statistic.Combine.SUM,
                "special-function evaluations on the SFUs (none counted where they run as FLOPs)")),
        new Utilisation("vector_unit", List.of("flops"), hw -> hw.vectorFlopsPerS(), true),
        new EnergyUse("vector_unit", (a, c) -> (c.count("vector_unit", "flops")
            * a.model().vectorFlopPj().get(a.hardware().dataType())
            + c.count("vector_unit", "special_functions") * a.model().specialFunctionPj()) * a.dynamicPj(),
            EnergyUse.NO_LEAKAGE),
        in -> new VectorUnit(in.hardware().core(), in.sink(), in.track()));

    private final int flopsPerCycle;
    private final int specialFunctionsPerCycle;
    private final int bufferBytesPerCycle;
    private final TraceSink sink;
    private final Track track;

    public VectorUnit(HardwareSpec.Core spec, TraceSink sink, Track track) {
        this.flopsPerCycle = spec.vectorUnit().lanes() * spec.vectorUnit().flopsPerLanePerCycle();
        this.specialFunctionsPerCycle = spec.vectorUnit().specialFunctionsPerCycle();
        this.bufferBytesPerCycle = spec.localBuffer().bytesPerCycle();
        this.sink = sink;
        this.track = track;
    }

    /** Runs {@code flops} over {@code bytes} of local-buffer traffic from {@code startPs}; returns its cycles. */
    public long compute(long opId, long startPs, long flops, long bytes, ClockDomain clock) {
        return compute(opId, startPs, flops, 0, bytes, clock);
    }

    /**
     * Runs {@code flops} and {@code specialFunctions} over {@code bytes} of local-buffer traffic from
     * {@code startPs}; returns its cycles.
     */
    public long compute(long opId, long startPs, long flops, long specialFunctions, long bytes, ClockDomain clock) {
        long cycles = Math.max(ceilDiv(flops, flopsPerCycle), ceilDiv(bytes, bufferBytesPerCycle));
        if (specialFunctionsPerCycle > 0) {
            cycles = Math.max(cycles, ceilDiv(specialFunctions, specialFunctionsPerCycle));
        }
        if (cycles > 0) {
            sink.slice(track, SliceKind.COMPUTE, opId, startPs, startPs + clock.ps(cycles), flops);
            if (specialFunctionsPerCycle > 0 && specialFunctions > 0) {
                // Energy follows the timing: with no SFUs (0) they are FLOPs, already counted in flops.
                sink.count(track, SliceKind.SPECIAL_FUNCTIONS, opId, specialFunctions);
            }
        }
        return cycles;
    }

    public static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}

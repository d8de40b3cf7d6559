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
import dev.rafter.sim.trace.SliceKind;
import dev.rafter.sim.trace.TraceSink;
import dev.rafter.sim.trace.Track;

/**
 * One systolic PE array. Parameters: rows x cols, dataflow, fold overlap, sustained fraction (from the hardware
 * model). Port: {@link #compute}. Statistics (via the trace): busy cycles, useful MACs and padded MACs (a tile
 * padded to a library shape clocks its padding too; energy charges it at the table's {@code padded_mac_fraction}). Tile timing is the SCALE-Sim
 * fold model (or its overlapped variant), exactly, issued at the array's sustained rate: a tile of F fold cycles
 * takes ceil(F / sustained fraction) cycles (F itself at the default fraction 1).
 */
public final class PeArray {
    /** The declaration the catalogue reads. */
    public static final ComponentKind KIND = new ComponentKind("pe_array",
        "a systolic PE array of a core (SCALE-Sim fold timing)",
        new Placement(Scope.CORE, hw -> hw.core().peArrays(), (core, i) -> "core" + core + ".pe" + i),
        List.of(Parameter.number("core.pe_arrays", "arrays per core", 1, 1024, null, "lanes of a core"),
            Parameter.number("core.pe_array.rows", "PEs", 1, 4096, null, "rows of the array"),
            Parameter.number("core.pe_array.cols", "PEs", 1, 4096, null, "columns of the array"),
            Parameter.choice("core.pe_array.dataflow",
                List.of("output_stationary", "weight_stationary", "input_stationary"), null, "what stays in the PEs"),
            Parameter.choice("core.pe_array.fold_overlap", List.of("true", "false"), "false",
                "the next fold streams in while the last drains"),
            Parameter.number("core.pe_array.sustained_fraction", "fraction", 0, 1, "1",
                "the rate one tile's main loop issues at, of the peak (per tile: not a whole GEMM's benchmark figure)"),
            Parameter.number("core.pe_array.macs_per_cycle_by_type.<type>", "MACs", 1, 64, "1",
                "MACs each PE issues per cycle on operands of the type (fp32, fp16, bf16, fp8, int8)")),
        List.of(new Port("compute", Port.Direction.IN, List.of(), "matrix tiles from its core (a call)")),
        List.of(Statistic.of("busy_ps", "ps", Statistic.Measure.DURATION, Set.of(SliceKind.COMPUTE),
                Statistic.Combine.BUSY_FRACTION, "time computing"),
            Statistic.of("macs", "MACs", Statistic.Measure.AMOUNT, Set.of(SliceKind.COMPUTE),
                Statistic.Combine.SUM, "useful multiply-accumulates"),
            Statistic.of("padded_macs", "MACs", Statistic.Measure.AMOUNT, Set.of(SliceKind.PADDED_MACS),
                Statistic.Combine.SUM, "MACs clocked on a tile's padding (charged at the padded rate)"),
            stall("stall_memory_ps", SliceKind.STALL_MEMORY),
            stall("stall_interconnect_ps", SliceKind.STALL_INTERCONNECT),
            stall("stall_buffer_full_ps", SliceKind.STALL_BUFFER_FULL),
            stall("stall_dependency_ps", SliceKind.STALL_DEPENDENCY),
            stall("stall_dispatch_ps", SliceKind.STALL_DISPATCH),
            stall("idle_ps", SliceKind.IDLE)),
        new Utilisation("pe_array", List.of("macs"), hw -> hw.peakFlopsPerS() / 2
            * hw.core().peArray().fastestMacsPerCycle() / hw.core().peArray().macsPerCycle(hw.dataType()), true),
        new EnergyUse("pe_array", (a, c) -> (c.count("pe_array", "macs")
            + c.count("pe_array", "padded_macs") * a.model().paddedMacFraction())
            * a.model().macPjWithOperands(a.hardware().dataType()) * a.dynamicPj(), EnergyUse.NO_LEAKAGE),
        in -> new PeArray(in.hardware().core().peArray(), in.sink(), in.track()));

    private static Statistic stall(String name, SliceKind kind) {
        return Statistic.of(name, "ps", Statistic.Measure.DURATION, Set.of(kind), Statistic.Combine.BUSY_FRACTION,
            "time waiting: " + kind.label().replace("wait: ", ""));
    }

    private final HardwareSpec.PeArray spec;
    /**
     * {@link HardwareSpec.PeArray#macsPerCycle} by data type ordinal: a tile shape the two cached ones miss (a decode
     * attention's cores see several) looked its rate up in the spec's map, a cost per call.
     */
    private final int[] macsPerCycle;
    private final TraceSink sink;
    private final Track track;

    public PeArray(HardwareSpec.PeArray spec, TraceSink sink, Track track) {
        this.spec = spec;
        this.macsPerCycle = new int[dev.rafter.hw.DataType.values().length];
        for (dev.rafter.hw.DataType t : dev.rafter.hw.DataType.values()) {
            macsPerCycle[t.ordinal()] = spec.macsPerCycle(t);
        }
        this.sink = sink;
        this.track = track;
    }

    /** Computes an m x n x k fp16 tile from {@code startPs}; returns its cycles (0 for an empty share). */
    public long compute(long opId, long startPs, long m, long n, long k, dev.rafter.sim.ClockDomain clock) {
        return compute(opId, startPs, m, n, k, m * n * k, dev.rafter.hw.DataType.FP16, clock);
    }

    /**
     * As above, counting {@code usefulMacs} in the trace: fewer than m x n x k where the tile is padded to a
     * library shape (the padding occupies the array but computes nothing anyone reads). {@code type}, the
     * operands' data type, sets the MACs each PE issues per cycle.
     */
    public long compute(long opId, long startPs, long m, long n, long k, long usefulMacs,
                        dev.rafter.hw.DataType type, dev.rafter.sim.ClockDomain clock) {
        long cycles;
        long ps;
        if (m == m0 && n == n0 && k == k0 && type == type0 && clock == clock0) {
            cycles = cycles0;
            ps = ps0;
        } else if (m == m1 && n == n1 && k == k1 && type == type1 && clock == clock1) {
            // The first slot holds the shape used last (the second is the one to give up for a new shape).
            cycles = cycles1;
            ps = ps1;
            demoteFirst();
            keepFirst(m, n, k, type, clock, cycles, ps);
        } else {
            // The new shape takes the first slot, the one it held the second.
            demoteFirst();
            cycles = spec.sustainedCyclesAt(m, n, k, macsPerCycle[type.ordinal()]);
            ps = clock.ps(cycles);
            keepFirst(m, n, k, type, clock, cycles, ps);
        }
        if (cycles > 0) {
            sink.slice(track, SliceKind.COMPUTE, opId, startPs, startPs + ps, usefulMacs);
            if (m * n * k > usefulMacs) {
                sink.count(track, SliceKind.PADDED_MACS, opId, m * n * k - usefulMacs);
            }
        }
        return cycles;
    }

    /** Moves the first cached shape to the second slot. */
    private void demoteFirst() {
        m1 = m0;
        n1 = n0;
        k1 = k0;
        type1 = type0;
        clock1 = clock0;
        cycles1 = cycles0;
        ps1 = ps0;
    }

    private void keepFirst(long m, long n, long k, dev.rafter.hw.DataType type, dev.rafter.sim.ClockDomain clock,
                           long cycles, long ps) {
        m0 = m;
        n0 = n;
        k0 = k;
        type0 = type;
        clock0 = clock;
        cycles0 = cycles;
        ps0 = ps;
    }

    // The timing of the last two tile shapes used, the one used last first: consecutive chunks nearly always have one
    // shape, a tile's last chunk (shallower) alternates with the others, and the fold model is dozens of divisions.
    private long m0 = -1;
    private long n0;
    private long k0;
    private dev.rafter.hw.DataType type0;
    private dev.rafter.sim.ClockDomain clock0;
    private long cycles0;
    private long ps0;
    private long m1 = -1;
    private long n1;
    private long k1;
    private dev.rafter.hw.DataType type1;
    private dev.rafter.sim.ClockDomain clock1;
    private long cycles1;
    private long ps1;

    public Track track() {
        return track;
    }
}

package dev.rafter.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.rafter.config.CsvWriter;
import dev.rafter.energy.EnergyAccount;
import dev.rafter.energy.EnergyBreakdown;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.roofline.RooflineReport;
import dev.rafter.sim.ClockDomain;
import dev.rafter.sim.Device;
import dev.rafter.sim.Simulation;
import dev.rafter.sim.component.Catalogue;
import dev.rafter.sim.component.ComponentKind;
import dev.rafter.sim.component.DeviceLink;
import dev.rafter.sim.component.GlobalBuffer;
import dev.rafter.sim.component.MemoryController;
import dev.rafter.sim.component.Interconnect;
import dev.rafter.sim.component.PeArray;
import dev.rafter.sim.trace.RunStats;
import dev.rafter.workload.Operator;
import dev.rafter.workload.Phase;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns a run into ops.csv rows (as operators finish) and summary.json (at the end). Stall figures are cycles
 * per PE array, averaged over the arrays, so busy + stalls + idle = elapsed cycles.
 */
public final class SimulationReport implements Simulation.OpListener {
    public static final String OPS_HEADER = "op_id,name,kind,phase,layer,step,flops,bytes,start_cycle,end_cycle,"
        + "latency_s,roofline_s,bound,pe_util,energy_j,busy_cycles,stall_memory_cycles,stall_interconnect_cycles,"
        + "stall_buffer_full_cycles,stall_dependency_cycles,stall_dispatch_cycles,idle_cycles,mapping";

    /** Totals of one phase, with the statistics its utilisation is computed from (by registry slot). */
    static final class PhaseSum {
        long ops;
        long ps;
        double rooflineS;
        double flops;
        double energyJ;
        final long[] sums = new long[Catalogue.slotCount()];

        void add(RunStats.Sums s) {
            for (int i = 0; i < sums.length; i++) {
                sums[i] += s.at(i);
            }
        }
    }

    /** utilisation's keys in the run summary, in their published order; other kinds' follow in catalogue order. */
    private static final List<String> RUN_UTILISATION = List.of("pe_array", "vector_unit", "global_buffer",
        "interconnect", "hbm");
    /** The same for each phase. */
    private static final List<String> PHASE_UTILISATION = List.of("pe_array", "vector_unit", "hbm",
        "global_buffer", "interconnect", "device_link");
    /** The registry slots of every memory tier's bytes read and written (ops.csv's bytes: all tiers). */
    private final int[] memoryByteSlots;
    private dev.rafter.mapping.TierPlacement placement;
    private static final int PE_MACS = Catalogue.slot(PeArray.KIND, "macs");

    /**
     * Latency of every step of a phase (all operators with that {@code step}), in ps, in the order the steps first
     * appear: two parallel growable arrays, with a map only for a trace that returns to an earlier step.
     */
    static final class StepLatencies {
        private int[] steps = new int[64];
        private long[] ps = new long[64];
        private int count;
        private java.util.Map<Integer, Integer> index;

        void add(int step, long latencyPs) {
            int at = count > 0 && steps[count - 1] == step ? count - 1 : find(step);
            if (at < 0) {
                if (count == steps.length) {
                    steps = java.util.Arrays.copyOf(steps, count * 2);
                    ps = java.util.Arrays.copyOf(ps, count * 2);
                }
                at = count++;
                steps[at] = step;
                if (index != null || count > 1) {
                    index().put(step, at);
                }
            }
            ps[at] += latencyPs;
        }

        private int find(int step) {
            if (count == 0) {
                return -1;
            }
            Integer at = index().get(step);
            return at == null ? -1 : at;
        }

        private java.util.Map<Integer, Integer> index() {
            if (index == null) {
                index = new java.util.HashMap<>();
                for (int i = 0; i < count; i++) {
                    index.put(steps[i], i);
                }
            }
            return index;
        }

        int count() {
            return count;
        }

        /** The step latencies in seconds, sorted. */
        double[] sortedSeconds() {
            double[] out = new double[count];
            for (int i = 0; i < count; i++) {
                out[i] = ps[i] * 1e-12;
            }
            java.util.Arrays.sort(out);
            return out;
        }
    }

    private final HardwareSpec hw;
    private final ClockDomain clock;
    /** ops.csv as UTF-8 bytes (null: not written). */
    private final OutputStream ops;
    private final EnergyAccount energy;
    private final int peArrays;
    /** The component kinds the device has, in catalogue order. */
    private final List<ComponentKind> present;
    private final Map<Phase, PhaseSum> phases = new EnumMap<>(Phase.class);
    private double rooflineS;
    private final ByteLine line = new ByteLine();
    /** Each kind's and phase's key as bytes. */
    private static final byte[][] KIND_KEYS = keys(dev.rafter.workload.OpKind.values());
    private static final byte[][] PHASE_KEYS = keys(Phase.values());
    private final Comparison comparison;
    private final StepLatencies decodeSteps = new StepLatencies();
    private int sequences;
    private dev.rafter.workload.Timing timing = dev.rafter.workload.Timing.KERNEL;
    /** With a host modelled: where the last operator ended, so a phase counts the device's wait for a launch. */
    private long lastEndPs;
    private long promptTokens;
    /** Power over the run, for a device with board power ({@code power:}); null otherwise. */
    private final PowerProfile power;
    private PowerProfile.Steps powerSteps;
    /** Each operator's clock, MHz ({@link #clocks}); null: every one at the device's. */
    private final java.util.function.ToDoubleFunction<Operator> clocks;
    /** The operators' time summed (for the time at the device's clock beside the others'). */
    private long operatorPs;
    /** What ran at each clock other than the device's: its account, sums, time and operators. */
    private final Map<Double, AtClock> atClocks = new java.util.TreeMap<>(java.util.Comparator.reverseOrder());

    /** The operators that ran at one operating point, and their energy account (its voltage). */
    private static final class AtClock {
        final ClockDomain clock;
        final EnergyAccount energy;
        RunStats.Sums sums;
        long ps;
        long operators;

        AtClock(HardwareSpec hw, double mhz) {
            HardwareSpec at = hw.withClockMhz(mhz);
            this.clock = Device.coreClock(at);
            this.energy = hw.energy() == null ? null : new EnergyAccount(at, at.energy(), Catalogue.energyUses(at));
        }
    }

    public SimulationReport(HardwareSpec hw, Writer ops) {
        this(hw, ops, null);
    }

    /** With {@code comparison}, ops.csv gains {@code measured_s} and {@code error} (empty where not measured). */
    public SimulationReport(HardwareSpec hw, Writer ops, Comparison comparison) {
        this(hw, ops == null ? null : new Utf8ToWriter(ops), comparison);
    }

    /** ops.csv to a byte stream (UTF-8), the fast way for a long run. */
    public SimulationReport(HardwareSpec hw, OutputStream ops, Comparison comparison) {
        this(hw, ops, comparison, null);
    }

    /**
     * With {@code clocks}, the clock each operator ran at, MHz, as the simulation was given it ({@code
     * Simulation#clocks}): an operator's energy is charged at that clock's voltage (dynamic x (V / V_nominal)^2,
     * leakage x V / V_nominal), its utilisation and busy and stall cycles are its own clock's, ops.csv ends with a
     * {@code clock_mhz} column and the summary gains {@code operating_points}.
     */
    public SimulationReport(HardwareSpec hw, OutputStream ops, Comparison comparison,
                            java.util.function.ToDoubleFunction<Operator> clocks) {
        this.hw = hw;
        this.clocks = clocks;
        this.comparison = comparison;
        this.clock = Device.coreClock(hw);
        this.ops = ops;
        this.peArrays = hw.cores() * hw.core().peArrays();
        this.present = Catalogue.present(hw);
        List<Integer> memorySlots = new java.util.ArrayList<>();
        for (HardwareSpec.MemoryTier tier : hw.memoryTiers()) {
            memorySlots.add(Catalogue.slot(MemoryController.kindOf(tier.name()), "read_bytes"));
            memorySlots.add(Catalogue.slot(MemoryController.kindOf(tier.name()), "write_bytes"));
        }
        this.memoryByteSlots = memorySlots.stream().mapToInt(Integer::intValue).toArray();
        this.energy = hw.energy() == null ? null : new EnergyAccount(hw, hw.energy(), Catalogue.energyUses(hw));
        this.power = energy == null || hw.energy().device() == null ? null : new PowerProfile(energy.staticW());
        if (ops != null) {
            line.clear().append(OPS_HEADER + (comparison == null ? "" : ",measured_s,error")
                + (clocks == null ? "" : ",clock_mhz") + "\n").writeTo(ops);
        }
    }

    /**
     * What an operator's row says that depends only on its shape, its time, its simulated sums and its mapping:
     * formatting is costly beside a reused operator, so twins format it once. Sums are compared by value (a
     * replayed collective has fresh sums equal to its twin's).
     */
    private static final class RowKey {
        private final Operator.Shape shape;
        private final long elapsedPs;
        private final RunStats.Sums sums;
        private final String mapping;
        /** The operator's clock, or null: the device's. */
        private final AtClock at;
        private final int hash;

        RowKey(Operator.Shape shape, long elapsedPs, RunStats.Sums sums, String mapping, AtClock at) {
            this.shape = shape;
            this.elapsedPs = elapsedPs;
            this.sums = sums;
            this.mapping = mapping;
            this.at = at;
            this.hash = ((shape.hashCode() * 31 + Long.hashCode(elapsedPs)) * 31 + sums.valuesHash()) * 31
                + mapping.hashCode();
        }

        @Override
        public boolean equals(Object o) {
            return o == this || o instanceof RowKey k && hash == k.hash && elapsedPs == k.elapsedPs && at == k.at
                && mapping.equals(k.mapping) && sums.sameValues(k.sums) && shape.equals(k.shape);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    /** The cached cells: {@code work} is flops and bytes, {@code figures} latency_s onwards (UTF-8). */
    private record Row(double energyJ, double dynamicJ, byte[] work, byte[] figures, byte[] figuresLine) {
        Row(double energyJ, double dynamicJ, byte[] work, byte[] figures) {
            this(energyJ, dynamicJ, work, figures, ends(figures));
        }

        /** {@code figures} and the line's end. */
        private static byte[] ends(byte[] figures) {
            byte[] line = java.util.Arrays.copyOf(figures, figures.length + 1);
            line[figures.length] = '\n';
            return line;
        }
    }

    /** Rows kept; {@link #twins} is emptied whenever one goes. */
    private static final int ROWS_KEPT = 4096;

    private final Map<RowKey, Row> rows = new java.util.LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<RowKey, Row> eldest) {
            boolean full = size() > ROWS_KEPT;
            if (full) {
                forgetTwins();
            }
            return full;
        }
    };

    /**
     * A row found for an operator whose sums were {@code sums} (see {@link #twins}), with the cells before it
     * ({@code ,name,kind,phase,}) of the operator that used it last, kept while its twins bear the same name.
     */
    private static final class Twin {
        final RunStats.Sums sums;
        final Operator op;
        final long elapsedPs;
        final String mapping;
        final AtClock at;
        final Row row;
        String name;
        dev.rafter.workload.OpKind kind;
        Phase phase;
        byte[] namedCells;

        Twin(RunStats.Sums sums, Operator op, long elapsedPs, String mapping, AtClock at, Row row) {
            this.sums = sums;
            this.op = op;
            this.elapsedPs = elapsedPs;
            this.mapping = mapping;
            this.at = at;
            this.row = row;
        }

        boolean serves(Simulation.OpResult r, long elapsedPs, AtClock at) {
            return sums == r.sums() && this.elapsedPs == elapsedPs && mapping == r.mapping() && this.at == at
                && op.sameShape(r.op());
        }
    }

    /**
     * Rows by the identity of the operator's sums: every operator replayed from one simulated twin reports the
     * twin's own sums object (and mapping string), so its row is found without hashing and comparing every
     * statistic ({@link RowKey}, a cost per operator). An entry serves only an operator that {@link #rows} would
     * give the same row (same shape, time, sums and mapping), and goes whenever {@link #rows} drops a row.
     */
    private final Map<RunStats.Sums, Twin> twins = new java.util.IdentityHashMap<>();
    /**
     * The twins found last, by the sums' identity hash: a repeating layer's dozen operators find theirs here
     * without a probe of {@link #twins}. Emptied with it.
     */
    private final Twin[] recentTwins = new Twin[2048];

    private Twin twinOf(Simulation.OpResult r, long elapsedPs, AtClock at) {
        int slot = System.identityHashCode(r.sums()) & (recentTwins.length - 1);
        Twin twin = recentTwins[slot];
        if (twin != null && twin.serves(r, elapsedPs, at)) {
            return twin;
        }
        twin = twins.get(r.sums());
        if (twin == null || !twin.serves(r, elapsedPs, at)) {
            Row row = rows.computeIfAbsent(new RowKey(r.op().shape(), elapsedPs, r.sums(), r.mapping(), at),
                k -> row(r, at));
            if (twins.size() >= ROWS_KEPT) {
                forgetTwins(); // bounded: a run of operators simulated one by one has new sums each
            }
            twin = new Twin(r.sums(), r.op(), elapsedPs, r.mapping(), at, row);
            twins.put(r.sums(), twin);
        }
        recentTwins[slot] = twin;
        return twin;
    }

    private void forgetTwins() {
        twins.clear();
        java.util.Arrays.fill(recentTwins, null);
    }

    /** The cells {@code ,name,kind,phase,} of {@code op} (UTF-8), kept with its twin while the name repeats. */
    private static byte[] namedCells(Twin twin, Operator op, ByteLine scratch) {
        if (twin.name != op.name() || twin.kind != op.kind() || twin.phase != op.phase()) {
            twin.namedCells = scratch.clear().append(',').cell(op.name()).append(',')
                .append(KIND_KEYS[op.kind().ordinal()]).append(',').append(PHASE_KEYS[op.phase().ordinal()])
                .append(',').toBytes();
            twin.name = op.name();
            twin.kind = op.kind();
            twin.phase = op.phase();
        }
        return twin.namedCells;
    }

    @Override
    public void finished(Simulation.OpResult r) {
        long elapsedPs = r.endPs() - r.startPs();
        AtClock at = atClock(r);
        operatorPs += elapsedPs;
        Twin twin = twinOf(r, elapsedPs, at);
        Row row = twin.row;
        PhaseSum p = phases.computeIfAbsent(r.op().phase(), k -> new PhaseSum());
        p.ops++;
        // A phase's (and a step's) time holds the device's waits for the host before its operators: with a host the
        // operators run one after another, and the gap before one is its launch's delay.
        long launchWaitPs = hw.host().on() ? Math.max(0, r.startPs() - lastEndPs) : 0;
        lastEndPs = r.endPs();
        elapsedPs += launchWaitPs;
        p.ps += elapsedPs;
        p.rooflineS += r.bound().seconds();
        p.flops += r.bound().flops();
        rooflineS += r.bound().seconds();
        p.energyJ += row.energyJ();
        if (power != null) {
            // At another voltage the static power differs too: the profile's static line is the device's own.
            power.add(r.startPs(), r.endPs(), at == null ? row.dynamicJ()
                : row.dynamicJ() + (at.energy.staticW() - energy.staticW()) * r.latencyS());
        }
        p.add(r.sums());
        if (r.op().phase() == Phase.DECODE) {
            decodeSteps.add(r.op().step(), elapsedPs);
        }
        if (ops == null) {
            return;
        }
        byte[] named = namedCells(twin, r.op(), line);
        line.clear().append(r.op().id()).append(named).append(r.op().layer()).append(',').append(r.op().step())
            .append(',').append(row.work()).append(',').append(Math.round(clock.cycles(r.startPs())))
            .append(',').append(Math.round(clock.cycles(r.endPs()))).append(',');
        if (comparison == null && clocks == null) {
            // The row's long tail (its figures and mapping, a few hundred bytes) goes out as kept, not copied again.
            line.writeTo(ops);
            write(row.figuresLine());
            return;
        }
        line.append(row.figures());
        if (comparison != null) {
            double error = comparison.error(r);
            line.append(',');
            if (!Double.isNaN(error)) {
                line.append(RooflineReport.num(comparison.kernelS(r) / (1 + error))).append(',')
                    .append(String.format(Locale.ROOT, "%.4f", error));
            } else {
                line.append(',');
            }
        }
        if (clocks != null) {
            line.append(',').append(dev.rafter.config.Check.fmt(at == null ? hw.clockMhz() : at.clock.mhz()));
        }
        line.append('\n').writeTo(ops);
    }

    private void write(byte[] bytes) {
        try {
            ops.write(bytes);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * Where the operator ran at a clock other than the device's: that clock's account, with the operator added to
     * what ran there; else null.
     */
    private AtClock atClock(Simulation.OpResult r) {
        double mhz = clocks == null ? hw.clockMhz() : clocks.applyAsDouble(r.op());
        if (mhz == hw.clockMhz()) {
            return null;
        }
        AtClock at = atClocks.computeIfAbsent(mhz, f -> new AtClock(hw, f));
        at.sums = at.sums == null ? r.sums().copy() : at.sums.plus(r.sums());
        at.ps += r.endPs() - r.startPs();
        at.operators++;
        return at;
    }

    /**
     * Each clock operators ran at, highest first: how many ran there, their time (summed: operators in --order
     * strict) and their energy (null without energy tables).
     */
    private List<Map<String, Object>> operatingPoints(long operators) {
        List<Map<String, Object>> out = new java.util.ArrayList<>();
        long elsewhere = 0;
        long elsewherePs = 0;
        double elsewhereJ = 0;
        for (AtClock at : atClocks.values()) {
            Double joules = energy == null ? null : at.energy.of(at.sums.activity(at.ps * 1e-12)).total();
            elsewhere += at.operators;
            elsewherePs += at.ps;
            elsewhereJ += joules == null ? 0 : joules;
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("clock_mhz", at.clock.mhz());
            one.put("operators", at.operators);
            one.put("time_s", at.ps * 1e-12);
            one.put("energy_j", joules);
            out.add(one);
        }
        double allJ = 0;
        for (PhaseSum p : phases.values()) {
            allJ += p.energyJ;
        }
        Map<String, Object> own = new LinkedHashMap<>();
        own.put("clock_mhz", hw.clockMhz());
        own.put("operators", operators - elsewhere);
        own.put("time_s", (operatorPs - elsewherePs) * 1e-12);
        own.put("energy_j", energy == null ? null : allJ - elsewhereJ);
        out.add(0, own); // atClocks holds the lower points, highest first
        return out;
    }

    /**
     * The run's energy: what ran at the device's clock charged at its voltage, what ran at another operating point
     * at that point's ({@link #clocks}).
     */
    private EnergyBreakdown runEnergy(RunStats.Sums t, double latency) {
        EnergyBreakdown e = null;
        RunStats.Sums nominal = t;
        double nominalS = latency;
        for (AtClock at : atClocks.values()) {
            EnergyBreakdown part = at.energy.of(at.sums.activity(at.ps * 1e-12));
            e = e == null ? part : e.plus(part);
            nominal = nominal.since(at.sums);
            nominalS -= at.ps * 1e-12;
        }
        EnergyBreakdown rest = energy.of(nominal.activity(nominalS));
        return e == null ? rest : rest.plus(e);
    }

    private Row row(Simulation.OpResult r, AtClock at) {
        RunStats.Sums s = r.sums();
        EnergyAccount account = at == null ? energy : at.energy;
        ClockDomain own = at == null ? clock : at.clock;
        EnergyBreakdown opBreakdown = account == null ? null : account.of(s.activity(r.latencyS()));
        double opEnergy = opBreakdown == null ? Double.NaN : opBreakdown.total();
        long elapsedPs = r.endPs() - r.startPs();
        double elapsedCycles = own.cycles(elapsedPs);
        // Against the peak of the operator's own data type: an fp8 GEMM issues twice the MACs where the arrays
        // declare fp8 at two per PE.
        double macsPerCycle = (double) peArrays * hw.core().peArray().rows() * hw.core().peArray().cols()
            * hw.core().peArray().macsPerCycle(r.op().dataType());
        double util = elapsedCycles == 0 ? 0 : s.at(PE_MACS) / (macsPerCycle * elapsedCycles);
        StringBuilder f = new StringBuilder(128);
        f.append(RooflineReport.num(r.latencyS())).append(',').append(RooflineReport.num(r.bound().seconds()))
            .append(',').append(r.bound().bound()).append(',').append(String.format(Locale.ROOT,
                "%.4f", util)).append(',')
            .append(energy == null ? "" : RooflineReport.num(opEnergy));
        for (double v : perArrayCycles(s, elapsedPs, own)) {
            f.append(',').append(Math.round(v));
        }
        CsvWriter.quoted(f.append(','), r.mapping());
        long memoryBytes = 0;
        for (int slot : memoryByteSlots) {
            memoryBytes += s.at(slot);
        }
        return new Row(opEnergy, opBreakdown == null ? Double.NaN : opBreakdown.dynamic(),
            (RooflineReport.num(r.bound().flops()) + "," + memoryBytes).getBytes(StandardCharsets.UTF_8),
            f.toString().getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Sequences per batch of the run (a workload's {@code run.batch}), for tokens/s and energy per output token;
     * left at 0 (a trace), those two are null.
     */
    public SimulationReport sequences(int batch) {
        this.sequences = batch;
        return this;
    }

    /** What an operator's time means in ops.csv and the phases (reported in summary.json's host block). */
    public SimulationReport timing(dev.rafter.workload.Timing timing) {
        this.timing = timing;
        return this;
    }

    /** The useful FLOPs of the operators so far (their roofline work). */
    public double flops() {
        double sum = 0;
        for (PhaseSum p : phases.values()) {
            sum += p.flops;
        }
        return sum;
    }

    /** Prompt tokens per sequence (a workload's {@code run.prompt_tokens}), for prefill energy per token. */
    public SimulationReport promptTokens(long tokens) {
        this.promptTokens = tokens;
        return this;
    }

    /** Power over the run to {@code endPs} (computed once); null without board power. */
    public PowerProfile.Steps powerSteps(long endPs) {
        if (power != null && powerSteps == null) {
            powerSteps = power.steps(endPs);
        }
        return powerSteps;
    }

    /**
     * Where the workload's tensors lie on the memory tiers (null: everything on the first tier, or a trace), for
     * each tier's capacity used.
     */
    public SimulationReport placement(dev.rafter.mapping.TierPlacement placement) {
        this.placement = placement;
        return this;
    }

    /** busy, memory, interconnect, buffer_full, dependency, dispatch, idle: cycles per PE array. */
    private double[] perArrayCycles(RunStats.Sums s, long elapsedPs, ClockDomain clock) {
        double[] ps = StallChart.arrayTimesPs(s, elapsedPs, peArrays);
        for (int i = 0; i < ps.length; i++) {
            ps[i] = clock.cycles(Math.round(ps[i] / peArrays));
        }
        return ps;
    }

    private static byte[][] keys(Enum<?>[] values) {
        byte[][] out = new byte[values.length][];
        for (Enum<?> v : values) {
            String key = v instanceof Phase p ? p.key() : ((dev.rafter.workload.OpKind) v).key();
            out[v.ordinal()] = key.getBytes(StandardCharsets.UTF_8);
        }
        return out;
    }

    /** A writer taking the report's lines as UTF-8 bytes (each write whole lines, so whole characters). */
    private static final class Utf8ToWriter extends OutputStream {
        private final Writer out;

        Utf8ToWriter(Writer out) {
            this.out = out;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(new String(b, off, len, StandardCharsets.UTF_8));
        }
    }

    public Map<String, Object> summary(Simulation.Result result) {
        RunStats.Sums t = result.stats().total();
        long endPs = result.endPs();
        double latency = endPs * 1e-12;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("hardware", hw.name());
        m.put("operators", result.operators());
        m.put("latency_s", latency);
        m.put("cycles", Math.round(clock.cycles(endPs)));
        m.put("roofline_s", rooflineS);
        m.put("latency_over_roofline", rooflineS == 0 ? 0 : latency / rooflineS);
        Map<String, Object> ph = new LinkedHashMap<>();
        for (Map.Entry<Phase, PhaseSum> e : phases.entrySet()) {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("operators", e.getValue().ops);
            p.put("latency_s", e.getValue().ps * 1e-12);
            p.put("cycles", Math.round(clock.cycles(e.getValue().ps)));
            p.put("roofline_s", e.getValue().rooflineS);
            p.put("energy_j", energy == null ? null : e.getValue().energyJ);
            Map<String, Object> pu = utilisation(e.getValue());
            p.put("utilisation", pu);
            p.put("binding", binding(pu));
            ph.put(e.getKey().key(), p);
        }
        m.put("phases", ph);
        Map<String, Object> serving = serving(latency);
        if (serving != null) {
            m.put("serving", serving);
        }
        if (clocks != null) {
            m.put("operating_points", operatingPoints(result.operators()));
        }
        if (energy != null) {
            EnergyBreakdown e = runEnergy(t, latency);
            Map<String, Object> en = new LinkedHashMap<>();
            en.put("total", e.total());
            en.put("static", e.staticEnergy());
            en.put("dynamic", e.dynamic());
            en.put("by_component", e.byComponent());
            m.put("energy_j", en);
            m.put("edp_j_s", e.total() * latency);
            if (serving != null && serving.get("output_tokens") instanceof Long tokens && sequences > 0) {
                serving.put("energy_per_output_token_j", e.total() / ((double) tokens * sequences));
            }
            m.put("energy_model", hw.energy().name());
            if (power != null) {
                m.put("power", power(e, latency, endPs, serving));
            }
        } else {
            m.put("energy_j", null);
            m.put("edp_j_s", null);
        }
        double seconds = latency == 0 ? 1 : latency;
        m.put("utilisation", utilisation(t::at, seconds, RUN_UTILISATION, true));
        double[] c = perArrayCycles(t, endPs, clock);
        Map<String, Object> st = new LinkedHashMap<>();
        st.put("memory", Math.round(c[1]));
        st.put("interconnect", Math.round(c[2]));
        st.put("buffer_full", Math.round(c[3]));
        st.put("dependency", Math.round(c[4]));
        st.put("dispatch", Math.round(c[5]));
        st.put("idle", Math.round(c[6]));
        st.put("busy", Math.round(c[0]));
        m.put("stall_cycles", st);
        Map<String, Object> b = new LinkedHashMap<>();
        b.put("hbm_read", t.get(MemoryController.KIND, "read_bytes"));
        b.put("hbm_write", t.get(MemoryController.KIND, "write_bytes"));
        b.put("global_buffer", t.get(GlobalBuffer.KIND, "bytes"));
        b.put("interconnect", t.get(Interconnect.CORE_PORT, "load_bytes")
            + t.get(Interconnect.CORE_PORT, "store_bytes"));
        b.put("device_link", t.get(DeviceLink.KIND, "bytes"));
        if (hw.globalBuffer().keepsContents()) {
            // Results still dirty in the write-back L2 at the end: written to memory by no kernel of the run (a GPU
            // leaves them there until evicted), so hbm_write plus these are all the results written.
            b.put("l2_dirty_left", result.l2DirtyBytesLeft());
        }
        for (HardwareSpec.MemoryTier tier : hw.memoryTiers()) {
            ComponentKind kind = MemoryController.kindOf(tier.name());
            if (kind != MemoryController.KIND) {
                b.put(tier.name() + "_read", t.get(kind, "read_bytes"));
                b.put(tier.name() + "_write", t.get(kind, "write_bytes"));
            }
        }
        m.put("bytes", b);
        if (hw.host().on()) {
            m.put("host", host(t, latency));
        }
        if (hw.memoryTiers().size() > 1 || hw.memoryTiers().stream().anyMatch(x -> x.memory().flash() != null)) {
            m.put("memory_tiers", tiers(t, latency));
        }
        Map<String, Object> registered = registered(t, endPs);
        if (!registered.isEmpty()) {
            m.put("components", registered);
        }
        dev.rafter.hw.NearMemorySpec units = dev.rafter.hw.NearMemorySpec.of(hw);
        if (units != null) {
            m.put("near_memory", nearMemory(units, t, latency));
        }
        Map<String, Object> sim = new LinkedHashMap<>();
        sim.put("events", result.events());
        sim.put("wall_s", result.wallS());
        sim.put("events_per_s", result.wallS() == 0 ? 0 : result.events() / result.wallS());
        sim.put("operators_reused", result.reusedOperators());
        sim.put("operators_simulated_ahead", result.aheadOperators());
        sim.put("stages_fast_forwarded", result.fastForwardedStages());
        m.put("simulator", sim);
        return m;
    }

    /**
     * The near-memory units: where they sit, how many, what they take, and per unit (they share each operator
     * evenly) the bytes they read inside their channels, their MACs and vector FLOPs, their utilisation (internal
     * bytes over internal bandwidth) and energy.
     */
    private Map<String, Object> nearMemory(dev.rafter.hw.NearMemorySpec units, RunStats.Sums t, double latency) {
        ComponentKind kind = dev.rafter.sim.component.NearMemoryUnit.KIND;
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("beside", units.tier());
        out.put("units", units.units());
        out.put("offload", units.offload().stream().map(dev.rafter.hw.NearMemorySpec.Offload::key).sorted().toList());
        out.put("ridge_flops_per_internal_byte", units.ridge(hw));
        long bytes = t.get(kind, "internal_bytes");
        Map<String, Object> unit = new LinkedHashMap<>();
        unit.put("internal_bytes", bytes / (double) units.units());
        unit.put("macs", t.get(kind, "macs") / (double) units.units());
        unit.put("vector_flops", t.get(kind, "vector_flops") / (double) units.units());
        unit.put("utilisation", latency == 0 ? 0.0 : bytes / (units.internalBytesPerS(hw) * latency));
        Object joules = energy == null ? null : runEnergy(t, latency).byComponent().get("near_memory");
        unit.put("energy_j", joules instanceof Double j ? j / units.units() : null);
        out.put("per_unit", unit);
        return out;
    }

    /**
     * Average and peak power, the board's figures, energy per token (prefill: per prompt token; decode: per token a
     * decode step makes; run: per output token) and tokens per second per watt.
     */
    private Map<String, Object> power(EnergyBreakdown e, double latency, long endPs, Map<String, Object> serving) {
        dev.rafter.energy.DevicePower board = hw.energy().device();
        double average = latency == 0 ? 0 : e.total() / latency;
        double peak = powerSteps(endPs).peak();
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("average_w", average);
        p.put("peak_w", peak);
        p.put("static_w", energy.staticW());
        p.put("idle_w", board.hasIdle() ? board.idleW() : null);
        p.put("tdp_w", board.tdpW());
        p.put("cap_w", board.capW());
        p.put("above_cap", peak > board.capW());
        Map<String, Object> perToken = new LinkedHashMap<>();
        PhaseSum prefill = phases.get(Phase.PREFILL);
        PhaseSum decode = phases.get(Phase.DECODE);
        perToken.put("prefill", prefill == null || promptTokens == 0 || sequences == 0 ? null
            : prefill.energyJ / ((double) promptTokens * sequences));
        perToken.put("decode", decode == null || decodeSteps.count() == 0 || sequences == 0 ? null
            : decode.energyJ / ((double) decodeSteps.count() * sequences));
        Object tokens = serving == null ? null : serving.get("output_tokens");
        perToken.put("run", tokens instanceof Long n && sequences > 0 ? e.total() / ((double) n * sequences) : null);
        p.put("energy_per_token_j", perToken);
        Object rate = serving == null ? null : serving.get("tokens_per_s");
        p.put("tokens_per_s_per_w", rate instanceof Double r && average > 0 ? r / average : null);
        return p;
    }

    /**
     * Each memory tier (devices with several): its capacity, the bytes placed on it and which tensors, the bytes
     * it read and wrote, its utilisation over the run, and its energy (its bytes at its own pJ/bit).
     */
    private Map<String, Object> tiers(RunStats.Sums t, double latency) {
        Map<String, Object> out = new LinkedHashMap<>();
        EnergyBreakdown runEnergy = energy == null ? null : runEnergy(t, latency);
        for (int i = 0; i < hw.memoryTiers().size(); i++) {
            HardwareSpec.MemoryTier tier = hw.memoryTiers().get(i);
            ComponentKind kind = MemoryController.kindOf(tier.name());
            Map<String, Object> one = new LinkedHashMap<>();
            double capacity = tier.memory().capacityGib() * 1024 * 1024 * 1024;
            one.put("capacity_gib", tier.memory().capacityGib());
            one.put("bandwidth_gb_per_s", tier.memory().bandwidthGbPerS());
            one.put("latency_ns", tier.memory().latencyNs());
            List<String> tensors = new java.util.ArrayList<>();
            if (placement != null) {
                for (dev.rafter.mapping.TensorRole role : List.of(dev.rafter.mapping.TensorRole.WEIGHTS,
                    dev.rafter.mapping.TensorRole.KV_CACHE, dev.rafter.mapping.TensorRole.ACTIVATIONS)) {
                    if (placement.tierOf(role) == i) {
                        tensors.add(role.key());
                    }
                }
            }
            one.put("tensors", placement == null ? null : tensors);
            one.put("used_bytes", placement == null ? null : placement.bytesByTier()[i]);
            one.put("used_fraction", placement == null ? null : placement.bytesByTier()[i] / capacity);
            long read = t.get(kind, "read_bytes");
            long write = t.get(kind, "write_bytes");
            one.put("read_bytes", read);
            one.put("write_bytes", write);
            one.put("utilisation", (read + write) / (tier.memory().bytesPerSecond() * (latency == 0 ? 1 : latency)));
            one.put("pj_per_bit", energy == null ? null : energy.model().memoryPjPerBit(tier.standard()));
            one.put("energy_j", runEnergy == null ? null : runEnergy.of(tier.name()));
            if (tier.memory().flash() != null) {
                one.put("flash", flash(t, tier, latency));
            }
            out.put(tier.name(), one);
        }
        return out;
    }

    /**
     * A flash tier's pages: read from the array, served by the read buffer (its hit rate: hits over the pages that
     * missed their plane's register), programmed, and the blocks erased for them; and its lifetime at the run's
     * write rate: every block's endurance spent evenly (ideal wear levelling, no garbage-collection copies).
     */
    private static Map<String, Object> flash(RunStats.Sums t, HardwareSpec.MemoryTier tier, double latency) {
        dev.rafter.hw.FlashTiming f = tier.memory().flash();
        ComponentKind kind = MemoryController.kindOf(tier.name());
        long read = t.get(kind, "flash_pages_read");
        long hits = t.get(kind, "read_buffer_hits");
        long programmed = t.get(kind, "flash_pages_programmed");
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("standard", f.name());
        m.put("page_bytes", f.pageBytes());
        m.put("planes_per_channel", f.planes());
        m.put("read_latency_us", f.readLatencyUs());
        m.put("program_latency_us", f.programLatencyUs());
        m.put("endurance_pe_cycles", f.endurancePeCycles());
        m.put("pages_read", read);
        m.put("read_buffer_mib", tier.memory().readBufferMib());
        m.put("read_buffer_hits", hits);
        m.put("read_buffer_hit_rate", tier.memory().readBufferMib() == 0 || read + hits == 0 ? null
            : hits / (double) (read + hits));
        m.put("pages_programmed", programmed);
        m.put("blocks_erased", programmed / (double) f.pagesPerBlock());
        double pages = tier.memory().capacityGib() * 1024 * 1024 * 1024 / f.pageBytes();
        double programsPerSecond = latency == 0 ? 0 : programmed / latency;
        m.put("lifetime_years", programsPerSecond == 0 ? null
            : pages * f.endurancePeCycles() / programsPerSecond / (365.25 * 86400));
        return m;
    }

    /** Utilisation (0..1) of each resource over one phase: the work it did over what it could do in that time. */
    private Map<String, Object> utilisation(PhaseSum p) {
        double seconds = p.ps == 0 ? 1 : p.ps * 1e-12;
        return utilisation(i -> p.sums[i], seconds, PHASE_UTILISATION, false);
    }

    /**
     * Utilisation as the kinds declare it (their work statistics over their capacity in {@code seconds}), the
     * published keys in {@code order} first, then other kinds' in catalogue order.
     */
    private Map<String, Object> utilisation(java.util.function.IntToLongFunction sum, double seconds,
                                            List<String> order, boolean run) {
        List<ComponentKind.Utilisation> declared = new java.util.ArrayList<>();
        for (ComponentKind k : present) {
            if (k.utilisation() != null && (!run || k.utilisation().inRunSummary())) {
                declared.add(k.utilisation());
            }
        }
        Map<String, Object> u = new LinkedHashMap<>();
        for (String key : order) {
            declared.stream().filter(d -> d.key().equals(key)).findFirst()
                .ifPresent(d -> u.put(key, work(sum, d) / (d.capacityPerSecond().applyAsDouble(hw) * seconds)));
        }
        for (ComponentKind.Utilisation d : declared) {
            if (!u.containsKey(d.key())) {
                u.put(d.key(), work(sum, d) / (d.capacityPerSecond().applyAsDouble(hw) * seconds));
            }
        }
        return u;
    }

    private long work(java.util.function.IntToLongFunction sum, ComponentKind.Utilisation d) {
        ComponentKind kind = present.stream().filter(k -> k.utilisation() == d).findFirst().orElseThrow();
        long w = 0;
        for (String statistic : d.work()) {
            w += sum.applyAsLong(Catalogue.slot(kind, statistic));
        }
        return w;
    }

    /**
     * The statistics of the registered (not built-in) kinds the device has, by kind: sums as they are, busy
     * times as a fraction of the instances' time.
     */
    private Map<String, Object> registered(RunStats.Sums t, long endPs) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (ComponentKind k : present) {
            if (Catalogue.builtIn(k)) {
                continue;
            }
            Map<String, Object> stats = new LinkedHashMap<>();
            stats.put("instances", Catalogue.instances(k, hw));
            for (ComponentKind.Statistic st : k.statistics()) {
                long v = t.get(k, st.name());
                stats.put(st.name(), st.combine() == ComponentKind.Statistic.Combine.SUM ? (Object) v
                    : endPs == 0 ? 0.0 : v / ((double) Catalogue.instances(k, hw) * endPs));
            }
            out.put(k.name(), stats);
        }
        return out;
    }

    /**
     * The host's block: its model, what an operator's time means, and its statistics (CPU time issuing and in
     * synchronisations, the device's time waiting for launches, kernels launched).
     */
    private Map<String, Object> host(RunStats.Sums t, double latencyS) {
        dev.rafter.hw.HostModel h = hw.host();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("framework", h.framework().key());
        m.put("timing", timing.key());
        m.put("costs", h.costs().name());
        m.put("queue_depth", h.queueDepth());
        m.put("kernels", t.get(dev.rafter.sim.component.Host.KIND, "kernels"));
        double busy = t.get(dev.rafter.sim.component.Host.KIND, "busy_ps") * 1e-12;
        m.put("busy_s", busy);
        m.put("busy_fraction", latencyS == 0 ? 0.0 : busy / latencyS);
        m.put("sync_s", t.get(dev.rafter.sim.component.Host.KIND, "sync_ps") * 1e-12);
        m.put("device_launch_wait_s", t.get(dev.rafter.sim.component.Host.KIND, "launch_wait_ps") * 1e-12);
        return m;
    }

    /** The resource with the highest utilisation: what bounds the phase (the first one on a tie). */
    static String binding(Map<String, Object> utilisation) {
        String best = null;
        double most = -1;
        for (Map.Entry<String, Object> e : utilisation.entrySet()) {
            double u = (double) e.getValue();
            if (u > most) {
                most = u;
                best = e.getKey();
            }
        }
        return best;
    }

    /**
     * Serving metrics of the phases that ran: time to first token (the prefill phase's latency), time per output
     * token over the decode steps (mean, p50, p99; nearest rank), output tokens per sequence (1 from prefill plus
     * one per decode step), tokens/s over the whole run for all sequences; null when neither phase ran.
     */
    private Map<String, Object> serving(double latencyS) {
        PhaseSum prefill = phases.get(Phase.PREFILL);
        if (prefill == null && decodeSteps.count() == 0) {
            return null;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ttft_s", prefill == null ? null : prefill.ps * 1e-12);
        if (decodeSteps.count() > 0) {
            double[] steps = decodeSteps.sortedSeconds();
            double sum = 0;
            for (double v : steps) {
                sum += v;
            }
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("mean", sum / steps.length);
            t.put("p50", percentile(steps, 0.50));
            t.put("p99", percentile(steps, 0.99));
            t.put("min", steps[0]);
            t.put("max", steps[steps.length - 1]);
            t.put("steps", (long) steps.length);
            m.put("tpot_s", t);
        } else {
            m.put("tpot_s", null);
        }
        long tokens = (prefill == null ? 0 : 1) + decodeSteps.count();
        m.put("output_tokens", tokens);
        m.put("sequences", sequences > 0 ? sequences : null);
        m.put("tokens_per_s", sequences > 0 && latencyS > 0 ? tokens * (double) sequences / latencyS : null);
        m.put("energy_per_output_token_j", null);
        return m;
    }

    /** The nearest-rank percentile of sorted values. */
    static double percentile(double[] sorted, double p) {
        int rank = (int) Math.ceil(p * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    public static String json(Map<String, Object> m) {
        try {
            return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(m) + "\n";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

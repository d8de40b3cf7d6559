package dev.rafter.hw;

import dev.rafter.config.InputException;
import dev.rafter.config.Section;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads {@code models/hardware/*.yaml} strictly, with optional {@code --set} overrides; a file may begin from another
 * ({@code extends:}, see {@link Section#loadExtending}).
 */
public final class HardwareLoader {
    private HardwareLoader() {}

    public static HardwareSpec load(Path file, List<String> overrides) {
        return read(Section.loadExtending(file).override(overrides));
    }

    public static HardwareSpec read(Section s) {
        String name = s.string("name");
        double clock = s.number("clock_mhz");
        int cores = s.int32("cores");
        DataType dataType = s.choice("data_type", DataType.class, DataType.FP16);

        Section c = s.section("core");
        int arrays = c.int32("pe_arrays");
        Section pa = c.section("pe_array");
        HardwareSpec.PeArray peArray = pa.build(() -> new HardwareSpec.PeArray(
            pa.int32("rows"), pa.int32("cols"),
            pa.choice("dataflow", Dataflow.class), pa.bool("fold_overlap", false),
            pa.number("sustained_fraction", 1.0), macsPerCycleByType(pa)));
        Section vu = c.section("vector_unit");
        HardwareSpec.VectorUnit vector = vu.build(() -> new HardwareSpec.VectorUnit(
            vu.int32("lanes"), vu.int32("flops_per_lane_per_cycle"), vu.int32("special_functions_per_cycle", 0)));
        Section lb = c.section("local_buffer");
        HardwareSpec.LocalBuffer local = lb.build(() -> new HardwareSpec.LocalBuffer(
            lb.number("capacity_kib"), lb.int32("bytes_per_cycle")));
        List<List<Double>> tileList = c.has("gemm_tiles") ? c.numberLists("gemm_tiles") : List.of();
        HardwareSpec.Simt simt = null;
        if (c.has("simt")) {
            Section st = c.section("simt");
            simt = st.build(() -> new HardwareSpec.Simt(st.int32("registers"), st.int32("mma_sync_macs_per_cycle"),
                st.int32("mma_sync_latency_cycles"), st.int32("fp32_latency_cycles"),
                st.int32("shuffle_latency_cycles"), st.int32("threads"),
                st.int32("special_function_latency_cycles", st.int32("fp32_latency_cycles")),
                st.int32("barrier_latency_cycles", 0), st.number("fa2_peak_fraction", 0.0)));
        }
        HardwareSpec.Simt simtOrNone = simt;
        HardwareSpec.Core core = c.build(() -> new HardwareSpec.Core(arrays, peArray, vector, local,
            gemmTiles(tileList), simtOrNone));

        Section gb = s.section("global_buffer");
        HardwareSpec.GlobalBuffer global = gb.build(() -> new HardwareSpec.GlobalBuffer(
            gb.number("capacity_mib"), gb.int32("bytes_per_cycle"), gb.bool("keeps_contents", false)));
        Section m = s.section("memory");
        HardwareSpec.MemoryTier first = tier(s, m, HardwareSpec.FIRST_TIER_NAME);
        HardwareSpec.Memory memory = first.memory();
        List<HardwareSpec.MemoryTier> tiers = new java.util.ArrayList<>(List.of(first));
        if (s.has("memory_tiers")) {
            // Further tiers, each shaped like memory: and named; tensors go to them by the workload's placement.
            for (Section t : s.list("memory_tiers")) {
                HardwareSpec.MemoryTier tier = tier(s, t, null);
                if (tiers.stream().anyMatch(x -> x.name().equals(tier.name()))) {
                    throw InputException.located(t.where("name") + ": a tier named '" + tier.name()
                        + "' is already there (tier names must differ)");
                }
                tiers.add(tier);
            }
        }
        Section ic = s.section("interconnect");
        HardwareSpec.Interconnect interconnect = ic.build(() -> new HardwareSpec.Interconnect(
            ic.int32("bytes_per_cycle"), ic.int32("latency_cycles")));
        HardwareSpec.DeviceLink link = deviceLink(s.section("device_link"));
        Dispatch dispatch = Dispatch.NONE;
        if (s.has("dispatch")) {
            Section d = s.section("dispatch");
            double eager = d.number("eager_ns");
            // Without a graph figure, graphs are assumed not to help (as measured on MI210).
            dispatch = d.build(() -> new Dispatch(d.choice("mode", Dispatch.Mode.class, Dispatch.Mode.EAGER),
                eager, d.number("graph_ns", eager)));
        }
        Dispatch kernelStart = dispatch;

        List<HardwareSpec.Component> components = s.has("components") ? components(s) : List.of();
        HostModel host = s.has("host") ? host(s.section("host")) : HostModel.NONE;
        HardwareSpec hw = s.build(() -> new HardwareSpec(name, clock, cores, core, global, memory,
            interconnect, link, kernelStart, dataType, null, components, host, tiers));
        if (s.has("energy")) {
            // Relative to the hardware file, so models/hardware/x.yaml can say ../energy/45nm.yaml.
            Path table = s.file("energy");
            dev.rafter.energy.EnergyModel tables = dev.rafter.energy.EnergyModel.load(table);
            dev.rafter.energy.EnergyModel model = tables;
            String missing = tables.missing(dataType);
            if (missing != null) {
                throw InputException.located(table + ": " + missing + ": missing: the hardware (" + s.file()
                    + ") uses data_type " + dataType.key());
            }
            if (s.has("power")) {
                Section p = s.section("power");
                dev.rafter.energy.DevicePower power = dev.rafter.energy.DevicePower.read(p);
                model = p.build(() -> tables.forDevice(power));
            }
            hw = hw.withEnergy(model);
            List<Section> further = s.has("memory_tiers") ? s.list("memory_tiers") : List.of();
            for (int t = 1; t < hw.memoryTiers().size(); t++) {
                String standard = hw.memoryTiers().get(t).standard();
                if (standard != null && !model.dramPjPerBit().containsKey(standard)) {
                    throw InputException.located(further.get(t - 1).where("standard") + ": the " + model.name()
                        + " table's dram_pj_per_bit has no '" + standard + "' (it has " + (model.dramPjPerBit()
                        .isEmpty() ? "none: no off_chip file" : String.join(", ",
                        new java.util.TreeSet<>(model.dramPjPerBit().keySet()))) + ")");
                }
            }
        } else if (s.has("power")) {
            throw InputException.located(s.where("power") + ": needs energy: (the node table whose standards and"
                + " curve it names)");
        }
        if (!s.has("energy") && s.has("memory_tiers")) {
            for (Section t : s.list("memory_tiers")) {
                if (t.has("standard")) {
                    throw InputException.located(t.where("standard") + ": needs energy: (the node table whose"
                        + " off-chip rows it names)");
                }
            }
        }
        if (s.has(COST_KEY)) {
            s.file(COST_KEY); // read by the commands that cost a run (their default --cost); here only checked
        }
        s.finish();
        return hw;
    }

    /** The key naming the device's default cost and carbon model ({@code models/cost/*.yaml}, relative to the file). */
    public static final String COST_KEY = "cost";

    /**
     * One memory tier from a section shaped like {@code memory:}: its {@code name} ({@code defaultName} if it may be
     * left out, else required) and its memory.
     */
    private static HardwareSpec.MemoryTier tier(Section root, Section m, String defaultName) {
        String tierName = defaultName == null ? m.string("name") : m.string("name", defaultName);
        HardwareSpec.MemoryModel memoryModel = m.choice("model", HardwareSpec.MemoryModel.class,
            HardwareSpec.MemoryModel.SIMPLE);
        boolean flash = memoryModel == HardwareSpec.MemoryModel.FLASH;
        MemoryTiming timing = m.has("timing") && !flash ? memoryTiming(root, m) : null;
        FlashTiming flashTiming = m.has("timing") && flash ? flashTiming(root, m) : null;
        double readBuffer = m.has("read_buffer_mib") ? m.number("read_buffer_mib") : 0;
        HardwareSpec.Memory memory = m.build(() -> new HardwareSpec.Memory(m.int32("channels"),
            m.number("bandwidth_gb_per_s"), m.number("latency_ns"), m.number("capacity_gib"), memoryModel, timing,
            flashTiming, readBuffer));
        // Tier 0's energy per bit is power.memory_standard's; a further tier may name its own row.
        String standard = defaultName == null ? m.string("standard", null) : null;
        return m.build(() -> new HardwareSpec.MemoryTier(tierName, memory, standard));
    }

    /**
     * Device links: with a {@code collective_costs} table (one row per algorithm and protocol) the library's
     * model; without one, a per-hop {@code latency_ns} and the topology's natural algorithm.
     */
    private static HardwareSpec.DeviceLink deviceLink(Section dl) {
        double bandwidth = dl.number("bandwidth_gb_per_s");
        HardwareSpec.Topology topology = dl.choice("topology", HardwareSpec.Topology.class);
        if (!dl.has("collective_costs")) {
            return dl.build(() -> new HardwareSpec.DeviceLink(bandwidth, dl.number("latency_ns"), topology));
        }
        boolean inSwitch = dl.bool("in_switch_reduction", false);
        CollectiveAlgorithm algorithm = dl.choice("algorithm", CollectiveAlgorithm.class, CollectiveAlgorithm.AUTO);
        java.util.List<CollectiveCost> costs = new java.util.ArrayList<>();
        for (Section row : dl.list("collective_costs")) {
            costs.add(row.build(() -> new CollectiveCost(row.choice("algorithm", CollectiveAlgorithm.class),
                row.string("protocol"), row.number("base_latency_ns"), row.number("hop_latency_ns"),
                row.number("payload_fraction", 1.0))));
        }
        HardwareSpec.DeviceLink link = dl.build(() -> new HardwareSpec.DeviceLink(bandwidth, topology, inSwitch,
            algorithm, costs));
        if (link.collectiveCosts().stream().noneMatch(c -> c.algorithm().runsOn(Collective.ALL_REDUCE, topology, inSwitch)
            && (algorithm == CollectiveAlgorithm.AUTO || algorithm == c.algorithm()))) {
            dl.build(() -> {
                throw new dev.rafter.config.InputException("algorithm: no row of collective_costs runs "
                    + algorithm.name().toLowerCase(java.util.Locale.ROOT) + " on a "
                    + topology.name().toLowerCase(java.util.Locale.ROOT) + " topology");
            });
        }
        return link;
    }

    /**
     * {@code host:}: the framework path that launches kernels (default none), the launch queue's depth and the cost
     * table (relative to the hardware file; read, and checked, only when a host is modelled).
     */
    private static HostModel host(Section h) {
        HostModel.Framework framework = h.choice("framework", HostModel.Framework.class, HostModel.Framework.NONE);
        int depth = h.int32("queue_depth", HostModel.DEFAULT_QUEUE_DEPTH);
        HostModel.Costs costs = null;
        // The table is read only when a host is modelled, so a copy of a hardware file elsewhere still loads.
        if (h.has("costs") && framework != HostModel.Framework.NONE) {
            Path file = h.file("costs");
            try {
                costs = HostModel.Costs.load(file);
            } catch (InputException e) {
                throw e.isLocated() ? e : InputException.located(file + ": " + e.getMessage());
            }
        }
        HostModel.Costs table = costs;
        return h.build(() -> new HostModel(framework, depth, table));
    }

    /** {@code components:}: instances of registered component kinds, each {@code kind:} plus its parameters. */
    private static List<HardwareSpec.Component> components(Section s) {
        List<HardwareSpec.Component> out = new java.util.ArrayList<>();
        for (Section entry : s.list("components")) {
            java.util.Map<String, String> values = new java.util.LinkedHashMap<>();
            java.util.Map<String, String> where = new java.util.LinkedHashMap<>();
            for (String key : entry.keys()) {
                values.put(key, entry.string(key));
                where.put(key, entry.where(key));
            }
            if (!values.containsKey("kind")) {
                entry.string("kind");
            }
            if (values.containsKey("preset") && !values.get("preset").equals("none")) {
                // A preset file gives the parameters the entry does not (models/nmp/*.yaml, with their sources).
                Path file = entry.file("preset");
                Section preset = Section.load(file);
                for (String key : preset.keys()) {
                    String value = preset.string(key);
                    if (values.putIfAbsent(key, value) == null) {
                        where.put(key, file + ": " + key);
                    }
                }
                preset.finish();
            }
            out.add(new HardwareSpec.Component(values.get("kind"), values, where));
        }
        return out;
    }

    /**
     * A flash standard, relative to the hardware file (e.g. {@code ../memory/hbf.yaml}), with the tier's own
     * {@code read_latency_us} and {@code endurance_pe_cycles} where it gives them (unpublished for HBF: a tier
     * states them to sweep them).
     */
    private static FlashTiming flashTiming(Section root, Section m) {
        Path file = m.directory("timing").resolve(m.string("timing")).normalize();
        try {
            dev.rafter.config.InputFiles.checkRegular(file, dev.rafter.config.InputFiles.MAX_MODEL_BYTES);
        } catch (InputException e) {
            throw InputException.located(m.where("timing") + ": " + e.getMessage());
        }
        FlashTiming standard = FlashTiming.load(file);
        if (!m.has("read_latency_us") && !m.has("endurance_pe_cycles")) {
            return standard;
        }
        double read = m.has("read_latency_us") ? m.number("read_latency_us") : standard.readLatencyUs();
        long endurance = m.has("endurance_pe_cycles") ? m.integer("endurance_pe_cycles")
            : standard.endurancePeCycles();
        return m.build(() -> standard.with(read, endurance));
    }

    /** A DRAM standard's table, relative to the hardware file (e.g. {@code ../memory/hbm3.yaml}). */
    private static MemoryTiming memoryTiming(Section s, Section m) {
        Path file = m.directory("timing").resolve(m.string("timing")).normalize();
        try {
            dev.rafter.config.InputFiles.checkRegular(file, dev.rafter.config.InputFiles.MAX_MODEL_BYTES);
        } catch (InputException e) {
            throw InputException.located(s.file() + ": memory.timing: " + e.getMessage());
        }
        return MemoryTiming.load(file);
    }

    /** {@code core.pe_array.macs_per_cycle_by_type}: a mapping from data type to MACs per PE per cycle. */
    private static java.util.Map<DataType, Integer> macsPerCycleByType(Section pa) {
        java.util.Map<DataType, Integer> rates = new java.util.EnumMap<>(DataType.class);
        if (pa.has("macs_per_cycle_by_type")) {
            Section byType = pa.section("macs_per_cycle_by_type");
            for (String key : byType.keys()) {
                DataType type = Section.parseChoice(key, DataType.class,
                    m -> InputException.located(byType.where(key) + ": " + m));
                rates.put(type, byType.int32(key));
            }
        }
        return rates;
    }

    /** {@code core.gemm_tiles}: [m, n, k] triples of positive integers. */
    private static List<HardwareSpec.GemmTile> gemmTiles(List<List<Double>> rows) {
        List<HardwareSpec.GemmTile> out = new java.util.ArrayList<>();
        for (List<Double> row : rows) {
            // Whole numbers an int holds: a larger one would be cut to 2^31 - 1 before its range check named it.
            if (row.size() != 3 || row.stream().anyMatch(v -> v != Math.rint(v) || Math.abs(v) > Integer.MAX_VALUE)) {
                throw new dev.rafter.config.InputException("gemm_tiles: expected [m, n, k] triples of integers, "
                    + "e.g. [128, 256, 64], got " + row.stream().map(dev.rafter.config.Check::fmt).toList());
            }
            out.add(new HardwareSpec.GemmTile(row.get(0).intValue(), row.get(1).intValue(), row.get(2).intValue()));
        }
        return out;
    }

}

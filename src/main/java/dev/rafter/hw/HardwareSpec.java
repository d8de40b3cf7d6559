package dev.rafter.hw;

import static dev.rafter.config.Check.intIn;
import static dev.rafter.config.Check.numberIn;
import static dev.rafter.config.Check.positive;

import dev.rafter.config.Check;
import dev.rafter.config.InputException;
import java.util.List;

/**
 * One accelerator device, as read from {@code models/hardware/*.yaml}. Every record validates its own values;
 * the bounds reject typos and unit slips (e.g. a clock in Hz) rather than describe real limits. {@code energy}
 * (the technology's energy tables) may be null: then no energy is reported.
 */
public record HardwareSpec(String name, double clockMhz, int cores, Core core, GlobalBuffer globalBuffer,
                           Memory memory, Interconnect interconnect, DeviceLink deviceLink, Dispatch dispatch,
                           DataType dataType, dev.rafter.energy.EnergyModel energy, List<Component> components,
                           HostModel host, List<MemoryTier> memoryTiers) {

    /** The name of the first tier (the {@code memory:} section) when the file gives none. */
    public static final String FIRST_TIER_NAME = "hbm";

    /**
     * A device without a host model ({@code host.framework: none}) and with one memory tier, the {@code memory:}
     * section named {@value #FIRST_TIER_NAME}.
     */
    public HardwareSpec(String name, double clockMhz, int cores, Core core, GlobalBuffer globalBuffer, Memory memory,
                        Interconnect interconnect, DeviceLink deviceLink, Dispatch dispatch, DataType dataType,
                        dev.rafter.energy.EnergyModel energy, List<Component> components) {
        this(name, clockMhz, cores, core, globalBuffer, memory, interconnect, deviceLink, dispatch, dataType, energy,
            components, HostModel.NONE, null);
    }

    public HardwareSpec {
        components = components == null ? List.of() : List.copyOf(components);
        host = host == null ? HostModel.NONE : host;
        memoryTiers = memoryTiers == null || memoryTiers.isEmpty() ? List.of(new MemoryTier(FIRST_TIER_NAME, memory))
            : List.copyOf(memoryTiers);
        if (!memoryTiers.get(0).memory().equals(memory)) {
            throw new IllegalArgumentException("the first memory tier must be the memory: section");
        }
        java.util.Set<String> names = new java.util.HashSet<>();
        for (MemoryTier t : memoryTiers) {
            if (!names.add(t.name())) {
                throw new InputException("memory_tiers: two tiers are named '" + t.name() + "' (names must differ)");
            }
        }
        Check.nonBlank("name", name);
        numberIn("clock_mhz", clockMhz, 1, 100_000, false); // 1 MHz .. 100 GHz
        intIn("cores", cores, 1, 1_000_000);
        // The smallest useful local tile: one array-sized output tile plus double-buffered array-sized operands.
        long tileBytes = (long) core.peArray().rows() * core.peArray().cols() * dataType.bytes();
        long needed = 5 * tileBytes;
        if (core.localBuffer().capacityBytes() < needed) {
            throw new InputException("core.local_buffer.capacity_kib: " + Check.fmt(core.localBuffer().capacityKib())
                + " KiB cannot hold one double-buffered " + core.peArray().rows() + "x" + core.peArray().cols()
                + " tile (needs >= " + Check.fmt(needed / 1024.0) + " KiB)");
        }
    }

    /**
     * {@code gemmTiles} ({@code gemm_tiles}): the core-level GEMM tile shapes a GPU library picks from (CTA tiles,
     * m x n x k); when not empty the GEMM mapper searches exactly these, padding the output to the tile (and falls
     * back to its own search on a device whose buffers hold none of them). Empty (the key absent): the mapper
     * searches multiples of the array size as it always did.
     */
    public record Core(int peArrays, PeArray peArray, VectorUnit vectorUnit, LocalBuffer localBuffer,
                       java.util.List<GemmTile> gemmTiles, Simt simt) {
        public Core {
            intIn("pe_arrays", peArrays, 1, 1024);
            gemmTiles = gemmTiles == null ? java.util.List.of() : java.util.List.copyOf(gemmTiles);
        }

        /** A core without a SIMT description ({@code simt} null: hand-written kernels run at the arrays' rates). */
        public Core(int peArrays, PeArray peArray, VectorUnit vectorUnit, LocalBuffer localBuffer,
                    java.util.List<GemmTile> gemmTiles) {
            this(peArrays, peArray, vectorUnit, localBuffer, gemmTiles, null);
        }

        /** As a record prints, without an absent simt: sweep keys hash this text (see HardwareSpec). */
        @Override
        public String toString() {
            return "Core[peArrays=" + peArrays + ", peArray=" + peArray + ", vectorUnit=" + vectorUnit
                + ", localBuffer=" + localBuffer + ", gemmTiles=" + gemmTiles + (simt == null ? "" : ", simt=" + simt)
                + "]";
        }

        public Core(int peArrays, PeArray peArray, VectorUnit vectorUnit, LocalBuffer localBuffer) {
            this(peArrays, peArray, vectorUnit, localBuffer, java.util.List.of());
        }
    }

    /**
     * {@code core.simt}: the side of a GPU core that a hand-written CUDA kernel (FlashAttention-2) runs on, where
     * its warps wait out each instruction's latency unless other resident warps fill it. {@code registers}: 32-bit
     * registers per core, which with a kernel's registers per thread bound its co-resident CTAs;
     * {@code mmaSyncMacsPerCycle} ({@code mma_sync_macs_per_cycle}): dense 16-bit MACs per core per cycle through
     * the warp-level {@code mma.sync} path (Ampere's; on Hopper below the warp-group path the arrays' peak stands
     * for); {@code mmaSyncLatencyCycles}, {@code fp32LatencyCycles}, {@code shuffleLatencyCycles}: issue to result
     * of an mma.sync, of a dependent FP32 add or max, and of a warp shuffle; {@code threads}: resident threads per
     * core (with a kernel's threads per CTA, how many of its CTAs a core runs at once);
     * {@code specialFunctionLatencyCycles}: issue to result of a special-function op (reciprocal, rsqrt; when not
     * given, an FP32 op's); {@code barrierLatencyCycles}: what a CTA barrier ({@code __syncthreads}) adds to a
     * chain once every warp has arrived (0 when not given); {@code fa2PeakFraction} ({@code fa2_peak_fraction},
     * optional, 0 = not measured): the fraction of the arrays' dense peak that FlashAttention-2's forward kernel
     * reaches with its CTAs on every core (long sequences), which tells how long one CTA's chain per K/V block is
     * when its co-resident CTAs fill each other's waits.
     */
    public record Simt(int registers, int mmaSyncMacsPerCycle, int mmaSyncLatencyCycles, int fp32LatencyCycles,
                       int shuffleLatencyCycles, int threads, int specialFunctionLatencyCycles,
                       int barrierLatencyCycles, double fa2PeakFraction) {
        public Simt {
            intIn("registers", registers, 1, 1 << 24);
            intIn("mma_sync_macs_per_cycle", mmaSyncMacsPerCycle, 1, 1 << 24);
            intIn("mma_sync_latency_cycles", mmaSyncLatencyCycles, 0, 1 << 20);
            intIn("fp32_latency_cycles", fp32LatencyCycles, 0, 1 << 20);
            intIn("shuffle_latency_cycles", shuffleLatencyCycles, 0, 1 << 20);
            intIn("threads", threads, 32, 1 << 20);
            intIn("special_function_latency_cycles", specialFunctionLatencyCycles, 0, 1 << 20);
            intIn("barrier_latency_cycles", barrierLatencyCycles, 0, 1 << 20);
            if (fa2PeakFraction != 0) {
                numberIn("fa2_peak_fraction", fa2PeakFraction, 0, 1, true);
            }
        }

        /** Without the special-function and barrier latencies (an FP32 op's and none) and no FA2 figure. */
        public Simt(int registers, int mmaSyncMacsPerCycle, int mmaSyncLatencyCycles, int fp32LatencyCycles,
                    int shuffleLatencyCycles, int threads) {
            this(registers, mmaSyncMacsPerCycle, mmaSyncLatencyCycles, fp32LatencyCycles, shuffleLatencyCycles,
                threads, fp32LatencyCycles, 0, 0);
        }
    }

    /** One library GEMM tile shape (a CTA tile): m x n output, k deep per main-loop step. */
    public record GemmTile(int m, int n, int k) {
        public GemmTile {
            intIn("gemm_tiles", m, 1, 65_536);
            intIn("gemm_tiles", n, 1, 65_536);
            intIn("gemm_tiles", k, 1, 65_536);
        }

        /**
         * Local-buffer bytes the tile needs: its operands double-buffered plus one accumulator of
         * {@code resultBytes} per element. One accumulator, not two: a core runs one such tile at a time, as a GPU
         * SM holds one large CTA (CUTLASS 128x256x64 takes 144 KiB of shared memory on SM80), and the core waits
         * (buffer_full) before starting the next tile's accumulator until the last one has left.
         */
        public long localBytes(int elementBytes, int resultBytes) {
            return 2L * elementBytes * ((long) m * k + (long) k * n) + (long) m * n * resultBytes;
        }

        @Override
        public String toString() {
            return m + "x" + n + "x" + k;
        }
    }

    /**
     * {@code fold_overlap}: successive folds overlap fill and drain (see Dataflow#overlappedCycles).
     * {@code sustainedFraction} ({@code sustained_fraction}, (0, 1], default 1): the fraction of peak MAC issue one
     * tile's main loop sustains; a tile takes ceil(fold cycles / fraction) cycles. Per tile, not per GEMM: a
     * whole-GEMM benchmark (max achievable matmul) already holds its shape's wave and tile quantisation, which the
     * mapping adds itself, so the files derive it as the rate with which the benchmark's own shape simulates at the
     * benchmark's figure. The roofline keeps the datasheet peak.
     *
     * <p>{@code macsPerCycleByType} ({@code macs_per_cycle_by_type}, e.g. {@code {fp8: 2, int8: 2}}): MACs each PE
     * issues per cycle by operand type, 1 for a type not listed. A PE of rate r is an r-wide dot product along the
     * reduction dimension, as a tensor core's MMA instruction doubles its K for 8-bit operands (Hopper wgmma: K = 16
     * for fp16, 32 for fp8), so a tile of depth k takes the fold cycles of depth ceil(k / r).
     */
    public record PeArray(int rows, int cols, Dataflow dataflow, boolean foldOverlap, double sustainedFraction,
                          java.util.Map<DataType, Integer> macsPerCycleByType) {
        public PeArray {
            intIn("rows", rows, 1, 4096);
            intIn("cols", cols, 1, 4096);
            numberIn("sustained_fraction", sustainedFraction, 0, 1, true);
            java.util.EnumMap<DataType, Integer> rates = new java.util.EnumMap<>(DataType.class);
            if (macsPerCycleByType != null) {
                for (var e : macsPerCycleByType.entrySet()) {
                    rates.put(e.getKey(), intIn("macs_per_cycle_by_type." + e.getKey().key(), e.getValue(), 1, 64));
                }
            }
            macsPerCycleByType = java.util.Collections.unmodifiableMap(rates);
        }

        public PeArray(int rows, int cols, Dataflow dataflow, boolean foldOverlap, double sustainedFraction) {
            this(rows, cols, dataflow, foldOverlap, sustainedFraction, java.util.Map.of());
        }

        public PeArray(int rows, int cols, Dataflow dataflow, boolean foldOverlap) {
            this(rows, cols, dataflow, foldOverlap, 1.0);
        }

        /** MACs each PE issues per cycle on operands of {@code type} (1 unless the file says otherwise). */
        public int macsPerCycle(DataType type) {
            return macsPerCycleByType.getOrDefault(type, 1);
        }

        /** The most MACs a PE issues per cycle, over the types it declares (1 when it declares none). */
        public int fastestMacsPerCycle() {
            return macsPerCycleByType.values().stream().mapToInt(Integer::intValue).max().orElse(1);
        }

        /** Cycles of an m x n x k tile on this array under the fold model, at full issue rate, one MAC per PE. */
        public long cycles(long m, long n, long k) {
            return foldOverlap ? dataflow.overlappedCycles(rows, cols, m, n, k) : dataflow.cycles(rows, cols, m, n, k);
        }

        /** Cycles the array takes for an m x n x k tile at its sustained issue rate: ceil(fold cycles / fraction). */
        public long sustainedCycles(long m, long n, long k) {
            long cycles = cycles(m, n, k);
            return sustainedFraction == 1.0 ? cycles : (long) Math.ceil(cycles / sustainedFraction);
        }

        /** As {@link #sustainedCycles(long, long, long)} for operands of {@code type}: depth ceil(k / rate). */
        public long sustainedCycles(long m, long n, long k, DataType type) {
            return sustainedCyclesAt(m, n, k, macsPerCycle(type));
        }

        /** As {@link #sustainedCycles(long, long, long, DataType)} for a type this PE issues {@code rate} MACs of. */
        public long sustainedCyclesAt(long m, long n, long k, int rate) {
            return sustainedCycles(m, n, rate == 1 ? k : (k + rate - 1) / rate);
        }

        /** As a record prints, without an empty rate table: sweep keys hash this text (see HardwareSpec). */
        @Override
        public String toString() {
            return "PeArray[rows=" + rows + ", cols=" + cols + ", dataflow=" + dataflow + ", foldOverlap="
                + foldOverlap + ", sustainedFraction=" + sustainedFraction
                + (macsPerCycleByType.isEmpty() ? "" : ", macsPerCycleByType=" + macsPerCycleByType) + "]";
        }
    }

    /**
     * {@code special_functions_per_cycle}: special-function results (exp, tanh, reciprocal, rsqrt) per core per
     * cycle; 0 means not modelled (they count as ordinary FLOPs on the lanes).
     */
    public record VectorUnit(int lanes, int flopsPerLanePerCycle, int specialFunctionsPerCycle) {
        public VectorUnit {
            intIn("lanes", lanes, 1, 65_536);
            intIn("flops_per_lane_per_cycle", flopsPerLanePerCycle, 1, 1024);
            intIn("special_functions_per_cycle", specialFunctionsPerCycle, 0, 65_536);
        }

        /** A vector unit whose special functions are not modelled apart. */
        public VectorUnit(int lanes, int flopsPerLanePerCycle) {
            this(lanes, flopsPerLanePerCycle, 0);
        }
    }

    public record LocalBuffer(double capacityKib, int bytesPerCycle) {
        public LocalBuffer {
            numberIn("capacity_kib", capacityKib, 1.0 / 1024, 1 << 24, false); // 1 byte .. 16 GiB
            intIn("bytes_per_cycle", bytesPerCycle, 1, 1 << 20);
        }

        public long capacityBytes() {
            return (long) (capacityKib * 1024);
        }
    }

    /**
     * {@code keepsContents}: the global buffer is a hardware cache whose contents outlive a kernel (a GPU's L2), so
     * an operator finds what earlier ones wrote there ({@code dev.rafter.mapping.L2Residency}); false: every kernel
     * finds it empty (a scratchpad, or the model before this was modelled).
     */
    public record GlobalBuffer(double capacityMib, int bytesPerCycle, boolean keepsContents) {
        public GlobalBuffer {
            numberIn("capacity_mib", capacityMib, 1.0 / 1024, 1 << 20, false); // 1 KiB .. 1 TiB
            intIn("bytes_per_cycle", bytesPerCycle, 1, 1 << 24);
        }

        /** A global buffer that keeps nothing from one kernel to the next. */
        public GlobalBuffer(double capacityMib, int bytesPerCycle) {
            this(capacityMib, bytesPerCycle, false);
        }

        /**
         * As a record prints, without {@code keepsContents} where it is false: sweep keys hash this text, so a device
         * whose global buffer keeps nothing keeps the key it had before the flag existed.
         */
        @Override
        public String toString() {
            return "GlobalBuffer[capacityMib=" + capacityMib + ", bytesPerCycle=" + bytesPerCycle
                + (keepsContents ? ", keepsContents=true" : "") + "]";
        }

        public long capacityBytes() {
            return (long) (capacityMib * 1024 * 1024);
        }
    }

    /**
     * How a memory channel is timed: a bandwidth-and-latency server, banks and rows from a DRAM standard, or pages
     * and planes from a flash standard.
     */
    public enum MemoryModel { SIMPLE, BANKED, FLASH }

    /**
     * {@code latencyNs} is the fixed path (controller, NoC, L2 miss path) added to every access; the banked model
     * adds the DRAM core timing of {@code timing} (a standard's table, null unless given) on top.
     */
    public record Memory(int channels, double bandwidthGbPerS, double latencyNs, double capacityGib,
                         MemoryModel model, MemoryTiming timing, FlashTiming flash, double readBufferMib) {
        /** A DRAM or plain memory: no flash standard, no read buffer. */
        public Memory(int channels, double bandwidthGbPerS, double latencyNs, double capacityGib, MemoryModel model,
                      MemoryTiming timing) {
            this(channels, bandwidthGbPerS, latencyNs, capacityGib, model, timing, null, 0);
        }

        /**
         * {@code flash} is the flash model's standard (pages, planes, array times, endurance); {@code readBufferMib}
         * the capacity of the page buffer in front of a flash tier (0: none).
         */
        public Memory {
            intIn("channels", channels, 1, 4096);
            numberIn("bandwidth_gb_per_s", bandwidthGbPerS, 1e-3, 1e6, false); // 1 MB/s .. 1 PB/s
            numberIn("latency_ns", latencyNs, 0, 1e6, false);
            positive("capacity_gib", capacityGib, 1 << 20);
            if (model == MemoryModel.BANKED && timing == null) {
                throw new InputException("timing: required when model is banked (a standard's table, e.g. "
                    + "timing: ../memory/hbm3.yaml)");
            }
            if (model == MemoryModel.FLASH && flash == null) {
                throw new InputException("timing: required when model is flash (a flash standard with its read "
                    + "latency and endurance, e.g. timing: ../memory/hbf.yaml)");
            }
            numberIn("read_buffer_mib", readBufferMib, 0, 1 << 30, false);
            if (readBufferMib > 0 && model != MemoryModel.FLASH) {
                throw new InputException("read_buffer_mib: a read buffer holds flash pages: only for model: flash");
            }
        }

        public double bytesPerSecond() {
            return bandwidthGbPerS * 1e9;
        }

        /**
         * As a record prints, without the flash fields where there is no flash standard and no read buffer: sweep
         * keys hash this text, so a DRAM or plain memory keeps the key it had before flash existed.
         */
        @Override
        public String toString() {
            String dram = "Memory[channels=" + channels + ", bandwidthGbPerS=" + bandwidthGbPerS + ", latencyNs="
                + latencyNs + ", capacityGib=" + capacityGib + ", model=" + model + ", timing=" + timing;
            return dram + (flash == null && readBufferMib == 0 ? "" : ", flash=" + flash + ", readBufferMib="
                + readBufferMib) + "]";
        }
    }

    /**
     * One memory tier: its name (in statistics, tracks and summary keys: {@code hbm.ch0}, {@code utilisation.hbf},
     * and in a workload's {@code placement:}) and its memory. Tier 0 is the {@code memory:} section; the others come
     * from {@code memory_tiers:}, in order. {@code standard} names the row of the energy tables' off-chip
     * {@code dram_pj_per_bit} that charges the tier's bytes (null: the energy model's memory figure, which
     * {@code power.memory_standard} picks; always so for tier 0).
     */
    public record MemoryTier(String name, Memory memory, String standard) {
        public MemoryTier(String name, Memory memory) {
            this(name, memory, null);
        }

        /** Names the reports already use for other things, which a tier's utilisation or energy key would hide. */
        private static final java.util.Set<String> TAKEN = java.util.Set.of("pe_array", "vector_unit",
            "local_buffer", "global_buffer", "interconnect", "device_link", "dma");

        public MemoryTier {
            if (name == null || !name.matches("[a-z][a-z0-9_]{0,31}")) {
                throw new InputException("name: expected a tier name in snake_case (a-z, 0-9, _; at most 32"
                    + " characters, starting with a letter), got '" + name + "'");
            }
            if (TAKEN.contains(name)) {
                throw new InputException("name: '" + name + "' is the name of another component; name the tier "
                    + "after its memory (e.g. hbm, hbf, lpddr)");
            }
        }
    }

    /** The memory tier called {@code name}, or null. */
    public MemoryTier tier(String name) {
        for (MemoryTier t : memoryTiers) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        return null;
    }

    /** The index of the tier called {@code name}, or -1. */
    public int tierIndex(String name) {
        for (int i = 0; i < memoryTiers.size(); i++) {
            if (memoryTiers.get(i).name().equals(name)) {
                return i;
            }
        }
        return -1;
    }

    public record Interconnect(int bytesPerCycle, int latencyCycles) {
        public Interconnect {
            intIn("bytes_per_cycle", bytesPerCycle, 1, 1 << 20);
            intIn("latency_cycles", latencyCycles, 0, 1_000_000);
        }
    }

    /** How the device reaches its peers: a ring, direct links to every peer, or a switch (e.g. NVSwitch). */
    public enum Topology { RING, FULLY_CONNECTED, SWITCH }

    /**
     * Links to the tensor-parallel peers. {@code bandwidth_gb_per_s} is what the links carry per direction for a
     * collective (e.g. NCCL's achievable per-link figure x links); {@code collectiveCosts} is the collective
     * library's cost table (see {@link CollectiveCost}, {@link CollectivePlan}).
     */
    public record DeviceLink(double bandwidthGbPerS, Topology topology, boolean inSwitchReduction,
                             CollectiveAlgorithm algorithm, java.util.List<CollectiveCost> collectiveCosts) {
        public DeviceLink {
            numberIn("bandwidth_gb_per_s", bandwidthGbPerS, 1e-3, 1e6, false); // 1 MB/s .. 1 PB/s
            collectiveCosts = java.util.List.copyOf(collectiveCosts);
            if (collectiveCosts.isEmpty()) {
                throw new InputException("collective_costs: expected at least one row");
            }
        }

        /**
         * Links without a cost table: one row for the topology's natural algorithm (ring on a ring, direct
         * otherwise) with no per-call latency, {@code latencyNs} per hop and no protocol overhead.
         */
        public DeviceLink(double bandwidthGbPerS, double latencyNs, Topology topology) {
            this(bandwidthGbPerS, topology, false, CollectiveAlgorithm.AUTO, java.util.List.of(new CollectiveCost(
                topology == Topology.RING ? CollectiveAlgorithm.RING : CollectiveAlgorithm.DIRECT, "simple", 0,
                numberIn("latency_ns", latencyNs, 0, 1e9, false), 1.0)));
        }

        public double bytesPerSecond() {
            return bandwidthGbPerS * 1e9;
        }
    }

    /** The same device at another clock (an operating point of its {@code power.operating_points}). */
    public HardwareSpec withClockMhz(double mhz) {
        return new HardwareSpec(name, mhz, cores, core, globalBuffer, memory, interconnect, deviceLink, dispatch,
            dataType, energy, components, host, memoryTiers);
    }

    public HardwareSpec withEnergy(dev.rafter.energy.EnergyModel model) {
        return new HardwareSpec(name, clockMhz, cores, core, globalBuffer, memory, interconnect, deviceLink, dispatch,
            dataType, model, components, host, memoryTiers);
    }

    /**
     * What the device charges before each kernel, ns: the dispatch mode's figure, or with a host modelled only the
     * GPU-side boundary (the graph figure), since the host's launch rate, which the eager figure also holds, is then
     * the host's own (te42kyfo/gpu-benches: the 1.26 us left under graphs is the GPU's part of the 2.4 us eager gap).
     */
    public double deviceDispatchNs() {
        return host.on() ? dispatch.graphNs() : dispatch.perKernelNs();
    }

    /**
     * As a record prints, without an empty {@code components} list or a lone tier named hbm: sweep keys hash this
     * text, so a device without registered components or further tiers keeps the key it had before they existed.
     */
    @Override
    public String toString() {
        return "HardwareSpec[name=" + name + ", clockMhz=" + clockMhz + ", cores=" + cores + ", core=" + core
            + ", globalBuffer=" + globalBuffer + ", memory=" + memory + ", interconnect=" + interconnect
            + ", deviceLink=" + deviceLink + ", dispatch=" + dispatch + ", dataType=" + dataType + ", energy="
            + energy + (components.isEmpty() ? "" : ", components=" + components)
            + (host.on() ? ", host=" + host : "")
            + (memoryTiers.size() == 1 && memoryTiers.get(0).name().equals(FIRST_TIER_NAME) ? ""
                : ", memoryTiers=" + memoryTiers) + "]";
    }

    /**
     * An instance of a registered component kind, from the hardware file's {@code components:} list: its kind,
     * its parameters as written (the catalogue checks them against the kind's declaration) and, per key, where it
     * was written (for messages).
     */
    public record Component(String kind, java.util.Map<String, String> values, java.util.Map<String, String> where) {
        public Component {
            values = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(values));
            where = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(where));
        }

        // `where` only locates values for messages (it names the files they came from, so it differs by folder):
        // two components are the same when their kind and values are, as a sweep point's resume key needs.
        @Override
        public boolean equals(Object o) {
            return o instanceof Component c && kind.equals(c.kind) && values.equals(c.values);
        }

        @Override
        public int hashCode() {
            return java.util.Objects.hash(kind, values);
        }

        @Override
        public String toString() {
            return "Component[kind=" + kind + ", values=" + values + "]";
        }
    }

    public double clockHz() {
        return clockMhz * 1e6;
    }

    /** Peak dense MAC throughput of all PE arrays at the device's {@code data_type}, counting a MAC as two FLOPs. */
    public double peakFlopsPerS() {
        return peakFlopsPerS(dataType);
    }

    /** Peak dense throughput of all PE arrays on operands of {@code type} (its MACs per PE per cycle). */
    public double peakFlopsPerS(DataType type) {
        return 2.0 * cores * core.peArrays() * core.peArray().rows() * core.peArray().cols()
            * core.peArray().macsPerCycle(type) * clockHz();
    }

    public double vectorFlopsPerS() {
        return (double) cores * core.vectorUnit().lanes() * core.vectorUnit().flopsPerLanePerCycle() * clockHz();
    }

    public double memoryBytesPerS() {
        return memory.bytesPerSecond();
    }

    public double ridgeFlopsPerByte() {
        return peakFlopsPerS() / memoryBytesPerS();
    }

    public long sramBytes() {
        return cores * core.localBuffer().capacityBytes() + globalBuffer.capacityBytes();
    }
}

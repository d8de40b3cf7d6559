package dev.rafter.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.hw.TestModels;
import dev.rafter.sim.component.MemoryController;
import dev.rafter.sim.component.Interconnect;
import dev.rafter.sim.component.VectorUnit;
import dev.rafter.sim.trace.SliceKind;
import dev.rafter.sim.trace.TraceSink;
import dev.rafter.sim.trace.Track;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Phase;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** Vector operators as kernels run them: special-function throughput, rows over cores, passes over memory. */
class VectorOperatorTest {
    /**
     * The A100 model without kernel dispatch costs and without its special-function limit, so times are the
     * operators' own and each test adds the limit it studies.
     */
    static HardwareSpec a100(String... sets) {
        List<String> all = new java.util.ArrayList<>(List.of("dispatch.eager_ns=0",
            "core.vector_unit.special_functions_per_cycle=0"));
        all.addAll(List.of(sets));
        return HardwareLoader.load(Path.of("models/hardware/a100.yaml"), all);
    }

    /** Runs one operator; returns its result and the cores whose vector unit computed. */
    static Simulation.OpResult run(HardwareSpec hw, Operator op, TreeSet<Integer> vectorCores) {
        List<Simulation.OpResult> out = new ArrayList<>();
        TraceSink sink = new TraceSink() {
            @Override
            public void slice(Track track, SliceKind kind, long opId, long startPs, long endPs, long amount) {
                if (track.kind() == VectorUnit.KIND && kind == SliceKind.COMPUTE) {
                    vectorCores.add(track.core());
                }
            }
        };
        new Simulation(hw).run(OperatorSource.of(op), sink, out::add);
        return out.get(0);
    }

    @Test
    void specialFunctionRateIsOptionalHardwareDataNamedOnBadInput() {
        assertEquals(0, HardwareLoader.load(Path.of("models/hardware/sram-study-45nm.yaml"), List.of()).core()
            .vectorUnit().specialFunctionsPerCycle(), "default: not modelled");
        assertEquals(16, HardwareLoader.load(Path.of("models/hardware/a100.yaml"), List.of()).core().vectorUnit()
            .specialFunctionsPerCycle(), "the A100 model's SFU rate");
        assertEquals(16, a100("core.vector_unit.special_functions_per_cycle=16").core().vectorUnit()
            .specialFunctionsPerCycle());
        String m = org.junit.jupiter.api.Assertions.assertThrows(dev.rafter.config.InputException.class,
            () -> a100("core.vector_unit.special_functions_per_cycle=-1")).getMessage();
        assertTrue(m.contains("core.vector_unit.special_functions_per_cycle: expected an integer in [0, 65536]"), m);
    }

    @Test
    void vectorUnitTakesTheLongestOfFlopsSpecialFunctionsAndBufferTraffic() {
        HardwareSpec.Core core = new HardwareSpec.Core(1, new HardwareSpec.PeArray(16, 16,
            dev.rafter.hw.Dataflow.OUTPUT_STATIONARY, false), new HardwareSpec.VectorUnit(32, 4, 16),
            new HardwareSpec.LocalBuffer(64, 128));
        ClockDomain clock = new ClockDomain("core", 1000);
        VectorUnit v = new VectorUnit(core, (t, k, o, s, e, a) -> { }, null);
        assertEquals(20, v.compute(0, 0, 1280, 320, 256, clock), "320 special functions at 16 per cycle");
        assertEquals(10, v.compute(0, 0, 1280, 16, 256, clock), "1280 flops at 128 per cycle");
        assertEquals(21, v.compute(0, 0, 128, 0, 2688, clock), "2688 bytes at 128 per cycle");
        assertEquals(1, v.compute(0, 0, 0, 1, 0, clock), "one rsqrt takes a cycle");
        HardwareSpec.Core unmodelled = new HardwareSpec.Core(1, core.peArray(), new HardwareSpec.VectorUnit(32, 4),
            core.localBuffer());
        assertEquals(10, new VectorUnit(unmodelled, (t, k, o, s, e, a) -> { }, null)
            .compute(0, 0, 1280, 320, 256, clock), "0: special functions not modelled apart");
    }

    @Test
    void specialFunctionBoundGeluRunsAtTheSfuRate() {
        // 108 x 1024 elements: one chunk of 1024 per core. Per chunk: 8192 FLOPs / 512 per cycle = 16 cycles,
        // 4096 bytes / 128 per cycle = 32 cycles, 1024 tanh / 16 per cycle = 64 cycles.
        long elements = 108 * 1024;
        Operator gelu = Operator.vector(0, "gelu", OpKind.GELU, Phase.PREFILL, 0, 0, elements, DataType.FP16);
        Simulation.OpResult sfu = run(a100("clock_mhz=1000", "core.vector_unit.special_functions_per_cycle=16"),
            gelu, new TreeSet<>());
        assertEquals(108L * 64 * 1000, sfu.sums().get(VectorUnit.KIND, "busy_ps"), "64 cycles of 1000 ps on each core");
        assertEquals(8 * elements, sfu.sums().get(VectorUnit.KIND, "flops"));
        Simulation.OpResult plain = run(a100("clock_mhz=1000"), gelu, new TreeSet<>());
        assertEquals(108L * 32 * 1000, plain.sums().get(VectorUnit.KIND, "busy_ps"), "buffer-bound without the SFU limit");
        Operator silu = Operator.vector(0, "silu", OpKind.SILU, Phase.PREFILL, 0, 0, elements, DataType.FP16);
        assertEquals(108L * 128 * 1000, run(a100("clock_mhz=1000",
            "core.vector_unit.special_functions_per_cycle=16"), silu, new TreeSet<>()).sums().get(VectorUnit.KIND, "busy_ps"),
            "exp and reciprocal: 2048 per chunk at 16 per cycle");
    }

    @Test
    void oneLongRowRunsOnOneCoreThroughItsPortWhileManyShortRowsFillTheDevice() {
        HardwareSpec hw = a100();
        TreeSet<Integer> longCores = new TreeSet<>();
        long n = 1 << 20;
        Simulation.OpResult longRow = run(hw, Operator.rows(0, "s", OpKind.SOFTMAX, Phase.PREFILL, 0, 0, 1, n,
            DataType.FP16), longCores);
        assertEquals(List.of(0), List.copyOf(longCores), "one row, one core");
        // Three reads and one write of 2 MiB through one core port of min(64, 128) B/cycle at 1410 MHz.
        double portBound = 4.0 * n * 2 / 64 / 1410e6;
        assertTrue(longRow.latencyS() >= portBound, longRow.latencyS() + " < " + portBound);
        assertTrue(longRow.latencyS() <= 1.2 * portBound, longRow.latencyS() + " vs " + portBound);
        assertEquals(3L * n * 2, longRow.sums().get(Interconnect.CORE_PORT, "load_bytes"),
            "max, exp-sum and normalise passes");
        assertEquals(n * 2, longRow.sums().get(MemoryController.KIND, "read_bytes"),
            "the row stays in the global buffer between passes");

        TreeSet<Integer> shortCores = new TreeSet<>();
        Simulation.OpResult shortRows = run(hw, Operator.rows(0, "s", OpKind.SOFTMAX, Phase.PREFILL, 0, 0, 1080,
            1024, DataType.FP16), shortCores);
        assertEquals(108, shortCores.size(), "1080 rows fill the device, 10 per core");
        assertEquals(1080L * 1024 * 2, shortRows.sums().get(Interconnect.CORE_PORT, "load_bytes"), "rows on chip: one read");
        assertTrue(shortRows.latencyS() < longRow.latencyS() / 20, shortRows.latencyS() + " vs "
            + longRow.latencyS());
    }

    @Test
    void rowShapesOnRandomDevicesSimulateWithoutDeadlockAndAboveTheRoofline() {
        // Seeded: rows that fit, rows that do not, re-reads pinned or not, few and many rows, tiny buffers. The
        // simulation itself checks the roofline bound, byte conservation and deadlock; the mapper's bytes are checked
        // against what the cores loaded.
        java.util.Random random = new java.util.Random(11);
        String[] cores = {"1", "3", "16", "108"};
        String[] local = {"16", "64", "192"};
        String[] global = {"0.5", "2", "40"};
        OpKind[] kinds = {OpKind.SOFTMAX, OpKind.LAYERNORM, OpKind.RMSNORM, OpKind.GELU, OpKind.SILU};
        for (int i = 0; i < 40; i++) {
            HardwareSpec hw = a100("cores=" + cores[random.nextInt(cores.length)],
                "core.local_buffer.capacity_kib=" + local[random.nextInt(local.length)],
                "global_buffer.capacity_mib=" + global[random.nextInt(global.length)],
                "core.vector_unit.special_functions_per_cycle=" + random.nextInt(3) * 8,
                "global_buffer.keeps_contents=false"); // written through: every result byte reaches DRAM
            OpKind kind = kinds[random.nextInt(kinds.length)];
            long m = 1 + random.nextInt(random.nextBoolean() ? 4 : 400);
            long n = 1 + random.nextInt(random.nextBoolean() ? 3000 : 200_000);
            Operator op = Operator.rows(0, "v", kind, Phase.PREFILL, 0, 0, m, n, DataType.FP16);
            Simulation.OpResult r = run(hw, op, new TreeSet<>());
            long passes = kind.passes(n <= hw.core().localBuffer().capacityBytes() / 8).size();
            assertEquals(passes * m * n * 2, r.sums().get(Interconnect.CORE_PORT, "load_bytes"), op + " on " + hw.cores() + " cores");
            assertEquals(m * n * 2, r.sums().get(MemoryController.KIND, "write_bytes"));
        }
    }

    @Test
    void rowsThatDoNotFitTheGlobalBufferAreReadFromHbmOncePerPass() {
        // 108 rows of 1 Mi elements in flight = 216 MiB: each pass streams them from HBM again.
        long m = 108;
        long n = 1 << 20;
        Simulation.OpResult r = run(a100(), Operator.rows(0, "s", OpKind.SOFTMAX, Phase.PREFILL, 0, 0, m, n,
            DataType.FP16), new TreeSet<>());
        assertEquals(3 * m * n * 2, r.sums().get(MemoryController.KIND, "read_bytes"));
        // The write-back L2 keeps the result's last 40 MiB (its capacity, the newest bytes written); the rest is
        // evicted by the result itself and written to DRAM during the kernel.
        long written = m * n * 2 - 40L * 1024 * 1024;
        assertEquals(written, r.sums().get(MemoryController.KIND, "write_bytes"));
        assertTrue(r.latencyS() >= (3.0 * m * n * 2 + written) / a100().memoryBytesPerS(), "3 passes over HBM");
    }

    /**
     * A norm whose rows stay on chip reads them again behind its statistics (the block's reduction and barrier):
     * one more round trip to the L2 that the core waits on after its last chunk. A softmax of the same rows makes
     * the same loads, buffer traffic and stores (both bound by the local buffer's 128 B per cycle: 4 bytes per
     * element against 8 or 5 FLOPs at 512 per cycle) and keeps its row in registers, so with a chunk of rows a core
     * (108 x 40 rows of 512: 40 rows a core) the layernorm ends later by exactly the A100 model's L2 hit latency,
     * 211 cycles = 211 ns at 1000 MHz. With several chunks a core (108 x 100 rows: chunks of 48, 2-3 a core) the
     * round trip is charged once, on the last: exactly 211 ns too where the stores stay in the write-back L2, less
     * where it hides behind the stores still draining to HBM (written through). (The A100 model without core.simt:
     * the kernels' latency chains are not modelled.)
     */
    @Test
    void aNormWaitsOneL2RoundTripForItsStatisticsOnceOnEachCore() {
        HardwareSpec hw = TestModels.a100WithoutSimt("dispatch.eager_ns=0",
            "core.vector_unit.special_functions_per_cycle=0", "clock_mhz=1000");
        assertEquals(211e-9, normLaterThanSoftmax(hw, 108 * 40), 1e-12, "one chunk a core");
        assertEquals(211e-9, normLaterThanSoftmax(hw, 108 * 100), 1e-12, "several chunks a core, write-back");
        double several = normLaterThanSoftmax(TestModels.a100WithoutSimt("dispatch.eager_ns=0",
            "core.vector_unit.special_functions_per_cycle=0", "clock_mhz=1000", "global_buffer.keeps_contents=false"),
            108 * 100);
        assertTrue(several >= 0 && several < 211e-9, several + " s: several chunks a core, written through");
    }

    /**
     * With the A100 model's core.simt at 1000 MHz (1 cycle = 1000 ps), 108 x 40 rows of 512, one chunk of 40 rows a
     * core, by hand (see VectorMapperTest for the chains): the layernorm's core waits 3 chains of 648 cycles (16 of
     * its 128-thread CTAs at once), then its normalise loads, 211 (L2) + 206 (memory path, 206 ns) = 417; the
     * softmax's 1 chain of 270 (its 40 warps at once). Everything else is the same work, so the layernorm ends
     * 1944 + 417 - 270 = 2091 cycles later: 2,091,000 ps.
     */
    @Test
    void onASimtCoreANormEndsLaterThanASoftmaxByItsReductionChainsToThePicosecond() {
        assertEquals(2_091_000, Math.round(normLaterThanSoftmax(a100("clock_mhz=1000"), 108 * 40) * 1e12));
    }

    /**
     * A gather and a copy of the same elements make the same loads, buffer traffic and stores; on a SIMT core the
     * gather's loads wait for their indices, from memory, once on each core's last chunk: an L2 hit (211 cycles) and
     * the memory's fixed path (206 ns, 206 cycles at 1000 MHz), 417,000 ps later.
     */
    @Test
    void onASimtCoreAGatherEndsOneIndexLoadFromMemoryAfterACopy() {
        HardwareSpec hw = a100("clock_mhz=1000");
        Operator gather = Operator.vector(0, "g", OpKind.GATHER, Phase.PREFILL, 0, 0, 72192, DataType.FP16);
        Operator copy = Operator.vector(0, "c", OpKind.COPY, Phase.PREFILL, 0, 0, 72192, DataType.FP16);
        assertEquals(417_000, Math.round((run(hw, gather, new TreeSet<>()).latencyS()
            - run(hw, copy, new TreeSet<>()).latencyS()) * 1e12));
    }

    static double normLaterThanSoftmax(HardwareSpec hw, long rows) {
        Operator norm = Operator.rows(0, "ln", OpKind.LAYERNORM, Phase.PREFILL, 0, 0, rows, 512, DataType.FP16);
        Operator softmax = Operator.rows(0, "sm", OpKind.SOFTMAX, Phase.PREFILL, 0, 0, rows, 512, DataType.FP16);
        return run(hw, norm, new TreeSet<>()).latencyS() - run(hw, softmax, new TreeSet<>()).latencyS();
    }
}

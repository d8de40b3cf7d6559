package dev.rafter.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.mapping.MatrixTile;
import dev.rafter.mapping.Stage;
import dev.rafter.mapping.TileProgram;
import dev.rafter.mapping.Work;
import dev.rafter.report.SimulationReport;
import dev.rafter.roofline.Roofline;
import dev.rafter.sim.component.MemoryController;
import dev.rafter.sim.component.PeArray;
import dev.rafter.sim.component.VectorUnit;
import dev.rafter.sim.trace.RunStats;
import dev.rafter.sim.trace.SliceKind;
import dev.rafter.sim.trace.Track;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Phase;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Whole-device runs: the acceptance figures of the engine and the properties every run must keep. */
class SimulationTest {
    static HardwareSpec a100(String... sets) {
        return HardwareLoader.load(Path.of("models/hardware/a100.yaml"), List.of(sets));
    }

    static Operator gemm(long m, long n, long k) {
        return Operator.gemm(0, "g", Phase.PREFILL, 0, 0, 1, m, n, k, DataType.FP16);
    }

    static Simulation.OpResult one(HardwareSpec hw, Operator op) {
        List<Simulation.OpResult> out = new ArrayList<>();
        new Simulation(hw).run(OperatorSource.of(op), null, out::add);
        return out.get(0);
    }

    static double peUtil(HardwareSpec hw, Simulation.OpResult r) {
        return r.sums().get(PeArray.KIND, "macs") / (hw.peakFlopsPerS() / 2 * r.latencyS());
    }

    @Test
    void largeSquareGemmIsComputeBoundNearTheRoof() {
        HardwareSpec hw = a100();
        Simulation.OpResult r = one(hw, gemm(8192, 8192, 8192));
        double ratio = r.latencyS() / r.bound().seconds();
        assertTrue(ratio >= 1 && ratio <= 1.2, "latency / roofline = " + ratio);
        assertTrue(peUtil(hw, r) >= 0.8, "PE utilisation " + peUtil(hw, r));
        assertEquals(8192L * 8192 * 8192, r.sums().get(PeArray.KIND, "macs"), "every MAC computed once");
    }

    @Test
    void decodeGemmIsMemoryBoundAtTheBandwidthCeiling() {
        HardwareSpec hw = a100();
        Simulation.OpResult r = one(hw, gemm(8, 12288, 12288));
        assertEquals("memory", r.bound().bound());
        double bytesOverBandwidth = r.bound().bytes() / hw.memoryBytesPerS();
        assertTrue(r.latencyS() <= 1.3 * bytesOverBandwidth, r.latencyS() / bytesOverBandwidth + "x");
        double hbmUtil = (r.sums().get(MemoryController.KIND, "read_bytes") + r.sums().get(MemoryController.KIND, "write_bytes")) / (hw.memoryBytesPerS() * r.latencyS());
        assertTrue(hbmUtil >= 0.7, "HBM utilisation " + hbmUtil);
    }

    @Test
    void bandwidthMovesMemoryBoundLatencyAndClockMovesComputeBound() {
        Operator memoryBound = gemm(8, 12288, 12288);
        Operator computeBound = gemm(4096, 4096, 4096);
        double m1 = one(a100(), memoryBound).latencyS();
        double m2 = one(a100("memory.bandwidth_gb_per_s=4078"), memoryBound).latencyS();
        double c1 = one(a100(), computeBound).latencyS();
        double c2 = one(a100("memory.bandwidth_gb_per_s=4096"), computeBound).latencyS();
        assertTrue(m2 < 0.6 * m1, "doubling bandwidth nearly halves decode: " + m1 + " -> " + m2);
        assertTrue(Math.abs(c2 - c1) / c1 < 0.05, "compute-bound barely moves: " + c1 + " -> " + c2);
        double mc = one(a100("clock_mhz=705"), memoryBound).latencyS();
        double cc = one(a100("clock_mhz=705"), computeBound).latencyS();
        assertTrue(cc > 1.8 * c1, "halving the clock nearly doubles compute-bound: " + c1 + " -> " + cc);
        assertTrue(mc < 1.25 * m1, "memory-bound barely moves with the clock: " + m1 + " -> " + mc);
    }

    @Test
    void stallBreakdownSumsToElapsedTimeOnEveryArray() {
        HardwareSpec hw = a100();
        Device[] device = new Device[1];
        List<long[]> perArray = new ArrayList<>();
        RunStats.Sums[] sums = new RunStats.Sums[1];
        Simulation.Result r = new Simulation(hw).run(OperatorSource.of(gemm(2048, 3000, 1000),
            Operator.gemm(1, "d", Phase.DECODE, 0, 1, 1, 8, 4096, 4096, DataType.FP16)), null, x -> { });
        sums[0] = r.stats().total();
        long accounted = sums[0].get(PeArray.KIND, "busy_ps");
        for (SliceKind k : SliceKind.values()) {
            if (k.isStall() && k != SliceKind.IDLE) {
                accounted += sums[0].stallPs(k);
            }
        }
        long arrays = (long) hw.cores() * hw.core().peArrays();
        assertTrue(accounted <= arrays * r.endPs(), "no array is over-booked");
        SimulationReport report = new SimulationReport(hw, null);
        Map<String, Object> summary = report.summary(r);
        @SuppressWarnings("unchecked")
        Map<String, Object> stalls = (Map<String, Object>) summary.get("stall_cycles");
        long total = 0;
        for (Object v : stalls.values()) {
            total += (Long) v;
        }
        assertEquals((long) summary.get("cycles"), total, 3, "busy + stalls + idle = elapsed cycles per array");
        assertTrue((Long) stalls.get("memory") > 0, "the decode GEMM waits on memory");
    }

    @Test
    void identicalInputsGiveIdenticalOutputs() {
        String a = opsCsv();
        String b = opsCsv();
        assertEquals(a, b);
        assertTrue(a.lines().count() == 4);
    }

    private static String opsCsv() {
        StringWriter w = new StringWriter();
        HardwareSpec hw = a100();
        SimulationReport report = new SimulationReport(hw, w);
        new Simulation(hw).run(OperatorSource.of(gemm(1000, 2000, 3000),
            Operator.gemm(1, "d", Phase.DECODE, 0, 1, 64, 4, 1025, 128, DataType.FP16),
            Operator.gemm(2, "e", Phase.DECODE, 0, 1, 1, 8, 4096, 4096, DataType.FP16)), null, report);
        return w.toString();
    }

    @Test
    void everyOperatorTakesAtLeastItsRooflineBound() {
        HardwareSpec hw = a100();
        Roofline roofline = new Roofline(hw);
        long[][] shapes = {{1, 1, 1}, {16, 16, 16}, {64, 4096, 64}, {4096, 64, 4096}, {17, 1000, 333}};
        for (long[] s : shapes) {
            Simulation.OpResult r = one(hw, gemm(s[0], s[1], s[2]));
            assertTrue(r.latencyS() >= roofline.of(r.op()).seconds(), java.util.Arrays.toString(s));
        }
    }

    @Test
    void fusedAttentionFromACapturedTraceRunsAsScoresSoftmaxContext() {
        HardwareSpec hw = a100();
        Operator att = new Operator(0, "attention", dev.rafter.workload.OpKind.ATTENTION, Phase.DECODE, 0, 1, 64, 4,
            1025, 128, 0, DataType.FP16, Operator.NO_DEPS);
        Simulation.OpResult r = one(hw, att);
        assertEquals(2L * 64 * 4 * 1025 * 128, r.sums().get(PeArray.KIND, "macs"));
        assertEquals(5L * 64 * 4 * 1025, r.sums().get(VectorUnit.KIND, "flops"));
        assertTrue(r.latencyS() >= r.bound().seconds());
    }

    @Test
    void aStuckRunIsReportedAsADeadlockNamingTheWaitingComponents() {
        HardwareSpec hw = a100("cores=2");
        Operator op = gemm(16, 16, 16);
        // A stage that claims three users when only one tile uses it is never released: the second block waits.
        Work first = new MatrixTile(0, 16, 16, 16, 16, 1);
        Work second = new MatrixTile(2, 16, 16, 16, 16, 1);
        List<Stage> stages = List.of(new Stage(0, 1024, 0, 0, 3), new Stage(1024, 1024, 0, 0, 1),
            new Stage(2048, 1024, 0, 0, 1));
        TileProgram plan = new TileProgram(stages, List.of(List.of(first, second), List.of()), 3072, 1024,
            "hand-made");
        List<Track> tracks = Device.tracks(hw);
        RunStats stats = new RunStats(tracks);
        Device[] d = new Device[1];
        long end = new Kernel().run(s -> {
            d[0] = new Device(hw, s, stats, tracks);
            d[0].runProgram(op.id(), dev.rafter.hw.DataType.FP16, plan, () -> { });
        });
        List<String> waiting = d[0].waiting();
        assertTrue(waiting.get(0).startsWith("core 0"), waiting.toString());
        assertTrue(String.join(";", waiting).contains("global buffer"), waiting.toString());
        DeadlockException e = new DeadlockException(end, waiting);
        assertTrue(e.getMessage().startsWith("deadlock at "), e.getMessage());
        assertThrows(IllegalStateException.class, () -> new Kernel().run(s -> s.schedule(-5, () -> { })));
    }
    @Test
    void operatorsDifferingOnlyInMaskOrOperandTypeAreNotTakenForEachOther() {
        // An L2 that keeps nothing between operators: each runs in the stream as it runs alone.
        HardwareSpec hw = a100("global_buffer.keeps_contents=false");
        Operator plain = Operator.flashAttention(1, "a", Phase.PREFILL, 0, 0, 16, 512, 512, 128, 512, false,
            DataType.FP16, DataType.FP16);
        Operator causal = Operator.flashAttention(2, "b", Phase.PREFILL, 0, 0, 16, 512, 512, 128, 512, true,
            DataType.FP16, DataType.FP16);
        Operator fp8Kv = Operator.flashAttention(3, "c", Phase.PREFILL, 0, 0, 16, 512, 512, 128, 512, true,
            DataType.FP16, DataType.FP8);
        List<Simulation.OpResult> together = new java.util.ArrayList<>();
        new Simulation(hw).run(OperatorSource.of(plain, causal, fp8Kv), null, together::add);
        assertEquals(3, together.size());
        assertEquals(one(hw, plain).endPs() - one(hw, plain).startPs(), together.get(0).endPs() - together.get(0).startPs());
        for (int i = 1; i < 3; i++) {
            Simulation.OpResult alone = one(hw, together.get(i).op());
            assertEquals(alone.endPs() - alone.startPs(), together.get(i).endPs() - together.get(i).startPs(),
                together.get(i).op().name());
            assertEquals(alone.sums().get(MemoryController.KIND, "read_bytes"), together.get(i).sums().get(MemoryController.KIND, "read_bytes"));
        }
        assertTrue(together.get(1).sums().get(PeArray.KIND, "macs") < together.get(0).sums().get(PeArray.KIND, "macs"), "causal skips masked blocks");
        assertTrue(together.get(2).sums().get(MemoryController.KIND, "read_bytes") < together.get(1).sums().get(MemoryController.KIND, "read_bytes"), "fp8 K and V");
    }
    @Test
    void anOperatorWithTooManySlicesToKeepIsReusedOnlyWhereItsSlicesAreNotWanted() {
        // An L2 that keeps nothing between operators, so the three GEMMs are twins.
        HardwareSpec hw = a100("global_buffer.keeps_contents=false");
        Operator[] ops = new Operator[3];
        for (int i = 0; i < 3; i++) {
            ops[i] = Operator.gemm(i, "g" + i, Phase.PREFILL, 0, 0, 1, 512, 512, 512, DataType.FP16);
        }
        // Slices wanted for op 2 only (as --events-ops 2:2); recordings cut at 10 slices, so op 0's is dropped:
        // op 1 is reused without slices, op 2 must be simulated again to have its own.
        List<String> reusedRun = new ArrayList<>();
        List<String> fullRun = new ArrayList<>();
        Simulation.Result r = new Simulation(hw).recordingLimit(10).run(OperatorSource.of(ops), window(reusedRun, 2),
            x -> { });
        Simulation.Result full = new Simulation(hw).reuse(false).run(OperatorSource.of(ops), window(fullRun, 2),
            x -> { });
        assertEquals(1, r.reusedOperators());
        assertEquals(full.endPs(), r.endPs());
        assertTrue(fullRun.size() > 10, "op 2 has more slices than a recording keeps: " + fullRun.size());
        assertEquals(fullRun, reusedRun);
    }

    /** A sink that keeps the slices of operator {@code only}, as text, and wants no others. */
    private static dev.rafter.sim.trace.TraceSink window(List<String> out, long only) {
        return new dev.rafter.sim.trace.TraceSink() {
            @Override
            public void slice(Track track, SliceKind kind, long opId, long startPs, long endPs, long amount) {
                if (opId == only) {
                    out.add(track.name() + " " + kind + " " + startPs + " " + endPs + " " + amount);
                }
            }

            @Override
            public boolean wants(long opId) {
                return opId == only;
            }
        };
    }
    @Test
    void unaryAndCopyOperatorsReadOneOperandAndWriteOne() {
        // Written through (the A100's L2 would keep the result, write-back).
        HardwareSpec hw = a100("global_buffer.keeps_contents=false");
        long n = 1L << 22;
        for (OpKind kind : new OpKind[] {OpKind.UNARY, OpKind.COPY, OpKind.ELEMENTWISE}) {
            Simulation.OpResult r = one(hw, Operator.vector(0, "v", kind, Phase.DECODE, 0, 0, n, DataType.FP16));
            long inputs = kind == OpKind.ELEMENTWISE ? 2 : 1;
            assertEquals(inputs * n * 2, r.sums().get(MemoryController.KIND, "read_bytes"), kind.key());
            assertEquals(n * 2, r.sums().get(MemoryController.KIND, "write_bytes"), kind.key());
            assertEquals(kind == OpKind.COPY ? 0 : n, r.sums().get(VectorUnit.KIND, "flops"), kind.key());
        }
    }
}

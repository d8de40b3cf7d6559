package dev.rafter.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.sim.component.DeviceLink;
import dev.rafter.sim.component.MemoryController;
import dev.rafter.sim.component.PeArray;
import dev.rafter.sim.trace.SliceKind;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;
import dev.rafter.workload.OperatorOrder;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Phase;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@code --order dependencies}: what overlapping saves, and the properties every schedule keeps. */
class DependencyOrderTest {
    /** An L2 that keeps nothing between operators, so each one takes its solo time in either order. */
    private static final HardwareSpec A100 = SimulationTest.a100("global_buffer.keeps_contents=false");

    private static Operator gemm(long id, long size, long... deps) {
        return new Operator(id, "gemm" + id, OpKind.GEMM, Phase.PREFILL, 0, 0, 1, size, size, size, 0, DataType.FP16,
            deps);
    }

    private static Operator allReduce(long id, long elements, long... deps) {
        return new Operator(id, "all_reduce" + id, OpKind.ALL_REDUCE, Phase.PREFILL, 0, 0, 0, 0, 8, 0, elements,
            DataType.FP16, deps);
    }

    private static Operator norm(long id, long rows, long... deps) {
        return new Operator(id, "norm" + id, OpKind.RMSNORM, Phase.PREFILL, 0, 0, 0, rows, 1024, 0, rows * 1024,
            DataType.FP16, deps);
    }

    /** A GEMM whose schedule repeats on {@link FastForwardTest#small}. */
    private static Operator wide(long id, long... deps) {
        return new Operator(id, "wide" + id, OpKind.GEMM, Phase.PREFILL, 0, 0, 1, 1024, 2048, 512, 0, DataType.FP16,
            deps);
    }

    private static List<Simulation.OpResult> run(OperatorOrder order, boolean reuse, Operator... ops) {
        List<Simulation.OpResult> out = new ArrayList<>();
        new Simulation(A100).order(order).reuse(reuse).run(OperatorSource.of(ops), null, out::add);
        return out;
    }

    private static long end(List<Simulation.OpResult> results) {
        return results.stream().mapToLong(Simulation.OpResult::endPs).max().orElseThrow();
    }

    /** An operator's time alone on the device, and the bytes it moves through memory. */
    private static Simulation.OpResult solo(Operator op) {
        return run(OperatorOrder.STRICT, true, op).get(0);
    }

    private static long memoryBytes(Simulation.OpResult r) {
        return r.sums().get(MemoryController.KIND, "read_bytes") + r.sums().get(MemoryController.KIND, "write_bytes");
    }

    @Test
    void twoIndependentChainsOverlapTheCollectiveWithTheOtherGemm() {
        // gemm0 -> all_reduce2 and gemm1 -> all_reduce3; gemm1 waits for gemm0 only because both need the cores.
        Operator g0 = gemm(0, 2048);
        Operator g1 = gemm(1, 2048, 0);
        Operator a2 = allReduce(2, 4L << 20, 0);
        Operator a3 = allReduce(3, 4L << 20, 1);
        long g = solo(g0).endPs();
        long a = solo(a2).endPs();
        long strict = end(run(OperatorOrder.STRICT, true, g0, g1, a2, a3));
        assertEquals(2 * g + 2 * a, strict, "strict order: the solo times one after another");

        // By hand: gemm0 alone; then gemm1 on the cores beside all_reduce2 on the links; all_reduce3 after both.
        long expected = g + Math.max(g, a) + a;
        // The two that overlap share memory: at worst one waits for all the other's traffic.
        double contentionPs = (memoryBytes(solo(g1)) + memoryBytes(solo(a2)))
            / (A100.memory().bandwidthGbPerS() * 1e9) * 1e12;
        long overlapped = end(run(OperatorOrder.DEPENDENCIES, true, g0, g1, a2, a3));
        assertTrue(overlapped >= expected && overlapped <= expected + contentionPs, "end " + overlapped
            + " ps, expected " + expected + " ps plus at most " + contentionPs + " ps of memory contention");
        assertTrue(strict - overlapped >= Math.min(g, a) - contentionPs, "saved " + (strict - overlapped) + " ps");
    }

    @Test
    void aChainTakesTheSameTimesInEitherOrder() {
        Operator[] chain = {gemm(0, 512), allReduce(1, 1L << 20), norm(2, 512), gemm(3, 512), allReduce(4, 1L << 20)};
        List<Simulation.OpResult> strict = run(OperatorOrder.STRICT, false, chain);
        List<Simulation.OpResult> deps = run(OperatorOrder.DEPENDENCIES, false, chain);
        for (int i = 0; i < chain.length; i++) {
            assertEquals(strict.get(i).startPs(), deps.get(i).startPs(), "start of op " + i);
            assertEquals(strict.get(i).endPs(), deps.get(i).endPs(), "end of op " + i);
        }
    }

    /** A random DAG: small GEMMs, norms and all-reduces of a few shapes (so shapes repeat), deps on earlier ops. */
    private static Operator[] randomDag(long seed, int count) {
        SplittableRandom random = new SplittableRandom(seed);
        Operator[] ops = new Operator[count];
        for (int i = 0; i < count; i++) {
            long[] deps = Operator.NO_DEPS;
            if (i > 0 && random.nextInt(5) > 0) {
                deps = random.longs(1 + random.nextInt(3), 0, i).distinct().sorted().toArray();
            }
            ops[i] = switch (random.nextInt(3)) {
                case 0 -> gemm(i, 128 << random.nextInt(3), deps);
                case 1 -> norm(i, 256 << random.nextInt(2), deps);
                default -> allReduce(i, 1L << (16 + random.nextInt(3)), deps);
            };
        }
        return ops;
    }

    private static String fingerprint(List<Simulation.OpResult> results) {
        StringBuilder s = new StringBuilder();
        for (Simulation.OpResult r : results) {
            s.append(r.op().id()).append(' ').append(r.startPs()).append(' ').append(r.endPs()).append(' ')
                .append(r.sums().get(PeArray.KIND, "macs")).append(' ')
                .append(r.sums().get(MemoryController.KIND, "read_bytes")).append(' ')
                .append(r.sums().get(MemoryController.KIND, "write_bytes")).append(' ')
                .append(r.sums().get(DeviceLink.KIND, "bytes")).append(' ')
                .append(r.sums().get(PeArray.KIND, "busy_ps")).append(' ')
                .append(Arrays.stream(SliceKind.values()).map(k -> r.sums().stallPs(k)).toList()).append('\n');
        }
        return s.toString();
    }

    @Test
    void randomDagsKeepEveryDependencyAndRunIdenticallyWithOrWithoutReuse() {
        for (long seed = 1; seed <= 6; seed++) {
            Operator[] ops = randomDag(seed, 60);
            List<Simulation.OpResult> results = run(OperatorOrder.DEPENDENCIES, true, ops);
            Map<Long, Simulation.OpResult> byId = new HashMap<>();
            for (Simulation.OpResult r : results) {
                assertEquals(null, byId.put(r.op().id(), r), "seed " + seed + ": op " + r.op().id() + " ran twice");
            }
            assertEquals(ops.length, byId.size(), "seed " + seed + ": every operator ran");
            for (Operator op : ops) {
                long[] deps = op.deps().length == 0 && op.id() > 0 ? new long[] {op.id() - 1} : op.deps();
                for (long d : deps) {
                    assertTrue(byId.get(op.id()).startPs() >= byId.get(d).endPs(), "seed " + seed + ": op "
                        + op.id() + " started before its input " + d + " ended");
                }
            }
            // One operator at a time per engine: the cores, the device links.
            for (Simulation.OpResult x : results) {
                for (Simulation.OpResult y : results) {
                    if (x != y && x.op().kind().isCollective() == y.op().kind().isCollective()) {
                        assertTrue(x.endPs() <= y.startPs() || y.endPs() <= x.startPs(), "seed " + seed + ": ops "
                            + x.op().id() + " and " + y.op().id() + " shared an engine");
                    }
                }
            }
            String first = fingerprint(results);
            assertEquals(first, fingerprint(run(OperatorOrder.DEPENDENCIES, true, ops)), "seed " + seed + ": rerun");
            assertEquals(first, fingerprint(run(OperatorOrder.DEPENDENCIES, false, ops)), "seed " + seed
                + ": reuse changed the run");
        }
    }

    @Test
    void fastForwardStaysExactForAnOperatorAloneAfterOthersOverlapped() {
        // The cut-down study device, whose GEMM schedules repeat and are fast-forwarded (FastForwardTest);
        // gemm2 overlaps all_reduce1, gemm3 and gemm4 start alone (gemm4 a twin of gemm3, reused).
        HardwareSpec hw = FastForwardTest.small("memory.model=simple");
        Operator[] ops = {wide(0), allReduce(1, 1L << 20, 0), wide(2, 0), wide(3, 1, 2), wide(4, 3)};
        List<Simulation.OpResult> fast = new ArrayList<>();
        Simulation.Result r = new Simulation(hw).order(OperatorOrder.DEPENDENCIES).run(OperatorSource.of(ops), null,
            fast::add);
        assertTrue(r.fastForwardedStages() > 0, "stages fast-forwarded");
        assertTrue(r.reusedOperators() > 0, "operators reused");
        List<Simulation.OpResult> full = new ArrayList<>();
        new Simulation(hw).order(OperatorOrder.DEPENDENCIES).reuse(false).run(OperatorSource.of(ops), null,
            full::add);
        assertEquals(fingerprint(full), fingerprint(fast));
        Map<Long, Simulation.OpResult> byId = new HashMap<>();
        fast.forEach(x -> byId.put(x.op().id(), x));
        assertTrue(byId.get(1L).startPs() < byId.get(2L).endPs() && byId.get(2L).startPs() < byId.get(1L).endPs(),
            "all_reduce1 overlaps gemm2");
    }

    @Test
    void randomDagsOverlapSomewhereAndReuseSomeOperators() {
        // The property test above is only worth something if its DAGs overlap operators and reuse some.
        int overlapping = 0;
        long reused = 0;
        for (long seed = 1; seed <= 6; seed++) {
            List<Simulation.OpResult> results = new ArrayList<>();
            reused += new Simulation(A100).order(OperatorOrder.DEPENDENCIES)
                .run(OperatorSource.of(randomDag(seed, 60)), null, results::add).reusedOperators();
            for (Simulation.OpResult x : results) {
                for (Simulation.OpResult y : results) {
                    if (x.op().id() < y.op().id() && x.startPs() < y.endPs() && y.startPs() < x.endPs()) {
                        overlapping++;
                    }
                }
            }
        }
        assertTrue(overlapping > 10, overlapping + " overlapping pairs");
        assertTrue(reused > 10, reused + " operators reused");
    }
}

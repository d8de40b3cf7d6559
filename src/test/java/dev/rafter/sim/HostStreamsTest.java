package dev.rafter.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.config.InputException;
import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.sim.component.Host;
import dev.rafter.sim.trace.SliceKind;
import dev.rafter.sim.trace.TraceSink;
import dev.rafter.sim.trace.Track;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;
import dev.rafter.workload.OperatorOrder;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Phase;
import dev.rafter.workload.Timing;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A host feeding streams ({@code --order dependencies} with {@code host.framework}): one CPU thread issues the
 * launches in program order; an operator starts once its launch is in the stream, its inputs have ended and its
 * engine (the cores, or the device links for a collective) is free.
 */
class HostStreamsTest {
    @TempDir
    Path tmp;

    /** An eager host costing {@code opNs} per operator and {@code launchNs} per kernel, nothing else. */
    private Path eager(double opNs, double launchNs, double syncNs, double servingStepNs) throws Exception {
        return HostTest.costs(tmp, launchNs, syncNs, opNs, 0, 0, launchNs, servingStepNs);
    }

    /**
     * The A100 on simple memory, no device-side dispatch cost and an L2 that keeps nothing between kernels (each
     * operator takes its solo time wherever it runs alone), with the given host.
     */
    private static HardwareSpec a100(String framework, Path costs, String... more) {
        return HostTest.a100(framework, costs, more);
    }

    private static Operator norm(long id, long rows, int step, long... deps) {
        return new Operator(id, "norm" + id, OpKind.RMSNORM, Phase.DECODE, 0, step, 0, rows, 1024, 0, rows * 1024,
            DataType.FP16, deps);
    }

    private static Operator allReduce(long id, long elements, long... deps) {
        return new Operator(id, "all_reduce" + id, OpKind.ALL_REDUCE, Phase.DECODE, 0, 0, 0, 0, 8, 0, elements,
            DataType.FP16, deps);
    }

    private static Operator gemm(long id, long size, long... deps) {
        return new Operator(id, "gemm" + id, OpKind.GEMM, Phase.DECODE, 0, 0, 1, size, size, size, 0, DataType.FP16,
            deps);
    }

    /** Keeps the host's issue slices: per operator, when its first launch was in the stream. */
    private static final class Launches implements TraceSink {
        final Map<Long, Long> firstLaunch = new HashMap<>();
        final List<long[]> issues = new ArrayList<>();

        @Override
        public void slice(Track track, SliceKind kind, long opId, long startPs, long endPs, long amount) {
            if (kind == SliceKind.HOST_ISSUE) {
                firstLaunch.putIfAbsent(opId, endPs);
                issues.add(new long[] {opId, startPs, endPs});
            }
        }
    }

    private record Run(Map<Long, Simulation.OpResult> byId, Simulation.Result result, Launches launches) {
        long start(long id) {
            return byId.get(id).startPs();
        }

        long end(long id) {
            return byId.get(id).endPs();
        }

        long duration(long id) {
            return end(id) - start(id);
        }

        long hostStat(String statistic) {
            return result.stats().total().get(Host.KIND, statistic);
        }
    }

    private static Run run(HardwareSpec hw, OperatorOrder order, Operator... ops) {
        Map<Long, Simulation.OpResult> byId = new HashMap<>();
        Launches launches = new Launches();
        Simulation.Result r = new Simulation(hw).order(order).run(OperatorSource.of(ops), launches,
            x -> byId.put(x.op().id(), x));
        assertEquals(ops.length, byId.size(), "every operator ran once");
        return new Run(byId, r, launches);
    }

    /**
     * Two independent chains after a root: norms on the cores (0, 2, 4, 6: each after the one before) and all-reduces
     * on the device links (1, 3, 5, 7: the first after the root norm 0, each after the one before).
     */
    private static Operator[] twoChains(long rows, long elements) {
        return new Operator[] {norm(0, rows, 0), allReduce(1, elements, 0), norm(2, rows, 0, 0),
            allReduce(3, elements, 1), norm(4, rows, 0, 2), allReduce(5, elements, 3), norm(6, rows, 0, 4),
            allReduce(7, elements, 5)};
    }

    @Test
    void whereTheHostBindsDependenciesGainNothingBeyondItsIssueRate() throws Exception {
        long call = 50_000_000; // 50 us per eager call, far above each kernel's few microseconds
        HardwareSpec hw = a100("eager", eager(50_000, 0, 0, 0));
        Operator[] ops = twoChains(64, 1L << 14);
        Run strict = run(hw, OperatorOrder.STRICT, ops);
        Run deps = run(hw, OperatorOrder.DEPENDENCIES, ops);
        long waited = 0;
        for (int i = 0; i < ops.length; i++) {
            assertTrue(strict.duration(i) < call, "op " + i + " is shorter than a call");
            // Launch i is in the stream after i + 1 calls; its inputs ended a call's time before.
            assertEquals((i + 1) * call, deps.start(i), "op " + i + " starts at its launch");
            assertEquals(strict.start(i), deps.start(i), "op " + i + ": the same start in either order");
            assertEquals(strict.end(i), deps.end(i), "op " + i + ": the same end in either order");
            waited += i == 0 ? call : call - strict.duration(i - 1);
        }
        assertEquals(waited, deps.hostStat("launch_wait_ps"), "the device idles from each end to the next launch");
        assertEquals(strict.hostStat("launch_wait_ps"), deps.hostStat("launch_wait_ps"));
        assertEquals(ops.length * call, deps.hostStat("busy_ps"));
        assertEquals(strict.hostStat("kernels"), deps.hostStat("kernels"));
    }

    @Test
    void whereTheDeviceBindsTheCollectiveChainOverlapsTheComputeChain() throws Exception {
        long call = 100_000; // 0.1 us per eager call, below each kernel's time
        HardwareSpec hw = a100("eager", eager(100, 0, 0, 0));
        HardwareSpec noHost = a100("none", null);
        Operator[] ops = twoChains(4096, 1L << 20);
        Run solo = run(noHost, OperatorOrder.STRICT, ops);
        long norms = 0;
        long collectives = 0;
        for (int i = 0; i < ops.length; i++) {
            assertTrue(solo.duration(i) > 8 * call, "op " + i + " is longer than the host's eight calls");
            if (i % 2 == 0) {
                norms += solo.duration(i);
            } else {
                collectives += solo.duration(i);
            }
        }
        // Strict: the first launch, then every operator after the one before (the host runs ahead).
        Run strict = run(hw, OperatorOrder.STRICT, ops);
        assertEquals(call + norms + collectives, strict.result().endPs());
        assertEquals(call, strict.hostStat("launch_wait_ps"));

        Run deps = run(hw, OperatorOrder.DEPENDENCIES, ops);
        assertEquals(call, deps.start(0), "the first launch");
        assertEquals(call + solo.duration(0), deps.end(0), "the root norm alone");
        assertEquals(deps.end(0), deps.start(1), "both chains start as the root ends (launched long before)");
        assertEquals(deps.end(0), deps.start(2));
        for (int i = 3; i < ops.length; i++) {
            assertEquals(Math.max((i + 1) * call, deps.end(i - 2)), deps.start(i), "op " + i + " starts when "
                + "its launch is in and the one before it on its engine (its input) has ended");
        }
        // By hand: the root, then the longer chain (both contend for memory: at worst one waits for all of the
        // other's traffic).
        long rest = Math.max(norms - solo.duration(0), collectives);
        long expected = call + solo.duration(0) + rest;
        long contention = 0;
        for (int i = 1; i < ops.length; i++) {
            contention += memoryPs(solo.byId().get((long) i), hw);
        }
        long end = deps.result().endPs();
        assertTrue(end >= expected && end <= expected + contention, "end " + end + " ps, by hand " + expected
            + " ps plus at most " + contention + " ps of memory contention");
        assertTrue(strict.result().endPs() - end >= Math.min(norms - solo.duration(0), collectives) - contention,
            "overlap saved " + (strict.result().endPs() - end) + " ps");
        assertEquals(call, deps.hostStat("launch_wait_ps"), "the device waits for the first launch only");
    }

    private static long memoryPs(Simulation.OpResult r, HardwareSpec hw) {
        long bytes = r.sums().get(dev.rafter.sim.component.MemoryController.KIND, "read_bytes")
            + r.sums().get(dev.rafter.sim.component.MemoryController.KIND, "write_bytes");
        return (long) Math.ceil(bytes / (hw.memory().bandwidthGbPerS() * 1e9) * 1e12);
    }

    /** A random DAG of small GEMMs, norms and all-reduces, deps on earlier operators, a few forward steps. */
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
                case 1 -> norm(i, 256 << random.nextInt(2), i * 3 / count, deps);
                default -> allReduce(i, 1L << (14 + random.nextInt(5)), deps);
            };
        }
        return ops;
    }

    @Test
    void onRandomDagsNoOperatorStartsBeforeItsInputsEndOrItsLaunchIsIn() throws Exception {
        // Hosts faster and slower than the kernels, eager and serving (a drain and a round trip each step), and a
        // queue of two launches that holds the host back.
        List<HardwareSpec> hosts = List.of(a100("eager", eager(2_000, 1_000, 0, 0)),
            a100("eager", eager(200, 100, 0, 0), "host.queue_depth=2"),
            a100("serving", eager(0, 500, 3_000, 20_000)));
        int overlapping = 0;
        int launchBound = 0;
        for (HardwareSpec hw : hosts) {
            for (long seed = 1; seed <= 4; seed++) {
                Operator[] ops = randomDag(seed, 40);
                Run r = run(hw, OperatorOrder.DEPENDENCIES, ops);
                String at = hw.host().framework().key() + " depth " + hw.host().queueDepth() + " seed " + seed;
                for (Operator op : ops) {
                    long[] deps = op.deps().length == 0 && op.id() > 0 ? new long[] {op.id() - 1} : op.deps();
                    long inputs = 0;
                    for (long d : deps) {
                        inputs = Math.max(inputs, r.end(d));
                    }
                    long launched = r.launches().firstLaunch.get(op.id());
                    assertTrue(r.start(op.id()) >= inputs, at + ": op " + op.id() + " started before an input ended");
                    assertTrue(r.start(op.id()) >= launched, at + ": op " + op.id() + " started before its launch");
                    launchBound += r.start(op.id()) == launched && launched > inputs ? 1 : 0;
                }
                // One CPU thread: launches in program order, each after the one before.
                long lastEnd = 0;
                long lastOp = -1;
                for (long[] issue : r.launches().issues) {
                    assertTrue(issue[0] >= lastOp && issue[1] >= lastEnd, at + ": launch of op " + issue[0]);
                    lastOp = issue[0];
                    lastEnd = issue[2];
                }
                for (Simulation.OpResult x : r.byId().values()) {
                    for (Simulation.OpResult y : r.byId().values()) {
                        boolean sameEngine = x.op().kind().isCollective() == y.op().kind().isCollective();
                        boolean overlap = x.startPs() < y.endPs() && y.startPs() < x.endPs();
                        assertTrue(x == y || !sameEngine || !overlap, at + ": ops " + x.op().id() + " and "
                            + y.op().id() + " shared an engine");
                        overlapping += x.op().id() < y.op().id() && overlap ? 1 : 0;
                    }
                }
            }
        }
        assertTrue(overlapping > 10, overlapping + " overlapping pairs: the DAGs overlap operators");
        assertTrue(launchBound > 10, launchBound + " operators started at their launch: the host binds somewhere");
    }

    @Test
    void aServingHostDrainsTheDeviceAndWaitsARoundTripBeforeEachStep() throws Exception {
        HardwareSpec hw = a100("serving", eager(0, 1_000, 3_000, 20_000));
        Operator[] ops = {norm(0, 4096, 0), allReduce(1, 1L << 20, 0), norm(2, 4096, 0, 0), norm(3, 256, 1, 1, 2),
            norm(4, 256, 1)};
        Run r = run(hw, OperatorOrder.DEPENDENCIES, ops);
        long drained = Math.max(r.end(1), r.end(2));
        // Step 1's first launch: the round trip after the drain, the step's cost and a graph node.
        assertEquals(drained + 3_000_000 + 20_000_000 + 1_000_000, (long) r.launches().firstLaunch.get(3L));
        assertEquals(3_000_000, r.hostStat("sync_ps") - (drained - syncAsked(r)), "the sync slice");
    }

    /** When the serving host asked to synchronise: right after issuing step 0's last launch. */
    private static long syncAsked(Run r) {
        long asked = 0;
        for (long[] issue : r.launches().issues) {
            if (issue[0] <= 2) {
                asked = Math.max(asked, issue[2]);
            }
        }
        return asked;
    }

    @Test
    void wallTimingByDependenciesIsRefused() throws Exception {
        HardwareSpec hw = a100("eager", eager(100, 0, 0, 0));
        InputException e = assertThrows(InputException.class, () -> new Simulation(hw)
            .order(OperatorOrder.DEPENDENCIES).timing(Timing.WALL).run(OperatorSource.of(norm(0, 64, 0)), null,
                x -> { }));
        assertTrue(e.getMessage().startsWith("--order dependencies: --timing wall synchronises the host after every "
            + "operator"), e.getMessage());
    }
}

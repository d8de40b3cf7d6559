package dev.rafter.sim.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.hw.SystemLoader;
import dev.rafter.hw.SystemSpec;
import dev.rafter.report.SimulationReport;
import dev.rafter.report.SystemReport;
import dev.rafter.sim.Simulation;
import dev.rafter.workload.OperatorOrder;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Workload;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --order dependencies} on a system: communication on the fabric beside independent compute. */
class SystemOverlapTest {
    private static final SystemSpec DGX = SystemLoader.load(Path.of("models/systems/dgx-a100-8.yaml"), List.of());
    /** The same without the L2 keeping results between kernels: every micro-batch then takes the same time. */
    private static final SystemSpec DGX_SOLO = SystemLoader.load(Path.of("models/systems/dgx-a100-8.yaml"),
        List.of(), List.of("global_buffer.keeps_contents=false"));

    @TempDir
    Path tmp;

    /** A run's summary.json (without its simulator block), ops.csv, result and every simulated device's operators. */
    private record Outputs(String summary, String ops, SystemSimulation.Result result,
                           Map<Integer, List<Simulation.OpResult>> byDevice) {}

    /** The tiny model on {@code spec}: tp x pp x dp devices, {@code micro} micro-batches of its batch of 2. */
    private static Outputs run(SystemSpec spec, String phases, int tp, int stages, int micro, int replicas,
                               OperatorOrder order, boolean shortcuts) {
        Workload w = Workload.load(Path.of("models/workloads/tiny.yaml"), List.of("run.tensor_parallel=" + tp,
            "run.batch=" + 2 / micro));
        StringWriter ops = new StringWriter();
        List<SimulationReport> reports = new ArrayList<>();
        Map<Integer, List<Simulation.OpResult>> byDevice = new HashMap<>();
        SystemSimulation.Result result = new SystemSimulation(spec, tp).pipeline(stages, micro, 2).replicas(replicas)
            .reuse(shortcuts).mirror(shortcuts).order(order)
            .run(OperatorSource.of(w, OperatorSource.phases(phases)), null, rank -> {
                SimulationReport r = new SimulationReport(spec.devices().get(rank).hardware(),
                    rank == 0 ? ops : null, null).sequences(w.run().batch()).promptTokens(w.run().promptTokens());
                reports.add(r);
                List<Simulation.OpResult> mine = new ArrayList<>();
                byDevice.put(rank, mine);
                return res -> {
                    mine.add(res);
                    r.finished(res);
                };
            });
        Map<String, Object> summary = SystemReport.summary(spec, result, reports, tp,
            new Workload.Parallelism(stages, micro, replicas));
        summary.remove("simulator");
        return new Outputs(SimulationReport.json(summary), ops.toString(), result, byDevice);
    }

    @Test
    void aPipelineStageSendsOneMicroBatchWhileComputingTheNext() {
        // Two stages of one device each, two micro-batches, prefill. Stage 0 computes a micro-batch in a, stage 1
        // in b, a send takes x on the idle fabric (each figure read off the strict run).
        Outputs strict = run(DGX_SOLO, "prefill", 1, 2, 2, 1, OperatorOrder.STRICT, true);
        Outputs overlapped = run(DGX_SOLO, "prefill", 1, 2, 2, 1, OperatorOrder.DEPENDENCIES, true);
        List<Simulation.OpResult> first = strict.byDevice().get(0);
        List<Simulation.OpResult> second = strict.byDevice().get(1);
        long a = first.get(first.size() / 2 - 1).endPs() - first.get(0).startPs();
        long b = second.get(second.size() / 2 - 1).endPs() - second.get(0).startPs();
        long x = second.get(0).startPs() - a;
        assertEquals(0, first.get(0).startPs());
        assertTrue(x > 0 && x < a, "a send (" + x + " ps) is shorter than a micro-batch (" + a + " ps)");
        // Strict: stage 0 computes micro-batch 0, sends it, computes micro-batch 1 and sends it once stage 1, done
        // with micro-batch 0, waits for it; stage 1 then computes micro-batch 1.
        long strictEnd = Math.max(2 * a + x, a + x + b) + x + b;
        // By dependencies stage 0 computes micro-batch 1 while sending micro-batch 0: its second send leaves at
        // max(2a, a + x), so the first send's x is hidden.
        long overlappedEnd = Math.max(a + x + b, Math.max(2 * a, a + x) + x) + b;
        assertEquals(strictEnd, strict.result().endPs());
        // By dependencies micro-batch 1's first kernel on stage 0 starts beside the send's reads of stage 0's
        // memory, so it finds the memory as they leave it rather than settled (rows open) and shares its channels
        // with them: its time moves by a few row cycles, and the kernel after it may meet one all-bank refresh more
        // or less (tRFC, 350 ns on the A100 model's HBM2E: here the GEMM after the first norm is 354 ns faster;
        // none of it with memory.model=simple); allowed 1% of the send it hides plus one refresh.
        long fewRowCycles = x / 100 + 350_000;
        assertEquals(overlappedEnd, overlapped.result().endPs(), fewRowCycles);
        assertEquals(x, strictEnd - overlapped.result().endPs(), fewRowCycles,
            "tiny's stages: b = " + b + " ps, a = " + a + " ps");
        // Stage 0 computes in both orders for about 2a; by dependencies its first send (x) is hidden behind
        // micro-batch 1, its second (x) exposed.
        SystemSimulation.DeviceResult stage0 = overlapped.result().devices().get(0);
        assertEquals(2 * a, stage0.computePs(), fewRowCycles);
        assertEquals(2 * x, stage0.collectivePs());
        assertEquals(x, stage0.exposedPs());
        SystemSimulation.DeviceResult strict0 = strict.result().devices().get(0);
        assertEquals(strict0.collectivePs(), strict0.exposedPs());
    }

    @Test
    void noOperatorStartsBeforeItsDepsEndOnAnyDevice() {
        // Tensor and pipeline parallelism with micro-batches over prefill and decode, and data parallelism.
        for (int[] c : new int[][] {{2, 2, 2, 1}, {2, 2, 1, 2}, {4, 1, 1, 2}, {1, 2, 2, 2}}) {
            Outputs o = run(DGX, "all", c[0], c[1], c[2], c[3], OperatorOrder.DEPENDENCIES, false);
            assertEquals(c[0] * c[1] * c[3], o.byDevice().size());
            for (List<Simulation.OpResult> ops : o.byDevice().values()) {
                Map<Long, Long> ends = new HashMap<>();
                for (Simulation.OpResult r : ops) {
                    ends.put(r.op().id(), r.endPs());
                }
                long computeEnd = 0;
                for (Simulation.OpResult r : ops.stream().sorted(java.util.Comparator.comparingLong(
                        Simulation.OpResult::startPs)).toList()) {
                    for (long d : r.op().deps()) {
                        Long end = ends.get(d);
                        assertTrue(end == null || end <= r.startPs(), r.op().name() + " " + r.op().id()
                            + " started at " + r.startPs() + " before its dep " + d + " ended at " + end);
                    }
                    if (!r.op().kind().isCollective()) {
                        // The cores run one operator at a time.
                        assertTrue(r.startPs() >= computeEnd, r.op().name() + " overlaps the compute before it");
                        computeEnd = r.endPs();
                    }
                }
            }
        }
    }

    @Test
    void aCollectiveStartsWhenEveryDeviceOfItsGroupHasReachedItWithoutDeadlock() throws Exception {
        // A fast and a slow device (a third of the clock) in one tensor-parallel group: each reaches the
        // collectives in the order issued, and both leave each one together.
        SystemSpec mixed = SystemSimulationTest.fastAndSlow(tmp);
        Outputs o = run(mixed, "all", 2, 1, 1, 1, OperatorOrder.DEPENDENCIES, true);
        Map<Long, Simulation.OpResult> slow = new HashMap<>();
        o.byDevice().get(1).forEach(r -> slow.put(r.op().id(), r));
        int collectives = 0;
        for (Simulation.OpResult fast : o.byDevice().get(0)) {
            if (fast.op().kind().isCollective()) {
                collectives++;
                Simulation.OpResult other = slow.get(fast.op().id());
                assertEquals(fast.endPs(), other.endPs(), fast.op().name());
                assertTrue(fast.startPs() <= other.startPs(), "the slow device arrives last");
            }
        }
        assertTrue(collectives > 0);
        assertEquals(o.byDevice().get(0).size(), o.byDevice().get(1).size());
    }

    @Test
    void byDependenciesNoShortcutIsTaken() {
        // A collective's memory traffic shares the channels with the compute beside it, so neither an operator
        // nor a collective repeats its twin's time, and no device's timeline stands for another's: one group of
        // 8 (mirrored in strict order), and a pipeline with replicas.
        for (int[] c : new int[][] {{8, 1, 1, 1}, {2, 2, 2, 2}}) {
            Outputs everything = run(DGX, "all", c[0], c[1], c[2], c[3], OperatorOrder.DEPENDENCIES, false);
            Outputs shortcuts = run(DGX, "all", c[0], c[1], c[2], c[3], OperatorOrder.DEPENDENCIES, true);
            assertEquals(everything.summary(), shortcuts.summary());
            assertEquals(everything.ops(), shortcuts.ops());
            assertEquals(0, shortcuts.result().devices().get(0).reusedOperators());
            assertEquals(0, shortcuts.result().reusedCollectives());
            assertEquals(c[0] * c[1] * c[3], shortcuts.result().simulatedDevices());
        }
        assertEquals(1, run(DGX, "all", 8, 1, 1, 1, OperatorOrder.STRICT, true).result().simulatedDevices());
    }

    @Test
    void byDependenciesACollectiveBesideComputeHasAThreadOfItsOwnInTheTrace() throws Exception {
        Workload w = Workload.load(Path.of("models/workloads/tiny.yaml"), List.of("run.batch=1"));
        StringWriter json = new StringWriter();
        SystemTrace trace = new SystemTrace(json, DGX, 4).overlapping();
        new SystemSimulation(DGX, 2).pipeline(2, 2, 2).order(OperatorOrder.DEPENDENCIES)
            .run(OperatorSource.of(w, OperatorSource.phases("prefill")), trace, null);
        trace.close();
        com.fasterxml.jackson.databind.JsonNode events = new com.fasterxml.jackson.databind.ObjectMapper()
            .readTree(json.toString());
        events = events.isArray() ? events : events.get("traceEvents");
        Map<String, List<double[]>> slices = new HashMap<>();
        List<String> collectiveThreads = new ArrayList<>();
        for (com.fasterxml.jackson.databind.JsonNode e : events) {
            String thread = e.get("pid") + "/" + e.get("tid");
            if (e.path("ph").asText().equals("X")) {
                double ts = e.get("ts").asDouble();
                slices.computeIfAbsent(thread, k -> new ArrayList<>())
                    .add(new double[] {ts, ts + e.get("dur").asDouble()});
            } else if (e.path("name").asText().equals("thread_name")
                && e.path("args").path("name").asText().equals("collectives")) {
                collectiveThreads.add(thread);
            }
        }
        for (Map.Entry<String, List<double[]>> thread : slices.entrySet()) {
            List<double[]> s = thread.getValue();
            s.sort(java.util.Comparator.comparingDouble(x -> x[0]));
            for (int i = 1; i < s.size(); i++) {
                assertTrue(s.get(i)[0] >= s.get(i - 1)[1] - 1e-6, "slices overlap on thread " + thread.getKey());
            }
        }
        assertEquals(4, collectiveThreads.size());
        int collectivesOverlapped = 0;
        for (String thread : collectiveThreads) {
            List<double[]> operators = slices.get(thread.substring(0, thread.indexOf('/')) + "/0");
            for (double[] c : slices.getOrDefault(thread, List.of())) {
                for (double[] o : operators) {
                    collectivesOverlapped += c[0] < o[1] && o[0] < c[1] ? 1 : 0;
                }
            }
        }
        assertTrue(collectivesOverlapped > 0, "some collective runs beside a compute operator");
    }

    @Test
    void aHostLaunchesAPipelineStagesSendsAndReceivesAsCalls() {
        // Two stages, two micro-batches, prefill: each micro-batch is one send on stage 0 and one receive on
        // stage 1, each a launch of its host beside the operators' kernels, which are those of the same
        // micro-batches on one device.
        SystemSpec hosted = SystemLoader.load(Path.of("models/systems/dgx-a100-8.yaml"), List.of(),
            List.of("host.framework=eager"));
        Outputs pipeline = run(hosted, "prefill", 1, 2, 2, 1, OperatorOrder.STRICT, true);
        Outputs one = run(hosted, "prefill", 1, 1, 2, 1, OperatorOrder.STRICT, true);
        long kernels = 0;
        for (SystemSimulation.DeviceResult d : pipeline.result().devices()) {
            kernels += d.stats().total().get(dev.rafter.sim.component.Host.KIND, "kernels");
        }
        assertEquals(one.result().devices().get(0).stats().total().get(dev.rafter.sim.component.Host.KIND,
            "kernels") + 2 * 2, kernels);
        for (SystemSimulation.DeviceResult d : pipeline.result().devices()) {
            assertTrue(d.stats().total().get(dev.rafter.sim.component.Host.KIND, "busy_ps") > 0);
        }
    }

    /** The DGX with every device launched by an eager host of {@code opNs} per call and nothing per kernel. */
    private SystemSpec hosted(double opNs) throws Exception {
        Path costs = tmp.resolve("costs-" + System.nanoTime() + ".yaml");
        java.nio.file.Files.writeString(costs, "name: test\nlaunch_ns: 0\nsync_ns: 0\neager:\n  op_ns: " + opNs
            + "\ncompiled:\n  call_ns: 0\n  kernel_ns: 0\ngraph:\n  launch_ns: 0\n  node_ns: 0\nserving:\n"
            + "  step_ns: 0\n  sequence_ns: 0\n");
        return SystemLoader.load(Path.of("models/systems/dgx-a100-8.yaml"), List.of(), List.of(
            "global_buffer.keeps_contents=false", "host.framework=eager", "host.costs=" + costs));
    }

    private static long hostStat(SystemSimulation.DeviceResult d, String statistic) {
        return d.stats().total().get(dev.rafter.sim.component.Host.KIND, statistic);
    }

    @Test
    void aHostBoundSystemRunsTheSameByDependenciesAsInOrder() throws Exception {
        // 1 ms per call, far above any of tiny's kernels or collectives: every operator starts at its launch, the
        // (i + 1)-th call's end on each device, whatever the order.
        long call = 1_000_000_000;
        SystemSpec spec = hosted(1e6);
        Outputs strict = run(spec, "decode", 2, 1, 1, 1, OperatorOrder.STRICT, false);
        Outputs deps = run(spec, "decode", 2, 1, 1, 1, OperatorOrder.DEPENDENCIES, false);
        for (int rank = 0; rank < 2; rank++) {
            List<Simulation.OpResult> a = strict.byDevice().get(rank);
            List<Simulation.OpResult> b = deps.byDevice().get(rank);
            assertEquals(a.size(), b.size());
            for (int i = 0; i < a.size(); i++) {
                assertEquals((i + 1) * call, b.get(i).startPs(), "device " + rank + " op " + i + " at its launch");
                assertEquals(a.get(i).startPs(), b.get(i).startPs(), "device " + rank + " op " + i);
                assertEquals(a.get(i).endPs(), b.get(i).endPs(), "device " + rank + " op " + i);
            }
            SystemSimulation.DeviceResult ds = strict.result().devices().get(rank);
            SystemSimulation.DeviceResult dd = deps.result().devices().get(rank);
            for (String stat : List.of("busy_ps", "kernels", "launch_wait_ps")) {
                assertEquals(hostStat(ds, stat), hostStat(dd, stat), "device " + rank + " " + stat);
            }
            assertEquals(a.size() * call, hostStat(dd, "busy_ps"));
        }
    }

    @Test
    void aFastHostLetsAPipelineStageSendOneMicroBatchWhileComputingTheNext() throws Exception {
        // 0.1 us per call: the devices bind, and by dependencies each stage's send hides behind its next
        // micro-batch as without a host.
        SystemSpec spec = hosted(100);
        Outputs strict = run(spec, "prefill", 1, 2, 2, 1, OperatorOrder.STRICT, false);
        Outputs deps = run(spec, "prefill", 1, 2, 2, 1, OperatorOrder.DEPENDENCIES, false);
        long saved = strict.result().endPs() - deps.result().endPs();
        SystemSimulation.DeviceResult stage0 = deps.result().devices().get(0);
        assertTrue(stage0.exposedPs() < stage0.collectivePs(), "some of stage 0's communication is hidden");
        assertTrue(saved > 0 && saved >= (stage0.collectivePs() - stage0.exposedPs()) / 2, "saved " + saved
            + " ps, hidden " + (stage0.collectivePs() - stage0.exposedPs()) + " ps");
        for (int rank = 0; rank < 2; rank++) {
            SystemSimulation.DeviceResult ds = strict.result().devices().get(rank);
            SystemSimulation.DeviceResult dd = deps.result().devices().get(rank);
            assertEquals(hostStat(ds, "busy_ps"), hostStat(dd, "busy_ps"), "the same calls in either order");
            assertEquals(hostStat(ds, "kernels"), hostStat(dd, "kernels"));
            assertEquals(100_000, hostStat(dd, "launch_wait_ps"), "device " + rank + ": the first launch is the "
                + "only wait for the host (stage 1's receive is posted at its launch)");
        }
    }
}

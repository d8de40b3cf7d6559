package dev.rafter.serving;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.hw.HardwareSpec;
import dev.rafter.hw.SystemLoader;
import dev.rafter.hw.SystemSpec;
import dev.rafter.sim.fabric.FabricGraph;
import dev.rafter.workload.StepLowering;
import dev.rafter.workload.Workload;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Serving on a system: fabric-timed tensor parallelism, KV-cache transfers, disaggregated prefill and decode. */
class DisaggregatedTest {
    /** tiny.yaml on one device per replica. */
    private static final Workload TINY_TP1 = Workload.load(Path.of("models/workloads/tiny.yaml"),
        List.of("run.tensor_parallel=1"));
    private static final Workload TINY_TP2 = Workload.load(Path.of("models/workloads/tiny.yaml"));

    @TempDir
    Path dir;

    /**
     * Three TPU-v3 models (their library: one ring row, no per-call latency, 1000 ns per hop, all payload) on one
     * switch without in-switch reduction; every wire 1 GB/s (1 byte/ns), no wire or switch latency.
     */
    private SystemSpec threeOnASwitch() throws IOException {
        Path file = dir.resolve("three.yaml");
        Files.writeString(file, "name: three\ndevices:\n  - {name: tpu, hardware: "
            + Path.of("models/hardware/tpuv3.yaml").toAbsolutePath() + ", count: 3}\n"
            + "fabric:\n  kind: switch\n  switch: {name: sw, ports: 3, latency_ns: 0, buffer_bytes: 1048576, "
            + "in_switch_reduction: false}\n  link: {bandwidth_gb_per_s: 1, latency_ns: 0, pj_per_bit: 2}\n");
        return SystemLoader.load(file, List.of());
    }

    @Test
    void kvTransfersSharingALinkQueueOnIt() throws IOException {
        FabricGraph graph = new FabricGraph(threeOnASwitch());
        // 1000 B is one slice. Alone, tpu0 to tpu1: tpu0's port 1000 ns, the switch's port to tpu1 1000 ns (store
        // and forward), then the 1000 ns per-hop latency: 3000 ns. tpu2 to tpu1 at the same time waits for the
        // switch's port to tpu1 (busy 1000-2000 ns with the first): 2000-3000 ns, arriving at 4000 ns. tpu1 to tpu0
        // shares no link with either: 3000 ns.
        KvTransfers.Result r = KvTransfers.run(graph, List.of(
            new KvTransfers.Transfer(0, List.of(0), List.of(1), 1000),
            new KvTransfers.Transfer(0, List.of(2), List.of(1), 1000),
            new KvTransfers.Transfer(0, List.of(1), List.of(0), 1000)));
        assertArrayEquals(new long[] {3_000_000, 4_000_000, 3_000_000}, r.endPs());
        KvTransfers.Result later = KvTransfers.run(graph, List.of(
            new KvTransfers.Transfer(0, List.of(0), List.of(1), 1000),
            new KvTransfers.Transfer(5_000_000, List.of(2), List.of(1), 1000)));
        assertArrayEquals(new long[] {3_000_000, 8_000_000}, later.endPs(), "apart, neither waits");
        Map<String, Long> bytes = new java.util.TreeMap<>();
        r.links().forEach(l -> bytes.put(l.name(), l.bytes()));
        assertEquals(2000L, bytes.get("sw->tpu1"));
    }

    @Test
    void collectivesOfATensorParallelGroupCostWhatTheFabricSays() throws IOException {
        SystemSpec spec = threeOnASwitch();
        HardwareSpec tpu = spec.devices().get(0).hardware();
        StepTimer onFabric = new StepTimer(tpu, TINY_TP2, new FabricGroup(new FabricGraph(spec), List.of(0, 1)));
        StepTimer onDevice = new StepTimer(tpu, TINY_TP2);
        // One decode token: tiny's 2 layers each all-reduce 2 x 1 x 256 fp16 values (after attention and after the
        // FFN), 512 B. A ring of 2: a reduce-scatter step and an all-gather step of 256 B, each the sender's port
        // 256 ns, the switch's port 256 ns and the 1000 ns hop: 3024 ns an all-reduce, 4 of them a step.
        List<StepLowering.Group> decode = List.of(new StepLowering.Group(1, 1, 65));
        long fabricPs = onFabric.stepPs(0, decode, 1);
        long devicePs = onDevice.stepPs(0, decode, 1);
        List<dev.rafter.workload.Operator> ops = new java.util.ArrayList<>();
        StepLowering.lower(TINY_TP2, 0, decode, 1, ops::add);
        long allReduces = ops.stream().filter(o -> o.kind().isCollective()).count();
        assertEquals(4, allReduces);
        long deviceAllReducePs = (devicePs - computePs(tpu, ops)) / allReduces;
        assertEquals(fabricPs - devicePs, allReduces * (3_024_000 - deviceAllReducePs));
    }

    /** The step's compute operators alone, on the device. */
    private static long computePs(HardwareSpec hw, List<dev.rafter.workload.Operator> ops) {
        long[] sum = {0};
        List<dev.rafter.workload.Operator> compute = new java.util.ArrayList<>();
        long id = 0;
        for (dev.rafter.workload.Operator op : ops) {
            if (!op.kind().isCollective()) {
                compute.add(new dev.rafter.workload.Operator(id++, op.name(), op.kind(), op.phase(), op.layer(),
                    op.step(), op.batch(), op.m(), op.n(), op.k(), op.elements(), op.dataType(),
                    dev.rafter.workload.Operator.NO_DEPS, op.causal(), op.operandBType(), op.segments()));
            }
        }
        new dev.rafter.sim.Simulation(hw).run(dev.rafter.workload.OperatorSource.of(
            compute.toArray(dev.rafter.workload.Operator[]::new)), null, r -> sum[0] += r.endPs() - r.startPs());
        return sum[0];
    }

    private static ServingEngine.Limits limits() {
        return new ServingEngine.Limits(256, 8, 16, 1000, 0);
    }

    @Test
    void aRequestsFirstTokenWaitsForItsPrefillAndItsTransfer() throws IOException {
        SystemSpec spec = threeOnASwitch();
        HardwareSpec tpu = spec.devices().get(0).hardware();
        StepTimer timer = new StepTimer(tpu, TINY_TP1);
        Request r = new Request(0, 1_000_000, 64, 3, 0, "test");
        Disaggregated.Result d = Disaggregated.serve(
            List.of(new ServingEngine(timer, limits(), Policy.FCFS)),
            List.of(new ServingEngine(timer, limits(), Policy.FCFS).arrivingPrefilled()),
            List.of(r), Replicas.Router.ROUND_ROBIN, new FabricGraph(spec), List.of(List.of(0)), List.of(List.of(1)),
            512);
        StepTimer alone = new StepTimer(tpu, TINY_TP1);
        long prefill = alone.stepPs(0, List.of(new StepLowering.Group(1, 64, 64)), 1);
        // tiny's KV cache: 2 layers x 2 (K and V) x 2 KV heads x 32 (head dim) x 2 B = 512 B a token, on one device;
        // 64 tokens: 32768 B, 8 slices of 4096 B through the switch: tpu0's port 8 x 4096 ns, the last slice's
        // 4096 ns on the switch's port, the 1000 ns hop.
        long transfer = (8 * 4096 + 4096 + 1000) * 1000L;
        long firstDecode = alone.stepPs(1, List.of(new StepLowering.Group(1, 1, 65)), 1);
        long secondDecode = alone.stepPs(2, List.of(new StepLowering.Group(1, 1, 66)), 1);
        ServingEngine.Outcome o = d.merged().outcomes().get(0);
        assertEquals(transfer, d.transferPs()[0]);
        assertEquals(64L * 512, d.transferBytes());
        assertEquals(1_000_000 + prefill + transfer, o.firstTokenPs());
        assertEquals(o.firstTokenPs() + firstDecode + secondDecode, o.finishPs());
        assertEquals(3, o.generated());
        assertEquals(1, d.prefill().replicas().get(0).steps().count());
        assertEquals(2, d.decode().get(0).steps().count());
        // The decode side holds the prompt's 4 blocks and a fifth for token 65.
        assertEquals(5, d.decode().get(0).steps().kvBlocks.get(0));
    }

    /** tiny's KV cache of a 64-token prompt (32768 B) sent alone from tpu0 to tpu1: see the test above. */
    private static final long LONE_TRANSFER_PS = (8 * 4096 + 4096 + 1000) * 1000L;

    /** One prefill replica on tpu0 and one decode replica on tpu1, each with its own limits. */
    private Disaggregated.Result oneAndOne(ServingEngine.Limits prefill, ServingEngine.Limits decode,
                                           List<Request> requests) throws IOException {
        SystemSpec spec = threeOnASwitch();
        StepTimer timer = new StepTimer(spec.devices().get(0).hardware(), TINY_TP1);
        return Disaggregated.serve(List.of(new ServingEngine(timer, prefill, Policy.FCFS)),
            List.of(new ServingEngine(timer, decode, Policy.FCFS).arrivingPrefilled()), requests,
            Replicas.Router.ROUND_ROBIN, new FabricGraph(spec), List.of(List.of(0)), List.of(List.of(1)), 512);
    }

    /**
     * Back-pressure: the prefill replica's cache holds one 64-token prompt (4 blocks of 16) and the decode replica's
     * one request (5 blocks: the prompt and tokens 65 to 80). Both requests arrive at 0. Request 0 prefills (p), its
     * KV crosses the fabric (T) while request 1 waits for prefill blocks, which request 0 holds until its transfer
     * ends; request 1 then prefills while request 0 decodes 16 tokens (D), and its prefill ends before request 0's
     * last token, so it waits on the prefill side, holding its KV, for request 0's blocks on the decode side.
     */
    @Test
    void aPrefillWaitsForPrefillBlocksAndItsHandOverForDecodeBlocks() throws IOException {
        StepTimer alone = new StepTimer(threeOnASwitch().devices().get(0).hardware(), TINY_TP1);
        long p = alone.stepPs(0, List.of(new StepLowering.Group(1, 64, 64)), 1);
        long d = 0;
        for (int kv = 65; kv <= 80; kv++) {
            d += alone.stepPs(kv - 64, List.of(new StepLowering.Group(1, 1, kv)), 1);
        }
        assertTrue(p + LONE_TRANSFER_PS + p < p + LONE_TRANSFER_PS + d, "request 1's prefill ends while 0 decodes");
        Disaggregated.Result r = oneAndOne(new ServingEngine.Limits(256, 8, 16, 4, 0),
            new ServingEngine.Limits(256, 8, 16, 5, 0),
            List.of(new Request(0, 0, 64, 17, 0, "test"), new Request(1, 0, 64, 17, 0, "test")));
        long t = LONE_TRANSFER_PS;
        ServingEngine.Outcome first = r.merged().outcomes().get(0);
        ServingEngine.Outcome second = r.merged().outcomes().get(1);
        assertEquals(0, first.firstScheduledPs());
        assertEquals(p + t, first.firstTokenPs());
        assertEquals(p + t + d, first.finishPs());
        assertEquals(p + t, second.firstScheduledPs(), "its prefill waits for request 0's transfer to end");
        assertEquals(p + t + d + t, second.firstTokenPs(), "its transfer waits for request 0's last token");
        assertEquals(p + t + d + t + d, second.finishPs());
        assertArrayEquals(new long[] {0, d - p}, r.waitPs());
        assertArrayEquals(new long[] {t, t}, r.transferPs());
        assertEquals(0, r.merged().preemptions());
        // The prefill replica holds request 1's 4 blocks through its wait: its one step shows them.
        assertEquals(4, r.prefill().replicas().get(0).steps().kvBlocks.get(1));
    }

    /**
     * One prompt a step (a budget of 64 tokens): request 0's KV crosses the fabric while request 1 prefills, and
     * request 0 starts decoding before request 1's prefill ends; request 1's transfer starts when its prefill ends.
     */
    @Test
    void aKvTransferOverlapsTheNextPrefillStep() throws IOException {
        StepTimer alone = new StepTimer(threeOnASwitch().devices().get(0).hardware(), TINY_TP1);
        long p = alone.stepPs(0, List.of(new StepLowering.Group(1, 64, 64)), 1);
        long d = alone.stepPs(1, List.of(new StepLowering.Group(1, 1, 65)), 1);
        long t = LONE_TRANSFER_PS;
        assertTrue(t < p, "request 0's transfer ends during request 1's prefill");
        assertTrue(d < p, "request 0 has left the decode replica when request 1 gets there");
        Disaggregated.Result r = oneAndOne(new ServingEngine.Limits(64, 8, 16, 1000, 0),
            new ServingEngine.Limits(64, 8, 16, 1000, 0),
            List.of(new Request(0, 0, 64, 2, 0, "test"), new Request(1, 0, 64, 2, 0, "test")));
        ServingEngine.Outcome first = r.merged().outcomes().get(0);
        ServingEngine.Outcome second = r.merged().outcomes().get(1);
        assertEquals(p, second.firstScheduledPs());
        assertEquals(p + t, first.firstTokenPs());
        assertEquals(p + t + d, first.finishPs());
        assertEquals(p + p + t, second.firstTokenPs());
        assertEquals(p + p + t + d, second.finishPs());
        assertArrayEquals(new long[] {0, 0}, r.waitPs());
    }

    /**
     * Caches that hold one largest request each (prefill: a 100-token prompt, 7 blocks; decode: 100 + 29 tokens, 9
     * blocks), mixed lengths, one prefill and two decode replicas, first come or by priority: every request still finishes (no
     * hand-over waits forever), and Little's law holds.
     */
    @Test
    void tightCachesOnBothSidesStillServeEveryRequest() throws IOException {
        SystemSpec spec = threeOnASwitch();
        StepTimer timer = new StepTimer(spec.devices().get(0).hardware(), TINY_TP1);
        for (Policy policy : Policy.ALL) {
            SplittableRandom lengths = new SplittableRandom(7);
            List<Request> requests = Traffic.open(new Traffic.Arrivals(50_000, 1), 150, 0, new SplittableRandom(5),
                i -> new Request(0, 0, 16 + lengths.nextInt(85), 1 + lengths.nextInt(30), lengths.nextInt(3),
                    "test"));
            ServingEngine.Limits prefill = new ServingEngine.Limits(128, 4, 16, 7, 0);
            ServingEngine.Limits decode = new ServingEngine.Limits(128, 4, 16, 9, 0);
            Disaggregated.Result d = Disaggregated.serve(
                List.of(new ServingEngine(timer, prefill, policy)),
                List.of(new ServingEngine(timer, decode, policy).arrivingPrefilled(),
                    new ServingEngine(timer, decode, policy).arrivingPrefilled()),
                requests, Replicas.Router.LEAST_LOADED, new FabricGraph(spec), List.of(List.of(0)),
                List.of(List.of(1), List.of(2)), 512);
            for (ServingEngine.Outcome o : d.merged().outcomes()) {
                assertEquals(o.request().outputTokens(), o.generated(), policy.key() + " request " + o.request().id());
            }
            assertEquals(150, d.merged().outcomes().size());
            Map<String, Object> s = ServingReport.summary(d.merged(), new ServingReport.Slo(1, 1), 9);
            @SuppressWarnings("unchecked")
            Map<String, Object> little = (Map<String, Object>) s.get("littles_law");
            assertTrue((double) little.get("relative_error") <= ServingReport.LITTLE_TOLERANCE);
            assertTrue(java.util.Arrays.stream(d.waitPs()).max().getAsLong() > 0, "hand-overs waited");
        }
    }

    /** Closed-loop clients with prefill and decode apart: each client's next request follows its last token. */
    @Test
    void closedLoopClientsSendWhenTheirLastTokenIsOut() throws IOException {
        SystemSpec spec = threeOnASwitch();
        StepTimer timer = new StepTimer(spec.devices().get(0).hardware(), TINY_TP1);
        ServingEngine.Limits small = new ServingEngine.Limits(256, 8, 16, 40, 0);
        int clients = 5;
        Disaggregated.Result d = Disaggregated.serve(
            List.of(new ServingEngine(timer, small, Policy.FCFS)),
            List.of(new ServingEngine(timer, small, Policy.FCFS).arrivingPrefilled(),
                new ServingEngine(timer, small, Policy.FCFS).arrivingPrefilled()),
            Traffic.closed(clients, 60, 0, i -> new Request(0, 0, 100, i % 4 == 0 ? 1 : 20, 0, "test")),
            Replicas.Router.LEAST_LOADED, new FabricGraph(spec), List.of(List.of(0)),
            List.of(List.of(1), List.of(2)), 512);
        List<ServingEngine.Outcome> all = d.merged().outcomes();
        assertEquals(60, all.size());
        List<Long> arrivals = new java.util.ArrayList<>();
        List<Long> finishes = new java.util.ArrayList<>();
        for (ServingEngine.Outcome o : all) {
            assertTrue(o.finished());
            arrivals.add(o.request().arrivalPs());
            finishes.add(o.finishPs());
        }
        java.util.Collections.sort(arrivals);
        java.util.Collections.sort(finishes);
        for (int i = 0; i < 60; i++) {
            assertEquals(i < clients ? 0 : finishes.get(i - clients), arrivals.get(i), "request sent " + i);
        }
        Map<String, Object> s = ServingReport.summary(d.merged(), new ServingReport.Slo(1, 1), 40);
        @SuppressWarnings("unchecked")
        Map<String, Object> little = (Map<String, Object>) s.get("littles_law");
        assertTrue((double) little.get("relative_error") <= ServingReport.LITTLE_TOLERANCE);
    }

    @Test
    void disaggregatedServingConservesRequestsAndKeepsLittlesLaw() throws IOException {
        SystemSpec spec = threeOnASwitch();
        HardwareSpec tpu = spec.devices().get(0).hardware();
        StepTimer timer = new StepTimer(tpu, TINY_TP1);
        List<Request> requests = Traffic.open(new Traffic.Arrivals(20_000, 1), 200, 0, new SplittableRandom(3),
            i -> new Request(0, 0, 100, i % 5 == 0 ? 1 : 20, 0, "test"));
        ServingEngine.Limits small = new ServingEngine.Limits(256, 8, 16, 40, 0);
        Disaggregated.Result d = Disaggregated.serve(
            List.of(new ServingEngine(timer, small, Policy.FCFS)),
            List.of(new ServingEngine(timer, small, Policy.FCFS).arrivingPrefilled(),
                new ServingEngine(timer, small, Policy.FCFS).arrivingPrefilled()),
            requests, Replicas.Router.ROUND_ROBIN, new FabricGraph(spec), List.of(List.of(0)),
            List.of(List.of(1), List.of(2)), 512);
        Map<String, Object> s = ServingReport.summary(d.merged(), new ServingReport.Slo(1, 1), 40);
        @SuppressWarnings("unchecked")
        Map<String, Object> counts = (Map<String, Object>) s.get("requests");
        assertEquals(200L, counts.get("finished"));
        @SuppressWarnings("unchecked")
        Map<String, Object> little = (Map<String, Object>) s.get("littles_law");
        assertTrue((double) little.get("relative_error") <= ServingReport.LITTLE_TOLERANCE);
        int transferred = 0;
        for (int i = 0; i < requests.size(); i++) {
            ServingEngine.Outcome o = d.merged().outcomes().get(i);
            assertEquals(o.request().outputTokens(), o.generated());
            if (o.request().outputTokens() == 1) {
                assertEquals(-1, d.decodeOf()[i], "one token: no decode");
            } else {
                transferred++;
                assertTrue(d.transferPs()[i] > 0);
                // Its decode starts no earlier than its transfer's end, which follows its prefill.
                assertTrue(o.firstTokenPs() >= o.request().arrivalPs() + d.transferPs()[i]);
            }
        }
        assertEquals(160, transferred);
        // 40-block caches hold 5 requests of 100 + 19 tokens: hand-overs wait for decode room.
        assertTrue(java.util.Arrays.stream(d.waitPs()).max().getAsLong() > 0);
        assertEquals(160L * 100 * 512, d.transferBytes());
        assertEquals(80, d.decode().get(0).outcomes().size(), "in turn");
        assertEquals(80, d.decode().get(1).outcomes().size());
    }
}

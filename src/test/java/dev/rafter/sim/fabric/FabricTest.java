package dev.rafter.sim.fabric;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.hw.SystemLoader;
import dev.rafter.hw.SystemSpec;
import dev.rafter.sim.Kernel;
import dev.rafter.sim.message.LinkTransfer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fabric on the kernel: routes through switches and collectives as traffic, times to the picosecond. */
class FabricTest {
    @TempDir
    Path dir;

    /**
     * Three TPU-v3 models (their library: one ring row, no per-call latency, 1000 ns per hop, all payload) on one
     * switch; every wire 1 GB/s (1 byte/ns) with 5 ns of latency, the switch 100 ns.
     */
    private FabricGraph threeOnASwitch(double wireNs, double switchNs) throws IOException {
        Path file = dir.resolve("three.yaml");
        Files.writeString(file, "name: three\ndevices:\n  - {name: gpu, hardware: "
            + Path.of("models/hardware/tpuv3.yaml").toAbsolutePath() + ", count: 3}\n"
            + "fabric:\n  kind: switch\n  switch: {name: sw, ports: 3, latency_ns: " + switchNs
            + ", buffer_bytes: 1048576}\n  link: {bandwidth_gb_per_s: 1, latency_ns: " + wireNs
            + ", pj_per_bit: 2}\n");
        return new FabricGraph(SystemLoader.load(file, List.of()));
    }

    @Test
    void aMessageCrossesTwoHopsThroughASwitchAndQueuesAtTheSharedPort() throws IOException {
        FabricGraph graph = threeOnASwitch(5, 100);
        Map<String, Long> done = new TreeMap<>();
        new Kernel().run(s -> {
            Fabric fabric = new Fabric(graph, s, (track, kind, op, start, end, amount) -> { });
            fabric.route(0, 1).send(new LinkTransfer(0, 1000), () -> done.put("gpu0", s.now()));
            s.schedule(10_000, () -> fabric.route(2, 1).send(new LinkTransfer(1, 1000),
                () -> done.put("gpu2", s.now())));
        });
        // gpu0: its port 0-1000 ns, wire 5 ns and switch 100 ns: at the switch at 1105 ns; gpu1's port 1105-2105,
        // wire 5 ns: 2110 ns. gpu2 from 10 ns reaches the switch at 1115 ns and waits for gpu1's port until 2105:
        // 2105-3105, then the wire: 3110 ns.
        assertEquals(Map.of("gpu0", 2_110_000L, "gpu2", 3_110_000L), done);
        assertEquals(List.of("gpu0->sw", "sw->gpu1"),
            graph.path(0, 1).stream().map(FabricGraph.DirectedLink::name).toList());
        assertEquals(110_000, graph.latencyPs(0, 1), "two wires of 5 ns and the switch's 100 ns");
    }

    /**
     * A ring all-reduce of 3000 B over 3 devices: 4 steps of 1000 B (one slice each). A step: the sender's port
     * 1000 ns, the receiver's port 1000 ns (store and forward), then the 1000 ns per-hop latency: 3000 ns, so 12 us in
     * all. The closed form charges the bytes once: 4 x 1000 ns + 4000 B at 1 B/ns = 8 us; the 4 us between is the
     * one slice each step waits to cross the second port, the fill the validation allows.
     */
    @Test
    void aRingAllReduceRunsItsStepsHopByHop() throws IOException {
        FabricGraph graph = threeOnASwitch(0, 0);
        FabricPlan plan = FabricPlan.choose(graph, FabricOp.ALL_REDUCE, 3000, FabricAlgorithm.RING);
        assertEquals(8e-6, plan.predictedS(), 1e-15);
        FabricCollectives.Result r = FabricCollectives.run(graph, plan);
        assertEquals(12_000_000, r.timePs());
        for (int d = 0; d < 3; d++) {
            assertEquals(4000, r.payloadSent()[d]);
            assertEquals(4000, r.payloadReceived()[d]);
        }
        // Every byte into the switch leaves it; 8 bits x 2 pJ per byte on each of the two ports.
        long up = r.links().stream().filter(l -> l.name().endsWith("->sw")).mapToLong(FabricCollectives.LinkUse::bytes)
            .sum();
        long down = r.links().stream().filter(l -> l.name().startsWith("sw->"))
            .mapToLong(FabricCollectives.LinkUse::bytes).sum();
        assertEquals(12_000, up);
        assertEquals(12_000, down);
        assertEquals(24_000 * 8 * 2e-12, r.energyJ(), 1e-20);
        assertEquals(4_000_000, r.busiest().busyPs());
    }

    @Test
    void bytesAreConservedForEveryOperationAndAlgorithm() {
        for (String system : List.of("dgx-h100-8", "two-node-h100", "tpu-v4-torus-16", "pcie-4gpu")) {
            FabricGraph graph = new FabricGraph(SystemLoader.load(Path.of("models/systems/" + system + ".yaml"),
                List.of()));
            for (FabricOp op : FabricOp.values()) {
                for (FabricAlgorithm a : FabricAlgorithm.values()) {
                    FabricPlan plan;
                    try {
                        plan = FabricPlan.choose(graph, op, 3 << 20, a);
                    } catch (dev.rafter.config.InputException refused) {
                        continue;
                    }
                    FabricCollectives.Result r = FabricCollectives.run(graph, plan);
                    long sent = java.util.Arrays.stream(r.payloadSent()).sum();
                    long received = java.util.Arrays.stream(r.payloadReceived()).sum();
                    String what = system + " " + op + " " + plan.algorithm();
                    if (plan.algorithm() == FabricAlgorithm.IN_SWITCH) {
                        // The switch reduces: what arrives is what it sends back, not what went in.
                        assertTrue(received > 0 && sent > 0, what);
                    } else {
                        assertEquals(sent, received, what);
                    }
                    assertTrue(r.timeS() >= plan.predictedS() * 0.5, what);
                }
            }
        }
    }

    @Test
    void rerunsAreIdentical() {
        FabricGraph graph = new FabricGraph(SystemLoader.load(Path.of("models/systems/two-node-h100.yaml"),
            List.of()));
        FabricPlan plan = FabricPlan.choose(graph, FabricOp.ALL_TO_ALL, 5_000_000, FabricAlgorithm.AUTO);
        FabricCollectives.Result a = FabricCollectives.run(graph, plan);
        FabricCollectives.Result b = FabricCollectives.run(graph, plan);
        assertEquals(a.timePs(), b.timePs());
        assertEquals(a.links(), b.links());
    }

    @Test
    void hierarchicalLevelsAreGroupsOfNeighbours() {
        assertEquals(List.of(List.of(0, 1, 2, 3), List.of(4, 5, 6, 7)), FabricPlan.groups(List.of(4, 2), 0));
        assertEquals(List.of(List.of(0, 4), List.of(1, 5), List.of(2, 6), List.of(3, 7)),
            FabricPlan.groups(List.of(4, 2), 1));
    }

    /** The validation's check, fast: a lone all-reduce takes its closed form plus at most its fill. */
    @Test
    void aLoneAllReduceMeetsItsClosedFormWithinItsFill() {
        for (String system : List.of("dgx-h100-8", "two-node-h100", "pcie-4gpu")) {
            FabricGraph graph = new FabricGraph(SystemLoader.load(Path.of("models/systems/" + system + ".yaml"),
                List.of()));
            FabricPlan plan = FabricPlan.choose(graph, FabricOp.ALL_REDUCE, 1 << 20, FabricAlgorithm.AUTO);
            double sim = FabricCollectives.run(graph, plan).timeS();
            assertTrue(sim >= plan.predictedS() && sim <= plan.predictedS()
                + FabricCollectives.fillBoundS(graph, plan), system + ": " + sim + " vs " + plan.describe());
        }
    }

    /**
     * Two TPU-v3 models joined both ways by a 1 GB/s (1 byte/ns) wire of no latency (their library: one ring row, no
     * per-call latency, 1000 ns per hop, all payload), each with one simple memory channel of {@code memoryGbPerS}
     * and 100 ns of access latency.
     */
    private FabricGraph twoWithSlowMemory(double memoryGbPerS) throws IOException {
        Path file = dir.resolve("two.yaml");
        String link = ", bandwidth_gb_per_s: 1, latency_ns: 0, pj_per_bit: 1}\n";
        Files.writeString(file, "name: two\ndevices:\n  - {name: gpu, hardware: "
            + Path.of("models/hardware/tpuv3.yaml").toAbsolutePath() + ", count: 2}\n"
            + "fabric:\n  kind: point_to_point\n  links:\n    - {from: gpu0, to: gpu1" + link);
        return new FabricGraph(SystemLoader.load(file, List.of(), List.of("memory.model=simple",
            "memory.channels=1", "memory.bandwidth_gb_per_s=" + memoryGbPerS, "memory.latency_ns=100")));
    }

    /**
     * A ring all-reduce of 2000 B over two devices whose memory (0.5 byte/ns) is slower than their wire: 2 steps of
     * 1000 B (one slice each), all issued at once at each step's start. Step 1 (reduce): each device reads the 1000
     * B it sends, and the receiver writes the 1000 B it receives and reads its own 1000 B to add; each access takes
     * 2000 ns on the one channel, in the order issued, and completes 100 ns after its data. gpu0 (sends first):
     * read 0-2000, write 2000-4000, reduce-read 4000-6000; gpu1: write 0-2000, reduce-read 2000-4000, read
     * 4000-6000. The wire and the per-hop latency deliver each message at 1000 + 1000 = 2000 ns, but gpu0's message
     * has arrived only when gpu1's reduce-read is done (4100 ns) and gpu1's when gpu1's read and gpu0's reduce-read
     * are (6100 ns). Step 2 (gather): gpu1 sends at 4100 ns: its read and gpu0's write each queue to 6000-8000, done
     * at 8100 ns (the wire's 6100 ns is earlier); gpu0 sends at 6100 ns: read and write 8000-10000, done 10100 ns.
     * Memory binds both steps: 10.1 us, against the closed form's 2 x 1000 ns + 2000 B at 1 B/ns = 4 us.
     */
    @Test
    void aTwoDeviceAllReduceWaitsForItsMemoryWhereTheMemoryBinds() throws IOException {
        FabricGraph graph = twoWithSlowMemory(0.5);
        FabricPlan plan = FabricPlan.choose(graph, FabricOp.ALL_REDUCE, 2000, FabricAlgorithm.RING);
        assertEquals(4e-6, plan.predictedS(), 1e-15);
        FabricCollectives.Result r = FabricCollectives.run(graph, plan);
        assertEquals(10_100_000, r.timePs());
        // With a memory 100 times faster the wire binds again: each step 1000 ns on the wire plus the 1000 ns hop
        // latency, the memory's 30 ns (plus 100 ns of latency) hidden under it: the closed form's 4 us.
        assertEquals(4_000_000, FabricCollectives.run(twoWithSlowMemory(50), plan).timePs());
    }

    /**
     * What a collective moves through each device's memory, summed over its steps: a ring all-reduce over p
     * devices sends 2 (p - 1) chunks of S / p (each read before it is sent), receives as many (each written), and
     * adds the first p - 1 it receives to its own chunk (one more read each): reads 3 (p - 1) S / p and writes
     * 2 (p - 1) S / p. An all-gather (S its output) sends and receives p - 1 chunks of S / p and reduces none.
     */
    @Test
    void aCollectivesMemoryTrafficIsItsAlgorithmsReadsAndWrites() {
        FabricGraph graph = new FabricGraph(SystemLoader.load(Path.of("models/systems/dgx-a100-8.yaml"), List.of()));
        long s = 8L << 20;
        int p = 8;
        FabricCollectives.Result ring = FabricCollectives.run(graph,
            FabricPlan.choose(graph, FabricOp.ALL_REDUCE, s, FabricAlgorithm.RING));
        FabricCollectives.Result gather = FabricCollectives.run(graph,
            FabricPlan.choose(graph, FabricOp.ALL_GATHER, s, FabricAlgorithm.RING));
        for (int d = 0; d < p; d++) {
            assertEquals(3 * (p - 1) * s / p, ring.memoryRead()[d]);
            assertEquals(2 * (p - 1) * s / p, ring.memoryWritten()[d]);
            // Every byte asked of the memory crosses its channels, once.
            assertEquals(5 * (p - 1) * s / p, ring.channelBytes()[d]);
            assertEquals((p - 1) * s / p, gather.memoryRead()[d]);
            assertEquals((p - 1) * s / p, gather.memoryWritten()[d]);
            assertEquals(2 * (p - 1) * s / p, gather.channelBytes()[d]);
        }
    }

    /** A listed fabric where the only way on is through a device: the route takes it (after preferring switches). */
    @Test
    void aListedFabricRoutesThroughADeviceOnlyWhenItMust() throws IOException {
        Path file = dir.resolve("listed.yaml");
        String link = ", bandwidth_gb_per_s: 1, latency_ns: 0, pj_per_bit: 1}\n";
        Files.writeString(file, "name: listed\ndevices:\n  - {name: gpu, hardware: "
            + Path.of("models/hardware/tpuv3.yaml").toAbsolutePath() + ", count: 3}\n"
            + "fabric:\n  kind: point_to_point\n  switches:\n"
            + "    - {name: sw, ports: 2, latency_ns: 0, buffer_bytes: 1024}\n"
            + "  links:\n    - {from: gpu0, to: sw" + link + "    - {from: gpu1, to: sw" + link
            + "    - {from: gpu1, to: gpu2" + link);
        FabricGraph graph = new FabricGraph(SystemLoader.load(file, List.of()));
        assertEquals(List.of("gpu0->sw", "sw->gpu1", "gpu1->gpu2"),
            graph.path(0, 2).stream().map(FabricGraph.DirectedLink::name).toList());
        assertEquals(List.of("gpu0->sw", "sw->gpu1"),
            graph.path(0, 1).stream().map(FabricGraph.DirectedLink::name).toList());
        assertEquals(1024, graph.largestMessageBytes());
    }
}

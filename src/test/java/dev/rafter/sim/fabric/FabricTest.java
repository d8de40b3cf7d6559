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
     * Memory binds both steps: 10.1 us. The closed form charges each step the longer of its link time (1000 ns of
     * per-hop latency + 1000 B at 1 B/ns = 2000 ns) and its memory time at 0.5 B/ns (3000 B: 6000 ns; then 2000
     * B: 4000 ns): 10 us, the run less the memory's 100 ns of access latency (held in the per-hop latency by
     * assumption, so not charged again); its alpha-beta part alone is 4 us.
     */
    @Test
    void aTwoDeviceAllReduceWaitsForItsMemoryWhereTheMemoryBinds() throws IOException {
        FabricGraph graph = twoWithSlowMemory(0.5);
        FabricPlan plan = FabricPlan.choose(graph, FabricOp.ALL_REDUCE, 2000, FabricAlgorithm.RING);
        assertEquals(10e-6, plan.predictedS(), 1e-15);
        FabricCollectives.Result r = FabricCollectives.run(graph, plan);
        assertEquals(10_100_000, r.timePs());
        // With a memory 100 times faster the wire binds again: each step 1000 ns on the wire plus the 1000 ns hop
        // latency, the memory's 30 ns (plus 100 ns of latency) hidden under it: the closed form's 4 us.
        FabricGraph fast = twoWithSlowMemory(50);
        FabricPlan linkBound = FabricPlan.choose(fast, FabricOp.ALL_REDUCE, 2000, FabricAlgorithm.RING);
        assertEquals(4e-6, linkBound.predictedS(), 1e-15);
        assertEquals(4_000_000, FabricCollectives.run(fast, linkBound).timePs());
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

    /**
     * The chooser weighs what the run does: on every bundled system, for every operation at 1 KiB, 1 MiB and 64
     * MiB, the collective {@code auto} picks runs (alone, on an idle fabric, through the devices' memories) no
     * slower than any other algorithm {@code auto} may take there, each run as asked for.
     */
    @Test
    void autoPicksTheAlgorithmThatRunsFastestOnEveryBundledSystem() throws IOException {
        List<Path> systems;
        try (var files = Files.list(Path.of("models/systems"))) {
            systems = files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
        }
        assertEquals(5, systems.size());
        for (Path system : systems) {
            FabricGraph graph = new FabricGraph(SystemLoader.load(system, List.of()));
            for (FabricOp op : FabricOp.values()) {
                for (long bytes : new long[] {1L << 10, 1L << 20, 64L << 20}) {
                    assertAutoRunsFastest(graph, op, bytes, system.getFileName().toString());
                }
            }
        }
    }

    /**
     * Where the chooser weighed the alpha-beta form alone it went wrong: the interconnect study's ring and torus
     * (a chain tree's busiest link carries S, a ring's 2 S (p - 1) / p) took the tree for all-reduces that the ring
     * runs faster: at 1 MiB its pipeline fill (each slice crosses the chain's 14 links one after another), at 960
     * GB/s and 64 MiB the memory (its devices' memories pass the tensor along the chain one after another).
     */
    @Test
    void autoPicksTheFastestAllReduceOnTheStudysRingAndTorus() {
        for (String layout : List.of("a100-8-ring", "a100-8-torus")) {
            for (String bandwidth : List.of("240", "960")) {
                FabricGraph graph = new FabricGraph(SystemLoader.load(Path.of("studies/interconnect/" + layout
                    + ".yaml"), List.of("fabric.link.bandwidth_gb_per_s=" + bandwidth)));
                for (long bytes : new long[] {1L << 10, 1L << 20, 64L << 20}) {
                    assertAutoRunsFastest(graph, FabricOp.ALL_REDUCE, bytes, layout + " at " + bandwidth + " GB/s");
                }
            }
        }
    }

    /**
     * {@code auto}'s pick for {@code op} of {@code bytes} runs no slower than each other algorithm auto may take
     * there, and no faster than its own closed form (the validation's lower bound).
     */
    private static void assertAutoRunsFastest(FabricGraph graph, FabricOp op, long bytes, String where) {
        FabricPlan auto = FabricPlan.choose(graph, op, bytes, FabricAlgorithm.AUTO);
        double autoS = FabricCollectives.run(graph, auto).timeS();
        String what = where + ", " + auto.describe();
        assertTrue(autoS >= auto.predictedS() - 1e-9, what + " ran in " + autoS + " s");
        for (FabricAlgorithm a : FabricAlgorithm.values()) {
            if (a == FabricAlgorithm.AUTO || a == auto.algorithm() || FabricPlan.refusal(graph, op, a, true) != null) {
                continue;
            }
            FabricPlan other;
            try {
                other = FabricPlan.choose(graph, op, bytes, a);
            } catch (dev.rafter.config.InputException refused) {
                continue; // the cost table has no row for it
            }
            double otherS = FabricCollectives.run(graph, other).timeS();
            assertTrue(autoS <= otherS, what + " ran in " + autoS + " s, but " + other.describe() + " in "
                + otherS + " s");
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

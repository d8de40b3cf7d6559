package dev.rafter.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reusing identical operators is exact: a run with reuse and one with {@code --no-reuse} write the same bytes to
 * every output (ops.csv, events.csv, trace.json, the charts, summary.json but for the simulator's own figures:
 * events simulated, wall time, operators reused).
 */
class ReuseTest {
    @TempDir
    Path tmp;

    @Test
    void reuseAndNoReuseWriteIdenticalOutputsOnBankedMemory() throws Exception {
        // a100.yaml: banked HBM2E (open rows, write queue, refresh), dispatch costs, collectives at TP 2; tiny.yaml
        // repeats its layers and decode GEMMs, and its decode attention changes shape each step.
        Path reuse = simulate("reuse", "--hardware", "models/hardware/a100.yaml");
        Path full = simulate("full", "--hardware", "models/hardware/a100.yaml", "--no-reuse");
        assertSameOutputs(reuse, full);
        ObjectMapper json = new ObjectMapper();
        long reused = json.readTree(reuse.resolve("summary.json").toFile()).path("simulator")
            .path("operators_reused").asLong();
        long ops = Files.readAllLines(reuse.resolve("ops.csv")).size() - 1;
        assertTrue(reused > ops / 2, reused + " of " + ops + " reused");
        assertEquals(0, json.readTree(full.resolve("summary.json").toFile()).path("simulator")
            .path("operators_reused").asLong());
    }

    @Test
    void reuseIsExactOnSimpleMemoryAndWithAnEventWindow() throws Exception {
        Path reuse = simulate("reuse", "--hardware", "models/hardware/a100.yaml", "--set", "memory.model=simple",
            "--events-ops", "3:40");
        Path full = simulate("full", "--hardware", "models/hardware/a100.yaml", "--set", "memory.model=simple",
            "--events-ops", "3:40", "--no-reuse");
        assertSameOutputs(reuse, full);
    }

    @Test
    void reuseIsExactOnTwoMemoryTiersWhereFastForwardIsOff() throws Exception {
        // Weights in HBF, the rest in HBM, both on simple channels (which alone could fast-forward): a device with
        // several tiers simulates every stage, and reusing operators (here, and simulated ahead) stays exact.
        String[] tiers = {"--hardware", "models/hardware/h100-hbf.yaml", "--set", "memory.model=simple", "--set",
            "placement.weights=hbf"};
        Path reuse = simulate("reuse", tiers);
        Path ahead = simulate("ahead", concat(tiers, "--threads", "3"));
        Path full = simulate("full", concat(tiers, "--no-reuse"));
        assertSameOutputs(reuse, full);
        assertSameOutputs(ahead, full);
        JsonNode s = new ObjectMapper().readTree(reuse.resolve("summary.json").toFile()).path("simulator");
        assertTrue(s.path("operators_reused").asLong() > 0);
        assertEquals(0, s.path("stages_fast_forwarded").asLong());
    }

    private static String[] concat(String[] a, String... b) {
        return Stream.concat(Stream.of(a), Stream.of(b)).toArray(String[]::new);
    }

    @Test
    void operatorsSimulatedAheadOnThreadsWriteTheSameOutputs() throws Exception {
        // Three threads simulate the distinct shapes ahead (banked memory, dispatch, collectives, events): the
        // outputs are those of one thread simulating every operator in turn.
        Path ahead = simulate("ahead", "--hardware", "models/hardware/a100.yaml", "--threads", "3");
        Path full = simulate("one", "--hardware", "models/hardware/a100.yaml", "--threads", "1", "--no-reuse");
        assertSameOutputs(ahead, full);
        assertTrue(new ObjectMapper().readTree(ahead.resolve("summary.json").toFile()).path("simulator")
            .path("operators_simulated_ahead").asLong() >= 5);
    }

    @Test
    void byDefaultEveryCoreUpToFourSimulates() throws Exception {
        assertEquals(1, SimulateCommand.defaultThreads(1));
        assertEquals(2, SimulateCommand.defaultThreads(2));
        assertEquals(SimulateCommand.DEFAULT_THREADS_MOST, SimulateCommand.defaultThreads(64));
        // Without --threads, a machine of several cores simulates shapes ahead; one of a single core does not.
        Path byDefault = simulate("default", "--hardware", "models/hardware/a100.yaml");
        long ahead = new ObjectMapper().readTree(byDefault.resolve("summary.json").toFile()).path("simulator")
            .path("operators_simulated_ahead").asLong();
        if (Runtime.getRuntime().availableProcessors() > 1) {
            assertTrue(ahead > 0, "simulated ahead: " + ahead);
        } else {
            assertEquals(0, ahead);
        }
    }

    @Test
    void fastForwardWritesTheSameOutputsAsStepByStep() throws Exception {
        // Three GEMMs that repeat for hundreds of stages on a cut-down study device (simple memory); the event
        // window asks for the slices of the middle one only, so the other two are fast-forwarded.
        fastForwardCase("global_buffer.capacity_mib=1");
    }

    @Test
    void fastForwardIsExactWhereInputsAreResidentInTheGlobalBuffer() throws Exception {
        // The same GEMMs on a 512 KiB global buffer that keeps its contents: the second finds all of its A (the
        // first's newest 512 KiB), the third 524288 of its 600000 bytes, each stage that share of its A.
        Path fast = fastForwardCase("global_buffer.capacity_mib=0.5", "global_buffer.keeps_contents=true");
        String ops = Files.readString(fast.resolve("ops.csv"));
        assertTrue(ops.contains("100.0% of its input resident in the L2") && ops.contains(
            "87.4% of its input resident in the L2"), ops);
        assertTrue(ops.contains("writes back"), "dirty results evicted and written back: " + ops);
    }

    @Test
    void reuseAndThreadsAreExactWhereResultsAreWrittenBackFromTheGlobalBuffer() throws Exception {
        // A 1 MiB L2 on the A100 model: the tiny model's FFN weights (1.5 MiB a layer) evict its dirty activations, so
        // operators of one shape write back different amounts (a reuse key of its own) as the run goes on.
        String[] small = {"--hardware", "models/hardware/a100.yaml", "--set", "global_buffer.capacity_mib=1"};
        Path reuse = simulate("reuse", small);
        Path ahead = simulate("ahead", concat(small, "--threads", "3"));
        Path full = simulate("full", concat(small, "--no-reuse"));
        assertSameOutputs(reuse, full);
        assertSameOutputs(ahead, full);
        assertTrue(Files.readString(full.resolve("ops.csv")).contains("writes back"));
    }

    private Path fastForwardCase(String... sets) throws Exception {
        Path trace = tmp.resolve("gemms.csv");
        Files.writeString(trace, "op_id,name,kind,phase,layer,step,batch,m,n,k,elements,data_type,deps\n"
            + "0,g,gemm,prefill,0,0,1,1024,2048,512,0,fp16,\n"
            + "1,b,gemm,prefill,0,0,16,256,256,64,0,fp16,\n"
            + "2,h,gemm,prefill,0,0,1,1000,1000,300,0,fp16,\n");
        List<String> common = new java.util.ArrayList<>(List.of("simulate", "--hardware",
            "models/hardware/sram-study-45nm.yaml", "--trace", trace.toString(), "--set", "cores=8", "--set",
            "memory.channels=4", "--set",
            "core.local_buffer.capacity_kib=16", "--events", "both", "--events-ops", "1:1"));
        for (String set : sets) {
            common.addAll(List.of("--set", set));
        }
        Path fast = tmp.resolve("fast");
        Path step = tmp.resolve("step");
        List<String> a = new java.util.ArrayList<>(common);
        a.addAll(List.of("--out", fast.toString()));
        List<String> b = new java.util.ArrayList<>(common);
        b.addAll(List.of("--out", step.toString(), "--no-reuse"));
        assertEquals(0, CliTest.run(a.toArray(String[]::new)).code());
        assertEquals(0, CliTest.run(b.toArray(String[]::new)).code());
        assertSameOutputs(fast, step);
        ObjectMapper json = new ObjectMapper();
        assertTrue(json.readTree(fast.resolve("summary.json").toFile()).path("simulator")
            .path("stages_fast_forwarded").asLong() > 500);
        assertEquals(0, json.readTree(step.resolve("summary.json").toFile()).path("simulator")
            .path("stages_fast_forwarded").asLong());
        return fast;
    }

    private Path simulate(String name, String... hardware) {
        Path out = tmp.resolve(name);
        List<String> args = new java.util.ArrayList<>(List.of("simulate", "--workload", "models/workloads/tiny.yaml",
            "--events", "both", "--out", out.toString()));
        args.addAll(List.of(hardware));
        CliTest.Result r = CliTest.run(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        return out;
    }

    private static void assertSameOutputs(Path a, Path b) throws Exception {
        List<String> names;
        try (Stream<Path> files = Files.list(a)) {
            names = files.map(p -> p.getFileName().toString()).sorted().toList();
        }
        try (Stream<Path> files = Files.list(b)) {
            assertEquals(names, files.map(p -> p.getFileName().toString()).sorted().toList());
        }
        assertTrue(names.containsAll(List.of("ops.csv", "events.csv", "trace.json", "summary.json")), names.toString());
        for (String n : names) {
            if (n.equals("summary.json")) {
                assertEquals(withoutSimulator(a.resolve(n)), withoutSimulator(b.resolve(n)));
            } else {
                assertArrayEquals(Files.readAllBytes(a.resolve(n)), Files.readAllBytes(b.resolve(n)), n);
            }
        }
    }

    private static String withoutSimulator(Path summary) throws Exception {
        JsonNode s = new ObjectMapper().readTree(summary.toFile());
        ((ObjectNode) s).remove("simulator");
        return s.toPrettyString();
    }
}

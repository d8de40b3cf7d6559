package dev.rafter.cli;

import static dev.rafter.cli.CliTest.assertBadInput;
import static dev.rafter.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SimulateCliTest {
    @TempDir
    Path tmp;

    @Test
    void simulateWritesSummaryOpsEventsAndAPerfettoTraceWithoutOverlaps() throws Exception {
        Path out = tmp.resolve("s");
        CliTest.Result r = run("simulate", "--hardware", "models/hardware/a100.yaml", "--trace",
            "traces/gemm-small.csv", "--out", out.toString(), "--events", "both");
        assertEquals(0, r.code(), r.err());
        JsonNode summary = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        for (String key : new String[] {"latency_s", "cycles", "roofline_s", "phases", "utilisation", "stall_cycles",
            "simulator"}) {
            assertTrue(summary.has(key), key);
        }
        assertTrue(summary.get("latency_s").asDouble() >= summary.get("roofline_s").asDouble());
        assertTrue(summary.get("phases").has("prefill") && summary.get("phases").has("decode"));
        for (String u : new String[] {"pe_array", "vector_unit", "global_buffer", "interconnect", "hbm"}) {
            double v = summary.get("utilisation").get(u).asDouble();
            assertTrue(v >= 0 && v <= 1, u + " = " + v);
        }
        var ops = Files.readAllLines(out.resolve("ops.csv"));
        assertEquals(4, ops.size());
        assertTrue(ops.get(0).startsWith("op_id,name,kind,phase,layer,step,flops,bytes,start_cycle,end_cycle,"
            + "latency_s,roofline_s,bound,pe_util"));
        assertTrue(Files.readAllLines(out.resolve("events.csv")).size() > 100);
        assertTrue(Files.size(out.resolve("timeline.png")) > 1000);

        Set<String> kinds = assertNoOverlaps(out.resolve("trace.json"));
        assertTrue(kinds.containsAll(Set.of("core.pe", "core.dma", "hbm.ch", "global_buffer", "operators")),
            kinds.toString());
    }

    @Test
    void aWholeWorkloadTraceHasNoOverlappingSlicesEither() throws Exception {
        Path out = tmp.resolve("tw");
        assertEquals(0, run("simulate", "--hardware", "models/hardware/a100.yaml", "--workload",
            "models/workloads/tiny.yaml", "--out", out.toString(), "--events", "perfetto").code());
        Set<String> kinds = assertNoOverlaps(out.resolve("trace.json"));
        assertTrue(kinds.containsAll(Set.of("core.vector", "device_link")), kinds.toString());
    }

    /** Parses a Perfetto trace and checks that no two slices on one track overlap; returns the track kinds. */
    static Set<String> assertNoOverlaps(Path file) throws Exception {
        JsonNode trace = new ObjectMapper().readTree(file.toFile());
        Map<String, String> names = new HashMap<>();
        Map<String, java.util.List<double[]>> byTrack = new HashMap<>();
        Set<String> kinds = new HashSet<>();
        for (JsonNode e : trace.get("traceEvents")) {
            if (e.get("ph").asText().equals("C")) {
                continue; // a counter (power) is a value over time, not a slice
            }
            String key = e.get("pid").asText() + "/" + e.get("tid").asText();
            if (e.get("ph").asText().equals("M")) {
                if (e.get("name").asText().equals("thread_name")) {
                    names.put(key, e.get("args").get("name").asText());
                }
                continue;
            }
            double ts = e.get("ts").asDouble();
            byTrack.computeIfAbsent(key, k -> new java.util.ArrayList<>())
                .add(new double[] {ts, ts + e.get("dur").asDouble()});
        }
        assertTrue(byTrack.size() > 10);
        for (Map.Entry<String, java.util.List<double[]>> t : byTrack.entrySet()) {
            java.util.List<double[]> slices = t.getValue();
            slices.sort((a, b) -> Double.compare(a[0], b[0]));
            for (int i = 1; i < slices.size(); i++) {
                assertTrue(slices.get(i)[0] >= slices.get(i - 1)[1] - 1e-6, "overlap on " + names.get(t.getKey())
                    + " at " + slices.get(i)[0] + " us");
            }
            kinds.add(names.get(t.getKey()).replaceAll("[0-9]", ""));
        }
        return kinds;
    }

    @Test
    void twoRunsWriteByteIdenticalFiles() throws Exception {
        Path[] dirs = {tmp.resolve("a"), tmp.resolve("b")};
        for (Path d : dirs) {
            assertEquals(0, run("simulate", "--hardware", "models/hardware/a100.yaml", "--trace",
                "traces/gemm-small.csv", "--out", d.toString(), "--events", "both").code());
        }
        for (String f : new String[] {"ops.csv", "events.csv", "trace.json", "stalls.png"}) {
            assertEquals(-1L, Files.mismatch(dirs[0].resolve(f), dirs[1].resolve(f)), f);
        }
        ObjectMapper json = new ObjectMapper();
        JsonNode a = json.readTree(dirs[0].resolve("summary.json").toFile());
        JsonNode b = json.readTree(dirs[1].resolve("summary.json").toFile());
        ((com.fasterxml.jackson.databind.node.ObjectNode) a).remove("simulator");
        ((com.fasterxml.jackson.databind.node.ObjectNode) b).remove("simulator");
        assertEquals(a, b, "summary.json differs only in the simulator's own timing");
    }

    @Test
    void aWholeWorkloadSimulatesWithEveryOperatorKind() throws Exception {
        Path out = tmp.resolve("w");
        CliTest.Result r = run("simulate", "--hardware", "models/hardware/a100.yaml", "--workload",
            "models/workloads/tiny.yaml", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        var ops = Files.readAllLines(out.resolve("ops.csv"));
        Set<String> kinds = new HashSet<>();
        for (String line : ops.subList(1, ops.size())) {
            kinds.add(line.split(",")[2]);
        }
        assertEquals(Set.of("gemm", "rmsnorm", "rope", "kv_cache_write", "flash_attention", "silu", "elementwise",
            "all_reduce"), kinds);
        // tiny: 2 layers x 16 ops (rope, KV-cache write, attention as one flash_attention) + final norm + LM head,
        // prefill and 3 decode steps
        assertEquals(1 + 4 * 34, ops.size());
        JsonNode summary = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        assertTrue(summary.get("utilisation").get("vector_unit").asDouble() > 0);
        assertTrue(summary.get("bytes").get("device_link").asLong() > 0);
        assertTrue(summary.get("latency_s").asDouble() >= summary.get("roofline_s").asDouble());
    }

    @Test
    void aBadTraceLineMidRunLeavesNoOutputBehind() throws Exception {
        CliTest.assertBadTraceLeavesNothing(tmp, "simulate", "--events", "both");
    }

    @Test
    void eventsCanBeLimitedToAWindowOfOperators() throws Exception {
        Path out = tmp.resolve("win");
        assertEquals(0, run("simulate", "--hardware", "models/hardware/a100.yaml", "--trace", "traces/gemm-small.csv",
            "--out", out.toString(), "--events", "csv", "--events-ops", "1:1").code());
        var lines = Files.readAllLines(out.resolve("events.csv"));
        assertTrue(lines.size() > 10);
        for (String line : lines.subList(1, lines.size())) {
            assertEquals("1", line.split(",")[3], line);
        }
        assertBadInput(run("simulate", "--hardware", "models/hardware/a100.yaml", "--trace", "traces/gemm-small.csv",
            "--events", "csv", "--events-ops", "5:2"), "--events-ops: expected FROM:TO");
    }

    @Test
    void badEventsChoiceIsBadInput() {
        assertBadInput(run("simulate", "--hardware", "models/hardware/a100.yaml", "--trace", "traces/gemm-small.csv",
            "--events", "json"), "--events");
    }

    @Test
    void validatePassesOnTheBundledCasesAndDrawsTheStudiesCharts() throws Exception {
        CliTest.Result r = run("validate", "--out", tmp.resolve("v").toString());
        assertEquals(0, r.code(), r.err());
        for (String chart : List.of("near-memory.png", "hbf.png", "stacked.png")) {
            Path png = tmp.resolve("v").resolve(chart);
            assertTrue(Files.isRegularFile(png) && Files.size(png) > 20_000, chart + " written by validate --out");
        }
    }
}

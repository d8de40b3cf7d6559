package dev.rafter.cli;

import static dev.rafter.cli.CliTest.assertBadInput;
import static dev.rafter.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code rafter serve --system}: replicas from a system, disaggregated prefill and decode, swap; bad input. */
class ServeSystemCliTest {
    private static final String DGX = "models/systems/dgx-h100-8.yaml";
    private static final String TINY = "models/workloads/tiny.yaml";
    private static final String[] TRAFFIC = {"--arrivals", "poisson:4000", "--requests", "40", "--max-sequences", "4"};

    @TempDir
    Path tmp;

    private CliTest.Result serve(Path out, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("serve", "--workload", TINY, "--out", out.toString()));
        args.addAll(List.of(TRAFFIC));
        args.addAll(List.of(more));
        return run(args.toArray(String[]::new));
    }

    @Test
    void aSystemsDeviceGroupsAreTheReplicas() throws Exception {
        Path a = tmp.resolve("a");
        Path b = tmp.resolve("b");
        assertEquals(0, serve(a, "--system", DGX).code());
        assertEquals(0, serve(b, "--system", DGX).code());
        for (String f : ServeCommand.OUTPUTS) {
            assertArrayEquals(Files.readAllBytes(a.resolve(f)), Files.readAllBytes(b.resolve(f)), f);
        }
        JsonNode s = new ObjectMapper().readTree(a.resolve("serving.json").toFile());
        // tiny.yaml runs tensor parallel 2: the 8 GPUs are 4 replicas of 2.
        assertEquals(4, s.get("system").get("groups").asLong());
        assertEquals(4, s.get("replicas").get("count").asLong());
        assertEquals("[6,7]", s.get("replicas").get("per_replica").get(3).get("devices").toString());
        assertEquals(40, s.get("requests").get("finished").asLong());
        assertTrue(s.get("littles_law").get("relative_error").asDouble() <= 1e-9);
        List<String> rows = Files.readAllLines(a.resolve("requests.csv"));
        assertTrue(rows.get(0).endsWith(",finished,replica"));
        assertEquals(41, rows.size());
    }

    @Test
    void prefillAndDecodeRunOnTheirOwnGroupsAndTheKvCacheCrossesTheFabric() throws Exception {
        Path a = tmp.resolve("a");
        Path b = tmp.resolve("b");
        assertEquals(0, serve(a, "--system", DGX, "--disaggregate", "prefill=1,decode=2").code());
        assertEquals(0, serve(b, "--system", DGX, "--disaggregate", "prefill=1,decode=2").code());
        for (String f : ServeCommand.OUTPUTS) {
            assertArrayEquals(Files.readAllBytes(a.resolve(f)), Files.readAllBytes(b.resolve(f)), f);
        }
        JsonNode s = new ObjectMapper().readTree(a.resolve("serving.json").toFile());
        JsonNode d = s.get("disaggregation");
        assertEquals(1, d.get("prefill").get("replicas").asLong());
        assertEquals(2, d.get("decode").get("devices").asLong() / 2);
        assertEquals("[2,3]", d.get("decode").get("per_replica").get(0).get("devices").toString());
        for (String side : List.of("prefill", "decode")) {
            double busy = d.get(side).get("busy_share").asDouble();
            assertTrue(busy > 0 && busy <= 1, side + " " + busy);
        }
        // tiny's KV cache: 2 layers x 2 x 2 KV heads x 32 (head dim) x 2 B = 512 B a token; 40 prompts of 64 tokens.
        JsonNode kv = d.get("kv_transfer");
        assertEquals(512, kv.get("bytes_per_token").asLong());
        assertEquals(40L * 64 * 512, kv.get("bytes").asLong());
        assertEquals(40, kv.get("transfers").asLong());
        assertEquals(40, kv.get("wait_for_decode_s").get("count").asLong());
        assertEquals(40, s.get("requests").get("finished").asLong());
        assertTrue(s.get("littles_law").get("relative_error").asDouble() <= 1e-9);
        List<String> rows = Files.readAllLines(a.resolve("requests.csv"));
        assertTrue(rows.get(0).endsWith(",finished,prefill_replica,decode_replica,kv_transfer_s"));
        String[] first = rows.get(1).split(",", -1);
        double ttft = Double.parseDouble(first[6]);
        double transfer = Double.parseDouble(first[13]);
        assertTrue(ttft > transfer && transfer > 0, "the first token waits for its transfer");
        // One device a group: 8 groups, of which 2 prefill and 6 decode (in turn: 40 requests, 7 or 6 each).
        Path one = tmp.resolve("one");
        assertEquals(0, serve(one, "--system", DGX, "--set", "run.tensor_parallel=1", "--disaggregate",
            "prefill=2,decode=6").code());
        JsonNode d1 = new ObjectMapper().readTree(one.resolve("serving.json").toFile()).get("disaggregation");
        assertEquals(6, d1.get("decode").get("per_replica").size());
        assertEquals(7, d1.get("decode").get("per_replica").get(0).get("requests").asLong());
        assertEquals(6, d1.get("decode").get("per_replica").get(5).get("requests").asLong());
    }

    /**
     * Closed-loop clients on a system's groups, as replicas and with prefill and decode apart: never more than N
     * requests in the system, and each request after the first N is sent when an earlier one finishes (its arrival
     * is one of the earliest finishes, in order).
     */
    @Test
    void closedLoopClientsOnASystemsGroups() throws Exception {
        int clients = 6;
        for (List<String> layout : List.<List<String>>of(List.of(), List.of("--disaggregate", "prefill=1,decode=2"))) {
            Path a = tmp.resolve("a" + layout.size());
            List<String> args = new java.util.ArrayList<>(List.of("serve", "--workload", TINY, "--system", DGX,
                "--concurrency", Integer.toString(clients), "--requests", "40", "--max-sequences", "4", "--router",
                "least_loaded", "--out", a.toString()));
            args.addAll(layout);
            assertEquals(0, run(args.toArray(String[]::new)).code(), layout.toString());
            JsonNode s = new ObjectMapper().readTree(a.resolve("serving.json").toFile());
            assertEquals(40, s.get("requests").get("finished").asLong());
            assertTrue(s.get("littles_law").get("relative_error").asDouble() <= 1e-9);
            List<String> rows = Files.readAllLines(a.resolve("requests.csv"));
            List<Double> arrivals = new java.util.ArrayList<>();
            List<Double> finishes = new java.util.ArrayList<>();
            for (String row : rows.subList(1, rows.size())) {
                String[] c = row.split(",");
                arrivals.add(Double.parseDouble(c[1]));
                finishes.add(Double.parseDouble(c[1]) + Double.parseDouble(c[8]));
            }
            java.util.Collections.sort(arrivals);
            java.util.Collections.sort(finishes);
            for (int i = 0; i < clients; i++) {
                assertEquals(0, arrivals.get(i), 0);
            }
            for (int i = clients; i < arrivals.size(); i++) {
                assertEquals(finishes.get(i - clients), arrivals.get(i), 1e-15, layout + " request sent " + i);
            }
            // Used by more than one group: the router spread the clients.
            JsonNode groups = layout.isEmpty() ? s.get("replicas").get("per_replica")
                : s.get("disaggregation").get("decode").get("per_replica");
            assertEquals(layout.isEmpty() ? 4 : 2, groups.size());
            int busy = 0;
            for (JsonNode r : groups) {
                busy += r.get("requests").asLong() > 0 ? 1 : 0;
            }
            assertTrue(busy > 1, layout + " groups used: " + busy);
        }
    }

    /** Each rate of a sweep on a system (replicas, or prefill and decode apart) is the run of that rate alone. */
    @Test
    void aRateSweepOnASystemIsEachRateAlone() throws Exception {
        for (List<String> layout : List.of(List.of("--system", DGX), List.of("--system", DGX, "--disaggregate",
            "prefill=1,decode=2"))) {
            Path knee = tmp.resolve("knee");
            Path alone = tmp.resolve("alone");
            List<String> sweep = new java.util.ArrayList<>(List.of("serve", "--workload", TINY, "--requests", "40",
                "--max-sequences", "4", "--arrivals", "poisson:2000,4000", "--out", knee.toString()));
            sweep.addAll(layout);
            assertEquals(0, run(sweep.toArray(String[]::new)).code(), layout.toString());
            sweep.set(sweep.indexOf("poisson:2000,4000"), "poisson:4000");
            sweep.set(sweep.indexOf(knee.toString()), alone.toString());
            assertEquals(0, run(sweep.toArray(String[]::new)).code(), layout.toString());
            JsonNode point = new ObjectMapper().readTree(knee.resolve("serving.json").toFile()).get("rates").get(1);
            JsonNode single = new ObjectMapper().readTree(alone.resolve("serving.json").toFile());
            assertEquals(4000, point.get("rate_per_s").asDouble(), 0);
            for (String metric : List.of("ttft_s", "tpot_s", "e2e_s", "requests", "throughput")) {
                assertEquals(single.get(metric), point.get(metric), layout + " " + metric);
            }
            assertEquals(3, Files.readAllLines(knee.resolve("knee.csv")).size());
            removeAll(knee);
            removeAll(alone);
        }
    }

    private static void removeAll(Path dir) throws Exception {
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Test
    void swapNeedsAHostTier() throws Exception {
        assertBadInput(serve(tmp.resolve("z"), "--hardware", "models/hardware/h100.yaml", "--preemption", "swap"),
            "memory_tiers.host");
        Path a = tmp.resolve("a");
        assertEquals(0, serve(a, "--hardware", "models/hardware/h100-hbf.yaml", "--preemption", "swap").code());
        JsonNode s = new ObjectMapper().readTree(a.resolve("serving.json").toFile());
        assertEquals("swap", s.get("scheduler").get("preemption").asText());
        assertEquals(51, s.get("swap").get("link_bandwidth_gb_per_s").asDouble(), 0);
        // 256 B a token on each of tiny's 2 tensor-parallel devices, 16 tokens a block.
        assertEquals(4096, s.get("swap").get("block_bytes").asLong());
    }

    @Test
    void badSystemServingInputIsRefused() {
        Path z = tmp.resolve("z");
        assertBadInput(serve(z, "--hardware", "models/hardware/h100.yaml", "--disaggregate", "prefill=1,decode=1"),
            "--system");
        assertBadInput(serve(z, "--system", DGX, "--disaggregate", "prefill=3,decode=2"), "--disaggregate");
        assertBadInput(serve(z, "--system", DGX, "--disaggregate", "prefill=1"), "prefill=P,decode=D");
        assertBadInput(serve(z, "--system", DGX, "--disaggregate", "prefill=1,decode=x"), "prefill=P,decode=D");
        assertBadInput(serve(z, "--system", DGX, "--replicas", "5"), "--replicas");
        assertBadInput(serve(z, "--system", DGX, "--hardware", "models/hardware/h100.yaml"), "not both");
        assertBadInput(serve(z, "--system", DGX, "--router", "prefix"), "--prefix-caching");
        assertBadInput(serve(z, "--hardware", "models/hardware/h100.yaml", "--preemption", "later"),
            "--preemption");
        assertBadInput(run("serve", "--workload", TINY, "--arrivals", "poisson:1", "--requests", "1"),
            "--hardware");
    }
}

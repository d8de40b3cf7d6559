package dev.rafter.cli;

import static dev.rafter.cli.CliTest.assertBadInput;
import static dev.rafter.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code rafter serve --replicas}: one replica is today's run, the outputs say where each request went. */
class ServeReplicasCliTest {
    private static final String[] TRAFFIC = {"serve", "--hardware", "models/hardware/h100.yaml", "--workload",
        "models/workloads/tiny.yaml", "--arrivals", "poisson:2000", "--requests", "120", "--max-sequences", "8"};

    @TempDir
    Path tmp;

    private CliTest.Result serve(Path out, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of(TRAFFIC));
        args.addAll(List.of("--out", out.toString()));
        args.addAll(List.of(more));
        return run(args.toArray(String[]::new));
    }

    @Test
    void oneReplicaIsTodaysRunWithAReplicaColumnAndBlock() throws Exception {
        Path plain = tmp.resolve("plain");
        Path one = tmp.resolve("one");
        assertEquals(0, serve(plain).code());
        assertEquals(0, serve(one, "--replicas", "1", "--router", "least_loaded").code());
        List<String> rows = Files.readAllLines(one.resolve("requests.csv"));
        List<String> before = Files.readAllLines(plain.resolve("requests.csv"));
        assertEquals(before.get(0) + ",replica", rows.get(0));
        for (int i = 1; i < rows.size(); i++) {
            assertEquals(before.get(i) + ",0", rows.get(i));
        }
        assertEquals(before.size(), rows.size());
        ObjectMapper json = new ObjectMapper();
        ObjectNode s = (ObjectNode) json.readTree(one.resolve("serving.json").toFile());
        JsonNode pool = s.remove("replicas");
        assertEquals(1, pool.get("count").asInt());
        assertEquals("least_loaded", pool.get("router").asText());
        assertEquals(120, pool.get("per_replica").get(0).get("requests").asLong());
        assertEquals(json.readTree(plain.resolve("serving.json").toFile()), s);
        assertArrayEquals(Files.readAllBytes(plain.resolve("latency.png")), Files.readAllBytes(one.resolve(
            "latency.png")));
    }

    @Test
    void twoReplicasInTurnSplitTheRequests() throws Exception {
        Path two = tmp.resolve("two");
        assertEquals(0, serve(two, "--replicas", "2").code());
        List<String> rows = Files.readAllLines(two.resolve("requests.csv"));
        for (int i = 1; i < rows.size(); i++) {
            assertEquals(String.valueOf((i - 1) % 2), rows.get(i).substring(rows.get(i).lastIndexOf(',') + 1));
        }
        JsonNode s = new ObjectMapper().readTree(two.resolve("serving.json").toFile());
        assertEquals(120, s.get("requests").get("finished").asLong());
        assertEquals(60, s.get("replicas").get("per_replica").get(1).get("requests").asLong());
    }

    @Test
    void badInputIsOneLine() {
        assertBadInput(serve(tmp.resolve("a"), "--replicas", "0"), "--replicas: expected 1 to 4096, got 0");
        assertBadInput(serve(tmp.resolve("b"), "--replicas", "2", "--router", "random"),
            "--router: expected round_robin, least_loaded or prefix, got 'random'");
        assertBadInput(serve(tmp.resolve("c"), "--router", "least_loaded"), "--router: routes requests among");
    }

    /**
     * One closed-loop client has one request in flight at a time, so each replica it is routed to (in turn) is idle
     * when the request arrives: every request is timed as on one device, and arrives when the last one finished.
     */
    @Test
    void oneClosedLoopClientOnReplicasIsTimedAsOnOneDevice() throws Exception {
        String[] client = {"serve", "--hardware", "models/hardware/h100.yaml", "--workload",
            "models/workloads/tiny.yaml", "--concurrency", "1", "--requests", "6", "--out"};
        Path one = tmp.resolve("one");
        Path two = tmp.resolve("two");
        assertEquals(0, run(concat(client, one.toString())).code());
        assertEquals(0, run(concat(client, two.toString(), "--replicas", "2")).code());
        List<String> alone = Files.readAllLines(one.resolve("requests.csv"));
        List<String> routed = Files.readAllLines(two.resolve("requests.csv"));
        assertEquals(7, routed.size());
        assertEquals(alone.get(0) + ",replica", routed.get(0));
        for (int i = 1; i < routed.size(); i++) {
            assertEquals(alone.get(i) + "," + ((i - 1) % 2), routed.get(i));
        }
        double previousEnd = 0;
        for (String row : alone.subList(1, alone.size())) {
            String[] c = row.split(",");
            assertEquals(previousEnd, Double.parseDouble(c[1]), 1e-15, row);
            previousEnd = Double.parseDouble(c[1]) + Double.parseDouble(c[8]);
        }
    }

    private static String[] concat(String[] a, String... b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}

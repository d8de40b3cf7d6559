package dev.rafter.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code simulate --system S --trace T} with per-rank Kineto traces: the hand-written two-rank fixture
 * (src/test/resources/fixtures/kineto/two-ranks, README there), and a real single-rank trace as a set of one. Bad
 * sets are in {@link GeneratedInputTest}'s {@code ranks/} cases.
 */
class MultiRankTraceTest {
    static final Path TWO_RANKS = Path.of("src/test/resources/fixtures/kineto/two-ranks");

    @TempDir
    Path tmp;

    /**
     * Two TPUv3 models on a switch of 1 GB/s ports with no wire or switch latency. Rank 0 runs a GEMM, then two
     * all-reduces; rank 1 an all-reduce, the same GEMM, then the second all-reduce; so each waits once for the other.
     * The GEMM alone takes T (its single-device replay). An all-reduce of 1000 bf16 elements (2000 B) over 2 devices
     * is a ring of 2 steps of 1000 B, each through the sender's port (1000 ns at 1 B/ns), the receiver's port (1000
     * ns, store and forward) and the 1000 ns per-hop latency of tpuv3.yaml's device link: C = 6 us. So: the first
     * all-reduce runs [T, T + C] (rank 1 waits T), rank 1's GEMM [T + C, 2T + C] while rank 0 waits at the second
     * all-reduce, which runs [2T + C, 2T + 2C]: both end at 2T + 2C, both spent T computing and T + 2C in
     * collectives.
     */
    @Test
    void twoRanksJoinAtTheirAllReducesAndWaitForEachOther() throws Exception {
        String hardware = Path.of("models/hardware/tpuv3.yaml").toAbsolutePath().toString();
        Path system = tmp.resolve("two.yaml");
        Files.writeString(system, """
            name: two
            devices:
              - {name: tpu, hardware: %s, count: 2}
            fabric:
              kind: switch
              switch: {name: sw, ports: 2, latency_ns: 0, buffer_bytes: 1048576, in_switch_reduction: false}
              link: {bandwidth_gb_per_s: 1, latency_ns: 0, pj_per_bit: 2}
            """.formatted(hardware));
        Path alone = tmp.resolve("alone");
        CliTest.Result single = CliTest.run("simulate", "--hardware", hardware, "--trace",
            TWO_RANKS.resolve("rank0.json").toString(), "--out", alone.toString());
        assertEquals(0, single.code(), single.err());
        double gemmAlone = Double.parseDouble(Files.readAllLines(alone.resolve("ops.csv")).get(1).split(",")[10]);
        double collective = 6e-6;

        Path out = tmp.resolve("ranks");
        CliTest.Result r = CliTest.run("simulate", "--system", system.toString(), "--trace", TWO_RANKS.toString(),
            "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        assertEquals(2, s.at("/devices").size());
        assertEquals(2, s.at("/system/ranks").asInt());
        assertEquals(1, s.at("/system/process_groups").asInt());
        // T to the picosecond from the run (ops.csv prints 6 digits): the GEMM's time alone, on either device.
        double gemm = s.at("/devices/0/busy_s").asDouble();
        assertEquals(gemmAlone, gemm, 1e-5 * gemmAlone);
        for (int d = 0; d < 2; d++) {
            JsonNode device = s.at("/devices/" + d);
            assertEquals("tpu" + d, device.get("name").asText());
            assertEquals(2 * gemm + 2 * collective, device.get("latency_s").asDouble(), 1e-15, "device " + d);
            assertEquals(gemm, device.get("busy_s").asDouble(), 1e-15, "device " + d);
            assertEquals(gemm + 2 * collective, device.get("collective_s").asDouble(), 1e-15, "device " + d);
            assertEquals(TWO_RANKS.resolve("rank" + d + ".json").toString(), s.at("/ranks/" + d + "/trace").asText());
            assertEquals(3, s.at("/ranks/" + d + "/coverage/operators_mapped").asInt());
        }
        assertEquals(2 * gemm + 2 * collective, s.get("latency_s").asDouble(), 1e-15);
        assertEquals(2, s.at("/fabric/collectives/ring/collectives").asInt());
        // Two all-reduces, each 2 devices x 2 steps x 1000 B, every message over two wires (up to the switch, down).
        assertEquals(2 * 2 * 2 * 1000 * 2, s.at("/fabric/bytes").asLong());
        // ops.csv: rank 0's operators with their own ids; its second all-reduce waited T for rank 1's GEMM.
        List<String> ops = Files.readAllLines(out.resolve("ops.csv"));
        assertEquals(4, ops.size());
        assertTrue(ops.get(2).startsWith("1,nccl:all_reduce,all_reduce,"), ops.get(2));
        assertEquals(collective, Double.parseDouble(ops.get(2).split(",")[10]), 1e-5 * collective);
        assertEquals(gemm + collective, Double.parseDouble(ops.get(3).split(",")[10]), 1e-5 * gemm);
    }

    /** A set of one trace is that trace's single-device replay: the same operators, to the byte. */
    @Test
    void aOneRankSetReplaysAsTheSingleDevice() throws Exception {
        Path trace = Path.of("traces/kineto/bert-small-uncased-h100.json.gz");
        Path folder = tmp.resolve("one");
        Files.createDirectories(folder);
        Files.copy(trace, folder.resolve(trace.getFileName()));
        Path device = tmp.resolve("device");
        Path system = tmp.resolve("system");
        assertEquals(0, CliTest.run("simulate", "--hardware", "models/hardware/h100.yaml", "--trace",
            trace.toString(), "--out", device.toString()).code());
        CliTest.Result r = CliTest.run("simulate", "--system", "models/systems/dgx-h100-8.yaml", "--trace",
            folder.toString(), "--out", system.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(Files.readString(device.resolve("ops.csv")), Files.readString(system.resolve("ops.csv")));
        ObjectMapper json = new ObjectMapper();
        JsonNode alone = json.readTree(device.resolve("summary.json").toFile());
        JsonNode onSystem = json.readTree(system.resolve("summary.json").toFile());
        assertEquals(1, onSystem.at("/devices").size());
        for (String key : List.of("latency_s", "cycles", "roofline_s", "phases", "utilisation", "stall_cycles",
            "bytes")) {
            assertEquals(alone.get(key), onSystem.get(key), key);
        }
        assertEquals(alone.get("coverage"), onSystem.at("/ranks/0/coverage"));
        assertEquals(0, onSystem.at("/fabric/bytes").asLong());
    }
}

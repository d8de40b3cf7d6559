package dev.rafter.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
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
     * A system file in {@code dir} of {@code devices} TPUv3 models on one switch with 1 GB/s ports and no wire or
     * switch latency (so a collective's time is its bytes and tpuv3.yaml's per-hop latency).
     */
    static Path tpusOnASwitch(Path dir, int devices) throws IOException {
        String hardware = Path.of("models/hardware/tpuv3.yaml").toAbsolutePath().toString();
        Path system = dir.resolve("tpus-" + devices + ".yaml");
        Files.writeString(system, """
            name: tpus
            devices:
              - {name: tpu, hardware: %s, count: %d}
            fabric:
              kind: switch
              switch: {name: sw, ports: %d, latency_ns: 0, buffer_bytes: 1048576, in_switch_reduction: false}
              link: {bandwidth_gb_per_s: 1, latency_ns: 0, pj_per_bit: 2}
            """.formatted(hardware, devices, devices));
        return system;
    }

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
        Path system = tpusOnASwitch(tmp, 2);
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

    /**
     * A rank's trace, hand-written in the fixture's schema: {@code events} are "mm" (the fixture's GEMM) or
     * "ar:NAME:[r, s]" (an all-reduce of 1000 bf16 elements in process group NAME of those ranks), one after another.
     */
    static String rankTrace(int rank, int world, String... events) {
        StringBuilder b = new StringBuilder("{\"distributedInfo\": {\"backend\": \"nccl\", \"rank\": " + rank
            + ", \"world_size\": " + world + "}, \"traceEvents\": [\n");
        int ts = 1000;
        int ext = 0;
        for (String e : events) {
            ext++;
            String cpu = "{\"ph\": \"X\", \"cat\": \"cpu_op\", \"pid\": 1, \"tid\": 1, \"ts\": " + ts;
            if (e.equals("mm")) {
                b.append(cpu).append(", \"dur\": 30, \"name\": \"aten::mm\", \"args\": {\"External id\": ")
                    .append(ext).append(", \"Input Dims\": [[512, 1024], [1024, 1024]], \"Input type\": ")
                    .append("[\"c10::BFloat16\", \"c10::BFloat16\"]}},\n");
            } else {
                String[] parts = e.split(":");
                int size = parts[2].split(",").length;
                b.append(cpu).append(", \"dur\": 30, \"name\": \"record_param_comms\", \"args\": {")
                    .append("\"External id\": ").append(ext).append(", \"Collective name\": \"allreduce\", ")
                    .append("\"In msg nelems\": 1000, \"Out msg nelems\": 1000, \"Group size\": ").append(size)
                    .append(", \"dtype\": \"BFloat16\", \"Process Group Name\": \"").append(parts[1])
                    .append("\", \"Process Group Ranks\": \"").append(parts[2]).append("\", \"Rank\": ")
                    .append(rank).append("}},\n");
            }
            b.append("{\"ph\": \"X\", \"cat\": \"cuda_runtime\", \"name\": \"cudaLaunchKernel\", \"pid\": 1, ")
                .append("\"tid\": 1, \"ts\": ").append(ts + 10).append(", \"dur\": 5, \"args\": {\"External id\": ")
                .append(ext).append(", \"correlation\": ").append(ext).append("}},\n");
            b.append("{\"ph\": \"X\", \"cat\": \"kernel\", \"name\": \"").append(e.equals("mm") ? "gemm_kernel"
                : "ncclDevKernel_AllReduce_Sum_bf16_RING_LL").append("\", \"pid\": 0, \"tid\": 7, \"ts\": ")
                .append(ts + 20).append(", \"dur\": 10, \"args\": {\"External id\": ").append(ext)
                .append(", \"correlation\": ").append(ext).append(", \"stream\": 7}},\n");
            ts += 100;
        }
        return b.append("{\"ph\": \"i\", \"name\": \"end\", \"ts\": ").append(ts).append("}\n]}\n").toString();
    }

    /**
     * Four ranks in two process groups of two: ranks 0 and 1 all-reduce at once; ranks 2 and 3 all-reduce after
     * rank 2's GEMM. Each group joins its own members only: devices 0 and 1 end after one all-reduce, C (6 us, as
     * above; on a switch the groups share no wire), devices 2 and 3 after T + C, rank 3 waiting T for rank 2.
     */
    @Test
    void processGroupsJoinTheirOwnMembersOnly() throws Exception {
        Path system = tpusOnASwitch(tmp, 4);
        Path folder = tmp.resolve("four-ranks");
        Files.createDirectories(folder);
        Files.writeString(folder.resolve("r0.json"), rankTrace(0, 4, "ar:tp0:[0, 1]"));
        Files.writeString(folder.resolve("r1.json"), rankTrace(1, 4, "ar:tp0:[0, 1]"));
        Files.writeString(folder.resolve("r2.json"), rankTrace(2, 4, "mm", "ar:tp1:[2, 3]"));
        Files.writeString(folder.resolve("r3.json"), rankTrace(3, 4, "ar:tp1:[2, 3]"));
        Path out = tmp.resolve("out");
        CliTest.Result r = CliTest.run("simulate", "--system", system.toString(), "--trace", folder.toString(),
            "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        assertEquals(2, s.at("/system/process_groups").asInt());
        double gemm = s.at("/devices/2/busy_s").asDouble();
        assertTrue(gemm > 0);
        double collective = 6e-6;
        assertEquals(collective, s.at("/devices/0/latency_s").asDouble(), 1e-15);
        assertEquals(collective, s.at("/devices/1/latency_s").asDouble(), 1e-15);
        assertEquals(gemm + collective, s.at("/devices/2/latency_s").asDouble(), 1e-15);
        assertEquals(gemm + collective, s.at("/devices/3/latency_s").asDouble(), 1e-15);
        assertEquals(gemm + collective, s.at("/devices/3/collective_s").asDouble(), 1e-15, "rank 3 waited for 2");
        // Replaying operators and collectives that already ran (on a switch each wire is one device's) is exact.
        Path everything = tmp.resolve("no-reuse");
        assertEquals(0, CliTest.run("simulate", "--system", system.toString(), "--trace", folder.toString(),
            "--no-reuse", "--out", everything.toString()).code());
        JsonNode all = new ObjectMapper().readTree(everything.resolve("summary.json").toFile());
        ((com.fasterxml.jackson.databind.node.ObjectNode) s).remove("simulator");
        ((com.fasterxml.jackson.databind.node.ObjectNode) all).remove("simulator");
        assertEquals(all, s);
        assertEquals(Files.readString(everything.resolve("ops.csv")), Files.readString(out.resolve("ops.csv")));
    }
}

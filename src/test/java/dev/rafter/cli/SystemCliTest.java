package dev.rafter.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SystemCliTest {
    @TempDir
    Path tmp;

    @Test
    void simulateOnASystemWritesPerDeviceAndFabricFigures() throws Exception {
        Path out = tmp.resolve("tp4");
        CliTest.Result r = CliTest.run("simulate", "--system", "models/systems/pcie-4gpu.yaml", "--workload",
            "models/workloads/tiny.yaml", "--set", "run.tensor_parallel=4", "--events", "perfetto", "--out",
            out.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        assertEquals("pcie-4gpu", s.at("/system/name").asText());
        assertEquals(4, s.at("/devices").size());
        assertEquals("gpu3", s.at("/devices/3/name").asText());
        assertTrue(s.at("/devices/0/collective_s").asDouble() > 0);
        assertTrue(s.at("/fabric/bytes").asLong() > 0);
        assertTrue(s.at("/fabric/links").has("gpu0->pcie_switch0"), s.at("/fabric/links").toString());
        assertTrue(s.at("/fabric/switches").has("root_complex"));
        assertTrue(s.at("/fabric/collectives").size() > 0);
        assertTrue(Files.readString(out.resolve("ops.csv")).startsWith("op_id,"));
        // trace.json: a process per device and one for the fabric, each with slices.
        JsonNode trace = new ObjectMapper().readTree(out.resolve("trace.json").toFile());
        java.util.Map<String, Integer> processes = new java.util.TreeMap<>();
        java.util.Set<Integer> withSlices = new java.util.TreeSet<>();
        for (JsonNode e : trace.get("traceEvents")) {
            if (e.get("name").asText().equals("process_name")) {
                processes.put(e.at("/args/name").asText(), e.get("pid").asInt());
            } else if (e.get("ph").asText().equals("X")) {
                withSlices.add(e.get("pid").asInt());
            }
        }
        assertEquals(5, processes.size(), processes.toString());
        assertTrue(processes.containsKey("fabric pcie-4gpu"), processes.toString());
        assertEquals(new java.util.TreeSet<>(processes.values()), withSlices);
    }

    @Test
    void moreParallelDevicesThanTheSystemHasIsBadInputNamingTheKey() {
        Path out = tmp.resolve("bad");
        CliTest.Result r = CliTest.run("simulate", "--system", "models/systems/pcie-4gpu.yaml", "--workload",
            "models/workloads/tiny.yaml", "--set", "run.tensor_parallel=8", "--out", out.toString());
        CliTest.assertBadInput(r, "run.tensor_parallel");
        assertTrue(r.err().contains("tiny.yaml") && r.err().contains("pcie-4gpu.yaml"), r.err());
        assertFalse(Files.exists(out.resolve("summary.json")));
    }

    @Test
    void aPipelineRunsOverStagesAndItsDegreesAreChecked() throws Exception {
        Path out = tmp.resolve("pp");
        CliTest.Result r = CliTest.run("simulate", "--system", "models/systems/dgx-a100-8.yaml", "--workload",
            "models/workloads/tiny.yaml", "--set", "run.tensor_parallel=4", "--set", "run.pipeline_parallel=2",
            "--set", "run.micro_batches=2", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        assertEquals(8, s.at("/devices").size());
        assertEquals(2, s.at("/system/pipeline_parallel").asInt());
        assertTrue(s.at("/fabric/collectives/send_recv/collectives").asLong() > 0);
        // The second stage starts when the first hands it the activations: it ends last.
        assertTrue(s.at("/devices/4/latency_s").asDouble() > s.at("/devices/0/latency_s").asDouble());
        CliTest.assertBadInput(CliTest.run("simulate", "--system", "models/systems/dgx-a100-8.yaml", "--workload",
            "models/workloads/tiny.yaml", "--set", "run.tensor_parallel=8", "--set", "run.pipeline_parallel=2",
            "--out", tmp.resolve("too-many").toString()), "run.tensor_parallel x run.pipeline_parallel");
        CliTest.assertBadInput(CliTest.run("simulate", "--system", "models/systems/pcie-4gpu.yaml", "--workload",
            "models/workloads/tiny.yaml", "--set", "run.tensor_parallel=2", "--set", "run.data_parallel=4",
            "--out", tmp.resolve("too-many-replicas").toString()), "run.data_parallel");
        CliTest.assertBadInput(CliTest.run("simulate", "--system", "models/systems/dgx-a100-8.yaml", "--workload",
            "models/workloads/tiny.yaml", "--set", "run.micro_batches=3", "--out", tmp.resolve("odd").toString()),
            "run.micro_batches");
        CliTest.assertBadInput(CliTest.run("simulate", "--hardware", "models/hardware/a100.yaml", "--workload",
            "models/workloads/tiny.yaml", "--set", "run.pipeline_parallel=2", "--out", tmp.resolve("one").toString()),
            "run.pipeline_parallel");
    }

    @Test
    void dataParallelReplicasEachServeTheirBatch() throws Exception {
        Path one = tmp.resolve("dp1");
        Path two = tmp.resolve("dp2");
        for (Path out : new Path[] {one, two}) {
            CliTest.Result r = CliTest.run("simulate", "--system", "models/systems/pcie-4gpu.yaml", "--workload",
                "models/workloads/tiny.yaml", "--set", "run.tensor_parallel=2", "--set", "run.data_parallel="
                    + (out == one ? 1 : 2), "--out", out.toString());
            assertEquals(0, r.code(), r.err());
        }
        ObjectMapper json = new ObjectMapper();
        JsonNode a = json.readTree(one.resolve("summary.json").toFile());
        JsonNode b = json.readTree(two.resolve("summary.json").toFile());
        assertEquals(4, b.at("/devices").size());
        // The replicas sit under their own PCIe switches: neither slows the other, and twice the sequences are served.
        assertEquals(a.at("/latency_s").asDouble(), b.at("/latency_s").asDouble(), 1e-12);
        assertEquals(2 * a.at("/serving/sequences").asLong(), b.at("/serving/sequences").asLong());
        assertEquals(2 * a.at("/serving/tokens_per_s").asDouble(), b.at("/serving/tokens_per_s").asDouble(), 1e-6);
        assertEquals(b.at("/devices/0/latency_s").asDouble(), b.at("/devices/2/latency_s").asDouble(), 1e-12);
    }

    @Test
    void expertParallelDegreesAreChecked() {
        // Mixtral's file asks for tensor_parallel 2: with 8 expert-parallel devices that is 16, beyond the DGX's 8.
        CliTest.Result r = CliTest.run("simulate", "--system", "models/systems/dgx-h100-8.yaml", "--workload",
            "models/workloads/mixtral-8x7b.yaml", "--set", "run.expert_parallel=8", "--out",
            tmp.resolve("ep16").toString());
        CliTest.assertBadInput(r, "run.tensor_parallel x run.expert_parallel x run.pipeline_parallel");
        assertTrue(r.err().contains("2 x 8 x 1 x 1"), r.err());
        CliTest.assertBadInput(CliTest.run("simulate", "--system", "models/systems/dgx-h100-8.yaml", "--workload",
            "models/workloads/mixtral-8x7b.yaml", "--set", "run.tensor_parallel=1", "--set", "run.expert_parallel=3",
            "--out", tmp.resolve("ep3").toString()), "run.expert_parallel");
        CliTest.assertBadInput(CliTest.run("simulate", "--system", "models/systems/dgx-h100-8.yaml", "--workload",
            "models/workloads/tiny.yaml", "--set", "run.expert_parallel=2", "--out", tmp.resolve("dense").toString()),
            "run.expert_parallel");
        CliTest.assertBadInput(CliTest.run("simulate", "--system", "models/systems/dgx-h100-8.yaml", "--workload",
            "models/workloads/mixtral-8x7b.yaml", "--set", "run.tensor_parallel=1", "--set", "run.expert_parallel=2",
            "--set", "model.routing=random", "--out", tmp.resolve("random").toString()), "run.expert_parallel");
        CliTest.assertBadInput(CliTest.run("simulate", "--hardware", "models/hardware/h100.yaml", "--workload",
            "models/workloads/mixtral-8x7b.yaml", "--set", "run.expert_parallel=2", "--out",
            tmp.resolve("one").toString()), "run.expert_parallel");
    }

    @Test
    void setSystemKeysChangeTheFabric() throws Exception {
        ObjectMapper json = new ObjectMapper();
        double[] collectiveS = new double[2];
        for (int slow = 0; slow < 2; slow++) {
            Path out = tmp.resolve("bw" + slow);
            CliTest.Result r = CliTest.run("simulate", "--system", "models/systems/dgx-a100-8.yaml", "--workload",
                "models/workloads/tiny.yaml", "--set", "run.tensor_parallel=8", "--set",
                "system.fabric.link.bandwidth_gb_per_s=" + (slow == 1 ? "0.5" : "200"), "--out", out.toString());
            assertEquals(0, r.code(), r.err());
            collectiveS[slow] = json.readTree(out.resolve("summary.json").toFile()).at("/devices/0/collective_s")
                .asDouble();
        }
        assertTrue(collectiveS[1] > 2 * collectiveS[0], java.util.Arrays.toString(collectiveS));
        CliTest.assertBadInput(CliTest.run("simulate", "--system", "models/systems/dgx-a100-8.yaml", "--workload",
            "models/workloads/tiny.yaml", "--set", "system.fabric.link.bandwidth_gb_per_s=fast", "--out",
            tmp.resolve("bad-bw").toString()), "bandwidth_gb_per_s");
    }

    @Test
    void setHostKeysGiveEveryDeviceAHost() throws Exception {
        Path out = tmp.resolve("host");
        CliTest.Result r = CliTest.run("simulate", "--system", "models/systems/dgx-a100-8.yaml", "--workload",
            "models/workloads/tiny.yaml", "--set", "run.tensor_parallel=2", "--set", "host.framework=eager",
            "--phase", "decode", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        assertEquals("eager", s.at("/host/framework").asText());
        // One launch per kernel, the all-reduces (NCCL calls) among them.
        long collectives = s.at("/simulator/collectives").asLong();
        assertTrue(collectives > 0);
        assertTrue(s.at("/host/kernels").asLong() > collectives, s.at("/host").toString());
        assertTrue(s.at("/host/busy_s").asDouble() > 0);
        CliTest.assertBadInput(CliTest.run("simulate", "--system", "models/systems/dgx-a100-8.yaml", "--workload",
            "models/workloads/tiny.yaml", "--set", "host.framework=python", "--out", tmp.resolve("bad").toString()),
            "host.framework");
        // A pipeline's stages have their hosts too.
        CliTest.Result pp = CliTest.run("simulate", "--system", "models/systems/dgx-a100-8.yaml", "--workload",
            "models/workloads/tiny.yaml", "--set", "run.tensor_parallel=2", "--set", "run.pipeline_parallel=2",
            "--set", "host.framework=eager", "--out", tmp.resolve("pp").toString());
        assertEquals(0, pp.code(), pp.err());
        assertEquals("eager", new ObjectMapper().readTree(tmp.resolve("pp").resolve("summary.json").toFile())
            .at("/host/framework").asText());
    }

    @Test
    void sweepOverASystemGivesOneRowPerPointAsSimulateRunsIt() throws Exception {
        Path out = tmp.resolve("sweep");
        String[] args = {"sweep", "--system", "models/systems/dgx-a100-8.yaml", "--workload",
            "models/workloads/tiny.yaml", "--phase", "decode", "--vary", "run.tensor_parallel=1,2", "--vary",
            "system.fabric.link.latency_ns=0,5000", "--jobs", "1", "--out", out.toString()};
        CliTest.Result r = CliTest.run(args);
        assertEquals(0, r.code(), r.err());
        java.util.List<String> rows = Files.readAllLines(out.resolve("sweep.csv"));
        assertEquals(5, rows.size(), rows.toString());
        assertTrue(rows.get(0).startsWith("run.tensor_parallel,system.fabric.link.latency_ns,latency_s,"));
        ObjectMapper json = new ObjectMapper();
        double[] latency = new double[4];
        for (int i = 0; i < 4; i++) {
            latency[i] = Double.parseDouble(rows.get(i + 1).split(",")[2]);
        }
        // One device has no collective: the fabric's latency cannot matter; on two it does.
        assertEquals(latency[0], latency[1]);
        assertTrue(latency[3] > latency[2], java.util.Arrays.toString(latency));
        // A point is what simulate --system gives for the same values.
        Path single = tmp.resolve("one-point");
        CliTest.Result sim = CliTest.run("simulate", "--system", "models/systems/dgx-a100-8.yaml", "--workload",
            "models/workloads/tiny.yaml", "--phase", "decode", "--set", "run.tensor_parallel=2", "--set",
            "system.fabric.link.latency_ns=5000", "--out", single.toString());
        assertEquals(0, sim.code(), sim.err());
        JsonNode point = json.readTree(out.resolve("points")
            .resolve("run.tensor_parallel-2__system.fabric.link.latency_ns-5000.json").toFile());
        JsonNode alone = json.readTree(single.resolve("summary.json").toFile());
        assertEquals(alone.get("latency_s"), point.get("latency_s"));
        assertEquals(alone.get("fabric"), point.get("fabric"));
        assertEquals(alone.get("devices"), point.get("devices"));
        // --resume finds every point's inputs unchanged.
        String[] resume = java.util.Arrays.copyOf(args, args.length + 1);
        resume[args.length] = "--resume";
        java.io.StringWriter log = new java.io.StringWriter();
        assertEquals(0, Main.execute(resume, new java.io.PrintWriter(log, true),
            new java.io.PrintWriter(new java.io.StringWriter(), true)));
        assertTrue(log.toString().contains("reused 4 of 4 points"), log.toString());
        CliTest.assertBadInput(CliTest.run("sweep", "--system", "models/systems/dgx-a100-8.yaml", "--workload",
            "models/workloads/tiny.yaml", "--vary", "system.fabric.link.latncy_ns=1,2", "--out",
            tmp.resolve("bad").toString()), "latncy_ns");
        CliTest.assertBadInput(CliTest.run("sweep", "--system", "models/systems/pcie-4gpu.yaml", "--workload",
            "models/workloads/tiny.yaml", "--vary", "run.tensor_parallel=2,8", "--out",
            tmp.resolve("bad-tp").toString()), "run.tensor_parallel");
    }

    @Test
    void hardwareOrSystemButNotBothNorNeither() {
        CliTest.assertBadInput(CliTest.run("simulate", "--system", "models/systems/pcie-4gpu.yaml", "--hardware",
            "models/hardware/a100.yaml", "--workload", "models/workloads/tiny.yaml", "--out",
            tmp.resolve("x").toString()), "not both");
        CliTest.assertBadInput(CliTest.run("simulate", "--workload", "models/workloads/tiny.yaml", "--out",
            tmp.resolve("y").toString()), "--hardware");
        CliTest.assertBadInput(CliTest.run("simulate", "--system", "models/systems/pcie-4gpu.yaml", "--workload",
            "models/workloads/tiny.yaml", "--events", "csv", "--out", tmp.resolve("z").toString()),
            "--events");
    }
}

package dev.rafter.cli;

import static dev.rafter.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Power over a run: summary.json's power section, trace.json's power counter and power.png. */
class PowerCliTest {
    @TempDir
    Path tmp;

    @Test
    void aDeviceWithBoardPowerReportsPowerOverTheRun() throws Exception {
        Path out = tmp.resolve("h100");
        CliTest.Result r = run("simulate", "--hardware", "models/hardware/h100.yaml", "--workload",
            "models/workloads/tiny.yaml", "--out", out.toString(), "--events", "perfetto");
        assertEquals(0, r.code(), r.err());
        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        JsonNode p = s.get("power");
        double latency = s.get("latency_s").asDouble();
        assertEquals(s.get("energy_j").get("total").asDouble() / latency, p.get("average_w").asDouble(), 1e-9);
        assertEquals(140, p.get("static_w").asDouble(), 1e-9, "h100.yaml idle_w");
        assertEquals(140, s.get("energy_j").get("static").asDouble() / latency, 1e-6, "static power is idle power");
        assertTrue(p.get("peak_w").asDouble() >= p.get("average_w").asDouble());
        assertTrue(p.get("peak_w").asDouble() < 700 && !p.get("above_cap").asBoolean());
        JsonNode perToken = p.get("energy_per_token_j");
        assertEquals(s.get("serving").get("energy_per_output_token_j").asDouble(), perToken.get("run").asDouble(),
            1e-15);
        // tiny.yaml: batch 2, prompt 64 tokens
        assertEquals(s.get("phases").get("prefill").get("energy_j").asDouble() / (2 * 64),
            perToken.get("prefill").asDouble(), 1e-15);
        assertEquals(s.get("serving").get("tokens_per_s").asDouble() / p.get("average_w").asDouble(),
            p.get("tokens_per_s_per_w").asDouble(), 1e-12);
        assertTrue(Files.size(out.resolve("power.png")) > 1000);
        // the counter track integrates to the run's energy
        JsonNode events = new ObjectMapper().readTree(out.resolve("trace.json").toFile()).get("traceEvents");
        double joules = 0;
        double lastUs = -1;
        double lastW = 0;
        for (JsonNode e : events) {
            if (e.get("ph").asText().equals("C")) {
                double us = e.get("ts").asDouble();
                if (lastUs >= 0) {
                    joules += lastW * (us - lastUs) * 1e-6;
                }
                lastUs = us;
                lastW = e.get("args").get("value").asDouble();
            }
        }
        assertEquals(latency * 1e6, lastUs, 1e-6, "the counter runs to the end of the run");
        assertEquals(s.get("energy_j").get("total").asDouble(), joules, 1e-6 * joules);
    }

    @Test
    void aDeviceWithoutBoardPowerKeepsItsOutputs() throws Exception {
        Path out = tmp.resolve("study");
        assertEquals(0, run("simulate", "--hardware", "models/hardware/sram-study-45nm.yaml", "--workload",
            "models/workloads/tiny.yaml", "--out", out.toString(), "--events", "perfetto").code());
        assertFalse(new ObjectMapper().readTree(out.resolve("summary.json").toFile()).has("power"));
        assertFalse(Files.readString(out.resolve("trace.json")).contains("\"ph\":\"C\""));
        assertFalse(Files.exists(out.resolve("power.png")));
    }
}

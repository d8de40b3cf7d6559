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
    void costAddsMoneyAndCarbonPerToken() throws Exception {
        Path out = tmp.resolve("cost");
        CliTest.Result r = run("simulate", "--hardware", "models/hardware/a100.yaml", "--workload",
            "models/workloads/tiny.yaml", "--cost", "models/cost/cloud-2026.yaml", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        JsonNode c = s.get("cost");
        double seconds = s.get("latency_s").asDouble();
        double tokens = s.get("serving").get("output_tokens").asDouble() * s.get("serving").get("sequences").asDouble();
        // cloud-2026.yaml: A100 at $1.99 per hour; PUE 1.2 at 481 g/kWh; 318 kg over 5 years of hours
        assertEquals(1.99 * seconds / 3600 / tokens * 1e6, c.get("usd_per_million_tokens").asDouble(), 1e-12);
        double operational = s.get("energy_j").get("total").asDouble() * 1.2 / 3.6e6 * 481;
        double embodied = 318e3 * seconds / 3600 / (5 * 8760);
        assertEquals(operational, c.get("g_co2e").get("operational").asDouble(), 1e-12);
        assertEquals((operational + embodied) / tokens * 1e3, c.get("g_co2e_per_thousand_tokens").asDouble(),
            1e-12);
        CliTest.Result missing = run("simulate", "--hardware", "models/hardware/orin-agx.yaml", "--workload",
            "models/workloads/tiny.yaml", "--cost", "models/cost/cloud-2026.yaml", "--out", out.toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("cloud-2026.yaml: devices: no entry for 'orin-agx-64gb'"), missing.err());
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

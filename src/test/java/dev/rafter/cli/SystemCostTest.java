package dev.rafter.cli;

import static dev.rafter.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code simulate --system --cost}: every device the run holds is paid for, the whole system's energy is billed. */
class SystemCostTest {
    @TempDir
    Path tmp;

    @Test
    void eightDevicesCostEightDeviceHoursAndTheSystemsEnergy() throws Exception {
        Path out = tmp.resolve("tp8");
        CliTest.Result r = run("simulate", "--system", "models/systems/dgx-h100-8.yaml", "--workload",
            "models/workloads/tiny.yaml", "--set", "run.tensor_parallel=8", "--cost",
            "models/cost/owned-datacentre.yaml", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        JsonNode c = s.get("cost");
        double hours = s.get("latency_s").asDouble() / 3600;
        double joules = s.get("energy_j").get("total").asDouble();
        // owned-datacentre.yaml's price, lifetime, utilisation, PUE, electricity price and grid carbon, read back
        // through the model: the system's bill is 8 devices' share of their price and the whole system's energy.
        var model = dev.rafter.energy.CostModel.load(Path.of("models/cost/owned-datacentre.yaml"));
        var h100 = model.device("h100-sxm", "owned-datacentre.yaml");
        double oneDeviceUsd = h100.priceUsd() * hours / (h100.lifetimeHours() * model.utilisation());
        assertEquals(8 * oneDeviceUsd, c.get("usd_device").asDouble(), 1e-12 * oneDeviceUsd, "8 devices held");
        double kwh = joules * model.pue() / 3.6e6;
        assertEquals(kwh * model.usdPerKwh(), c.get("usd_electricity").asDouble(), 1e-15, "the system's energy");
        assertEquals(kwh * model.gCo2ePerKwh(), c.get("g_co2e").get("operational").asDouble(), 1e-15);
        // tiny.yaml: 2 sequences; output tokens per sequence from the run's serving figures
        double tokens = s.get("serving").get("output_tokens").asDouble() * 2;
        assertEquals(c.get("usd").asDouble() / tokens * 1e6, c.get("usd_per_million_tokens").asDouble(), 1e-12);
        // embodied carbon per exaFLOP: every device's FLOPs, 8 shards of the same work
        assertTrue(c.get("g_co2e").get("embodied").asDouble() > 0);

        // the same run on one device of the system: the device cost per hour is an eighth
        Path one = tmp.resolve("tp1");
        assertEquals(0, run("simulate", "--system", "models/systems/dgx-h100-8.yaml", "--workload",
            "models/workloads/tiny.yaml", "--set", "run.tensor_parallel=1", "--cost",
            "models/cost/owned-datacentre.yaml", "--out", one.toString()).code());
        JsonNode s1 = new ObjectMapper().readTree(one.resolve("summary.json").toFile());
        double perHour1 = s1.get("cost").get("usd_device").asDouble() / s1.get("latency_s").asDouble();
        double perHour8 = c.get("usd_device").asDouble() / s.get("latency_s").asDouble();
        assertEquals(8, perHour8 / perHour1, 1e-9);
    }

    @Test
    void aSystemDeviceTheCostFileLacksIsExit2NamingIt() throws Exception {
        Path cost = tmp.resolve("cost.yaml");
        Files.writeString(cost, Files.readString(Path.of("models/cost/owned-datacentre.yaml"))
            .replace("  h100-sxm:", "  h100-renamed:"));
        CliTest.Result r = run("simulate", "--system", "models/systems/dgx-h100-8.yaml", "--workload",
            "models/workloads/tiny.yaml", "--cost", cost.toString(), "--out", tmp.resolve("x").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("no entry for 'h100-sxm'") && r.err().contains(cost.toString()), r.err());
        assertTrue(!Files.exists(tmp.resolve("x").resolve("summary.json")), "no partial output");
    }

    @Test
    void aSweepOverASystemCostsEachPointAsSimulateDoes() throws Exception {
        Path sweep = tmp.resolve("sweep");
        assertEquals(0, run("sweep", "--system", "models/systems/dgx-h100-8.yaml", "--workload",
            "models/workloads/tiny.yaml", "--vary", "run.tensor_parallel=1,8", "--cost",
            "models/cost/cloud-2026.yaml", "--jobs", "1", "--out", sweep.toString()).code());
        Path single = tmp.resolve("single");
        assertEquals(0, run("simulate", "--system", "models/systems/dgx-h100-8.yaml", "--workload",
            "models/workloads/tiny.yaml", "--set", "run.tensor_parallel=8", "--cost", "models/cost/cloud-2026.yaml",
            "--out", single.toString()).code());
        JsonNode s = new ObjectMapper().readTree(single.resolve("summary.json").toFile());
        java.util.List<String> csv = Files.readAllLines(sweep.resolve("sweep.csv"));
        java.util.List<String> header = java.util.List.of(csv.get(0).split(","));
        String[] tp8 = csv.get(2).split(",");
        assertEquals("8", tp8[0]);
        assertEquals(s.get("cost").get("usd_per_million_tokens").asDouble(),
            Double.parseDouble(tp8[header.indexOf("usd_per_million_tokens")]),
            1e-5 * s.get("cost").get("usd_per_million_tokens").asDouble(), "sweep.csv keeps 6 digits");
    }
}

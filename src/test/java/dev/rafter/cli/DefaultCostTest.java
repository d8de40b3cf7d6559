package dev.rafter.cli;

import static dev.rafter.cli.CliTest.assertBadInput;
import static dev.rafter.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The default cost model: a hardware file names its cost file ({@code cost: ../cost/cloud-2026.yaml}), so simulate,
 * sweep and serve bill a device it prices without {@code --cost}; {@code --cost none} turns it off.
 */
class DefaultCostTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private record Output(int code, String out, String err) {}

    private static Output execute(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Output(code, out.toString(), err.toString());
    }

    private static Output ok(String... args) {
        Output r = execute(args);
        assertEquals(0, r.code(), r.err());
        return r;
    }

    /** The issue's command, on the tiny workload cut to one layer and one decode step (cheap, with tokens). */
    private Output simulate(String hardware, Path out, String... more) {
        List<String> args = new ArrayList<>(List.of("simulate", "--hardware", hardware, "--workload",
            "models/workloads/tiny.yaml", "--set", "run.batch=8", "--layers", "1", "--decode-steps", "1", "--out",
            out.toString()));
        args.addAll(List.of(more));
        return ok(args.toArray(String[]::new));
    }

    private static String line(Output r, String start) {
        return r.out().lines().filter(l -> l.startsWith(start)).findFirst()
            .orElseThrow(() -> new AssertionError("no line starting '" + start + "' in:\n" + r.out()));
    }

    @Test
    void theIssuesCommandPrintsPowerEnergyPerTokenCostAndCarbon() {
        Path out = tmp.resolve("e");
        Output r = simulate("models/hardware/h100.yaml", out);
        assertTrue(line(r, "power: average ").matches("power: average [0-9.]+ W, peak .*"), r.out());
        assertTrue(line(r, "per token: ").matches(".* run [0-9.e-]+ J, .*"), r.out());
        String cost = line(r, "cost (cloud-2026, 2026-05; the hardware's default models/cost/cloud-2026.yaml, off "
            + "with --cost none): $");
        assertTrue(cost.matches(".*; \\$[0-9.e+-]+ per million tokens, [0-9.e+-]+ g CO2e per thousand tokens"), cost);
        assertTrue(Files.exists(out.resolve("power.png")));
    }

    @Test
    void theDefaultBillsAsTheNamedFileByHand() throws Exception {
        Path byDefault = tmp.resolve("default");
        simulate("models/hardware/a100.yaml", byDefault);
        JsonNode s = JSON.readTree(byDefault.resolve("summary.json").toFile());
        JsonNode c = s.get("cost");
        double seconds = s.get("latency_s").asDouble();
        double tokens = s.get("serving").get("output_tokens").asDouble() * 8;
        // cloud-2026.yaml: A100 at $1.99 per hour (electricity in it); PUE 1.2 at 481 g/kWh; 318 kg over 5 years
        double usd = 1.99 * seconds / 3600;
        double operational = s.get("energy_j").get("total").asDouble() * 1.2 / 3.6e6 * 481;
        double embodied = 318e3 * seconds / 3600 / (5 * 8760);
        assertEquals("cloud-2026", c.get("model").asText());
        assertEquals(usd, c.get("usd").asDouble(), 1e-12 * usd);
        assertEquals(usd / tokens * 1e6, c.get("usd_per_million_tokens").asDouble(), 1e-12 * usd / tokens * 1e6);
        assertEquals(operational, c.get("g_co2e").get("operational").asDouble(), 1e-12 * operational);
        assertEquals(embodied, c.get("g_co2e").get("embodied").asDouble(), 1e-12 * embodied);
        assertEquals((operational + embodied) / tokens * 1e3, c.get("g_co2e_per_thousand_tokens").asDouble(),
            1e-12 * (operational + embodied) / tokens * 1e3);
        // The same block as naming the file.
        Path named = tmp.resolve("named");
        Output r = simulate("models/hardware/a100.yaml", named, "--cost", "models/cost/cloud-2026.yaml");
        assertEquals(c, JSON.readTree(named.resolve("summary.json").toFile()).get("cost"));
        assertTrue(line(r, "cost (").startsWith("cost (cloud-2026, 2026-05): $"), "an explicit file as before");
    }

    @Test
    void costNoneAndAnUnpricedDeviceBillNothing() throws Exception {
        for (String[] run : new String[][] {{"models/hardware/a100.yaml", "--cost", "none"},
                {"models/hardware/h100-pim.yaml"}, {"models/hardware/mi300x.yaml"}}) {
            Path out = tmp.resolve("none" + run.length + run[0].length());
            List<String> more = List.of(run).subList(1, run.length);
            Output r = simulate(run[0], out, more.toArray(String[]::new));
            assertFalse(r.out().contains("cost ("), r.out());
            assertFalse(r.out().contains("per million tokens"), r.out());
            assertFalse(JSON.readTree(out.resolve("summary.json").toFile()).has("cost"), run[0]);
        }
        // h100-pim extends h100.yaml (so it names its cost file) under a name of its own that the file does not price;
        // naming the file for it is bad input, as before.
        assertBadInput(run("simulate", "--hardware", "models/hardware/h100-pim.yaml", "--trace",
            "traces/gemm-small.csv", "--cost", "models/cost/cloud-2026.yaml", "--out", tmp.resolve("x").toString()),
            "cloud-2026.yaml: devices: no entry for 'h100-sxm-pim'");
    }

    @Test
    void badCostInputIsExitTwoNamingTheKey() throws Exception {
        String trace = "traces/gemm-small.csv";
        String out = tmp.resolve("bad").toString();
        assertBadInput(run("simulate", "--hardware", "models/hardware/a100.yaml", "--trace", trace, "--cost",
            tmp.resolve("nowhere.yaml").toString(), "--out", out), "nowhere.yaml");
        // A hardware file whose cost: names no file, or a cost file without units.
        String a100 = Files.readString(Path.of("models/hardware/a100.yaml"));
        String models = Path.of("models").toAbsolutePath() + "/";
        Path hw = tmp.resolve("a100.yaml");
        Files.writeString(hw, a100.replace("../", models));
        ok("simulate", "--hardware", hw.toString(), "--trace", trace, "--out", out);
        Files.writeString(hw, a100.replace("../cost/cloud-2026.yaml", "missing.yaml").replace("../", models));
        assertBadInput(run("simulate", "--hardware", hw.toString(), "--trace", trace, "--out", out), ": cost: ");
        Path cost = tmp.resolve("cost.yaml");
        Files.writeString(cost, Files.readString(Path.of("models/cost/cloud-2026.yaml"))
            .replace("grid_carbon: 481 gCO2e/kWh", "grid_carbon: 481"));
        Files.writeString(hw, a100.replace("../cost/cloud-2026.yaml", cost.toString()).replace("../", models));
        assertBadInput(run("simulate", "--hardware", hw.toString(), "--trace", trace, "--out", out),
            "cost.yaml: grid_carbon: '481' has no unit");
    }

    @Test
    void serveBillsTheDevicesHeldOverTheServingSpanAndTheirEnergy() throws Exception {
        Path out = tmp.resolve("serve");
        Output r = ok("serve", "--hardware", "models/hardware/a100.yaml", "--workload", "models/workloads/tiny.yaml",
            "--concurrency", "2", "--requests", "4", "--prompt-tokens", "16", "--output-tokens", "4", "--replicas",
            "2", "--out", out.toString());
        JsonNode s = JSON.readTree(out.resolve("serving.json").toFile());
        JsonNode c = s.get("cost");
        double span = s.get("span_s").asDouble();
        double joules = s.get("energy").get("joules").asDouble();
        double tokens = 4 * 4;
        // Two replicas of tiny.yaml's tensor-parallel pair: four A100s, each at $1.99 per hour (electricity in it)
        // and 318 kg over 5 years of hours (cloud-2026.yaml); the energy at PUE 1.2 and 481 g per kWh.
        double usd = 4 * 1.99 * span / 3600;
        double embodied = 4 * 318e3 * span / 3600 / (5 * 8760);
        double operational = joules * 1.2 / 3.6e6 * 481;
        assertEquals(4, c.get("devices").asInt());
        assertEquals(4, s.get("energy").get("devices").asInt());
        assertEquals(usd, c.get("usd").asDouble(), 1e-12 * usd);
        assertEquals(usd / tokens * 1e6, c.get("usd_per_million_tokens").asDouble(), 1e-12 * usd / tokens * 1e6);
        assertEquals(0, c.get("usd_electricity").asDouble());
        assertEquals(operational, c.get("g_co2e").get("operational").asDouble(), 1e-12 * operational);
        assertEquals((embodied + operational) / tokens * 1e3, c.get("g_co2e_per_thousand_tokens").asDouble(),
            1e-12 * (embodied + operational) / tokens * 1e3);
        String line = line(r, "cost (cloud-2026, 2026-05; the hardware's default models/cost/cloud-2026.yaml");
        assertTrue(line.contains(" for 4 device(s) over ") && line.contains(" per million output tokens, ")
            && line.contains("(electricity $0.000)"), line);
        // Owned devices: electricity at $0.08 per kWh of the energy at PUE 1.2.
        ok("serve", "--hardware", "models/hardware/a100.yaml", "--workload", "models/workloads/tiny.yaml",
            "--concurrency", "1", "--requests", "2", "--prompt-tokens", "16", "--output-tokens", "4", "--cost",
            "models/cost/owned-datacentre.yaml", "--out", out.toString());
        JsonNode ownedRun = JSON.readTree(out.resolve("serving.json").toFile());
        double ownedJ = ownedRun.get("energy").get("joules").asDouble();
        double electricity = ownedJ * 1.2 / 3.6e6 * 0.08;
        assertEquals(electricity, ownedRun.get("cost").get("usd_electricity").asDouble(), 1e-12 * electricity);
        ok("serve", "--hardware", "models/hardware/a100.yaml", "--workload", "models/workloads/tiny.yaml",
            "--concurrency", "1", "--requests", "2", "--cost", "none", "--out", out.toString());
        JsonNode none = JSON.readTree(out.resolve("serving.json").toFile());
        assertFalse(none.has("cost"));
        assertTrue(none.has("energy"), "energy is accounted without a cost model");
    }

    @Test
    void sweepMinimisesCostWithoutCostOption() throws Exception {
        Path out = tmp.resolve("sweep");
        Output r = ok("sweep", "--hardware", "models/hardware/a100.yaml", "--workload", "models/workloads/tiny.yaml",
            "--layers", "1", "--decode-steps", "1", "--vary", "run.batch=1,4", "--jobs", "1", "--metric", "cost",
            "--out", out.toString());
        assertTrue(r.out().contains("<- best cost"), r.out());
        assertTrue(Files.readAllLines(out.resolve("sweep.csv")).get(0).endsWith(
            "usd_per_million_tokens,g_co2e_per_thousand_tokens"));
        assertBadInput(run("sweep", "--hardware", "models/hardware/mi300x.yaml", "--workload",
            "models/workloads/tiny.yaml", "--vary", "run.batch=1,4", "--metric", "cost", "--out", out.toString()),
            "--metric cost: needs --cost FILE");
    }
}

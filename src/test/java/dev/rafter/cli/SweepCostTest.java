package dev.rafter.cli;

import static dev.rafter.cli.CliTest.assertBadInput;
import static dev.rafter.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rafter.sweep.SweepDescription;
import dev.rafter.sweep.SweepPlan;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code sweep --cost}: each point's cost block, its columns in sweep.csv, resume, shards, executors, --metric. */
class SweepCostTest {
    private static final String COST = "models/cost/cloud-2026.yaml";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    /** Three batch sizes of one layer and one decode step of the tiny workload on the A100: cheap, with tokens. */
    private static List<String> sweep(Path out, String... more) {
        List<String> args = new ArrayList<>(List.of("sweep", "--hardware", "models/hardware/a100.yaml", "--workload",
            "models/workloads/tiny.yaml", "--layers", "1", "--decode-steps", "1", "--vary", "run.batch=1,2,4",
            "--jobs", "1", "--out", out.toString()));
        args.addAll(List.of(more));
        return args;
    }

    private record Output(int code, String out, String err) {}

    private static Output execute(List<String> args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.execute(args.toArray(String[]::new), new PrintWriter(out, true), new PrintWriter(err, true));
        return new Output(code, out.toString(), err.toString());
    }

    private static Output ok(List<String> args) {
        Output r = execute(args);
        assertEquals(0, r.code(), r.err());
        return r;
    }

    private static JsonNode read(Path file) throws Exception {
        return JSON.readTree(file.toFile());
    }

    @Test
    void eachPointCostsWhatSimulateSaysAndSweepCsvCarriesIt() throws Exception {
        Path out = tmp.resolve("s");
        Output r = ok(sweep(out, "--cost", COST, "--metric", "cost"));
        List<String> csv = Files.readAllLines(out.resolve("sweep.csv"));
        String[] header = csv.get(0).split(",");
        assertEquals("usd_per_million_tokens", header[header.length - 2]);
        assertEquals("g_co2e_per_thousand_tokens", header[header.length - 1]);
        double cheapest = Double.MAX_VALUE;
        String cheapestName = null;
        int i = 1;
        for (String batch : new String[] {"1", "2", "4"}) {
            JsonNode point = read(out.resolve("points/run.batch-" + batch + ".json")).get("cost");
            Path one = tmp.resolve("sim" + batch);
            assertEquals(0, run("simulate", "--hardware", "models/hardware/a100.yaml", "--workload",
                "models/workloads/tiny.yaml", "--layers", "1", "--decode-steps", "1", "--set", "run.batch=" + batch,
                "--cost", COST, "--out", one.toString()).code());
            JsonNode simulated = read(one.resolve("summary.json")).get("cost");
            assertEquals(simulated, point, "batch " + batch);
            String[] row = csv.get(i++).split(",");
            double usd = Double.parseDouble(row[row.length - 2]);
            assertEquals(simulated.get("usd_per_million_tokens").asDouble(), usd,
                1e-5 * usd, "sweep.csv, batch " + batch);
            assertEquals(simulated.get("g_co2e_per_thousand_tokens").asDouble(),
                Double.parseDouble(row[row.length - 1]), 1e-5 * Double.parseDouble(row[row.length - 1]));
            if (usd < cheapest) {
                cheapest = usd;
                cheapestName = "run.batch-" + batch;
            }
        }
        String best = r.out().lines().filter(l -> l.endsWith("<- best cost")).findFirst().orElseThrow();
        assertTrue(best.startsWith(cheapestName + " "), r.out());

        // With --cost none (the A100's hardware file names cloud-2026.yaml) the columns are not there and the best
        // line is the EDP's, as before.
        Path plain = tmp.resolve("plain");
        Output without = ok(sweep(plain, "--cost", "none"));
        assertFalse(Files.readAllLines(plain.resolve("sweep.csv")).get(0).contains("usd"));
        assertTrue(without.out().contains("<- best EDP"), without.out());
        assertFalse(read(plain.resolve("points/run.batch-1.json")).get("inputs").has("cost"));
    }

    @Test
    void aCostFileEditedSinceRerunsThePointsOnResume() throws Exception {
        Path cost = tmp.resolve("cost.yaml");
        String text = Files.readString(Path.of(COST));
        Files.writeString(cost, text);
        Path out = tmp.resolve("s");
        List<String> args = sweep(out, "--cost", cost.toString(), "--resume");
        ok(args);
        double before = read(out.resolve("points/run.batch-1.json")).get("cost").get("usd").asDouble();
        assertTrue(ok(args).out().contains("resume: reused 3 of 3 points"));
        Files.writeString(cost, text.replace("price: 1.99 USD/h", "price: 3.98 USD/h"));
        Output again = ok(args);
        assertTrue(again.out().contains("reused 0 of 3 points; re-ran 3 cost file (--cost) changed"), again.out());
        assertEquals(2 * before, read(out.resolve("points/run.batch-1.json")).get("cost").get("usd").asDouble(),
            1e-12 * before, "A100 at twice the hourly price, electricity included in it (cloud-2026.yaml)");
        // Points saved without a cost model run again when it is given, and the other way round.
        Output dropped = ok(sweep(out, "--resume", "--cost", "none"));
        assertTrue(dropped.out().contains("re-ran 3 cost file (--cost) changed"), dropped.out());
    }

    @Test
    void badCostInputIsOneLine() throws Exception {
        Path noUnit = tmp.resolve("no-unit.yaml");
        Files.writeString(noUnit, Files.readString(Path.of(COST)).replace("electricity: 0 USD/kWh",
            "electricity: 0"));
        assertBadInput(run(sweep(tmp.resolve("a"), "--cost", noUnit.toString()).toArray(String[]::new)),
            "electricity");
        assertBadInput(run(sweep(tmp.resolve("b"), "--cost", tmp.resolve("missing.yaml").toString())
            .toArray(String[]::new)), "missing.yaml");
        List<String> orin = sweep(tmp.resolve("c"), "--cost", COST);
        orin.set(orin.indexOf("models/hardware/a100.yaml"), "models/hardware/orin-agx.yaml");
        assertBadInput(run(orin.toArray(String[]::new)), "cloud-2026.yaml: devices: no entry for 'orin-agx-64gb'");
        assertBadInput(run(sweep(tmp.resolve("d"), "--metric", "carbon", "--cost", "none").toArray(String[]::new)),
            "--metric carbon: needs --cost FILE");
        assertBadInput(run(sweep(tmp.resolve("e"), "--metric", "speed").toArray(String[]::new)),
            "--metric: expected latency, energy, edp, cost or carbon, got 'speed'");
    }

    @Test
    void shardsWithCostMergeToTheLocalSweepAndExecutorsGetTheCostFile() throws Exception {
        Path all = tmp.resolve("all");
        ok(sweep(all, "--cost", COST));
        List<String> merge = new ArrayList<>(List.of("sweep", "merge"));
        for (int k = 1; k <= 2; k++) {
            Path dir = tmp.resolve("shard" + k);
            ok(sweep(dir, "--cost", COST, "--shard", k + "/2"));
            merge.add(dir.toString());
        }
        Path merged = tmp.resolve("merged");
        merge.addAll(List.of("--out", merged.toString()));
        ok(merge);
        for (String f : new String[] {"sweep.csv", "sweep.png", "sweep.json"}) {
            assertArrayEquals(Files.readAllBytes(all.resolve(f)), Files.readAllBytes(merged.resolve(f)), f);
        }

        // What a Spark executor does: rebuild the sweep from its description (options and file bytes) elsewhere.
        SweepCommand driver = new SweepCommand();
        List<String> options = sweep(all, "--cost", COST);
        new CommandLine(driver).parseArgs(options.subList(1, options.size()).toArray(String[]::new));
        SweepPlan plan = SweepPlan.parse(driver.vary);
        SweepDescription d = driver.description(plan, driver.sweep(plan, "settings", Main.build()));
        assertTrue(d.files().containsKey("cost/cloud-2026.yaml"), d.files().keySet().toString());
        JsonNode remote = JSON.readTree(SweepCommand.pointRunner(d).apply(2));
        JsonNode local = read(all.resolve("points/run.batch-4.json"));
        assertEquals(local.get("cost"), remote.get("cost"));
        assertEquals(local.get("inputs"), remote.get("inputs"), "the same resume key, cost file's hash included");
    }
}

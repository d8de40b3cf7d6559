package dev.rafter.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rafter.sweep.SweepDescription;
import dev.rafter.sweep.SweepPlan;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * A sweep over a hardware file that extends another: --vary reaches the base's keys, and a Spark executor's copy of
 * the inputs carries the base (and a unit's preset), so its points are the local ones.
 */
class SweepExtendsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void theStackedDeviceRunsElsewhereAsTheSameDevice() throws Exception {
        JsonNode[] points = localAndRemote("h100-stacked", List.of("hardware/h100.yaml", "memory/stacked-dram.yaml"));
        assertEquals(points[0].get("inputs"), points[1].get("inputs"), "the same device, so the same resume key");
        assertEquals(points[0].get("latency_s"), points[1].get("latency_s"));
    }

    @Test
    void thePimDeviceCarriesItsBaseAndItsUnitsPreset() throws Exception {
        // (its resume key differs elsewhere: a unit keeps the preset's path for its messages, and the key hashes it)
        JsonNode[] points = localAndRemote("h100-pim", List.of("hardware/h100.yaml", "nmp/hbm-pim.yaml"));
        assertEquals(points[0].get("latency_s"), points[1].get("latency_s"));
    }

    /** Point 0 of a two-point sweep over memory.channels, run here and from the sweep's description. */
    private JsonNode[] localAndRemote(String hardware, List<String> carried) throws Exception {
        Path out = tmp.resolve(hardware);
        List<String> args = List.of("--hardware", "models/hardware/" + hardware + ".yaml", "--workload",
            "models/workloads/tiny.yaml", "--layers", "1", "--decode-steps", "1", "--vary", "memory.channels=80,160",
            "--jobs", "1", "--out", out.toString());
        List<String> sweep = new java.util.ArrayList<>(List.of("sweep"));
        sweep.addAll(args);
        CliTest.Result r = CliTest.run(sweep.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        SweepCommand driver = new SweepCommand();
        new CommandLine(driver).parseArgs(args.toArray(String[]::new));
        SweepPlan plan = SweepPlan.parse(driver.vary);
        SweepDescription d = driver.description(plan, driver.sweep(plan, "settings", Main.build()));
        assertTrue(d.files().keySet().containsAll(carried), d.files().keySet().toString());
        return new JsonNode[] {JSON.readTree(Files.readString(out.resolve("points/memory.channels-80.json"))),
            JSON.readTree(SweepCommand.pointRunner(d).apply(0))};
    }
}

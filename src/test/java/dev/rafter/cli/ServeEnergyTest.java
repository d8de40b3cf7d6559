package dev.rafter.cli;

import static dev.rafter.cli.CliTest.assertBadInput;
import static dev.rafter.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rafter.energy.EnergyAccount;
import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.sim.Simulation;
import dev.rafter.sim.component.Catalogue;
import dev.rafter.workload.Operator;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.StepLowering;
import dev.rafter.workload.Workload;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code rafter serve}'s energy: static power of every device over the span, each step's dynamic energy. */
class ServeEnergyTest {
    private static final String A100 = "models/hardware/a100.yaml";
    private static final String TINY = "models/workloads/tiny.yaml";
    /** a100.yaml's power.idle_w: the board's static power (above its SRAM leakage, so the whole static power). */
    private static final double A100_IDLE_W = 110;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private JsonNode serve(String... more) throws Exception {
        Path out = tmp.resolve("out");
        List<String> args = new ArrayList<>(List.of("serve", "--workload", TINY, "--out", out.toString()));
        args.addAll(List.of(more));
        CliTest.Result r = run(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        return JSON.readTree(out.resolve("serving.json").toFile());
    }

    /** The dynamic energy of one step of tiny.yaml on one A100, as one simulate run of its operators charges it. */
    private static double[] simulatedStep(List<StepLowering.Group> groups, long emitting) {
        HardwareSpec hw = HardwareLoader.load(Path.of(A100), List.of());
        Workload w = Workload.load(Path.of(TINY));
        List<Operator> ops = new ArrayList<>();
        StepLowering.lower(w, 0, groups, emitting, ops::add);
        // Each operator alone, finding in the L2 what the ones before it left (as the step timer prices them).
        Simulation.Result run = new Simulation(hw).reuse(false).run(
            OperatorSource.of(ops.toArray(Operator[]::new)), null, r -> { });
        EnergyAccount account = new EnergyAccount(hw, hw.energy(), Catalogue.energyUses(hw));
        return new double[] {run.endPs() * 1e-12, account.of(run.stats().total().activity(0)).dynamic()};
    }

    @Test
    void oneRequestOfOneStepCostsStaticPowerOverItsSpanPlusTheStepsDynamicEnergy() throws Exception {
        // One request, a 16-token prompt and one output token: a single prefill step, lowered as one device's share
        // of tiny.yaml's tensor-parallel pair.
        JsonNode s = serve("--hardware", A100, "--concurrency", "1", "--requests", "1", "--prompt-tokens", "16",
            "--output-tokens", "1");
        double[] step = simulatedStep(List.of(new StepLowering.Group(1, 16, 16)), 1);
        double span = s.get("span_s").asDouble();
        assertEquals(step[0], span, 1e-18);
        JsonNode e = s.get("energy");
        double staticJ = 2 * A100_IDLE_W * span;
        double dynamicJ = 2 * step[1];
        assertTrue(dynamicJ > 0);
        assertEquals(2, e.get("devices").asInt());
        assertEquals(2 * A100_IDLE_W, e.get("static_w").asDouble(), 1e-9);
        assertEquals(staticJ, e.get("static_j").asDouble(), 1e-12 * staticJ);
        assertEquals(dynamicJ, e.get("dynamic_j").asDouble(), 1e-9 * dynamicJ);
        double total = staticJ + dynamicJ;
        assertEquals(total, e.get("joules").asDouble(), 1e-9 * total);
        assertEquals(total / span, e.get("average_power_w").asDouble(), 1e-9 * total / span);
        assertEquals(total, e.get("energy_per_output_token_j").asDouble(), 1e-9 * total);
        // One step: each device draws its idle power plus its half of the step's dynamic energy over the step, far
        // below a100.yaml's 400 W cap.
        double peak = A100_IDLE_W + step[1] / step[0];
        assertEquals(peak, e.get("peak_step_power_per_device_w").asDouble(), 1e-9 * peak);
        assertFalse(e.get("above_cap").asBoolean());
        // The request was the whole step: its share is all of it.
        assertEquals(total, e.get("per_request_j").get("p50").asDouble(), 1e-9 * total);
    }

    @Test
    void idleDevicesBetweenStepsDrawTheirStaticPower() throws Exception {
        Path requests = tmp.resolve("requests.csv");
        Files.writeString(requests, "arrival_s,prompt_tokens,output_tokens\n0,16,1\n0.01,16,1\n");
        JsonNode s = serve("--hardware", A100, "--request-file", requests.toString());
        double[] step = simulatedStep(List.of(new StepLowering.Group(1, 16, 16)), 1);
        double span = s.get("span_s").asDouble();
        assertEquals(0.01 + step[0], span, 1e-15);
        JsonNode e = s.get("energy");
        // Two steps of the same composition, 10 ms apart: static power over the whole span, idle included.
        double staticJ = 2 * A100_IDLE_W * span;
        double dynamicJ = 2 * 2 * step[1];
        assertEquals(staticJ, e.get("static_j").asDouble(), 1e-12 * staticJ);
        assertEquals(dynamicJ, e.get("dynamic_j").asDouble(), 1e-9 * dynamicJ);
        // Each request's share is its own step; the idle time between them is nobody's.
        double perRequest = 2 * A100_IDLE_W * step[0] + 2 * step[1];
        assertEquals(perRequest, e.get("per_request_j").get("max").asDouble(), 1e-9 * perRequest);
        assertTrue(e.get("joules").asDouble() > 2 * perRequest);
    }

    @Test
    void everyDeviceOfASystemCountsAndTheKvCacheCrossingItsFabricToo() throws Exception {
        JsonNode s = serve("--system", "models/systems/dgx-a100-8.yaml", "--arrivals", "poisson:4000", "--requests",
            "40", "--max-sequences", "4");
        JsonNode e = s.get("energy");
        double span = s.get("span_s").asDouble();
        // Four tensor-parallel pairs: all eight devices draw their static power over the span.
        assertEquals(8, e.get("devices").asInt());
        assertEquals(8 * A100_IDLE_W * span, e.get("static_j").asDouble(), 1e-12 * 8 * A100_IDLE_W * span);
        double perReplica = 0;
        for (JsonNode r : s.get("replicas").get("per_replica")) {
            perReplica += r.get("energy_j").asDouble();
        }
        assertEquals(e.get("joules").asDouble(), perReplica, 1e-9 * perReplica);
        assertFalse(e.has("kv_transfer_j"));

        JsonNode d = serve("--system", "models/systems/dgx-a100-8.yaml", "--arrivals", "poisson:4000", "--requests",
            "40", "--max-sequences", "4", "--disaggregate", "prefill=1,decode=2");
        JsonNode de = d.get("energy");
        assertEquals(6, de.get("devices").asInt());
        // Each request's KV cache crosses NVLink at dgx-a100-8.yaml's 1.3 pJ per bit.
        long bytes = 0;
        for (JsonNode link : (Iterable<JsonNode>) () -> d.get("disaggregation").get("kv_transfer").get("links")
                .elements()) {
            bytes += link.get("bytes").asLong();
        }
        assertTrue(bytes > 0);
        double transferJ = 8.0 * bytes * 1.3e-12;
        assertEquals(transferJ, de.get("kv_transfer_j").asDouble(), 1e-9 * transferJ);
        double sum = de.get("static_j").asDouble() + de.get("dynamic_j").asDouble() + transferJ;
        assertEquals(sum, de.get("joules").asDouble(), 1e-12 * sum);
    }

    @Test
    void interpolatedStepsCarryEnergyCloseToExact() throws Exception {
        String[] traffic = {"--hardware", A100, "--arrivals", "poisson:2000", "--requests", "60", "--prompt-tokens",
            "300", "--output-tokens", "8"};
        double exact = serve(traffic).get("energy").get("dynamic_j").asDouble();
        List<String> more = new ArrayList<>(List.of(traffic));
        more.addAll(List.of("--step-timing", "interpolated"));
        double interpolated = serve(more.toArray(String[]::new)).get("energy").get("dynamic_j").asDouble();
        assertTrue(Math.abs(interpolated - exact) <= 0.02 * exact, interpolated + " J against " + exact + " J");
    }

    @Test
    void badInputStaysExitTwo() {
        Path out = tmp.resolve("bad");
        assertBadInput(run("serve", "--hardware", "models/hardware/mi300x.yaml", "--workload", TINY, "--concurrency",
            "1", "--requests", "1", "--cost", "models/cost/cloud-2026.yaml", "--out", out.toString()),
            "no entry for 'mi300x'");
        assertBadInput(run("serve", "--hardware", A100, "--workload", TINY, "--concurrency", "1", "--requests", "1",
            "--step-timing", "nearest", "--out", out.toString()), "--step-timing");
    }
}

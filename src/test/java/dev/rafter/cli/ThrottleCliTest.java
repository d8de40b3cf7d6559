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

/** {@code power.cap_policy: throttle}: a run above the cap runs at a lower operating point. */
class ThrottleCliTest {
    @TempDir
    Path tmp;

    /** The A100 with three operating points (1410, 1058, 705 MHz) and {@code power} lines replacing its cap. */
    Path a100(String capLines) throws Exception {
        String text = Files.readString(Path.of("models/hardware/a100.yaml"))
            .replace("../", Path.of("models").toAbsolutePath() + "/")
            .replaceAll("(?m)^  cap_w: .*$", capLines + "\n  operating_points: [{clock_mhz: 705, voltage_v: 0.7},"
                + " {clock_mhz: 1058, voltage_v: 0.75}, {clock_mhz: 1410, voltage_v: 0.8}]");
        Path hw = tmp.resolve("a100.yaml");
        Files.writeString(hw, text);
        return hw;
    }

    JsonNode simulate(Path hw, String name) throws Exception {
        Path trace = tmp.resolve("gemm.csv");
        // a compute-bound GEMM (PE arrays the binding resource on the A100)
        Files.writeString(trace, "op_id,name,kind,phase,layer,step,batch,m,n,k,elements,data_type,deps\n"
            + "0,square_4096,gemm,prefill,-1,0,1,4096,4096,4096,0,fp16,\n");
        Path out = tmp.resolve(name);
        CliTest.Result r = run("simulate", "--hardware", hw.toString(), "--trace", trace.toString(), "--out",
            out.toString());
        assertEquals(0, r.code(), r.err());
        return new ObjectMapper().readTree(out.resolve("summary.json").toFile());
    }

    @Test
    void aComputeBoundGemmAboveTheCapSlowsByTheClockRatioAndLandsUnderTheCap() throws Exception {
        JsonNode free = simulate(a100("  cap_w: 400"), "free");
        double freeW = free.get("power").get("average_w").asDouble();
        assertTrue(freeW > 130, "the GEMM draws more than the cap below: " + freeW);
        assertTrue(free.get("power").get("throttle") == null, "flag: nothing throttled");

        JsonNode capped = simulate(a100("  cap_w: 130\n  cap_policy: throttle"), "capped");
        JsonNode p = capped.get("power");
        JsonNode t = p.get("throttle");
        // 1058 MHz is still above 130 W (V^2 x clock keep most of the dynamic power); 705 MHz is the first below
        assertEquals(705, t.get("clock_mhz").asDouble(), 0);
        assertEquals(1410, t.get("nominal_clock_mhz").asDouble(), 0);
        assertTrue(p.get("average_w").asDouble() <= 130, p.toString());
        assertFalse(p.get("above_cap").asBoolean());
        double ratio = capped.get("latency_s").asDouble() / free.get("latency_s").asDouble();
        assertEquals(1410.0 / 705, ratio, 0.05, "compute-bound: slowed by the clock ratio");
        assertEquals(free.get("latency_s").asDouble(), t.get("nominal_latency_s").asDouble(), 1e-15);
        assertEquals(freeW, t.get("nominal_average_w").asDouble(), 1e-9);
        assertEquals(capped.get("latency_s").asDouble() - free.get("latency_s").asDouble(),
            t.get("time_lost_s").asDouble(), 1e-15);
    }

    @Test
    void aRunUnderTheCapKeepsItsClock() throws Exception {
        JsonNode s = simulate(a100("  cap_w: 400\n  cap_policy: throttle"), "under");
        assertEquals(1410, s.get("power").get("throttle").get("clock_mhz").asDouble(), 0);
        assertEquals(0, s.get("power").get("throttle").get("time_lost_s").asDouble(), 0);
    }

    @Test
    void throttleWithoutOperatingPointsIsRefused() throws Exception {
        CliTest.Result r = run("simulate", "--hardware", "models/hardware/a100.yaml", "--set",
            "power.cap_policy=throttle", "--workload", "models/workloads/tiny.yaml", "--out",
            tmp.resolve("x").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("power.cap_policy") && r.err().contains("operating_points"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }
}

package dev.rafter.cli;

import static dev.rafter.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code power.cap_policy: throttle}: an operator above the cap runs at a lower operating point. */
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

    /** A compute-bound GEMM (the PE arrays bind on the A100), then a small elementwise add (dispatch-bound). */
    static final String GEMM_THEN_ADD = "op_id,name,kind,phase,layer,step,batch,m,n,k,elements,data_type,deps\n"
        + "0,square_4096,gemm,prefill,-1,0,1,4096,4096,4096,0,fp16,\n"
        + "1,add,elementwise,prefill,-1,0,1,1,4096,0,4096,fp16,\n";

    JsonNode simulate(Path hw, String name, String... sets) throws Exception {
        return simulateTrace(hw, name, GEMM_THEN_ADD, sets);
    }

    JsonNode simulateTrace(Path hw, String name, String traceText, String... sets) throws Exception {
        Path trace = tmp.resolve(name + ".csv");
        Files.writeString(trace, traceText);
        Path out = tmp.resolve(name);
        List<String> args = new ArrayList<>(List.of("simulate", "--hardware", hw.toString(), "--trace",
            trace.toString(), "--out", out.toString()));
        for (String set : sets) {
            args.add("--set");
            args.add(set);
        }
        CliTest.Result r = run(args.toArray(new String[0]));
        assertEquals(0, r.code(), r.err());
        return new ObjectMapper().readTree(out.resolve("summary.json").toFile());
    }

    /** ops.csv's rows as header -> cell maps. */
    List<Map<String, String>> ops(String name) throws Exception {
        List<String> lines = Files.readAllLines(tmp.resolve(name).resolve("ops.csv"));
        List<String> header = List.of(lines.get(0).split(","));
        List<Map<String, String>> rows = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            // the mapping column is quoted and may hold commas: the cells wanted lie before it, and clock_mhz last
            String[] cells = line.split(",");
            Map<String, String> row = new java.util.HashMap<>();
            for (int i = 0; i < header.size() - 1; i++) {
                row.put(header.get(i), cells[i]);
            }
            row.put(header.get(header.size() - 1), cells[cells.length - 1]);
            rows.add(row);
        }
        return rows;
    }

    static double cell(Map<String, String> row, String column) {
        return Double.parseDouble(row.get(column));
    }

    @Test
    void anOperatorAboveTheCapRunsAtTheLowerPointAndTheOneUnderItAtTheDeviceClock() throws Exception {
        JsonNode free = simulate(a100("  cap_w: 400"), "free");
        List<Map<String, String>> freeOps = ops("free");
        assertFalse(freeOps.get(0).containsKey("clock_mhz") || free.has("operating_points"),
            "flag: outputs as before");
        double gemmW = cell(freeOps.get(0), "energy_j") / cell(freeOps.get(0), "latency_s");
        double addW = cell(freeOps.get(1), "energy_j") / cell(freeOps.get(1), "latency_s");
        assertTrue(gemmW > 130 && addW < 130, gemmW + " W, " + addW + " W: the GEMM above the cap, the add under");
        assertEquals(147, gemmW, 0.5, "README");
        assertEquals(110, addW, 0.5, "README");

        JsonNode capped = simulate(a100("  cap_w: 130\n  cap_policy: throttle"), "capped");
        List<Map<String, String>> cappedOps = ops("capped");
        // 1058 MHz keeps the GEMM above 130 W (V^2 x clock keep most of its dynamic power); 705 MHz is under
        assertEquals(705, cell(cappedOps.get(0), "clock_mhz"), 0);
        assertEquals(1410, cell(cappedOps.get(1), "clock_mhz"), 0);
        for (String column : List.of("latency_s", "energy_j", "busy_cycles")) {
            assertEquals(freeOps.get(1).get(column), cappedOps.get(1).get(column), "the add is unchanged: " + column);
        }
        assertEquals(125, cell(cappedOps.get(0), "energy_j") / cell(cappedOps.get(0), "latency_s"), 0.5, "README");
        assertEquals(1410.0 / 705, cell(cappedOps.get(0), "latency_s") / cell(freeOps.get(0), "latency_s"), 0.05,
            "compute-bound: slowed by the clock ratio");

        // the GEMM runs as the whole device at 705 MHz runs it, and its energy is charged at 705 MHz's voltage
        simulate(a100("  cap_w: 400"), "at705", "clock_mhz=705");
        Map<String, String> at705 = ops("at705").get(0);
        assertEquals(at705.get("latency_s"), cappedOps.get(0).get("latency_s"));
        assertEquals(cell(at705, "energy_j"), cell(cappedOps.get(0), "energy_j"), 1e-12 * cell(at705, "energy_j"));

        JsonNode t = capped.get("power").get("throttle");
        assertEquals("operator", t.get("window").asText());
        assertEquals(1, t.get("throttled_operators").asInt());
        assertEquals(free.get("latency_s").asDouble(), t.get("nominal_latency_s").asDouble(), 1e-15);
        assertEquals(capped.get("latency_s").asDouble() - free.get("latency_s").asDouble(),
            t.get("time_lost_s").asDouble(), 1e-15);
        JsonNode points = capped.get("operating_points");
        assertEquals(1410, points.get(0).get("clock_mhz").asDouble(), 0);
        assertEquals(1, points.get(0).get("operators").asInt());
        // ops.csv writes six significant figures
        assertEquals(cell(cappedOps.get(1), "latency_s"), points.get(0).get("time_s").asDouble(),
            1e-5 * cell(cappedOps.get(1), "latency_s"));
        assertEquals(705, points.get(1).get("clock_mhz").asDouble(), 0);
        assertEquals(cell(cappedOps.get(0), "latency_s"), points.get(1).get("time_s").asDouble(),
            1e-5 * cell(cappedOps.get(0), "latency_s"));
        assertEquals(capped.get("energy_j").get("total").asDouble(), cell(cappedOps.get(0), "energy_j")
            + cell(cappedOps.get(1), "energy_j"), 1e-5 * capped.get("energy_j").get("total").asDouble(),
            "the run's energy is its operators' at their own voltages (strict order, no gaps)");
    }

    @Test
    void aThrottledOperatorsDynamicEnergyFollowsTheSquareOfItsVoltage() throws Exception {
        // the GEMM alone: throttled to 705 MHz (0.7 V) from 1410 (0.8 V), the same counted actions
        String gemm = GEMM_THEN_ADD.substring(0, GEMM_THEN_ADD.indexOf("1,add"));
        JsonNode free = simulateTrace(a100("  cap_w: 400"), "gemm-free", gemm);
        JsonNode capped = simulateTrace(a100("  cap_w: 130\n  cap_policy: throttle"), "gemm-capped", gemm);
        assertEquals(0, capped.get("operating_points").get(0).get("operators").asInt(), "none at 1410 MHz");
        assertEquals(705, capped.get("operating_points").get(1).get("clock_mhz").asDouble(), 0);
        JsonNode f = free.get("energy_j").get("by_component");
        JsonNode c = capped.get("energy_j").get("by_component");
        // the arrays' energy is all dynamic and on chip: it scales with (V / V_nominal)^2; DRAM's does not scale
        assertEquals(0.7 * 0.7 / (0.8 * 0.8), c.get("pe_array").asDouble() / f.get("pe_array").asDouble(), 1e-12,
            "(V_low / V_nominal)^2");
        assertEquals(f.get("hbm").asDouble(), c.get("hbm").asDouble(), 1e-15);
    }

    @Test
    void everyThrottledOperatorDrawsAtMostTheCapUnlessAtTheLowestPoint() throws Exception {
        java.util.Set<Double> clocksSeen = new java.util.TreeSet<>();
        for (int cap : new int[] {120, 130, 135, 150}) {
            simulate(a100("  cap_w: " + cap + "\n  cap_policy: throttle"), "cap" + cap);
            for (Map<String, String> op : ops("cap" + cap)) {
                double watts = cell(op, "energy_j") / cell(op, "latency_s");
                double clock = cell(op, "clock_mhz");
                clocksSeen.add(clock);
                // at the lowest point an operator may stay above the cap: none lower is left to try
                if (clock > 705) {
                    assertTrue(watts <= cap, cap + " W cap: op " + op.get("op_id") + " draws " + watts + " W at "
                        + clock + " MHz");
                }
            }
        }
        assertEquals(java.util.Set.of(705.0, 1058.0, 1410.0), clocksSeen, "every point taken by some cap");
    }

    @Test
    void aRunUnderTheCapKeepsItsClock() throws Exception {
        JsonNode s = simulate(a100("  cap_w: 400\n  cap_policy: throttle"), "under");
        assertEquals(0, s.get("power").get("throttle").get("throttled_operators").asInt());
        assertEquals(0, s.get("power").get("throttle").get("time_lost_s").asDouble(), 0);
        for (Map<String, String> op : ops("under")) {
            assertEquals(1410, cell(op, "clock_mhz"), 0);
        }
    }

    @Test
    void throttlingRunsOperatorsOneAfterAnother() throws Exception {
        Path trace = tmp.resolve("trace.csv");
        Files.writeString(trace, GEMM_THEN_ADD);
        CliTest.Result r = run("simulate", "--hardware", a100("  cap_w: 130\n  cap_policy: throttle").toString(),
            "--trace", trace.toString(), "--order", "dependencies", "--out", tmp.resolve("x").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--order strict"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
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

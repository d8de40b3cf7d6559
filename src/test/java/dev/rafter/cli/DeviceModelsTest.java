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
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The device models traces come from (H200, B200, L40S): {@code describe} gives the datasheet peaks each file cites,
 * and the bundled traces replay on each. Golden values are the datasheet figures quoted in the files' comments.
 */
class DeviceModelsTest {
    @TempDir
    Path tmp;

    static JsonNode describe(String model) throws Exception {
        StringWriter out = new StringWriter();
        int code = Main.execute(new String[] {"describe", "--hardware", "models/hardware/" + model, "--json"},
            new PrintWriter(out, true), new PrintWriter(new StringWriter(), true));
        assertEquals(0, code);
        return new ObjectMapper().readTree(out.toString());
    }

    /** Within 0.5% of the datasheet figure: the files' clocks and array sizes are integers. */
    static void near(double datasheet, double actual, String what) {
        assertEquals(datasheet, actual, datasheet * 0.005, what);
    }

    @Test
    void h200HasTheDatasheetPeaks() throws Exception {
        // NVIDIA H200 datasheet: 989 TFLOP/s dense FP16, 1979 dense FP8 (half the "with sparsity" figures), 4.8 TB/s.
        JsonNode d = describe("h200.yaml");
        near(989e12, d.get("peak_flops_per_s").asDouble(), "fp16 (the device's type)");
        near(989e12, d.get("peak_flops_per_s_by_type").get("fp16").asDouble(), "fp16");
        near(1979e12, d.get("peak_flops_per_s_by_type").get("fp8").asDouble(), "fp8");
        near(4.8e12, d.get("memory_bytes_per_s").asDouble(), "HBM3e");
    }

    @Test
    void b200HasTheDatasheetPeaksPerDataType() throws Exception {
        // HGX B200 datasheet / Blackwell brief, dense: FP16 2250, FP8 4500, INT8 4500 TFLOP/s; HBM3e 7.7 TB/s.
        JsonNode d = describe("b200.yaml");
        JsonNode byType = d.get("peak_flops_per_s_by_type");
        near(2250e12, byType.get("fp16").asDouble(), "fp16");
        near(4500e12, byType.get("fp8").asDouble(), "fp8");
        near(4500e12, byType.get("int8").asDouble(), "int8");
        near(7.7e12, d.get("memory_bytes_per_s").asDouble(), "HBM3e");
    }

    @Test
    void l40sHasTheDatasheetPeaks() throws Exception {
        // NVIDIA L40S datasheet: 362.05 TFLOP/s dense FP16, 733 dense FP8, 864 GB/s GDDR6.
        JsonNode d = describe("l40s.yaml");
        near(362.05e12, d.get("peak_flops_per_s_by_type").get("fp16").asDouble(), "fp16");
        // The datasheet's FP8 figure is 2.02x its FP16 one (quoted at the boost clock): 1.5% here.
        assertEquals(733e12, d.get("peak_flops_per_s_by_type").get("fp8").asDouble(), 733e12 * 0.015, "fp8");
        near(864e9, d.get("memory_bytes_per_s").asDouble(), "GDDR6");
    }

    @Test
    void aDeviceWithoutRatesListsOnlyItsOwnType() throws Exception {
        JsonNode byType = describe("a100.yaml").get("peak_flops_per_s_by_type");
        assertEquals(1, byType.size(), byType.toString());
        assertEquals(describe("a100.yaml").get("peak_flops_per_s").asDouble(), byType.get("fp16").asDouble());
    }

    @Test
    void theBundledTracesRunOnEachNewModel() throws Exception {
        for (String model : new String[] {"h200", "b200", "l40s"}) {
            for (String trace : new String[] {"traces/gemm-small.csv",
                "traces/kineto/bert-small-uncased-h100.json.gz"}) {
                Path out = tmp.resolve(model + (trace.endsWith(".csv") ? "-gemm" : "-bert"));
                CliTest.Result r = run("simulate", "--hardware", "models/hardware/" + model + ".yaml", "--trace",
                    trace, "--out", out.toString(), "--events", "none");
                assertEquals(0, r.code(), model + " " + trace + ": " + r.err());
                JsonNode summary = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
                assertTrue(summary.get("latency_s").asDouble() >= summary.get("roofline_s").asDouble(),
                    model + " " + trace);
                double pe = summary.get("utilisation").get("pe_array").asDouble();
                assertTrue(pe > 0 && pe <= 1, model + " " + trace + ": pe_array " + pe);
            }
        }
    }

    @Test
    void anFp8GemmRunsAtTheFp8RateWhereTheArraysDeclareIt() throws Exception {
        // A compute-bound 4096^3 GEMM in fp16 and in fp8: the roofline halves on B200 (fp8 at 2 MACs per PE) and on
        // A100 (no rate table) stays where it was; the simulated fp8 GEMM is faster on B200 and never under its bound.
        Path trace = tmp.resolve("fp8.csv");
        java.nio.file.Files.writeString(trace, "op_id,name,kind,phase,layer,step,batch,m,n,k,elements,data_type,deps\n"
            + "0,g16,gemm,prefill,0,0,1,4096,4096,4096,0,fp16,\n1,g8,gemm,prefill,0,0,1,4096,4096,4096,0,fp8,\n");
        double[][] rows = new double[2][];
        String[] models = {"b200", "a100"};
        for (int i = 0; i < 2; i++) {
            Path out = tmp.resolve("fp8-" + models[i]);
            assertEquals(0, run("simulate", "--hardware", "models/hardware/" + models[i] + ".yaml", "--trace",
                trace.toString(), "--out", out.toString(), "--events", "none").code());
            var ops = java.nio.file.Files.readAllLines(out.resolve("ops.csv"));
            var header = java.util.List.of(ops.get(0).split(","));
            int latency = header.indexOf("latency_s");
            int roofline = header.indexOf("roofline_s");
            int util = header.indexOf("pe_util");
            String[] g16 = ops.get(1).split(",");
            String[] g8 = ops.get(2).split(",");
            rows[i] = new double[] {Double.parseDouble(g16[latency]), Double.parseDouble(g8[latency]),
                Double.parseDouble(g16[roofline]), Double.parseDouble(g8[roofline]), Double.parseDouble(g8[util])};
            assertTrue(rows[i][1] >= rows[i][3] && rows[i][0] >= rows[i][2], models[i] + ": latency >= roofline");
            assertTrue(rows[i][4] > 0 && rows[i][4] <= 1, models[i] + ": fp8 pe_util " + rows[i][4]);
        }
        double flops = 2.0 * 4096 * 4096 * 4096;
        assertEquals(flops / 4500e12, rows[0][3], flops / 4500e12 * 0.005, "B200 fp8 compute roof");
        assertEquals(flops / 2250e12, rows[0][2], flops / 2250e12 * 0.005, "B200 fp16 compute roof");
        assertTrue(rows[0][1] < 0.75 * rows[0][0], "B200: fp8 " + rows[0][1] + " s vs fp16 " + rows[0][0] + " s");
        assertEquals(rows[1][2], rows[1][3], 0, "A100 declares no fp8 rate: the fp16 roof");
    }

    @Test
    void aRateForAnUnknownTypeOrOutOfRangeIsOneLine() {
        assertBadInput(run("describe", "--hardware", "models/hardware/b200.yaml", "--set",
            "core.pe_array.macs_per_cycle_by_type.fp4=4"),
            "core.pe_array.macs_per_cycle_by_type.fp4: expected one of fp32, fp16, bf16, fp8, int8, got 'fp4'");
        assertBadInput(run("describe", "--hardware", "models/hardware/b200.yaml", "--set",
            "core.pe_array.macs_per_cycle_by_type.fp8=0"),
            "core.pe_array.macs_per_cycle_by_type.fp8: expected an integer in [1, 64], got 0");
        CliTest.Result ok = run("describe", "--hardware", "models/hardware/a100.yaml", "--set",
            "core.pe_array.macs_per_cycle_by_type.int8=2");
        assertEquals(0, ok.code(), ok.err());
        assertFalse(ok.err().contains("Exception"));
    }
}

package dev.rafter.cli;

import static dev.rafter.cli.CliTest.assertBadInput;
import static dev.rafter.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Measured-vs-simulated: by op id or by shape, errors in ops.csv and summary.json, bad measured files. */
class CompareCliTest {
    @TempDir
    Path tmp;

    private String[] compare(Path measured, Path out) {
        // Without dispatch costs, an operator's latency is its kernel time, which the errors compare.
        return new String[] {"compare", "--hardware", "models/hardware/a100.yaml", "--trace", "traces/gemm-small.csv",
            "--measured", measured.toString(), "--out", out.toString(), "--set", "dispatch.eager_ns=0"};
    }

    @Test
    void measuredTimesByIdGiveEachOperatorItsError() throws Exception {
        Path m = tmp.resolve("m.csv");
        Files.writeString(m, "op_id,name,measured_s\n0,proj,2e-5\n2,scores,1e-5\n");
        Path out = tmp.resolve("c");
        CliTest.Result r = run(compare(m, out));
        assertEquals(0, r.code(), r.err());
        List<String> ops = Files.readAllLines(out.resolve("ops.csv"));
        assertTrue(ops.get(0).endsWith(",mapping,measured_s,error"), ops.get(0));
        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        double[] latency = new double[3];
        for (int i = 1; i <= 3; i++) {
            String[] f = ops.get(i).split(",");
            latency[i - 1] = Double.parseDouble(f[10]);
        }
        String[] first = ops.get(1).split(",");
        assertEquals(2e-5, Double.parseDouble(first[first.length - 2]), 1e-12);
        assertEquals(latency[0] / 2e-5 - 1, Double.parseDouble(first[first.length - 1]), 1e-4);
        assertTrue(ops.get(2).endsWith(",,"), "op 1 was not measured: " + ops.get(2));
        JsonNode c = s.get("measured");
        assertEquals(2, c.get("operators_matched").asLong());
        double mape = (Math.abs(latency[0] / 2e-5 - 1) + Math.abs(latency[2] / 1e-5 - 1)) / 2;
        assertEquals(mape, c.get("mape").asDouble(), 1e-4);
        assertEquals((latency[0] + latency[2]) / 3e-5 - 1, c.get("total_error").asDouble(), 1e-4);
    }

    @Test
    void measuredTimesByShapeMatchEveryOperatorOfThatShape() throws Exception {
        Path m = tmp.resolve("shape.csv");
        Files.writeString(m, "kind,batch,m,n,k,elements,measured_s\ngemm,1,8,4096,4096,,2.1e-5\n"
            + "gemm,1,99,99,99,,1e-6\n");
        Path out = tmp.resolve("c");
        assertEquals(0, run(compare(m, out)).code());
        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        assertEquals(1, s.get("measured").get("operators_matched").asLong());
        assertTrue(s.get("measured").get("by_kind").has("gemm"));
    }

    @Test
    void badMeasuredFilesAreBadInputAndLeaveNothing() throws Exception {
        String[][] cases = {
            {"op_id,time\n0,1e-5\n", ":1: no measured_s column"},
            {"name,measured_s\nx,1e-5\n", "expected an op_id column or the shape columns"},
            {"op_id,measured_s\n0,fast\n", ":2: measured_s: expected a number, got 'fast'"},
            {"op_id,measured_s\n0,-1\n", ":2: measured_s: expected a time > 0"},
            {"op_id,measured_s\n0,1e-5\n0,2e-5\n", ":3: op_id 0 measured twice"},
            {"op_id,measured_s\n0\n", ":2: expected 2 columns, got 1"},
            {"", "file is empty"},
        };
        int i = 0;
        for (String[] c : cases) {
            Path m = tmp.resolve("bad" + i + ".csv");
            Files.writeString(m, c[0]);
            Path out = tmp.resolve("o" + i++);
            assertBadInput(run(compare(m, out)), c[1]);
            assertFalse(Files.exists(out.resolve("summary.json")));
        }
        assertBadInput(run("compare", "--hardware", "models/hardware/a100.yaml", "--trace", "traces/gemm-small.csv",
            "--out", tmp.resolve("x").toString()), "--measured M.csv is required");
    }

    @Test
    void aTraceWithMeasuredTimesIsComparedWithoutAMeasuredFileAndDrawsCompareChart() throws Exception {
        Path trace = tmp.resolve("t.csv");
        Files.writeString(trace, "op_id,name,kind,phase,layer,step,batch,m,n,k,elements,data_type,deps,measured_s\n"
            + "0,proj,gemm,prefill,0,0,1,1024,1024,1024,,fp16,,2.1e-5\n"
            + "1,norm,rmsnorm,prefill,0,0,,8,4096,,,fp16,,\n");
        Path out = tmp.resolve("c");
        CliTest.Result r = run("compare", "--hardware", "models/hardware/a100.yaml", "--trace", trace.toString(),
            "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        // The error compares kernel time: the latency without the launch gap before the GEMM's kernel, the eager
        // dispatch cost less the graph one (2555 - 1340 ns; the rest is the kernel's start-up and drain).
        List<String> rows = Files.readAllLines(out.resolve("ops.csv"));
        String[] gemm = rows.get(1).split(",");
        double latency = Double.parseDouble(gemm[10]);
        assertEquals((latency - 1.215e-6) / 2.1e-5 - 1, Double.parseDouble(gemm[gemm.length - 1]), 1e-3);
        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        assertEquals(1, s.get("measured").get("operators_matched").asLong());
        java.awt.image.BufferedImage chart = javax.imageio.ImageIO.read(out.resolve("compare.png").toFile());
        assertEquals(900, chart.getWidth(), "compare.png decodes");
        List<String> ops = Files.readAllLines(out.resolve("ops.csv"));
        assertTrue(ops.get(1).contains(",2.1e-05,") || ops.get(1).contains(",2.10000e-05,"), ops.get(1));

        Path bad = tmp.resolve("bad.csv");
        Files.writeString(bad, "op_id,name,kind,phase,layer,step,batch,m,n,k,elements,data_type,deps,measured_s\n"
            + "0,proj,gemm,prefill,0,0,1,64,64,64,,fp16,,soon\n");
        assertBadInput(run("simulate", "--hardware", "models/hardware/a100.yaml", "--trace", bad.toString(), "--out",
            tmp.resolve("b").toString()), "bad.csv:2: measured_s: expected a time in seconds, got 'soon'");
    }

    @Test
    void importRefusesWhatIsNotAnImportedFormat() {
        assertBadInput(run("import", "traces/gemm-small.csv", "--out", tmp.resolve("x.csv").toString()),
            "not a PyTorch profiler (Kineto) JSON or Chakra execution trace");
        assertFalse(Files.exists(tmp.resolve("x.csv")));
    }

    @Test
    void anImportedProfilerTraceIsWrittenWithItsMeasuredTimesAndReplaysWithTheComparison() throws Exception {
        Path csv = tmp.resolve("bert.csv");
        CliTest.Result r = run("import", "traces/kineto/bert-small-uncased-h100.json.gz", "--out",
            csv.toString());
        assertEquals(0, r.code(), r.err());
        List<String> rows = Files.readAllLines(csv);
        assertTrue(rows.get(0).endsWith(",measured_s"), rows.get(0));
        assertEquals(59, rows.size(), "58 operators");
        List<String> unmapped = Files.readAllLines(tmp.resolve("bert-unmapped.csv"));
        assertEquals("name,count,measured_s", unmapped.get(0));
        assertEquals(4, unmapped.size(), "three op names did not map");
        Path out = tmp.resolve("replay");
        assertEquals(0, run("simulate", "--hardware", "models/hardware/h100.yaml", "--trace", csv.toString(),
            "--out", out.toString()).code());
        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        assertEquals(58, s.get("measured").get("operators_matched").asLong());
        assertTrue(Files.exists(out.resolve("compare.png")));
        // The same trace straight from the profiler's file gives the same comparison, plus its coverage.
        Path direct = tmp.resolve("direct");
        assertEquals(0, run("simulate", "--hardware", "models/hardware/h100.yaml", "--trace",
            "traces/kineto/bert-small-uncased-h100.json.gz", "--out", direct.toString()).code());
        JsonNode d = new ObjectMapper().readTree(direct.resolve("summary.json").toFile());
        assertEquals(s.get("measured").get("mape").asDouble(), d.get("measured").get("mape").asDouble(), 1e-9);
        assertTrue(d.get("coverage").get("measured_share").asDouble() >= 0.95);
        assertTrue(Files.exists(direct.resolve("unmapped.csv")));
    }

    @Test
    void aFractionalOpIdIsRefusedNamingTheLine() throws Exception {
        Path m = tmp.resolve("frac.csv");
        Files.writeString(m, "op_id,measured_s\n1,2e-5\n0.5,1e-5\n");
        Path out = tmp.resolve("c");
        assertBadInput(run(compare(m, out)), "frac.csv:3: op_id: expected a whole number >= 0, got '0.5'");
        assertFalse(Files.exists(out.resolve("ops.csv")));
        Path shape = tmp.resolve("shape.csv");
        Files.writeString(shape, "kind,batch,m,n,k,elements,measured_s\ngemm,1,8.5,4096,4096,,2.1e-5\n");
        assertBadInput(run(compare(shape, out)), "shape.csv:2: m: expected a whole number >= 0, got '8.5'");
    }

    @Test
    void aMeasuredFileThatMatchesNoOperatorIsBadInputNamingWhatWasExpected() throws Exception {
        Path m = tmp.resolve("other.csv");
        Files.writeString(m, "op_id,measured_s\n7,2e-5\n8,1e-5\n");
        Path out = tmp.resolve("c");
        assertBadInput(run(compare(m, out)), "other.csv: none of its 2 rows matches an operator; expected op_id"
            + " values of the run's 3 operators (0 to 2, as ops.csv lists them)");
        assertFalse(Files.exists(out.resolve("ops.csv")), "nothing written");
        Path shape = tmp.resolve("shape.csv");
        Files.writeString(shape, "kind,batch,m,n,k,elements,measured_s\ngemm,1,9,9,9,,2.1e-5\n");
        assertBadInput(run(compare(shape, out)), "shape.csv: none of its 1 row matches an operator; expected the"
            + " kind,batch,m,n,k,elements of an operator of the run");
    }
}

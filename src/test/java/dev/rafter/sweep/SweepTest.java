package dev.rafter.sweep;

import static dev.rafter.cli.CliTest.assertBadInput;
import static dev.rafter.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.config.InputException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SweepTest {
    @TempDir
    Path tmp;

    @Test
    void planIsTheCartesianProductWithTheFirstAxisSlowest() {
        SweepPlan p = SweepPlan.parse(List.of("clock_mhz=200,1400", "core.local_buffer.capacity_kib=16,32,64"));
        assertEquals(6, p.size());
        assertEquals(Map.of("clock_mhz", "200", "core.local_buffer.capacity_kib", "16"), p.point(0));
        assertEquals(Map.of("clock_mhz", "200", "core.local_buffer.capacity_kib", "64"), p.point(2));
        assertEquals(Map.of("clock_mhz", "1400", "core.local_buffer.capacity_kib", "16"), p.point(3));
        assertEquals(List.of("clock_mhz=1400", "core.local_buffer.capacity_kib=64"), p.assignments(5));
        assertEquals("clock_mhz-1400__core.local_buffer.capacity_kib-64", p.name(5));
    }

    @Test
    void badVaryIsBadInput() {
        for (String bad : new String[] {"clock_mhz", "clock_mhz=", "clock_mhz=1,,2"}) {
            org.junit.jupiter.api.Assertions.assertThrows(InputException.class, () -> SweepPlan.parse(List.of(bad)));
        }
        org.junit.jupiter.api.Assertions.assertThrows(InputException.class,
            () -> SweepPlan.parse(List.of("clock_mhz=1", "clock_mhz=2")));
        assertBadInput(run("sweep", "--hardware", "models/hardware/a100.yaml", "--trace", "traces/gemm-small.csv",
            "--vary", "clok_mhz=100,200", "--out", tmp.resolve("x").toString()), "did you mean 'clock_mhz'");
        assertBadInput(run("sweep", "--hardware", "models/hardware/a100.yaml", "--trace", "traces/gemm-small.csv",
            "--vary", "clock_mhz=100,-200", "--out", tmp.resolve("x").toString()), "clock_mhz");
    }

    @Test
    void sweepWritesCsvChartAndPointsAndResumes() throws Exception {
        Path out = tmp.resolve("s");
        String[] args = {"sweep", "--hardware", "models/hardware/sram-study-45nm.yaml", "--trace",
            "traces/gemm-small.csv", "--vary", "memory.bandwidth_gb_per_s=1024,4096", "--vary", "clock_mhz=500,1000",
            "--jobs", "2", "--out", out.toString()};
        var first = run(args);
        assertEquals(0, first.code(), first.err());
        List<String> csv = Files.readAllLines(out.resolve("sweep.csv"));
        assertEquals(5, csv.size());
        assertTrue(csv.get(0).startsWith("memory.bandwidth_gb_per_s,clock_mhz,latency_s,"));
        assertTrue(Files.size(out.resolve("sweep.png")) > 1000);
        double[] latency = csv.subList(1, 5).stream().mapToDouble(l -> Double.parseDouble(l.split(",")[2])).toArray();
        assertTrue(latency[2] < latency[0], "more bandwidth, less latency for a decode-heavy trace");
        try (var files = Files.list(out.resolve("points"))) {
            assertEquals(4, files.count());
        }
        String[] resume = java.util.Arrays.copyOf(args, args.length + 1);
        resume[args.length] = "--resume";
        var again = run(resume);
        assertEquals(0, again.code());
        assertEquals(csv, Files.readAllLines(out.resolve("sweep.csv")), "resumed points give the same table");
        String[] changed = java.util.Arrays.copyOf(resume, resume.length + 2);
        changed[resume.length] = "--set";
        changed[resume.length + 1] = "cores=54";
        var rerun = runWithOutput(changed);
        assertEquals(0, rerun.code(), rerun.err());
        assertTrue(rerun.out().contains("resume: reused 0 of 4 points; re-ran 4 hardware (file or --set/--vary values)"
            + " changed"), rerun.out());
    }

    record Output(int code, String out, String err) {}

    static Output runWithOutput(String... args) {
        java.io.StringWriter out = new java.io.StringWriter();
        java.io.StringWriter err = new java.io.StringWriter();
        int code = dev.rafter.cli.Main.execute(args, new java.io.PrintWriter(out, true),
            new java.io.PrintWriter(err, true));
        return new Output(code, out.toString(), err.toString());
    }
}

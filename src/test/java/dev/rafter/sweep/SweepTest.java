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
            "--vary", "clok_mhz=100,200", "--out", tmp.resolve("x").toString()),
            "(--vary clok_mhz=100): unknown key 'clok_mhz' (did you mean 'clock_mhz'?)");
        java.io.StringWriter said = new java.io.StringWriter();
        dev.rafter.cli.Main.execute(new String[] {"sweep", "--hardware", "models/hardware/a100.yaml", "--trace",
            "traces/gemm-small.csv", "--vary", "clok_mhz=100", "--out", tmp.resolve("y").toString()},
            new java.io.PrintWriter(said, true), new java.io.PrintWriter(new java.io.StringWriter(), true));
        assertEquals("", said.toString(), "nothing announced before the bad key is reported");
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

    @Test
    void resumeAfterTheHardwareFileChangedRerunsThePoint() throws Exception {
        Path hw = tmp.resolve("hw.yaml");
        Path energy = Path.of("models/energy/45nm.yaml").toAbsolutePath();
        String text = Files.readString(Path.of("models/hardware/sram-study-45nm.yaml"))
            .replaceAll("energy: .*", "energy: " + energy);
        Files.writeString(hw, text);
        Path out = tmp.resolve("s");
        String[] args = {"sweep", "--hardware", hw.toString(), "--trace", "traces/gemm-small.csv", "--phase", "decode",
            "--vary", "clock_mhz=500", "--jobs", "1", "--out", out.toString(), "--resume"};
        assertEquals(0, run(args).code());
        String before = Files.readAllLines(out.resolve("sweep.csv")).get(1);
        Files.writeString(hw, text.replaceAll("bandwidth_gb_per_s: [0-9.]+", "bandwidth_gb_per_s: 64"));
        Output again = runWithOutput(args);
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains("reused 0 of 1 points; re-ran 1 hardware"), again.out());
        String after = Files.readAllLines(out.resolve("sweep.csv")).get(1);
        assertTrue(Double.parseDouble(after.split(",")[1]) > Double.parseDouble(before.split(",")[1]),
            "the slower memory's latency, not the stale one: " + before + " -> " + after);
        Output same = runWithOutput(args);
        assertTrue(same.out().contains("reused 1 of 1 points"), same.out());
        // a comment changes nothing the point depends on; the trace does
        Files.writeString(hw, Files.readString(hw) + "# a comment\n");
        assertTrue(runWithOutput(args).out().contains("reused 1 of 1 points"));
        Path trace = tmp.resolve("t.csv");
        Files.writeString(trace, Files.readString(Path.of("traces/gemm-small.csv")).replace("8,4096,4096", "8,4096,2048"));
        args[4] = trace.toString();
        assertTrue(runWithOutput(args).out().contains("re-ran 1 trace or workload changed"));
    }

    @Test
    void pointCountsAreCheckedAndLongValuesGiveSafeNames() {
        String axis = "=" + String.join(",", java.util.stream.IntStream.range(0, 256).mapToObj(i -> "" + (i + 1))
            .toList());
        var e = org.junit.jupiter.api.Assertions.assertThrows(InputException.class, () -> SweepPlan.parse(List.of(
            "clock_mhz" + axis, "cores" + axis, "core.pe_arrays" + axis, "memory.channels" + axis)));
        assertTrue(e.getMessage().contains("256 x 256 x 256 x 256 = 4294967296 points, beyond the limit"),
            e.getMessage());
        assertBadInput(run("sweep", "--hardware", "models/hardware/a100.yaml", "--trace", "traces/gemm-small.csv",
            "--vary", "clock_mhz" + axis, "--vary", "cores" + axis, "--vary", "core.pe_arrays" + axis, "--vary",
            "memory.channels" + axis, "--out", tmp.resolve("x").toString()), "4294967296 points");
        String longValue = "1000." + "0".repeat(400);
        SweepPlan plan = SweepPlan.parse(List.of("clock_mhz=" + longValue + ",1000.5", "core.pe_array.dataflow=a/b,a_b"));
        java.util.Set<String> names = new java.util.HashSet<>();
        for (int i = 0; i < plan.size(); i++) {
            String name = plan.name(i);
            assertTrue(name.length() <= 160 && name.matches("[A-Za-z0-9._~-]+"), name);
            names.add(name);
        }
        assertEquals(4, names.size(), "names stay unique: " + names);
        org.junit.jupiter.api.Assertions.assertThrows(InputException.class,
            () -> SweepPlan.parse(List.of("clock_mhz=100,100")));
    }

    @Test
    void aSweepWithAnOverlongValueRuns() throws Exception {
        Path out = tmp.resolve("long");
        var r = run("sweep", "--hardware", "models/hardware/a100.yaml", "--trace", "traces/gemm-small.csv",
            "--phase", "decode", "--vary", "clock_mhz=1000." + "0".repeat(300), "--jobs", "1", "--out",
            out.toString());
        assertEquals(0, r.code(), r.err());
        try (var files = Files.list(out.resolve("points"))) {
            assertEquals(1, files.count());
        }
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

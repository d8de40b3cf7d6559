package dev.rafter.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A sweep over workload axes (run.*, model.*) mixed with hardware axes. */
class WorkloadSweepTest {
    @TempDir
    Path tmp;

    @Test
    void sweepOverRunBatchMixedWithHardwareAxes() throws Exception {
        Path out = tmp.resolve("sweep");
        String[] args = {"sweep", "--hardware", "models/hardware/a100.yaml", "--workload", "models/workloads/tiny.yaml", "--vary", "run.batch=1,4", "--vary",
            "clock_mhz=1000,1400", "--jobs", "2", "--out", out.toString()};
        var r = dev.rafter.cli.CliTest.run(args);
        assertEquals(0, r.code(), r.err());
        List<String> csv = Files.readAllLines(out.resolve("sweep.csv"));
        assertEquals(5, csv.size());
        List<String> header = List.of(csv.get(0).split(","));
        assertEquals(List.of("run.batch", "clock_mhz"), header.subList(0, 2));
        int tokens = header.indexOf("tokens_per_s");
        int latency = header.indexOf("latency_s");
        String[] batch1 = csv.get(1).split(",", -1);
        String[] batch4 = csv.get(3).split(",", -1);
        assertEquals("1", batch1[0]);
        assertEquals("4", batch4[0]);
        assertNotEquals(batch1[latency], batch4[latency]);
        assertTrue(Double.parseDouble(batch4[tokens]) > Double.parseDouble(batch1[tokens]), "batching pays");
        // The resume identity covers the workload's values: the same sweep reuses, a changed --set re-runs.
        String[] resume = java.util.Arrays.copyOf(args, args.length + 1);
        resume[args.length] = "--resume";
        var again = SweepTest.runWithOutput(resume);
        assertTrue(again.out().contains("resume: reused 4 of 4 points"), again.out());
        String[] changed = java.util.Arrays.copyOf(resume, resume.length + 2);
        changed[resume.length] = "--set";
        changed[resume.length + 1] = "run.prompt_tokens=32";
        var rerun = SweepTest.runWithOutput(changed);
        assertTrue(rerun.out().contains("re-ran 4 trace or workload changed"), rerun.out());
    }
    @Test
    void aSweepWithoutReuseGivesTheSameTable() throws Exception {
        String[] base = {"sweep", "--hardware", "models/hardware/a100.yaml", "--workload", "models/workloads/tiny.yaml",
            "--vary", "clock_mhz=1000,1400", "--jobs", "2", "--out"};
        String[] reuse = java.util.Arrays.copyOf(base, base.length + 1);
        reuse[base.length] = tmp.resolve("reuse").toString();
        String[] full = java.util.Arrays.copyOf(base, base.length + 2);
        full[base.length] = tmp.resolve("full").toString();
        full[base.length + 1] = "--no-reuse";
        assertEquals(0, dev.rafter.cli.CliTest.run(reuse).code());
        assertEquals(0, dev.rafter.cli.CliTest.run(full).code());
        assertEquals(Files.readString(tmp.resolve("reuse/sweep.csv")), Files.readString(tmp.resolve("full/sweep.csv")));
    }
}

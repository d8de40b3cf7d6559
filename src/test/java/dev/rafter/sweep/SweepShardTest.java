package dev.rafter.sweep;

import static dev.rafter.cli.CliTest.assertBadInput;
import static dev.rafter.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Shards, their merge, engines by name, and a sweep killed half-way that resumes. */
class SweepShardTest {
    @TempDir
    Path tmp;

    /** Twelve points of a small workload, cheap enough for tests and slow enough to kill a run half-way. */
    static List<String> sweep(Path out, String... more) {
        List<String> args = new ArrayList<>(List.of("sweep", "--hardware", "models/hardware/a100.yaml", "--workload",
            "models/workloads/tiny.yaml", "--layers", "1", "--decode-steps", "1", "--vary",
            "clock_mhz=800,1000,1200,1400", "--vary", "run.batch=1,2,4", "--out", out.toString()));
        args.addAll(List.of(more));
        return args;
    }

    static void ok(List<String> args) {
        var r = dev.rafter.cli.CliTest.run(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
    }

    @Test
    void shardIndicesCoverTheSweepOnce() {
        assertArrayEquals(new int[] {0, 3, 6, 9}, new SweepShard(1, 3).indices(11));
        assertArrayEquals(new int[] {2, 5, 8}, new SweepShard(3, 3).indices(11));
        assertEquals(new SweepShard(2, 5), SweepShard.parse("2/5"));
        for (String bad : new String[] {"0/3", "4/3", "x/y", "1/0", "1", "1/2/3", ""}) {
            assertTrue(org.junit.jupiter.api.Assertions.assertThrows(dev.rafter.config.InputException.class,
                () -> SweepShard.parse(bad)).getMessage().startsWith("--shard "), bad);
        }
    }

    @Test
    void shardsMergedEqualTheUnshardedSweepAndBadMergesAreRefused() throws Exception {
        Path all = tmp.resolve("all");
        ok(sweep(all, "--jobs", "2"));
        List<String> shards = new ArrayList<>();
        for (int k = 1; k <= 3; k++) {
            Path dir = tmp.resolve("s" + k);
            ok(sweep(dir, "--jobs", "2", "--shard", k + "/3"));
            assertEquals(1 + 4, Files.readAllLines(dir.resolve("sweep.csv")).size(), "a partial sweep.csv");
            shards.add(dir.toString());
        }
        Path merged = tmp.resolve("merged");
        List<String> merge = new ArrayList<>(List.of("sweep", "merge"));
        merge.addAll(shards);
        merge.addAll(List.of("--out", merged.toString()));
        ok(merge);
        for (String f : new String[] {"sweep.csv", "sweep.png", "sweep.json"}) {
            assertArrayEquals(Files.readAllBytes(all.resolve(f)), Files.readAllBytes(merged.resolve(f)), f);
        }
        try (var points = Files.list(merged.resolve("points"))) {
            assertEquals(12, points.count());
        }
        // The merged folder is a whole sweep: a resume reuses every point.
        var again = SweepTest.runWithOutput(sweep(merged, "--resume").toArray(String[]::new));
        assertTrue(again.out().contains("resume: reused 12 of 12 points"), again.out());

        assertBadInput(run("sweep", "merge", shards.get(0), shards.get(1), "--out", tmp.resolve("m1").toString()),
            "4 of 12 points missing: clock_mhz-800__run.batch-4, ");
        assertBadInput(run("sweep", "merge", shards.get(0), shards.get(1), shards.get(2), shards.get(0), "--out",
            tmp.resolve("m2").toString()), "is in both");
        assertBadInput(run("sweep", "merge", shards.get(0), all.toString(), "--out", tmp.resolve("m3").toString()),
            "a shard of another sweep");
        Path other = tmp.resolve("other");
        List<String> otherArgs = sweep(other, "--shard", "2/3");
        otherArgs.set(otherArgs.indexOf("clock_mhz=800,1000,1200,1400"), "clock_mhz=800,1000,1200,1500");
        ok(otherArgs);
        assertBadInput(run("sweep", "merge", shards.get(0), other.toString(), shards.get(2), "--out",
            tmp.resolve("m4").toString()), "other --vary axes");
        assertBadInput(run("sweep", "merge", tmp.resolve("nothing").toString(), "--out", tmp.resolve("m5").toString()),
            "no sweep.json");
    }

    @Test
    void badEngineShardAndMasterAreBadInput() {
        Path out = tmp.resolve("x");
        assertBadInput(bad(sweep(out, "--shard", "0/3")), "--shard 0/3: expected k/N");
        assertBadInput(bad(sweep(out, "--shard", "4/3")), "--shard 4/3");
        assertBadInput(bad(sweep(out, "--shard", "x/y")), "--shard x/y");
        assertBadInput(bad(sweep(out, "--engine", "mapreduce")), "--engine mapreduce: expected local or spark");
        assertBadInput(bad(sweep(out, "--master", "local[2]")), "only with --engine spark");
        // The core's tests run without Spark on the class path: the message says how to build the engine.
        assertBadInput(bad(sweep(out, "--engine", "spark")), "rafter-spark/pom.xml");
    }

    private static dev.rafter.cli.CliTest.Result bad(List<String> args) {
        return run(args.toArray(String[]::new));
    }

    /**
     * A real sweep process (one job) killed with SIGKILL once a third of its points are saved resumes in this
     * process: it reuses the saved points, runs the rest, and its sweep.csv equals an uninterrupted run's.
     */
    @Test
    void sweepKilledHalfWayResumesToTheSameCsv() throws Exception {
        Path whole = tmp.resolve("whole");
        ok(sweep(whole, "--jobs", "2"));
        Path killed = tmp.resolve("killed");
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
            .toString(), "-Djava.awt.headless=true", "-Xshare:off", "-cp", System.getProperty("java.class.path"),
            "dev.rafter.cli.Main"));
        command.addAll(sweep(killed, "--jobs", "1"));
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
            .redirectOutput(tmp.resolve("killed.log").toFile()).start();
        int saved = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (p.isAlive() && System.nanoTime() < deadline) {
            saved = count(killed.resolve("points"));
            if (saved >= 4) {
                break;
            }
            Thread.sleep(20);
        }
        assertTrue(p.isAlive(), "the sweep ended before it could be killed: " + Files.readString(
            tmp.resolve("killed.log")));
        p.destroyForcibly(); // SIGKILL: no shutdown hook runs
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        saved = count(killed.resolve("points"));
        assertTrue(saved >= 4 && saved < 12, "killed half-way: " + saved + " points saved");
        assertTrue(Files.notExists(killed.resolve("sweep.csv")));
        var resumed = SweepTest.runWithOutput(sweep(killed, "--jobs", "2", "--resume").toArray(String[]::new));
        assertEquals(0, resumed.code(), resumed.err());
        assertTrue(resumed.out().contains("resume: reused " + saved + " of 12 points"), resumed.out());
        assertArrayEquals(Files.readAllBytes(whole.resolve("sweep.csv")), Files.readAllBytes(killed.resolve(
            "sweep.csv")));
    }

    private static int count(Path dir) throws java.io.IOException {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (var files = Files.list(dir)) {
            return (int) files.filter(f -> f.getFileName().toString().endsWith(".json")).count();
        }
    }
}

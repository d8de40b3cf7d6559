package dev.rafter.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Spark engine in this JVM (local[2]): the same sweep.csv as the local engine, and bad masters refused. */
class SparkSweepTest {
    /** The repository root: this module's parent. */
    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @TempDir
    Path tmp;

    record Result(int code, String out, String err) {}

    static Result rafter(List<String> args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.execute(args.toArray(String[]::new), new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }

    /**
     * Twelve points of one decode step of one layer of the tiny model, on a copy of the models in {@code dir} (the
     * hardware file includes its energy and memory timing tables and its cost file by relative paths, rebuilt from
     * shipped bytes).
     */
    static List<String> sweep(Path dir, Path out, String... more) throws Exception {
        for (String sub : new String[] {"hardware", "energy", "memory", "cost"}) {
            Files.createDirectories(dir.resolve(sub));
            try (var files = Files.list(ROOT.resolve("models").resolve(sub))) {
                for (Path f : files.toList()) {
                    Files.copy(f, dir.resolve(sub).resolve(f.getFileName()),
                        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        List<String> args = new ArrayList<>(List.of("sweep", "--hardware", dir.resolve("hardware/a100.yaml")
            .toString(), "--workload", ROOT.resolve("models/workloads/tiny.yaml").toString(), "--layers", "1",
            "--decode-steps", "1", "--vary", "clock_mhz=800,1000,1200,1400", "--vary", "run.batch=1,2,4", "--out",
            out.toString()));
        args.addAll(List.of(more));
        return args;
    }

    /**
     * The 24-point sweep the submit and cluster tests run (the sweep above over two bandwidths), run by the local
     * engine into {@code tmp/local}: the reference for their sweep.csv.
     */
    static Path localReference(Path tmp) throws Exception {
        Path local = tmp.resolve("local");
        Result l = rafter(sweep(tmp.resolve("in"), local, "--vary", "memory.bandwidth_gb_per_s=1555,2039", "--jobs",
            "2"));
        assertEquals(0, l.code(), l.err());
        return local;
    }

    @Test
    void sparkSweepEqualsTheLocalEngineByteForByte() throws Exception {
        Path local = tmp.resolve("local");
        Result l = rafter(sweep(tmp.resolve("in"), local, "--jobs", "2"));
        assertEquals(0, l.code(), l.err());
        Path spark = tmp.resolve("spark");
        Result s = rafter(sweep(tmp.resolve("in"), spark, "--engine", "spark", "--master", "local[2]"));
        assertEquals(0, s.code(), s.err());
        assertTrue(s.out().contains("[12/12]"), s.out());
        assertArrayEquals(Files.readAllBytes(local.resolve("sweep.csv")), Files.readAllBytes(spark.resolve("sweep.csv")));
        assertArrayEquals(Files.readAllBytes(local.resolve("sweep.json")), Files.readAllBytes(spark.resolve(
            "sweep.json")));
        assertTrue(Files.readString(spark.resolve("sweep.csv")).lines().skip(1).allMatch(r -> !r.contains(",,")),
            "every metric, energy included: " + Files.readString(spark.resolve("sweep.csv")));
        // The executors keyed each point as this process does: the local engine resumes all of them.
        Result resumed = rafter(sweep(tmp.resolve("in"), spark, "--resume"));
        assertEquals(0, resumed.code(), resumed.err());
        assertTrue(resumed.out().contains("resume: reused 12 of 12 points"), resumed.out());
    }

    @Test
    void aClusterThatStopsTheJobIsAnEngineFailureNotABug() {
        RuntimeException stopped = SparkSweepEngine.unwrap(new IllegalStateException(
            "Cannot call methods on a stopped SparkContext."), true);
        assertTrue(stopped instanceof dev.rafter.sweep.EngineFailure, stopped.toString());
        assertEquals("the Spark job failed: the cluster stopped the application (Spark's messages above say why); the"
            + " points that finished are saved, --resume runs the rest", stopped.getMessage());
        RuntimeException lost = SparkSweepEngine.unwrap(new org.apache.spark.SparkException(
            "Job aborted due to stage failure: Task 3 failed 4 times\nmore"), false);
        assertTrue(lost instanceof dev.rafter.sweep.EngineFailure
            && lost.getMessage().startsWith("the Spark job failed: Job aborted due to stage failure: Task 3 failed 4"
            + " times; "), lost.getMessage());
        // A point's own bad input, under Spark's wrappers, stays bad input.
        var input = new dev.rafter.config.InputException("hardware.yaml: clock_mhz: expected a number");
        assertSame(input, SparkSweepEngine.unwrap(new org.apache.spark.SparkException("Job aborted", input), false));
    }

    @Test
    void badMastersAreBadInputInOneLine() throws Exception {
        for (String[] bad : new String[][] {{"spark://127.0.0.1:1", "cannot reach 127.0.0.1:1"},
            {"mesos://x:5050", "expected local[*]"}, {"local[0]", "expected local[*]"}}) {
            Result r = rafter(sweep(tmp.resolve("in"), tmp.resolve("x"), "--engine", "spark", "--master", bad[0]));
            assertEquals(2, r.code(), r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertTrue(r.err().contains(bad[1]), r.err());
            assertFalse(Files.exists(tmp.resolve("x").resolve("sweep.csv")));
        }
    }
}

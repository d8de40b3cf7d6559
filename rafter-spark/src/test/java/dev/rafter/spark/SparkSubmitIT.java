package dev.rafter.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shaded jar as spark-submit runs it: Spark's own submit entry point ({@code org.apache.spark.deploy.SparkSubmit},
 * what the spark-submit script starts) with Spark's jars on the class path and {@code target/rafter-spark.jar} as the
 * application, {@code --master local[2]}. The sweep is killed with SIGKILL once a third of its points are saved, then
 * resumed the same way; its sweep.csv equals the local engine's uninterrupted run.
 */
class SparkSubmitIT {
    @TempDir
    Path tmp;

    private Process submit(List<String> sweep, Path log) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(Arrays.asList(System.getProperty("rafter.spark.java.options").trim().split("\\s+")));
        String jar = Path.of("target/rafter-spark.jar").toAbsolutePath().toString();
        // Spark's jars, and the shaded jar for the SLF4J and logback that Spark's jars here lack (a Spark
        // distribution brings its own SLF4J, with a log4j provider: see the README).
        command.addAll(List.of("-Djava.awt.headless=true", "-cp", Files.readString(Path.of("target/spark-classpath.txt"))
            .strip() + File.pathSeparator + jar, "org.apache.spark.deploy.SparkSubmit", "--master", "local[2]",
            "--class", "dev.rafter.cli.Main", jar));
        command.addAll(sweep.subList(0, 1));
        command.addAll(List.of("--engine", "spark"));
        command.addAll(sweep.subList(1, sweep.size()));
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    @Test
    void spark_submit_sweep_killed_half_way_resumes_to_the_local_engines_csv() throws Exception {
        Path local = SparkSweepTest.localReference(tmp);

        Path out = tmp.resolve("spark");
        List<String> args = SparkSweepTest.sweep(tmp.resolve("in"), out, "--vary",
            "memory.bandwidth_gb_per_s=1555,2039");
        Process p = submit(args, tmp.resolve("killed.log"));
        int saved = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (p.isAlive() && System.nanoTime() < deadline) {
            saved = count(out.resolve("points"));
            if (saved >= 8) {
                break;
            }
            Thread.sleep(10);
        }
        assertTrue(p.isAlive(), "the sweep ended before it could be killed: " + Files.readString(tmp.resolve(
            "killed.log")));
        p.destroyForcibly(); // SIGKILL: no shutdown hook runs
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        saved = count(out.resolve("points"));
        assertTrue(saved >= 8 && saved < 24, "killed half-way: " + saved + " of 24 points saved");
        assertTrue(Files.notExists(out.resolve("sweep.csv")));

        List<String> resume = new ArrayList<>(args);
        resume.add("--resume");
        Process again = submit(resume, tmp.resolve("resumed.log"));
        assertTrue(again.waitFor(180, TimeUnit.SECONDS));
        String log = Files.readString(tmp.resolve("resumed.log"));
        assertEquals(0, again.exitValue(), log);
        assertTrue(log.contains("resume: reused " + saved + " of 24 points"), log);
        assertArrayEquals(Files.readAllBytes(local.resolve("sweep.csv")), Files.readAllBytes(out.resolve("sweep.csv")));
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

package dev.rafter.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Spark standalone cluster as local processes: a master and two workers (Spark's own {@code Master} and
 * {@code Worker} entry points, what {@code sbin/start-master.sh} and {@code start-worker.sh} start) over a Spark home
 * whose {@code jars/} holds the Maven artifacts, and the shaded jar submitted to {@code spark://} by Spark's submit
 * entry point in client mode, as {@code spark-submit} does. Executors are separate JVMs that the workers launch, which
 * fetch the application jar from the driver. One worker (with its executor) is killed mid-sweep; Spark re-runs its
 * tasks on the other, and sweep.csv equals the local engine's byte for byte, every point written once.
 */
class SparkClusterIT {
    /** Every point of the sweep below: 2 bandwidths x 4 clocks x 3 batches. */
    private static final int POINTS = 24;

    @TempDir
    Path tmp;

    private final List<Process> cluster = new ArrayList<>();

    @AfterEach
    void stopCluster() throws InterruptedException {
        for (Process p : cluster) {
            kill(p);
        }
    }

    /** A process and everything it started (a worker's executors), with SIGKILL. */
    private static void kill(Process p) throws InterruptedException {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(30, TimeUnit.SECONDS);
    }

    private static List<String> java(String classPath) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(Arrays.asList(System.getProperty("rafter.spark.java.options").trim().split("\\s+")));
        command.addAll(List.of("-Djava.awt.headless=true", "-Xmx512m", "-cp", classPath));
        return command;
    }

    private static String sparkClassPath() throws IOException {
        return Files.readString(Path.of("target/spark-classpath.txt")).strip();
    }

    /**
     * A Spark home as a distribution lays it out, as far as a worker needs one: {@code jars/} (Spark's launcher builds
     * an executor's class path from it) holding links to the Maven artifacts.
     */
    private Path sparkHome() throws IOException {
        Path jars = Files.createDirectories(tmp.resolve("spark-home/jars"));
        for (String jar : sparkClassPath().split(File.pathSeparator)) {
            Path link = jars.resolve(Path.of(jar).getFileName());
            if (Files.notExists(link)) {
                Files.createSymbolicLink(link, Path.of(jar));
            }
        }
        return jars.getParent();
    }

    private Process start(List<String> command, Path home, String log) throws IOException {
        ProcessBuilder b = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(tmp.resolve(log)
            .toFile());
        Map<String, String> env = b.environment();
        env.put("SPARK_HOME", home.toString());
        // The launcher asks for the Scala version of a home without a build tree; jars/ is for Scala 2.13.
        env.put("SPARK_SCALA_VERSION", "2.13");
        env.put("JAVA_HOME", System.getProperty("java.home"));
        Process p = b.start();
        cluster.add(p);
        return p;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private void awaitPort(int port, Process owner, String log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            assertTrue(owner.isAlive(), "the master stopped: " + Files.readString(tmp.resolve(log)));
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
                return;
            } catch (IOException notYet) {
                Thread.sleep(200);
            }
        }
        throw new AssertionError("the master did not listen on " + port + ": " + Files.readString(tmp.resolve(log)));
    }

    /** The lines of a worker's executor logs (under its folder, at Spark's default level). */
    private static List<String> executorLog(Path workDir) throws IOException {
        List<String> lines = new ArrayList<>();
        if (Files.isDirectory(workDir)) {
            try (var files = Files.walk(workDir)) {
                for (Path log : files.filter(f -> f.getFileName().toString().equals("stderr")).sorted().toList()) {
                    lines.addAll(Files.readAllLines(log));
                }
            }
        }
        return lines;
    }

    private static final Pattern TASK = Pattern.compile("Executor: (Running|Finished) task ([0-9]+\\.[0-9]+) ");

    /** The tasks (index.attempt) a worker's executor has started and not finished. */
    private static Set<String> tasksInFlight(Path workDir) throws IOException {
        Set<String> running = new TreeSet<>();
        for (String line : executorLog(workDir)) {
            Matcher t = TASK.matcher(line);
            if (t.find()) {
                if (t.group(1).equals("Running")) {
                    running.add(t.group(2));
                } else {
                    running.remove(t.group(2));
                }
            }
        }
        return running;
    }

    @Test
    void standalone_cluster_sweep_survives_a_killed_worker_and_equals_the_local_engine() throws Exception {
        Path local = SparkSweepTest.localReference(tmp);

        Path home = sparkHome();
        int port = freePort();
        String master = "spark://127.0.0.1:" + port;
        List<String> startMaster = java(sparkClassPath());
        // No REST submission server: it takes a fixed port (6066) that a parallel build may hold.
        startMaster.add("-Dspark.master.rest.enabled=false");
        startMaster.addAll(List.of("org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port",
            String.valueOf(port), "--webui-port", "0"));
        Process m = start(startMaster, home, "master.log");
        awaitPort(port, m, "master.log");
        Process[] workers = new Process[2];
        Path[] workDirs = new Path[2];
        for (int w = 0; w < 2; w++) {
            workDirs[w] = tmp.resolve("worker" + w);
            List<String> startWorker = java(sparkClassPath());
            startWorker.addAll(List.of("org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--cores", "1",
                "--memory", "1g", "--work-dir", workDirs[w].toString(), "--webui-port", "0", master));
            workers[w] = start(startWorker, home, "worker" + w + ".log");
        }

        Path out = tmp.resolve("cluster");
        List<String> args = SparkSweepTest.sweep(tmp.resolve("in"), out, "--vary",
            "memory.bandwidth_gb_per_s=1555,2039");
        String jar = Path.of("target/rafter-spark.jar").toAbsolutePath().toString();
        List<String> submit = java(sparkClassPath() + File.pathSeparator + jar);
        submit.addAll(List.of("org.apache.spark.deploy.SparkSubmit", "--master", master, "--deploy-mode", "client",
            "--conf", "spark.driver.host=127.0.0.1", "--conf", "spark.executor.memory=512m", "--class",
            "dev.rafter.cli.Main", jar));
        submit.add(args.get(0));
        submit.addAll(List.of("--engine", "spark"));
        submit.addAll(args.subList(1, args.size()));
        Process driver = new ProcessBuilder(submit).redirectErrorStream(true).redirectOutput(tmp.resolve("driver.log")
            .toFile()).start();
        cluster.add(driver);

        // Kill worker 0 and its executor while both executors run a task and a task has come back.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
        int savedAtKill = -1;
        Set<String> lost = Set.of();
        while (driver.isAlive() && System.nanoTime() < deadline) {
            int saved = count(out.resolve("points"));
            lost = tasksInFlight(workDirs[0]);
            if (saved >= 1 && !lost.isEmpty() && !tasksInFlight(workDirs[1]).isEmpty()) {
                savedAtKill = saved;
                kill(workers[0]);
                break;
            }
            Thread.sleep(20);
        }
        assertTrue(savedAtKill >= 0 && savedAtKill < POINTS, "the worker was not killed mid-sweep (" + savedAtKill
            + " points saved): " + Files.readString(tmp.resolve("driver.log")));
        assertTrue(driver.waitFor(300, TimeUnit.SECONDS), "the sweep did not finish after the worker was killed");
        String log = Files.readString(tmp.resolve("driver.log"));
        assertEquals(0, driver.exitValue(), log);
        assertTrue(log.contains("[" + POINTS + "/" + POINTS + "]"), log);
        // Spark ran the tasks the killed executor held again, as a second attempt (index.1), on the other worker.
        List<String> survivor = executorLog(workDirs[1]);
        for (String task : lost) {
            String retry = task.substring(0, task.indexOf('.')) + ".1";
            assertTrue(survivor.stream().anyMatch(line -> line.contains("Executor: Finished task " + retry + " ")),
                "task " + task + " was lost with the worker and not run again: " + String.join("\n", survivor));
        }
        assertEquals(POINTS, count(out.resolve("points")), "every point written once");
        assertArrayEquals(Files.readAllBytes(local.resolve("sweep.csv")), Files.readAllBytes(out.resolve("sweep.csv")));
        assertTrue(workers[1].isAlive(), "the other worker ran to the end");
    }

    private static int count(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (var files = Files.list(dir)) {
            return (int) files.filter(f -> f.getFileName().toString().endsWith(".json")).count();
        }
    }
}

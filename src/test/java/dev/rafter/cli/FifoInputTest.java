package dev.rafter.cli;

import static dev.rafter.cli.CliTest.assertBadInput;
import static dev.rafter.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every input goes through the one checked opening path (config/InputFiles): a FIFO (which blocks whoever opens it
 * until a writer comes) or a device (which never ends) is refused or passed over at once, wherever it is read.
 */
class FifoInputTest {
    @TempDir
    Path tmp;

    static final Duration QUICK = Duration.ofSeconds(60);

    static Path mkfifo(Path fifo) throws Exception {
        Process p;
        try {
            p = new ProcessBuilder("mkfifo", fifo.toString()).start();
        } catch (IOException e) {
            assumeTrue(false, "no mkfifo here");
            return null;
        }
        assumeTrue(p.waitFor() == 0, "mkfifo failed");
        return fifo;
    }

    @Test
    void plotOfAFifoOrADeviceIsRefusedAtOnce() throws Exception {
        Path fifo = mkfifo(tmp.resolve("sweep.csv"));
        assertTimeoutPreemptively(QUICK, () -> {
            assertBadInput(run("plot", fifo.toString(), "--pareto"), "sweep.csv: is not a regular file");
            assumeTrue(Files.exists(Path.of("/dev/zero")));
            assertBadInput(run("plot", "/dev/zero", "--pareto"), "/dev/zero: is not a regular file");
        });
    }

    @Test
    void resumeAndMergeWithAFifoAmongThePointsRefuseItAtOnce() throws Exception {
        Path out = tmp.resolve("s");
        String[] sweep = {"sweep", "--hardware", "models/hardware/a100.yaml", "--trace", "traces/gemm-small.csv",
            "--vary", "clock_mhz=1000,1200", "--out", out.toString()};
        assertEquals(0, run(sweep).code());
        Path point = out.resolve("points").resolve("clock_mhz-1000.json");
        Files.delete(point);
        mkfifo(point);
        String[] resume = Stream.concat(Stream.of(sweep), Stream.of("--resume")).toArray(String[]::new);
        assertTimeoutPreemptively(QUICK, () -> {
            assertBadInput(run("sweep", "merge", out.toString(), "--out", tmp.resolve("merged").toString()),
                "clock_mhz-1000.json: is not a regular file");
            assertBadInput(run(resume), "clock_mhz-1000.json: is not a regular file");
        });
        assertTrue(Files.exists(out.resolve("points").resolve("clock_mhz-1200.json")), "nothing else touched");
    }

    @Test
    void validateWithAFifoCaseFileIsRefusedAtOnce() throws Exception {
        Path cases = tmp.resolve("validation");
        Files.createDirectories(cases.resolve("hardware"));
        Files.copy(Path.of("validation/hardware/single-array.yaml"), cases.resolve("hardware/single-array.yaml"));
        mkfifo(cases.resolve("single-array.csv"));
        assertTimeoutPreemptively(QUICK, () -> assertBadInput(run("validate", "--cases", cases.toString()),
            "single-array.csv: is not a regular file"));
    }

    @Test
    void aFifoAsMemoryTimingIsNamedForWhatItIs() throws Exception {
        Path fifo = mkfifo(tmp.resolve("timing.yaml"));
        Path hw = tmp.resolve("hw.yaml");
        Files.writeString(hw, Files.readString(Path.of("models/hardware/a100.yaml"))
            .replace("../energy/", Path.of("models/energy").toAbsolutePath() + "/")
            .replace("../memory/hbm2e.yaml", fifo.toString()));
        assertTimeoutPreemptively(QUICK, () -> {
            CliTest.Result r = run("describe", "--hardware", hw.toString());
            assertBadInput(r, "memory.timing: " + fifo + ": is not a regular file");
            assertFalse(r.err().contains("no such file"), r.err());
        });
    }

    @Test
    void compareAndImportOfAFifoAreRefusedAtOnce() throws Exception {
        Path fifo = mkfifo(tmp.resolve("in.fifo"));
        assertTimeoutPreemptively(QUICK, () -> {
            assertBadInput(run("compare", "--hardware", "models/hardware/a100.yaml", "--trace",
                "traces/gemm-small.csv", "--measured", fifo.toString(), "--out", tmp.resolve("c").toString()),
                "in.fifo: is not a regular file");
            assertBadInput(run("import", fifo.toString(), "--out", tmp.resolve("i.csv").toString()),
                "in.fifo: is not a regular file");
        });
    }
}

package dev.rafter.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.cli.CliTest;
import dev.rafter.config.InputException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One output folder, one writer: a second run into a folder in use refuses; a killed run's lock is stale. */
class OutputLockTest {
    @TempDir
    Path tmp;

    @Test
    void aSecondRunIntoTheSameFolderRefusesAtOnceNamingTheFolderAndTheOtherRun() throws Exception {
        Path dir = tmp.resolve("out");
        try (OutputFolder first = OutputFolder.open(dir, "--out", List.of("a.csv"))) {
            assertTrue(Files.isRegularFile(dir.resolve(OutputLock.FILE)));
            InputException e = assertThrows(InputException.class,
                () -> OutputFolder.open(dir, "--out", List.of("a.csv")));
            assertTrue(e.getMessage().startsWith("--out " + dir + ": in use by another Rafter run (pid "
                + ProcessHandle.current().pid()), e.getMessage());
            Files.writeString(first.path("a.csv"), "x\n");
            first.commit();
        }
        assertFalse(Files.exists(dir.resolve(OutputLock.FILE)), "released at commit");
        assertEquals("x\n", Files.readString(dir.resolve("a.csv")));
        // Released: the next run may write.
        try (OutputFolder again = OutputFolder.open(dir, "--out", List.of("a.csv"))) {
            again.commit();
        }
    }

    @Test
    void theLockOfAKilledRunIsRecognisedAndRemoved() throws Exception {
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        Path dir = Files.createDirectories(tmp.resolve("out"));
        Files.writeString(dir.resolve(OutputLock.FILE), "pid=" + gone.pid() + "\nstarted=2026-01-01T00:00:00Z\n"
            + "command=rafter sweep\n");
        try (OutputFolder folder = OutputFolder.open(dir, "--out", List.of("a.csv"))) {
            assertTrue(Files.readString(folder.dir().resolve(OutputLock.FILE)).contains("pid="
                + ProcessHandle.current().pid()));
        }
    }

    @Test
    void aLockWhoseProcessIdWasReusedByAnotherProcessIsStale() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("out"));
        // This process's id, but another start time: the run that wrote it is gone and its id was taken again.
        Files.writeString(dir.resolve(OutputLock.FILE), "pid=" + ProcessHandle.current().pid()
            + "\nstarted=2000-01-01T00:00:00Z\ncommand=rafter simulate\n");
        try (OutputFolder folder = OutputFolder.open(dir, "--out", List.of("a.csv"))) {
            folder.commit();
        }
        assertFalse(Files.exists(dir.resolve(OutputLock.FILE)));
    }

    @Test
    void aRunRefusedBeforeItsOutputsLeavesNoFolderItCreated() {
        Path dir = tmp.resolve("never");
        try (OutputFolder folder = OutputFolder.open(dir, "--out", List.of("a.csv"))) {
            assertTrue(Files.isDirectory(folder.dir()));
        }
        assertFalse(Files.exists(dir), "an empty folder the run created is removed");
        // A folder that was there stays.
        Path there = tmp.resolve("there");
        try (OutputFolder folder = OutputFolder.open(there, "--out", List.of("a.csv"))) {
            folder.commit();
        }
        try (OutputFolder folder = OutputFolder.open(there, "--out", List.of("a.csv"))) {
            assertTrue(Files.isDirectory(folder.dir())); // this run ends without its outputs
        }
        assertTrue(Files.isDirectory(there));
    }

    @Test
    void theCommandLineRefusesAFolderInUseWithExitCodeTwo() {
        Path dir = tmp.resolve("busy");
        try (OutputFolder other = OutputFolder.open(dir, "--out", List.of("x"))) {
            assertTrue(Files.exists(other.dir().resolve(OutputLock.FILE)));
            CliTest.Result r = CliTest.run("sweep", "--hardware", "models/hardware/a100.yaml", "--trace",
                "traces/gemm-small.csv", "--vary", "clock_mhz=1000,1200", "--out", dir.toString());
            CliTest.assertBadInput(r, "--out " + dir + ": in use by another Rafter run");
            assertFalse(Files.exists(dir.resolve("points")), "nothing of the refused sweep is left");
            r = CliTest.run("simulate", "--hardware", "models/hardware/a100.yaml", "--trace",
                "traces/gemm-small.csv", "--out", dir.toString());
            CliTest.assertBadInput(r, "in use by another Rafter run");
        }
    }
}

package dev.rafter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The launcher's choice of JIT: C1 alone for a simulate on a machine of at most two cores where more than one thread
 * simulates, tiered otherwise. Runs the launcher's own {@code c1_alone} function, taken from {@code ./rafter}.
 */
class LauncherTest {
    @Test
    void c1AloneOnlyWhereASecondThreadSimulatesOnTwoCores() throws Exception {
        assertEquals("yes", c1Alone(2, "simulate", "--hardware", "h.yaml", "--workload", "w.yaml"));
        assertEquals("yes", c1Alone(2, "simulate", "--threads", "2", "--trace", "t.csv"));
        assertEquals("yes", c1Alone(2, "simulate", "--threads=3", "--trace", "t.csv"));
        // One thread: asked for, by default on one core, without reuse, or a system of devices.
        assertEquals("no", c1Alone(2, "simulate", "--threads", "1", "--trace", "t.csv"));
        assertEquals("no", c1Alone(2, "simulate", "--threads=1", "--trace", "t.csv"));
        assertEquals("no", c1Alone(1, "simulate", "--trace", "t.csv"));
        assertEquals("no", c1Alone(2, "simulate", "--no-reuse", "--threads", "2", "--trace", "t.csv"));
        assertEquals("no", c1Alone(2, "simulate", "--system", "s.yaml", "--workload", "w.yaml"));
        assertEquals("no", c1Alone(2, "simulate", "--system=s.yaml", "--workload", "w.yaml"));
        // More cores leave C2 its own; other commands (a sweep's points, the bench's loops) stay tiered.
        assertEquals("no", c1Alone(4, "simulate", "--trace", "t.csv"));
        assertEquals("no", c1Alone(2, "sweep", "--hardware", "h.yaml"));
        assertEquals("no", c1Alone(2, "bench", "--hardware", "h.yaml"));
        assertEquals("no", c1Alone(0, "simulate", "--trace", "t.csv"));
    }

    /** {@code c1_alone CORES ARGS...} as the launcher defines it. */
    private static String c1Alone(int cores, String... args) throws IOException, InterruptedException {
        String launcher = Files.readString(Path.of("rafter"));
        int from = launcher.indexOf("\nc1_alone() {");
        int to = launcher.indexOf("\n}\n", from);
        assertTrue(from >= 0 && to > from, "the launcher defines c1_alone");
        List<String> command = new ArrayList<>(List.of("bash", "-c",
            launcher.substring(from + 1, to + 3) + "c1_alone \"$@\"", "c1_alone", Integer.toString(cores)));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out;
    }
}

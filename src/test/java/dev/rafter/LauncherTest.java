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
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's choice of JIT: C1 alone for a simulate on a machine of at most two cores where more than one thread
 * simulates, tiered otherwise; and when a jar counts as built. Runs the launcher's own functions, taken from
 * {@code ./rafter}.
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

    /**
     * A jar cut short (a build killed while it wrote it) counts as no jar, so the next run builds again rather than
     * fail to start on it; a whole one, and an empty zip, count as built.
     */
    @Test
    void aJarCutShortIsBuiltAgain(@TempDir Path tmp) throws Exception {
        Path whole = tmp.resolve("whole.jar");
        try (var zip = new java.util.zip.ZipOutputStream(Files.newOutputStream(whole))) {
            zip.putNextEntry(new java.util.zip.ZipEntry("META-INF/MANIFEST.MF"));
            zip.write("Manifest-Version: 1.0\n".repeat(200).getBytes(StandardCharsets.UTF_8));
            zip.closeEntry();
        }
        byte[] bytes = Files.readAllBytes(whole);
        Path cut = Files.write(tmp.resolve("cut.jar"), java.util.Arrays.copyOf(bytes, bytes.length - 1));
        Path empty = tmp.resolve("empty.jar");
        new java.util.zip.ZipOutputStream(Files.newOutputStream(empty)).close();
        assertEquals("yes", launcherFunction("whole_jar", whole.toString()));
        assertEquals("yes", launcherFunction("whole_jar", empty.toString()));
        assertEquals("no", launcherFunction("whole_jar", cut.toString()));
        assertEquals("no", launcherFunction("whole_jar", tmp.resolve("none.jar").toString()));
    }

    /** {@code c1_alone CORES ARGS...} as the launcher defines it. */
    private static String c1Alone(int cores, String... args) throws IOException, InterruptedException {
        List<String> all = new ArrayList<>(List.of(Integer.toString(cores)));
        all.addAll(List.of(args));
        return launcher("c1_alone", "c1_alone \"$@\"", all.toArray(String[]::new));
    }

    /** "yes" or "no": whether the launcher's function {@code name} succeeds on {@code args}. */
    private static String launcherFunction(String name, String... args) throws IOException, InterruptedException {
        return launcher(name, "if " + name + " \"$@\"; then echo yes; else echo no; fi", args);
    }

    /** What {@code call} prints, with the launcher's function {@code name} defined and {@code args} as "$@". */
    private static String launcher(String name, String call, String... args) throws IOException, InterruptedException {
        String launcher = Files.readString(Path.of("rafter"));
        int from = launcher.indexOf("\n" + name + "() {");
        int to = launcher.indexOf("\n}\n", from);
        assertTrue(from >= 0 && to > from, "the launcher defines " + name);
        List<String> command = new ArrayList<>(List.of("bash", "-c", launcher.substring(from + 1, to + 3) + call,
            name));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out;
    }
}

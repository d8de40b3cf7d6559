package dev.rafter.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Output does not depend on the user's locale (issue 17): German, French and Turkish defaults (decimal commas,
 * Turkish dotless i in case mapping) give the same files, byte for byte, as the root locale.
 */
class LocaleTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<Locale> LOCALES = List.of(Locale.forLanguageTag("de-DE"),
        Locale.forLanguageTag("fr-FR"), Locale.forLanguageTag("tr-TR"));

    @TempDir
    Path tmp;

    /**
     * The commands run in this JVM with its default locale set (and restored), without Main.main's own reset: every
     * file writer must name its locale itself, as library callers (a Spark executor) depend on.
     */
    @Test
    void everyOutputIsByteIdenticalUnderDecimalCommaAndTurkishLocales() throws Exception {
        Path root = runAll(Locale.ROOT);
        List<Path> files;
        try (Stream<Path> s = Files.walk(root)) {
            files = s.filter(Files::isRegularFile).filter(f -> !f.toString().endsWith(".png")).sorted().toList();
        }
        assertTrue(files.size() >= 10, "outputs written: " + files);
        for (Locale locale : LOCALES) {
            Path dir = runAll(locale);
            for (Path f : files) {
                Path other = dir.resolve(root.relativize(f));
                String what = locale.toLanguageTag() + ": " + root.relativize(f);
                assertTrue(Files.isRegularFile(other), what + " not written");
                if (f.toString().endsWith(".json")) {
                    assertEquals(withoutTimings(f), withoutTimings(other), what);
                } else {
                    assertArrayEquals(Files.readAllBytes(f), Files.readAllBytes(other), what);
                }
            }
        }
    }

    private Path runAll(Locale locale) throws Exception {
        Path dir = tmp.resolve(locale == Locale.ROOT ? "root" : locale.toLanguageTag());
        Locale saved = Locale.getDefault();
        Locale.setDefault(locale);
        try {
            String a100 = "models/hardware/a100.yaml";
            String tiny = "models/workloads/tiny.yaml";
            ok(dir, "simulate", "--hardware", a100, "--workload", tiny, "--events", "both", "--out",
                dir.resolve("simulate").toString());
            ok(dir, "roofline", "--hardware", a100, "--workload", tiny, "--out", dir.resolve("roofline").toString());
            ok(dir, "sweep", "--hardware", a100, "--trace", "traces/gemm-small.csv", "--vary", "clock_mhz=1000,1200",
                "--out", dir.resolve("sweep").toString());
            ok(dir, "lower", "--workload", tiny, "--out", dir.resolve("lower/tiny.csv").toString());
            Files.writeString(dir.resolve("describe.json"), ok(dir, "describe", "--hardware", a100, "--json"));
        } finally {
            Locale.setDefault(saved);
        }
        return dir;
    }

    private static String ok(Path dir, String... args) throws Exception {
        Files.createDirectories(dir);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
        assertEquals(0, code, String.join(" ", args) + ": " + err);
        return out.toString();
    }

    /**
     * A JSON file without its {@code simulator} blocks (wall time and event rates differ from run to run) and the
     * digest of a sweep point (which covers those blocks).
     */
    private static String withoutTimings(Path f) throws Exception {
        JsonNode tree = JSON.readTree(f.toFile());
        strip(tree);
        return tree.toPrettyString();
    }

    private static void strip(JsonNode node) {
        if (node instanceof ObjectNode o) {
            o.remove("simulator");
            o.remove("digest");
        }
        node.forEach(LocaleTest::strip);
    }

    /** The reproducer through the real entry point, in a JVM started with a German locale. */
    @Test
    void aSweepStartedInAGermanJvmWritesTheRootLocalesCsv() throws Exception {
        Path german = tmp.resolve("de");
        Path root = tmp.resolve("root");
        List<String> sweep = List.of("sweep", "--hardware", "models/hardware/a100.yaml", "--trace",
            "traces/gemm-small.csv", "--vary", "clock_mhz=1000,1200", "--out");
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
            .toString(), "-Duser.language=de", "-Duser.country=DE", "-Djava.awt.headless=true", "-Xshare:off", "-cp",
            System.getProperty("java.class.path"), "dev.rafter.cli.Main"));
        command.addAll(sweep);
        command.add(german.toString());
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
            .redirectOutput(tmp.resolve("de.log").toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the sweep finishes");
        String log = Files.readString(tmp.resolve("de.log"));
        assertEquals(0, p.exitValue(), log);
        assertFalse(log.matches("(?s).*\\d,\\d+ (s|ms|us).*"), "no decimal commas on the console: " + log);
        List<String> args = new ArrayList<>(sweep);
        args.add(root.toString());
        ok(root, args.toArray(String[]::new));
        assertEquals(Files.readString(root.resolve("sweep.csv")), Files.readString(german.resolve("sweep.csv")));
    }
}

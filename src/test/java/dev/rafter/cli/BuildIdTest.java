package dev.rafter.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The build a sweep point is keyed with: Rafter's own classes decide it, whatever jar carries them. */
class BuildIdTest {
    @TempDir
    Path tmp;

    private Path jar(String name, Map<String, String> entries) throws Exception {
        Path p = tmp.resolve(name);
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(p))) {
            for (var e : new java.util.TreeMap<>(entries).entrySet()) {
                z.putNextEntry(new ZipEntry(e.getKey()));
                z.write(e.getValue().getBytes(StandardCharsets.UTF_8));
                z.closeEntry();
            }
        }
        return p;
    }

    @Test
    void theCoreJarAndTheSparkJarWithTheSameClassesAreOneBuild() throws Exception {
        Path core = jar("core.jar", Map.of("dev/rafter/cli/Main.class", "main", "dev/rafter/sim/Kernel.class",
            "kernel", "com/fasterxml/jackson/A.class", "jackson 2.17"));
        Path spark = jar("spark.jar", Map.of("dev/rafter/cli/Main.class", "main", "dev/rafter/sim/Kernel.class",
            "kernel", "com/fasterxml/jackson/A.class", "jackson 2.21", "dev/rafter/spark/Engine.class", "spark",
            "org/apache/spark/B.class", "spark"));
        Path rebuilt = jar("rebuilt.jar", Map.of("dev/rafter/cli/Main.class", "main", "dev/rafter/sim/Kernel.class",
            "kernel changed", "com/fasterxml/jackson/A.class", "jackson 2.17"));
        assertEquals(Main.buildOf(core), Main.buildOf(spark));
        assertNotEquals(Main.buildOf(core), Main.buildOf(rebuilt), "a changed Rafter class is another build");
    }
}

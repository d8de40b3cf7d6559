package dev.rafter.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A flash tier from the command line: its standard's required figures, its keys in the hardware file, and its
 * pages, read buffer and lifetime in summary.json.
 */
class FlashTierCliTest {
    private static final String HBF = "models/hardware/h100-hbf.yaml";

    @TempDir
    Path tmp;

    /** h100-hbf.yaml with absolute paths to its base, its tables and the flash standard at {@code standard}. */
    private Path hardwareWith(Path standard) throws Exception {
        String text = Files.readString(Path.of(HBF)).replace("../energy/", Path.of("models/energy")
            .toAbsolutePath() + "/").replace("../memory/hbf.yaml", standard.toAbsolutePath().toString())
            .replace("../memory/", Path.of("models/memory").toAbsolutePath() + "/")
            .replace("../host/", Path.of("models/host").toAbsolutePath() + "/")
            .replace("extends: ", "extends: " + Path.of("models/hardware").toAbsolutePath() + "/");
        Path file = tmp.resolve("hw.yaml");
        Files.writeString(file, text);
        return file;
    }

    /** The HBF standard without the line of {@code key}. */
    private Path standardWithout(String key) throws Exception {
        String text = Files.readString(Path.of("models/memory/hbf.yaml"));
        Path file = tmp.resolve("hbf-" + key + ".yaml");
        Files.writeString(file, text.replaceAll("(?m)^ *" + key + ":.*\\n", ""));
        return file;
    }

    @Test
    void aFlashStandardWithoutReadLatencyOrEnduranceIsOneLineExit2NamingTheKey() throws Exception {
        for (String key : new String[] {"read_latency_us", "endurance_pe_cycles"}) {
            Path standard = standardWithout(key);
            CliTest.Result r = CliTest.run("describe", "--hardware", hardwareWith(standard).toString());
            assertEquals(2, r.code(), r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertTrue(r.err().contains(standard.toString()) && r.err().contains(key), r.err());
        }
    }

    @Test
    void aFlashTierWithoutItsStandardAndABufferOnDramAreOneLineExit2() throws Exception {
        CliTest.Result r = CliTest.run("describe", "--hardware", "models/hardware/l40s.yaml", "--set",
            "memory.model=flash");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("memory.timing: required when model is flash"), r.err());
        r = CliTest.run("describe", "--hardware", HBF, "--set", "memory.read_buffer_mib=64");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("memory.read_buffer_mib: a read buffer holds flash pages"), r.err());
        r = CliTest.run("describe", "--hardware", HBF, "--set", "memory_tiers.hbf.read_latency_us=0");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("memory_tiers[0].read_latency_us"), r.err());
    }

    @Test
    void aTierSetsItsOwnReadLatencyAndEndurance() {
        java.io.StringWriter out = new java.io.StringWriter();
        assertEquals(0, Main.execute(new String[] {"describe", "--hardware", HBF, "--set",
            "memory_tiers.hbf.read_latency_us=20", "--set", "memory_tiers.hbf.endurance_pe_cycles=3000", "--set",
            "memory_tiers.hbf.read_buffer_mib=512"}, new java.io.PrintWriter(out, true),
            new java.io.PrintWriter(new java.io.StringWriter(), true)));
        assertTrue(out.toString().contains("(HBF-gen1: 16 KiB pages, 32 planes, 20 us page reads, 3000 P/E cycles,"
            + " read buffer 512 MiB)"), out.toString());
    }

    @Test
    void writesToFlashAreCountedInPagesAndTurnedIntoALifetime() throws Exception {
        Path out = tmp.resolve("kv");
        CliTest.Result r = CliTest.run("simulate", "--hardware", HBF, "--workload", "models/workloads/tiny.yaml",
            "--set", "placement.activations=hbf", "--set", "memory_tiers.hbf.read_buffer_mib=64", "--phase", "decode",
            "--decode-steps", "2", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        JsonNode hbf = s.path("memory_tiers").path("hbf");
        JsonNode flash = hbf.path("flash");
        long programmed = flash.path("pages_programmed").asLong();
        long written = hbf.path("write_bytes").asLong();
        assertTrue(written > 0, "results are written where the activations are");
        // Every write programs at least one whole page per channel part, and no more pages than it touches.
        assertTrue(programmed * 16384 >= written, programmed + " pages for " + written + " B");
        assertEquals(programmed / 256.0, flash.path("blocks_erased").asDouble(), 1e-12);
        // Lifetime: 1024 GiB of 16 KiB pages, 100,000 cycles each, at the run's programs per second.
        double seconds = s.path("latency_s").asDouble();
        double years = 1024.0 * 1024 * 1024 * 1024 / 16384 * 100_000 / (programmed / seconds) / (365.25 * 86400);
        assertEquals(years, flash.path("lifetime_years").asDouble(), years * 1e-9);
        double hitRate = flash.path("read_buffer_hit_rate").asDouble();
        long hits = flash.path("read_buffer_hits").asLong();
        assertEquals(hits / (double) (hits + flash.path("pages_read").asLong()), hitRate, 1e-12);
    }
}

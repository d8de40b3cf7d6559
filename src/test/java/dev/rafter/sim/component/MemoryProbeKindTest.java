package dev.rafter.sim.component;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rafter.cli.CliTest;
import dev.rafter.cli.Main;
import dev.rafter.energy.EnergyUse;
import dev.rafter.sim.message.MemoryAccess;
import dev.rafter.sim.trace.SliceKind;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Adding a component kind is this one file plus its registration: a probe on the memory path, declared here,
 * registered, placed by a hardware file's {@code components:} list, and then found in {@code rafter components},
 * summary.json, trace.json and the energy account without any other file knowing it.
 */
class MemoryProbeKindTest {
    /**
     * Counts the bytes of every memory access as the controller receives it, and is charged {@code pj_per_byte}
     * for them. Its slices are instants (an access is seen, not served), so they never overlap on its track.
     */
    static final ComponentKind PROBE = new ComponentKind("memory_probe",
        "counts the bytes of every memory access (a test kind)",
        new ComponentKind.Placement(ComponentKind.Scope.DEVICE, null, (core, i) -> "memory_probe" + i),
        List.of(ComponentKind.Parameter.number("pj_per_byte", "pJ/B", 0, 1000, "0.5", "energy per byte seen")),
        List.of(new ComponentKind.Port("access", ComponentKind.Port.Direction.IN, List.of(MemoryAccess.class),
            "every access the memory controller receives")),
        List.of(ComponentKind.Statistic.of("bytes", "B", ComponentKind.Statistic.Measure.AMOUNT,
            Set.of(SliceKind.TRANSFER), ComponentKind.Statistic.Combine.SUM, "bytes seen")),
        null,
        new EnergyUse("memory_probe", (account, counts) -> counts.count("memory_probe", "bytes")
            * Double.parseDouble(account.hardware().components().get(0).values().get("pj_per_byte")) * 1e-12,
            EnergyUse.NO_LEAKAGE),
        instance -> (MemoryController.Tap) access -> {
            long now = instance.scheduler().now();
            instance.sink().slice(instance.track(), SliceKind.TRANSFER, access.opId(), now, now, access.bytes());
        });

    @TempDir
    Path tmp;

    @BeforeAll
    static void register() {
        if (Catalogue.kind(PROBE.name()) == null) {
            Catalogue.register(PROBE);
        }
    }

    /** a100.yaml with its relative paths made absolute, plus {@code extra} at the end. */
    private Path hardware(String extra) throws Exception {
        Path models = Path.of("models").toAbsolutePath();
        String text = Files.readString(models.resolve("hardware/a100.yaml"))
            .replace("../energy/", models.resolve("energy") + "/")
            .replace("../memory/", models.resolve("memory") + "/")
            .replace("../cost/", models.resolve("cost") + "/");
        Path file = tmp.resolve("probed.yaml");
        Files.writeString(file, text + extra);
        return file;
    }

    @Test
    void itsParametersPortsAndStatisticsAreInTheCatalogue() throws Exception {
        StringWriter out = new StringWriter();
        assertEquals(0, Main.execute(new String[] {"components"}, new PrintWriter(out, true),
            new PrintWriter(new StringWriter(), true)));
        String text = out.toString();
        assertTrue(text.contains("memory_probe: counts the bytes"), text);
        assertTrue(text.matches("(?s).*pj_per_byte +pJ/B +0\\.\\.1000 +default 0\\.5.*"), text);
        assertTrue(text.contains("MemoryAccess"), text);

        StringWriter json = new StringWriter();
        assertEquals(0, Main.execute(new String[] {"components", "--json"}, new PrintWriter(json, true),
            new PrintWriter(new StringWriter(), true)));
        JsonNode probe = null;
        for (JsonNode k : new ObjectMapper().readTree(json.toString()).get("components")) {
            probe = k.get("name").asText().equals("memory_probe") ? k : probe;
        }
        assertEquals("0..1000", probe.at("/parameters/0/range").asText());
        assertEquals("0.5", probe.at("/parameters/0/default").asText());
        assertEquals("MemoryAccess", probe.at("/ports/0/messages/0").asText());
        assertEquals("sum", probe.at("/statistics/0/combine").asText());
        assertEquals("memory_probe", probe.get("energy").asText());
    }

    @Test
    void aHardwareFileThatListsItGetsItsStatisticsTrackAndEnergy() throws Exception {
        Path hw = hardware("components:\n  - kind: memory_probe\n    pj_per_byte: 2\n");
        Path out = tmp.resolve("run");
        CliTest.Result r = CliTest.run("simulate", "--hardware", hw.toString(), "--trace", "traces/gemm-small.csv",
            "--out", out.toString(), "--events", "perfetto");
        assertEquals(0, r.code(), r.err());
        JsonNode summary = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        long seen = summary.at("/components/memory_probe/bytes").asLong();
        // It sees every access the channels serve, so its bytes are the memory's.
        long memory = summary.at("/bytes/hbm_read").asLong() + summary.at("/bytes/hbm_write").asLong();
        assertTrue(memory > 0);
        assertEquals(memory, seen);
        assertEquals(1, summary.at("/components/memory_probe/instances").asInt());
        assertEquals(seen * 2e-12, summary.at("/energy_j/by_component/memory_probe").asDouble(), seen * 1e-24);
        String trace = Files.readString(out.resolve("trace.json"));
        assertTrue(trace.contains("\"args\":{\"name\":\"memory_probe0\"}"), "its track is named in trace.json");

        // Without events the operators may be fast-forwarded: the probe's sums are multiplied with the rest.
        Path quiet = tmp.resolve("quiet");
        assertEquals(0, CliTest.run("simulate", "--hardware", hw.toString(), "--trace", "traces/gemm-small.csv",
            "--out", quiet.toString(), "--events", "none").code());
        JsonNode q = new ObjectMapper().readTree(quiet.resolve("summary.json").toFile());
        assertEquals(seen, q.at("/components/memory_probe/bytes").asLong());
    }

    @Test
    void aDeviceWithoutItReportsNothingNew() throws Exception {
        Path out = tmp.resolve("plain");
        assertEquals(0, CliTest.run("simulate", "--hardware", hardware("").toString(), "--trace",
            "traces/gemm-small.csv", "--out", out.toString()).code());
        JsonNode summary = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        assertFalse(summary.has("components"));
        assertFalse(summary.at("/energy_j/by_component").has("memory_probe"));
    }

    @Test
    void badParametersAreBadInputNamingTheKey() throws Exception {
        CliTest.assertBadInput(CliTest.run("simulate", "--hardware",
            hardware("components:\n  - kind: memory_probe\n    pj_per_byte: 5000\n").toString(), "--trace",
            "traces/gemm-small.csv"), "components[0].pj_per_byte: expected a number in 0..1000 pJ/B, got 5000");
        CliTest.assertBadInput(CliTest.run("simulate", "--hardware",
            hardware("components:\n  - kind: memory_probe\n    pj_per_bite: 1\n").toString(), "--trace",
            "traces/gemm-small.csv"), "components[0].pj_per_bite: not a parameter of memory_probe");
        CliTest.assertBadInput(CliTest.run("simulate", "--hardware",
            hardware("components:\n  - kind: no_such_kind\n").toString(), "--trace",
            "traces/gemm-small.csv"), "components[0].kind: unknown component kind 'no_such_kind'");
    }
}

package dev.rafter.hw;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.cli.CliTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code extends:} in a hardware file: the file is its base with its own keys laid over (sections merged key by key,
 * values and lists replaced), read wherever a hardware file is. The base here is models/hardware/h100.yaml, whose
 * figures (132 SMs, 1830 MHz, 160 HBM3 pseudo-channels at 3350 GB/s, the 4 nm table) are the datasheet's as sourced
 * there.
 */
class HardwareExtendsTest {
    static final String H100 = Path.of("models/hardware/h100.yaml").toAbsolutePath().toString();

    @TempDir
    Path tmp;

    private Path write(String name, String text) throws Exception {
        Path p = tmp.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    @Test
    void keysOverrideAndAddWhileNestedSectionsKeepTheBasesOtherKeys() throws Exception {
        Path file = write("v.yaml", "extends: " + H100 + "\nname: v\nclock_mhz: 1000\nmemory:\n  channels: 80\n"
            + "components:\n  - kind: near_memory_unit\n    beside: hbm\n    preset: " + Path.of("models/nmp/hbm-pim.yaml")
            .toAbsolutePath() + "\n");
        HardwareSpec v = HardwareLoader.load(file, List.of());
        assertEquals("v", v.name());
        assertEquals(1000, v.clockMhz());
        assertEquals(80, v.memory().channels());
        // the rest of memory: and every other section is the H100's
        assertEquals(3350, v.memory().bandwidthGbPerS());
        assertEquals(132, v.cores());
        assertEquals(1, v.components().size());
        // ../energy/4nm.yaml is the base's, so it is read relative to the base's folder, not this file's
        assertEquals(HardwareLoader.load(Path.of(H100), List.of()).energy().name(), v.energy().name());
    }

    @Test
    void aChainOfTwoAndSetOnTop() throws Exception {
        write("mid.yaml", "extends: " + H100 + "\nname: mid\nclock_mhz: 1000\n");
        Path top = write("top.yaml", "extends: mid.yaml\nname: top\ncores: 100\n");
        HardwareSpec t = HardwareLoader.load(top, List.of());
        assertEquals(List.of("top", 1000.0, 100, 160), List.of(t.name(), t.clockMhz(), t.cores(),
            t.memory().channels()));
        HardwareSpec set = HardwareLoader.load(top, List.of("clock_mhz=900", "memory.channels=40"));
        assertEquals(List.of(900.0, 40), List.of(set.clockMhz(), set.memory().channels()));
    }

    @Test
    void aListReplacesTheBasesWhole() throws Exception {
        // h100-hbf.yaml has tiers hbm, hbf and host; a file that names memory_tiers: has only its own behind hbm
        Path file = write("one-tier.yaml", "extends: " + Path.of("models/hardware/h100-hbf.yaml").toAbsolutePath()
            + "\nmemory_tiers:\n  - name: far\n    channels: 1\n    bandwidth_gb_per_s: 10\n    latency_ns: 1000\n"
            + "    capacity_gib: 1\n");
        assertEquals(List.of("hbm", "far"), HardwareLoader.load(file, List.of()).memoryTiers().stream()
            .map(HardwareSpec.MemoryTier::name).toList());
    }

    @Test
    void aCycleIsRefusedNamingItsFiles() throws Exception {
        write("a.yaml", "extends: b.yaml\nname: a\n");
        write("b.yaml", "extends: a.yaml\nname: b\n");
        String err = refused(tmp.resolve("a.yaml"));
        assertTrue(err.contains("b.yaml: extends: 'a.yaml' makes a cycle (a.yaml extends b.yaml extends a.yaml)"),
            err);
    }

    @Test
    void aMissingBaseIsRefusedNamingTheKeyAndThePath() throws Exception {
        Path file = write("v.yaml", "extends: nowhere.yaml\nname: v\n");
        String err = refused(file);
        assertTrue(err.startsWith("rafter: " + file + ": extends: "), err);
        assertTrue(err.contains(tmp.resolve("nowhere.yaml").toString()), err);
    }

    @Test
    void anUnknownKeyIsReportedWithTheFileThatHoldsIt() throws Exception {
        Path mid = write("mid.yaml", "extends: " + H100 + "\nclok_mhz: 1000\n");
        Path top = write("top.yaml", "extends: mid.yaml\nname: top\n");
        String err = refused(top);
        assertTrue(err.contains(mid + ": unknown key 'clok_mhz'"), err);
        Files.writeString(mid, "extends: " + H100 + "\n");
        Files.writeString(top, "extends: mid.yaml\nmemory:\n  chanels: 80\n");
        err = refused(top);
        assertTrue(err.contains(top + ": unknown key 'memory.chanels'"), err);
        // a key missing from a section only the base has is the base's
        Files.writeString(mid, Files.readString(Path.of(H100)).replace("../", Path.of("models").toAbsolutePath()
            + "/").replaceFirst("\n  latency_cycles:[^\n]*", ""));
        Files.writeString(top, "extends: mid.yaml\nname: top\n");
        err = refused(top);
        assertTrue(err.contains(mid + ": interconnect.latency_cycles: required key is missing"), err);
    }

    @Test
    void aSystemsDevicesMayExtend() throws Exception {
        Path device = write("slow.yaml", "extends: " + H100 + "\nname: slow\nclock_mhz: 1000\n");
        Path system = write("two.yaml", Files.readString(Path.of("models/systems/dgx-h100-8.yaml"))
            .replace("../hardware/h100.yaml", device.getFileName().toString()).replace("count: 8", "count: 2")
            .replace("ports: 8", "ports: 2"));
        CliTest.Result ok = CliTest.run("simulate", "--system", system.toString(), "--workload",
            "models/workloads/tiny.yaml", "--out", tmp.resolve("out").toString());
        assertEquals(0, ok.code(), ok.err());
        Files.writeString(device, "extends: " + H100 + "\nclok_mhz: 1000\n");
        CliTest.Result bad = CliTest.run("simulate", "--system", system.toString(), "--workload",
            "models/workloads/tiny.yaml", "--out", tmp.resolve("out2").toString());
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains(device + ": unknown key 'clok_mhz'"), bad.err());
    }

    private static String refused(Path hardware) {
        CliTest.Result r = CliTest.run("describe", "--hardware", hardware.toString());
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        return r.err().strip();
    }
}

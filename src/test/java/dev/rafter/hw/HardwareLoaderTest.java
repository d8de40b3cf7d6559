package dev.rafter.hw;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.config.InputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HardwareLoaderTest {
    static final Path A100 = Path.of("models/hardware/a100.yaml");

    @TempDir
    Path tmp;

    static HardwareSpec a100(String... sets) {
        return HardwareLoader.load(A100, List.of(sets));
    }

    @Test
    void a100PeaksMatchTheDatasheet() {
        HardwareSpec hw = a100();
        assertEquals(311.9e12, hw.peakFlopsPerS(), 311.9e12 * 0.01);
        assertTrue(hw.memoryBytesPerS() >= 2.0e12 && hw.memoryBytesPerS() <= 2.1e12);
        assertEquals(108 * 192 * 1024L + 40L * 1024 * 1024, hw.sramBytes());
        assertEquals(hw.peakFlopsPerS() / hw.memoryBytesPerS(), hw.ridgeFlopsPerByte(), 1e-9);
    }

    @Test
    void everyBundledModelLoads() throws IOException {
        try (var files = Files.list(Path.of("models/hardware"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).toList()) {
                HardwareSpec hw = HardwareLoader.load(f, List.of());
                assertTrue(hw.peakFlopsPerS() > 0, f.toString());
            }
        }
        assertEquals(989e12, HardwareLoader.load(Path.of("models/hardware/h100.yaml"), List.of()).peakFlopsPerS(),
            989e12 * 0.01);
        assertEquals(61.6e12, HardwareLoader.load(Path.of("models/hardware/tpuv3.yaml"), List.of()).peakFlopsPerS(),
            61.6e12 * 0.01);
    }

    @Test
    void setOverridesAnyFieldByItsDottedPath() {
        HardwareSpec hw = a100("core.local_buffer.capacity_kib=64", "clock_mhz=1200",
            "memory.bandwidth_gb_per_s=4096", "core.pe_array.dataflow=weight_stationary");
        assertEquals(64, hw.core().localBuffer().capacityKib());
        assertEquals(1200, hw.clockMhz());
        assertEquals(4096e9, hw.memoryBytesPerS());
        assertEquals(Dataflow.WEIGHT_STATIONARY, hw.core().peArray().dataflow());
    }

    private String error(Runnable r) {
        return assertThrows(InputException.class, r::run).getMessage();
    }

    private Path write(String name, String text) throws IOException {
        Path p = tmp.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    /** The A100 model without its energy reference (which is relative to models/hardware/) and board power. */
    private String a100Text() throws IOException {
        return Files.readString(A100).replaceAll("(?m)^(energy|cost):.*\\n(^ +#.*\\n)*", "")
            .replaceAll("(?m)^power:.*\\n(^ +.*\\n)*", "").replaceAll("(?m)^  (model|timing):.*\\n", "");
    }

    @Test
    void unknownKeyNamesTheNearestValidKey() throws IOException {
        Path f = write("typo.yaml", a100Text().replace("  latency_cycles:", "  latency_cycle:"));
        String m = error(() -> HardwareLoader.load(f, List.of()));
        assertTrue(m.startsWith(f.toString()), m);
        assertTrue(m.contains("interconnect.latency_cycles"), m);
    }

    private static final String HBF_TIER = "memory_tiers:\n  - name: hbf\n    channels: 16\n"
        + "    bandwidth_gb_per_s: 1600\n    latency_ns: 10000\n    capacity_gib: 512\n";

    @Test
    void furtherMemoryTiersLoadInOrderAfterTheFirstNamedHbm() throws IOException {
        HardwareSpec hw = HardwareLoader.load(write("tiers.yaml", a100Text() + HBF_TIER), List.of());
        assertEquals(List.of("hbm", "hbf"), hw.memoryTiers().stream().map(HardwareSpec.MemoryTier::name).toList());
        assertEquals(hw.memory(), hw.memoryTiers().get(0).memory());
        HardwareSpec.Memory hbf = hw.tier("hbf").memory();
        assertEquals(16, hbf.channels());
        assertEquals(1600, hbf.bandwidthGbPerS());
        assertEquals(10000, hbf.latencyNs());
        assertEquals(512, hbf.capacityGib());
        assertEquals(HardwareSpec.MemoryModel.SIMPLE, hbf.model());
        assertEquals(1, hw.tierIndex("hbf"));
    }

    @Test
    void aSingleTierDeviceKeepsItsTextSoSweepKeysStay() throws IOException {
        HardwareSpec hw = HardwareLoader.load(write("one.yaml", a100Text()), List.of());
        assertFalse(hw.toString().contains("memoryTiers"), hw.toString());
    }

    @Test
    void duplicateTierNamesAreRefusedNamingTheKey() throws IOException {
        Path f = write("dup.yaml", a100Text() + HBF_TIER + HBF_TIER.substring("memory_tiers:\n".length()));
        String m = error(() -> HardwareLoader.load(f, List.of()));
        assertEquals(f + ": memory_tiers[1].name: a tier named 'hbf' is already there (tier names must differ)", m);
    }

    @Test
    void aTierWithoutBandwidthIsRefusedNamingTheKey() throws IOException {
        Path f = write("nobw.yaml", a100Text() + HBF_TIER.replace("    bandwidth_gb_per_s: 1600\n", ""));
        String m = error(() -> HardwareLoader.load(f, List.of()));
        assertTrue(m.startsWith(f + ": memory_tiers[0].bandwidth_gb_per_s"), m);
        assertFalse(m.contains("\n"), m);
    }

    @Test
    void aTierWithoutNameIsRefused() throws IOException {
        Path f = write("noname.yaml", a100Text() + HBF_TIER.replace("  - name: hbf\n    channels", "  - channels"));
        String m = error(() -> HardwareLoader.load(f, List.of()));
        assertTrue(m.startsWith(f + ": memory_tiers[0].name"), m);
    }

    @Test
    void unknownSetPathNamesTheNearestValidOne() {
        String m = error(() -> a100("core.local_bufer.capacity_kib=64"));
        assertTrue(m.contains("--set core.local_bufer.capacity_kib=64"), m);
        assertTrue(m.contains("did you mean 'core.local_buffer"), m);
    }

    @Test
    void negativeClockIsRejectedWithFileAndKey() throws IOException {
        Path f = write("neg.yaml", a100Text().replace("clock_mhz: 1410", "clock_mhz: -1410"));
        String m = error(() -> HardwareLoader.load(f, List.of()));
        assertTrue(m.startsWith(f + ": clock_mhz: expected a number >= 1"), m);
        String s = error(() -> a100("clock_mhz=0"));
        assertTrue(s.contains("--set clock_mhz=0") && s.contains("clock_mhz"), s);
    }

    @Test
    void absurdAndWrongTypedValuesAreRejected() {
        assertTrue(error(() -> a100("cores=0")).contains("cores: expected an integer in [1,"));
        assertTrue(error(() -> a100("core.pe_array.rows=99999")).contains("core.pe_array.rows"));
        assertTrue(error(() -> a100("memory.bandwidth_gb_per_s=fast")).contains("expected a number, got 'fast'"));
        assertTrue(error(() -> a100("memory.bandwidth_gb_per_s=2048GB/s")).contains("unit is in the key name"));
        assertEquals("models/hardware/a100.yaml (--set core.pe_array.rows=16.5): core.pe_array.rows: expected an "
            + "integer, got '16.5'", error(() -> a100("core.pe_array.rows=16.5")));
        assertTrue(error(() -> a100("core.pe_array.dataflow=diagonal"))
            .contains("expected one of output_stationary, weight_stationary, input_stationary"));
    }

    @Test
    void inconsistentLocalBufferIsRejected() {
        String m = error(() -> a100("core.local_buffer.capacity_kib=1"));
        assertTrue(m.contains("core.local_buffer.capacity_kib: 1 KiB cannot hold one double-buffered 16x16 tile"), m);
    }

    @Test
    void missingRequiredKeyIsNamed() throws IOException {
        Path f = write("missing.yaml", a100Text().replace("  channels: 80", "  chanels: 80"));
        String m = error(() -> HardwareLoader.load(f, List.of()));
        assertTrue(m.contains("memory.channels: required key is missing (found 'memory.chanels'"), m);
    }

    @Test
    void malformedYamlAndMissingFileAreBadInput() throws IOException {
        Path f = write("bad.yaml", "name: x\ncores: [1, 2\nclock_mhz: 3\n");
        assertTrue(error(() -> HardwareLoader.load(f, List.of())).startsWith(f + ":"));
        assertTrue(error(() -> HardwareLoader.load(tmp.resolve("nope.yaml"), List.of())).endsWith("file not found"));
        Path list = write("list.yaml", "- 1\n- 2\n");
        assertTrue(error(() -> HardwareLoader.load(list, List.of())).contains("expected a YAML mapping"));
    }

    @Test
    void malformedSetIsBadInput() {
        assertTrue(error(() -> a100("clock_mhz")).contains("expected KEY=VALUE"));
        assertTrue(error(() -> a100("core=4")).contains("'core' is a section"));
        assertTrue(error(() -> a100("clock_mhz.x=4")).contains("'clock_mhz' is a value, not a section"));
    }
}

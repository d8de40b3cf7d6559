package dev.rafter.hw;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.config.InputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MemoryTimingTest {
    @TempDir
    Path tmp;

    @Test
    void everyStandardLoadsAndHbm3ReadsNeedTheLongerRcd() throws IOException {
        try (var files = Files.list(Path.of("models/memory"))) {
            // The DRAM standards (hbf.yaml is a flash standard, read by FlashTiming).
            List<Path> all = files.filter(p -> p.toString().endsWith(".yaml") && !p.endsWith("hbf.yaml")).sorted()
                .toList();
            assertEquals(8, all.size(), all.toString());
            for (Path f : all) {
                MemoryTiming t = MemoryTiming.load(f);
                assertTrue(t.timing().refi() > t.timing().rfc(), f.toString());
            }
        }
        MemoryTiming hbm3 = MemoryTiming.load(Path.of("models/memory/hbm3.yaml"));
        assertEquals(31, hbm3.timing().rcdRd());
        assertEquals(15, hbm3.timing().rcdWr());
        assertEquals(19_375, hbm3.timing().ps(31));
    }

    @Test
    void hardwareDefaultsToTheSimpleChannelAndBankedNamesItsTable() {
        HardwareSpec sram = HardwareLoader.load(Path.of("models/hardware/sram-study-45nm.yaml"), List.of());
        assertEquals(HardwareSpec.MemoryModel.SIMPLE, sram.memory().model());
        assertNull(sram.memory().timing());
        HardwareSpec h100 = HardwareLoader.load(Path.of("models/hardware/h100.yaml"), List.of());
        assertEquals(HardwareSpec.MemoryModel.BANKED, h100.memory().model());
        assertEquals("HBM3-6400", h100.memory().timing().name());
    }

    @Test
    void bankedWithoutATableIsAnErrorNamingTheKey() {
        String m = assertThrows(InputException.class, () -> HardwareLoader.load(
            Path.of("models/hardware/sram-study-45nm.yaml"), List.of("memory.model=banked"))).getMessage();
        assertTrue(m.contains("memory.timing") && m.contains("required"), m);
        m = assertThrows(InputException.class, () -> HardwareLoader.load(
            Path.of("models/hardware/sram-study-45nm.yaml"), List.of("memory.model=bankd"))).getMessage();
        assertTrue(m.contains("memory.model") && m.contains("banked"), m);
        m = assertThrows(InputException.class, () -> HardwareLoader.load(
            Path.of("models/hardware/h100.yaml"), List.of("memory.timing=../memory/hbm9.yaml"))).getMessage();
        assertTrue(m.contains("memory.timing") && m.contains("hbm9.yaml"), m);
    }

    @Test
    void tableErrorsNameTheFileAndTheKey() throws IOException {
        String text = Files.readString(Path.of("models/memory/hbm3.yaml"));
        Path unknown = tmp.resolve("unknown.yaml");
        Files.writeString(unknown, text.replace("  rp_tck: 26", "  rp_tck: 26\n  rpp_tck: 26"));
        String m = assertThrows(InputException.class, () -> MemoryTiming.load(unknown)).getMessage();
        assertTrue(m.contains("unknown.yaml") && m.contains("timing.rpp_tck"), m);
        Path missing = tmp.resolve("missing.yaml");
        Files.writeString(missing, text.replace("  cl_tck: 20", ""));
        m = assertThrows(InputException.class, () -> MemoryTiming.load(missing)).getMessage();
        assertTrue(m.contains("missing.yaml") && m.contains("timing.cl_tck"), m);
        Path bad = tmp.resolve("bad.yaml");
        Files.writeString(bad, text.replace("write_queue_low_bytes: 2048", "write_queue_low_bytes: 9000"));
        m = assertThrows(InputException.class, () -> MemoryTiming.load(bad)).getMessage();
        assertTrue(m.contains("bad.yaml") && m.contains("controller.write_queue_low_bytes"), m);
    }
}

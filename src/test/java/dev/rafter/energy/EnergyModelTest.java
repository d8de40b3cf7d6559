package dev.rafter.energy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.config.InputException;
import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.sim.component.Catalogue;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EnergyModelTest {
    static final Path FILE = Path.of("models/energy/45nm.yaml");
    final EnergyModel m = EnergyModel.load(FILE);

    @Test
    void sramAccessEnergyFollowsTheHorowitzPointsAndIsBankedAboveTheLargest() {
        assertEquals(10, m.sramReadPjPer64b(8), 1e-9);
        assertEquals(20, m.sramReadPjPer64b(32), 1e-9);
        assertEquals(100, m.sramReadPjPer64b(1024), 1e-9);
        assertEquals(Math.sqrt(10 * 20), m.sramReadPjPer64b(16), 1e-9, "log-log midpoint");
        assertEquals(100, m.sramReadPjPer64b(40 * 1024), 1e-9, "a 40 MiB buffer is 1 MiB banks");
        assertTrue(m.sramReadPjPer64b(4) < 10);
    }

    @Test
    void leakageIsLinearInCapacityAndCellTypeMatters() {
        assertEquals(36.5e-6 * 64, m.sramLeakageW(64), 1e-15);
        assertEquals(2 * m.sramLeakageW(64), m.sramLeakageW(128), 1e-15);
    }

    /** An account charging what the catalogue's component kinds declare. */
    static EnergyAccount account(HardwareSpec hw, EnergyModel model) {
        return new EnergyAccount(hw, model, Catalogue.energyUses(hw));
    }

    /** Counts keyed "component.statistic"; others are 0. */
    static EnergyAccount.Activity activity(Map<String, Long> counts, double seconds) {
        return new EnergyAccount.Activity((c, s) -> counts.getOrDefault(c + "." + s, 0L), seconds);
    }

    @Test
    void chargesEveryCountedAction() {
        HardwareSpec hw = HardwareLoader.load(Path.of("models/hardware/sram-study-45nm.yaml"), List.of());
        EnergyAccount account = account(hw, m);
        EnergyBreakdown idle = account.of(activity(Map.of(), 1.0));
        double sramKib = hw.cores() * 64.0 + 40 * 1024;
        assertEquals(36.5e-6 * sramKib, idle.staticEnergy(), 1e-9, "one second of leakage");
        assertEquals(0, idle.dynamic(), 0);
        EnergyBreakdown macs = account.of(activity(Map.of("pe_array.macs", 1_000_000L), 0));
        assertEquals(1e6 * 1.5e-12, macs.of("pe_array"), 1e-18);
        EnergyBreakdown hbm = account.of(activity(Map.of("hbm_channel.read_bytes", 1000L), 0));
        assertEquals(8000 * 3.9e-12, hbm.of("hbm"), 1e-18);
        assertEquals(1000 * 0.81 * 100 / 8 * 1e-12, hbm.of("global_buffer"), 1e-18, "HBM fills write the buffer");
        assertEquals(DataType.FP16, hw.dataType());
    }

    @Test
    void voltageCurveScalesDynamicEnergyWithVSquared(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("vf.yaml");
        Files.writeString(f, Files.readString(FILE) + "voltage_frequency:\n  - {clock_mhz: 200, voltage_v: 0.6}\n"
            + "  - {clock_mhz: 1400, voltage_v: 1.2}\n");
        EnergyModel vf = EnergyModel.load(f);
        assertEquals(0.9, vf.voltageAt(800), 1e-12);
        assertEquals(0.6, vf.voltageAt(100), 1e-12);
        HardwareSpec hw = HardwareLoader.load(Path.of("models/hardware/sram-study-45nm.yaml"),
            List.of("clock_mhz=1400"));
        double base = account(hw, m).of(activity(Map.of("pe_array.macs", 1000L), 0)).of("pe_array");
        double high = account(hw, vf).of(activity(Map.of("pe_array.macs", 1000L), 0)).of("pe_array");
        assertEquals(base * (1.2 / 0.9) * (1.2 / 0.9), high, base * 1e-9);
    }

    @Test
    void badEnergyFilesAreRejected(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("bad.yaml");
        Files.writeString(f, Files.readString(FILE).replace("memory_pj_per_bit: 3.9", "memory_pj_per_bit: -1"));
        assertTrue(assertThrows(InputException.class, () -> EnergyModel.load(f)).getMessage()
            .contains("memory_pj_per_bit"));
        Files.writeString(f, Files.readString(FILE).replace("    pj: 20", "    pJ: 20"));
        String m2 = assertThrows(InputException.class, () -> EnergyModel.load(f)).getMessage();
        assertTrue(m2.contains("sram_read_pj_per_64b[1]"), m2);
        String m3 = assertThrows(InputException.class, () -> HardwareLoader.load(
            Path.of("models/hardware/a100.yaml"), List.of("energy=nope.yaml"))).getMessage();
        assertTrue(m3.contains("nope.yaml: file not found"), m3);
    }
}

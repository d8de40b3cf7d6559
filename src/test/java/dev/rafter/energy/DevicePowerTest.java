package dev.rafter.energy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.config.InputException;
import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The node tables, a device's board power and its voltage-frequency operating points. */
class DevicePowerTest {
    static HardwareSpec load(String device, String... sets) {
        return HardwareLoader.load(Path.of("models/hardware/" + device + ".yaml"), List.of(sets));
    }

    /**
     * The scaled tables against Horowitz's 45 nm figures times the Stillmaker-Baas factors, worked out apart from
     * the tables (hwcomponents techscaling.py: 45 nm (1.103, -0.362, 0.2767), 7 nm (0.1776, -0.09097, 0.02447) at
     * 0.8 V give x0.0943; x sqrt(node / 7) below): fp16 MAC 0.141 / 0.120 / 0.107 pJ, int8 0.022 / 0.018 /
     * 0.016, 1 MB SRAM read 9.4 / 8.0 / 7.1 pJ per 64 b, leakage 3.3-3.6 uW/KB at 7 nm (OpenRAM's 35-38).
     */
    @Test
    void nodeTablesMatchTheSheetsScaledFigures() {
        double[][] sheet = {{0.141, 0.022, 9.4}, {0.120, 0.018, 8.0}, {0.107, 0.016, 7.1}};
        String[] nodes = {"7nm", "5nm", "4nm"};
        for (int i = 0; i < nodes.length; i++) {
            EnergyModel m = EnergyModel.load(Path.of("models/energy/" + nodes[i] + ".yaml"));
            assertEquals(sheet[i][0], m.macPj().get(DataType.FP16), 0.0015, nodes[i]);
            assertEquals(sheet[i][1], m.macPj().get(DataType.INT8), 0.0015, nodes[i]);
            assertEquals(sheet[i][2], m.sramReadPjPer64b(1024), 0.06, nodes[i]);
            assertEquals(0.8, m.nominalVoltage(), 0);
            for (DataType t : DataType.values()) {
                assertNull(m.missing(t), nodes[i] + " gives every data type");
            }
        }
        double leak = EnergyModel.load(Path.of("models/energy/7nm.yaml")).sramLeakageUwPerKib();
        assertTrue(leak >= 3.3 && leak <= 3.6, "7 nm leakage " + leak);
    }

    @Test
    void aDeviceTakesItsMemoryAndLinkStandardsFromTheOffChipTable() {
        EnergyModel a100 = load("a100").energy();
        assertEquals("7nm", a100.name());
        assertEquals(4.3, a100.memoryPjPerBit(), 0, "HBM2e, Moon et al. IEDM 2023");
        assertEquals(1.3, a100.linkPjPerBit(), 0);
        assertEquals(3.4, load("orin-agx").energy().memoryPjPerBit(), 0, "LPDDR5 VDD2H rail");
        assertEquals(3.44, load("h200").energy().memoryPjPerBit(), 0, "HBM3e");
        EnergyAccount account = EnergyModelTest.account(load("a100").withEnergy(a100), a100);
        EnergyBreakdown hbm = account.of(EnergyModelTest.activity(Map.of("hbm_channel.read_bytes", 1000L), 0));
        assertEquals(8000 * (4.3 + 0.56) * 1e-12, hbm.of("hbm"), 1e-18, "HBM2e device plus the host PHY's read");
        EnergyBreakdown macs = account.of(EnergyModelTest.activity(Map.of("pe_array.macs", 1000L), 0));
        assertEquals(1000 * 0.141 * 1.2e-12, macs.of("pe_array"), 1e-18, "datapath plus 20% operand delivery");
    }

    /**
     * The SoC side of the memory interface: 1 GB read and 0.5 GB written on the A100 (HBM2e) cost the device's
     * 8 x 1.5e9 b x 4.3 pJ = 51.6 mJ plus the host PHY's 8 x (1e9 x 0.56 + 5e8 x 1.07) pJ = 8.76 mJ (Samsung's
     * HBM2E PHY, Hot Chips 32): 60.36 mJ; on the H100 (HBM3: 3.9, PHY 0.29 / 0.25) 46.8 + 3.32 = 50.12 mJ; the Orin's
     * LPDDR5 has no PHY figure: 8 x 1.5e9 x 3.4 pJ = 40.8 mJ.
     */
    @Test
    void memoryReadsAndWritesPayTheHostPhyBesideTheDram() {
        Map<String, Long> counts = Map.of("hbm_channel.read_bytes", 1_000_000_000L,
            "hbm_channel.write_bytes", 500_000_000L);
        String[] devices = {"a100", "h100", "orin-agx"};
        double[] joules = {0.06036, 0.05012, 0.0408};
        for (int i = 0; i < devices.length; i++) {
            HardwareSpec hw = load(devices[i]);
            EnergyBreakdown e = EnergyModelTest.account(hw, hw.energy()).of(EnergyModelTest.activity(counts, 0));
            assertEquals(joules[i], e.of("hbm"), 1e-12, devices[i]);
        }
        EnergyModel a100 = load("a100").energy();
        assertEquals(0.56, a100.memoryPhyPjPerBit(null, false), 0);
        assertEquals(1.07, a100.memoryPhyPjPerBit(null, true), 0);
        assertEquals(0, a100.memoryPhyPjPerBit("ddr5", false), 0, "no DDR5 host-PHY figure");
    }

    /**
     * HBM2's host PHY from Rambus's split of an HBM2 interface streaming reads at 2 Gb/s (ISCA 2025 tutorial slide
     * 15): SoC PHY 33.3%, DRAM core 37.4%, DRAM interface and channel I/O 29.3%; the DRAM side is O'Connor et al.'s
     * 3.92 pJ/bit, so the PHY reads at 3.92 x 33.3 / 66.7 = 1.957 pJ/bit. On the A100 with the 40 GB board's HBM2,
     * 1 GB read and 0.5 GB written cost 8 x 1.5e9 x 3.92 pJ = 47.04 mJ at the DRAM plus 8 x (1e9 x 1.96 + 5e8 x
     * 1.07) pJ = 19.96 mJ at the PHY (writes as HBM2E's): 67.0 mJ.
     */
    @Test
    void hbm2ReadsPayTheHostPhyShareOfRambusSplit() {
        EnergyModel hbm2 = load("a100", "power.memory_standard=hbm2").energy();
        assertEquals(3.92 * 33.3 / (37.4 + 29.3), hbm2.memoryPhyPjPerBit(null, false), 0.005);
        assertEquals(1.07, hbm2.memoryPhyPjPerBit(null, true), 0);
        HardwareSpec hw = load("a100", "power.memory_standard=hbm2");
        EnergyBreakdown e = EnergyModelTest.account(hw, hw.energy()).of(EnergyModelTest.activity(Map.of(
            "hbm_channel.read_bytes", 1_000_000_000L, "hbm_channel.write_bytes", 500_000_000L), 0));
        assertEquals(0.04704 + 0.01996, e.of("hbm"), 1e-12);
    }

    @Test
    void aBoardDrawsItsIdlePowerWhenNothingRuns() {
        HardwareSpec h100 = load("h100");
        EnergyAccount account = EnergyModelTest.account(h100, h100.energy());
        EnergyBreakdown idle = account.of(EnergyModelTest.activity(Map.of(), 2.0));
        assertEquals(2 * 140.0, idle.staticEnergy(), 1e-9, "two seconds at the measured 140 W");
        assertEquals(0, idle.dynamic(), 0);
        assertTrue(idle.of("board") > 0 && idle.of("board") < 280, "the board part is idle less SRAM leakage");
        assertEquals(140.0, account.staticW(), 1e-9);
        // Without power.idle_w (Orin: not found) static power stays SRAM leakage.
        HardwareSpec orin = load("orin-agx");
        EnergyAccount o = EnergyModelTest.account(orin, orin.energy());
        assertEquals(o.leakageW(), o.staticW(), 0);
        assertEquals(0, o.of(EnergyModelTest.activity(Map.of(), 1.0)).of("board"), 0);
    }

    /** Dynamic energy along a clock sweep follows (V(f) / V_nominal)^2 of the operating points. */
    @Test
    void dynamicEnergyFollowsVSquaredAlongTheOperatingPoints(@TempDir Path tmp) throws Exception {
        Path hw = tmp.resolve("vf.yaml");
        Files.writeString(hw, Files.readString(Path.of("models/hardware/h100.yaml"))
            .replace("../energy/4nm.yaml", Path.of("models/energy/4nm.yaml").toAbsolutePath().toString())
            .replace("../memory/", Path.of("models/memory").toAbsolutePath() + "/")
            .replace("../cost/", Path.of("models/cost").toAbsolutePath() + "/")
            .replace("  link_standard: nvlink4", "  link_standard: nvlink4\n  operating_points:\n"
                + "    - {clock_mhz: 600, voltage_v: 0.70}\n    - {clock_mhz: 1200, voltage_v: 0.80}\n"
                + "    - {clock_mhz: 1800, voltage_v: 1.00}\n"));
        double perMacPj = 0.107 * 1.2; // the 4 nm table's fp16 MAC with operand delivery, at its 0.8 V
        // clock -> volts by hand from the points: clamped below, linear between, clamped above
        double[][] closedForm = {{300, 0.70}, {600, 0.70}, {900, 0.75}, {1200, 0.80}, {1500, 0.90},
            {1800, 1.00}, {2000, 1.00}};
        for (double[] point : closedForm) {
            HardwareSpec h = HardwareLoader.load(hw, List.of("clock_mhz=" + point[0]));
            EnergyAccount a = EnergyModelTest.account(h, h.energy());
            double joules = a.of(EnergyModelTest.activity(Map.of("pe_array.macs", 1_000_000L), 0)).dynamic();
            double expected = 1e6 * perMacPj * 1e-12 * (point[1] / 0.8) * (point[1] / 0.8);
            assertEquals(expected, joules, expected * 1e-9, "at " + point[0] + " MHz");
        }
    }

    @Test
    void badPowerInputNamesTheKey(@TempDir Path tmp) throws Exception {
        String m1 = assertThrows(InputException.class, () -> load("h100",
            "power.operating_points=x")).getMessage();
        assertTrue(m1.contains("power.operating_points"), m1);
        Path hw = tmp.resolve("bad.yaml");
        Files.writeString(hw, Files.readString(Path.of("models/hardware/h100.yaml"))
            .replace("../energy/4nm.yaml", Path.of("models/energy/4nm.yaml").toAbsolutePath().toString())
            .replace("../memory/", Path.of("models/memory").toAbsolutePath() + "/")
            .replace("../cost/", Path.of("models/cost").toAbsolutePath() + "/")
            .replace("  link_standard: nvlink4", "  link_standard: nvlink4\n  operating_points:\n"
                + "    - {clock_mhz: 600, voltage_v: 0.90}\n    - {clock_mhz: 1200, voltage_v: 0.80}\n"));
        String m2 = assertThrows(InputException.class, () -> HardwareLoader.load(hw, List.of())).getMessage();
        assertTrue(m2.contains("power: operating_points: expected clocks increasing and voltages not decreasing")
            || m2.contains("power.operating_points: expected clocks increasing"), m2);
        String m3 = assertThrows(InputException.class, () -> load("h100", "power.memory_standard=hbm9"))
            .getMessage();
        assertTrue(m3.contains("power.memory_standard") && m3.contains("hbm3e"), m3);
        String m4 = assertThrows(InputException.class, () -> load("h100", "power.idle_w=900")).getMessage();
        assertTrue(m4.contains("power.idle_w"), m4);
        // A node table that lacks the hardware's data type.
        Path table = tmp.resolve("no-fp8.yaml");
        Files.writeString(table, Files.readString(Path.of("models/energy/4nm.yaml"))
            .replace("off_chip: off-chip.yaml", "off_chip: " + Path.of("models/energy/off-chip.yaml")
                .toAbsolutePath()).replaceAll("(?m)^  fp8: .*\\n", ""));
        String m5 = assertThrows(InputException.class, () -> load("h100", "energy=" + table, "data_type=fp8"))
            .getMessage();
        assertTrue(m5.contains("mac_pj.fp8") && m5.contains("data_type fp8"), m5);
        // An off-chip table whose host-PHY row lacks the write figure.
        Path offChip = tmp.resolve("off-chip.yaml");
        Files.writeString(offChip, Files.readString(Path.of("models/energy/off-chip.yaml"))
            .replaceFirst("hbm3: \\{read: 0.29, write: 0.25\\}", "hbm3: {read: 0.29}"));
        Path phyTable = tmp.resolve("phy.yaml");
        Files.writeString(phyTable, Files.readString(Path.of("models/energy/4nm.yaml"))
            .replace("off_chip: off-chip.yaml", "off_chip: " + offChip));
        String m6 = assertThrows(InputException.class, () -> EnergyModel.load(phyTable)).getMessage();
        assertTrue(m6.contains("phy_pj_per_bit.hbm3.write"), m6);
    }

    @Test
    void aThrottledOperatorTakesTheHighestOperatingPointUnderTheCap() {
        DevicePower board = new DevicePower(50, 400, 200, null, null,
            List.of(new double[] {500, 0.6}, new double[] {1000, 0.7}, new double[] {1500, 0.8}),
            DevicePower.CapPolicy.THROTTLE);
        // power falling with the clock: 300 W at 1500, 250 at 1000, 150 at 500
        Map<Double, Double> watts = Map.of(1500.0, 300.0, 1000.0, 250.0, 500.0, 150.0);
        assertEquals(500, board.throttledClock(1500, watts::get), 0);
        assertEquals(1000, board.throttledClock(1500, c -> c >= 1500 ? 300 : 190), 0, "the highest under the cap");
        assertEquals(1500, board.throttledClock(1500, c -> 200), 0, "at the cap is within it");
        assertEquals(500, board.throttledClock(1500, c -> 900), 0, "none under: the lowest point");
        assertEquals(1000, board.throttledClock(1200, c -> c > 1000 ? 300 : 100), 0, "points above the clock skipped");
    }
}

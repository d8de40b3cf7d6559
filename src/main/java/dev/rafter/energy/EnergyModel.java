package dev.rafter.energy;

import static dev.rafter.config.Check.numberIn;

import dev.rafter.config.InputException;
import dev.rafter.config.Section;
import dev.rafter.hw.DataType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Energy tables of one technology, from {@code models/energy/*.yaml}: per-action energies, SRAM access energy as
 * a function of capacity, SRAM leakage, memory energy per bit, and an optional voltage-frequency curve that
 * scales dynamic energy with V^2 and leakage with V. A node table may add an operand-delivery overhead on MACs and
 * name an {@code off_chip} file of DRAM and link energies per standard; {@link #forDevice} then applies a device's
 * {@code power:} section (its standards, operating points and board power).
 *
 * @param operandOverhead fraction added to every MAC's energy for delivering its operands (0 at 45 nm)
 * @param dramPjPerBit    energy per bit by DRAM standard (empty without an off-chip file)
 * @param linkPjPerBitByStandard energy per bit by device-link standard (likewise)
 * @param device          the device's board power, or null (static energy is SRAM leakage only)
 * @param specialFunctionPj energy of one special-function evaluation (exp, rsqrt...) on an SFU, pJ at nominal
 *                        voltage, beyond the one FLOP its operator counts for it
 * @param paddedMacFraction what a MAC on a tile's padding costs, as a fraction of a useful MAC (operands included)
 * @param phyPjPerBit     the SoC side of the memory interface (host PHY) by DRAM standard, per bit read and written:
 *                        not part of a DRAM device's figure (empty without an off-chip file; a standard without a
 *                        row pays none)
 */
public record EnergyModel(String name, double nominalVoltage, Map<DataType, Double> macPj,
                          Map<DataType, Double> vectorFlopPj, List<double[]> sramReadTable, double sramWriteToRead,
                          double sramLeakageUwPerKib, SramCell sramCell, double lowStandbyLeakageFactor,
                          double memoryPjPerBit, double linkPjPerBit, List<double[]> voltageCurve,
                          double operandOverhead, Map<String, Double> dramPjPerBit,
                          Map<String, Double> linkPjPerBitByStandard, DevicePower device,
                          double specialFunctionPj, double paddedMacFraction, Map<String, Phy> phyPjPerBit) {

    /** Energy per bit of a host PHY, pJ, for data read from memory and for data written to it. */
    public record Phy(double read, double write) {
        public Phy {
            numberIn("read", read, 0, 1e4, false);
            numberIn("write", write, 0, 1e4, false);
        }
    }

    /** SRAM cell type: high-performance cells, or low-standby-power cells that leak far less. */
    public enum SramCell { HIGH_PERFORMANCE, LOW_STANDBY_POWER }

    public EnergyModel {
        numberIn("nominal_voltage_v", nominalVoltage, 0, 5, true);
        numberIn("sram_write_to_read", sramWriteToRead, 0, 10, true);
        numberIn("sram_leakage_uw_per_kib", sramLeakageUwPerKib, 0, 1e6, false);
        numberIn("low_standby_leakage_factor", lowStandbyLeakageFactor, 0, 1, false);
        numberIn("memory_pj_per_bit", memoryPjPerBit, 0, 1e4, false);
        numberIn("link_pj_per_bit", linkPjPerBit, 0, 1e4, false);
        numberIn("operand_overhead", operandOverhead, 0, 100, false);
        numberIn("special_function_pj", specialFunctionPj, 0, 1e6, false);
        numberIn("padded_mac_fraction", paddedMacFraction, 0, 1, false);
        dramPjPerBit = Map.copyOf(dramPjPerBit);
        linkPjPerBitByStandard = Map.copyOf(linkPjPerBitByStandard);
        phyPjPerBit = Map.copyOf(phyPjPerBit);
        for (int i = 1; i < sramReadTable.size(); i++) {
            if (sramReadTable.get(i)[0] <= sramReadTable.get(i - 1)[0]) {
                throw new InputException("sram_read_pj_per_64b: capacities must increase");
            }
        }
        for (int i = 1; i < voltageCurve.size(); i++) {
            if (voltageCurve.get(i)[0] <= voltageCurve.get(i - 1)[0]) {
                throw new InputException("voltage_frequency: clocks must increase");
            }
        }
    }

    public static EnergyModel load(Path file) {
        return Section.read(file, EnergyModel::read);
    }

    static EnergyModel read(Section s) {
        String name = s.string("name");
        double volts = s.number("nominal_voltage_v");
        Map<DataType, Double> mac = perType(s.section("mac_pj"));
        Map<DataType, Double> flop = perType(s.section("vector_flop_pj"));
        List<double[]> table = new ArrayList<>();
        for (Section row : s.list("sram_read_pj_per_64b")) {
            table.add(new double[] {row.build(() -> numberIn("capacity_kib", row.number("capacity_kib"), 0, 1e9, true)),
                row.build(() -> numberIn("pj", row.number("pj"), 0, 1e6, true))});
        }
        List<double[]> curve = new ArrayList<>();
        if (s.has("voltage_frequency")) {
            for (Section row : s.list("voltage_frequency")) {
                curve.add(new double[] {row.build(() -> numberIn("clock_mhz", row.number("clock_mhz"), 0, 1e5, true)),
                    row.build(() -> numberIn("voltage_v", row.number("voltage_v"), 0, 5, true))});
            }
        }
        Map<String, Double> dram = new java.util.TreeMap<>();
        Map<String, Double> links = new java.util.TreeMap<>();
        Map<String, Phy> phy = new java.util.TreeMap<>();
        if (s.has("off_chip")) {
            Section off = Section.load(s.file("off_chip"));
            perStandard(off, "dram_pj_per_bit", dram);
            perStandard(off, "link_pj_per_bit", links);
            if (off.has("phy_pj_per_bit")) {
                Section rows = off.section("phy_pj_per_bit");
                for (String standard : rows.keys()) {
                    Section row = rows.section(standard);
                    phy.put(standard, row.build(() -> new Phy(row.number("read"), row.number("write"))));
                }
            }
            off.finish();
        }
        return s.build(() -> new EnergyModel(name, volts, mac, flop, table, s.number("sram_write_to_read"),
            s.number("sram_leakage_uw_per_kib"), s.choice("sram_cell", SramCell.class, SramCell.HIGH_PERFORMANCE),
            s.number("low_standby_leakage_factor", 1), s.number("memory_pj_per_bit"), s.number("link_pj_per_bit", 0),
            curve, s.number("operand_overhead", 0), dram, links, null, s.number("special_function_pj"),
            s.number("padded_mac_fraction"), phy));
    }

    /** The data types a table gives (a hardware file checks its own against them: {@link #missing}). */
    private static Map<DataType, Double> perType(Section s) {
        Map<DataType, Double> out = new EnumMap<>(DataType.class);
        for (DataType t : DataType.values()) {
            if (s.has(t.key())) {
                out.put(t, s.build(() -> numberIn(t.key(), s.number(t.key()), 0, 1e6, false)));
            }
        }
        return out;
    }

    private static void perStandard(Section off, String key, Map<String, Double> out) {
        if (!off.has(key)) {
            return;
        }
        Section rows = off.section(key);
        for (String standard : rows.keys()) {
            out.put(standard, rows.build(() -> numberIn(standard, rows.number(standard), 0, 1e4, false)));
        }
    }

    /** The first per-type key this table lacks for {@code type} ({@code mac_pj.fp8}), or null. */
    public String missing(DataType type) {
        if (!macPj.containsKey(type)) {
            return "mac_pj." + type.key();
        }
        return vectorFlopPj.containsKey(type) ? null : "vector_flop_pj." + type.key();
    }

    /**
     * These tables as a device with {@code power:} uses them: its memory and link standards' energy per bit, its
     * operating points instead of the table's curve, and its board power. Complaints name the power key.
     */
    public EnergyModel forDevice(DevicePower power) {
        double memory = memoryPjPerBit;
        if (power.memoryStandard() != null) {
            memory = standard("memory_standard", power.memoryStandard(), dramPjPerBit, "dram_pj_per_bit");
        }
        double link = linkPjPerBit;
        if (power.linkStandard() != null) {
            link = standard("link_standard", power.linkStandard(), linkPjPerBitByStandard, "link_pj_per_bit");
        }
        List<double[]> curve = power.operatingPoints().isEmpty() ? voltageCurve : power.operatingPoints();
        return new EnergyModel(name, nominalVoltage, macPj, vectorFlopPj, sramReadTable, sramWriteToRead,
            sramLeakageUwPerKib, sramCell, lowStandbyLeakageFactor, memory, link, curve, operandOverhead,
            dramPjPerBit, linkPjPerBitByStandard, power, specialFunctionPj, paddedMacFraction, phyPjPerBit);
    }

    /**
     * Energy per bit of a memory tier whose off-chip row is {@code standard} (checked when the hardware loads);
     * null: the memory figure of this model ({@code power.memory_standard}'s row, or the table's own).
     */
    public double memoryPjPerBit(String standard) {
        return standard == null ? memoryPjPerBit : dramPjPerBit.get(standard);
    }

    /**
     * Host-PHY energy per bit of a memory tier whose off-chip row is {@code standard} (null: the device's
     * {@code power.memory_standard}), for reads or writes; 0 where no PHY figure is given for the standard.
     */
    public double memoryPhyPjPerBit(String standard, boolean write) {
        String s = standard != null ? standard : device == null ? null : device.memoryStandard();
        Phy p = s == null ? null : phyPjPerBit.get(s);
        return p == null ? 0 : write ? p.write() : p.read();
    }

    private double standard(String key, String standard, Map<String, Double> table, String tableKey) {
        Double v = table.get(standard);
        if (v == null) {
            throw new InputException(key + ": the " + name + " table's " + tableKey + " has no '" + standard
                + "' (it has " + (table.isEmpty() ? "none: no off_chip file" : String.join(", ", new java.util.TreeSet<>(table.keySet())))
                + ")");
        }
        return v;
    }

    /** Energy of one MAC of {@code type} in pJ at nominal voltage, operand delivery included. */
    public double macPjWithOperands(DataType type) {
        return operandOverhead == 0 ? macPj.get(type) : macPj.get(type) * (1 + operandOverhead);
    }

    /**
     * Read energy of 64 bits from an SRAM of the given capacity: log-log interpolation of the table, extrapolated
     * below its smallest entry. Above its largest entry an SRAM is taken to be built of banks of that size, and an
     * access costs one bank's access (the wires to reach a bank are not modelled).
     */
    public double sramReadPjPer64b(double capacityKib) {
        double[] largest = sramReadTable.get(sramReadTable.size() - 1);
        if (sramReadTable.size() == 1 || capacityKib >= largest[0]) {
            return largest[1];
        }
        int i = 1;
        while (i < sramReadTable.size() - 1 && capacityKib > sramReadTable.get(i)[0]) {
            i++;
        }
        double[] a = sramReadTable.get(i - 1);
        double[] b = sramReadTable.get(i);
        double slope = Math.log(b[1] / a[1]) / Math.log(b[0] / a[0]);
        return a[1] * Math.pow(capacityKib / a[0], slope);
    }

    /** Leakage of an SRAM of the given capacity, in watts, at nominal voltage. */
    public double sramLeakageW(double capacityKib) {
        double factor = sramCell == SramCell.LOW_STANDBY_POWER ? lowStandbyLeakageFactor : 1;
        return sramLeakageUwPerKib * 1e-6 * capacityKib * factor;
    }

    /** Supply voltage at a clock: linear between curve points, clamped at the ends; nominal without a curve. */
    public double voltageAt(double clockMhz) {
        if (voltageCurve.isEmpty()) {
            return nominalVoltage;
        }
        if (clockMhz <= voltageCurve.get(0)[0]) {
            return voltageCurve.get(0)[1];
        }
        for (int i = 1; i < voltageCurve.size(); i++) {
            double[] a = voltageCurve.get(i - 1);
            double[] b = voltageCurve.get(i);
            if (clockMhz <= b[0]) {
                return a[1] + (b[1] - a[1]) * (clockMhz - a[0]) / (b[0] - a[0]);
            }
        }
        return voltageCurve.get(voltageCurve.size() - 1)[1];
    }
}

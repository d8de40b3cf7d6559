package dev.rafter.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.sim.component.Catalogue;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "describe", mixinStandardHelpOptions = true,
    description = "Print a device's derived peaks: FLOP/s, memory bandwidth, ridge point, SRAM.")
public final class DescribeCommand extends CommandBase implements Callable<Integer> {
    @Mixin
    HardwareOptions hardware;

    @Option(names = "--json", description = "print JSON for scripts")
    boolean json;

    @Override
    public Integer call() throws Exception {
        HardwareSpec hw = hardware.load();
        Map<String, Object> d = facts(hw);
        if (json) {
            out().println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(d));
        } else {
            out().printf("%s%n", hw.name());
            out().printf("  PE arrays      %d cores x %d arrays of %dx%d %s at %.0f MHz%n", hw.cores(),
                hw.core().peArrays(), hw.core().peArray().rows(), hw.core().peArray().cols(),
                hw.core().peArray().dataflow().key(), hw.clockMhz());
            out().printf("  peak           %.1f TFLOP/s (PE arrays), %.1f TFLOP/s (vector units)%n",
                hw.peakFlopsPerS() / 1e12, hw.vectorFlopsPerS() / 1e12);
            if (!hw.core().peArray().macsPerCycleByType().isEmpty()) {
                StringBuilder byType = new StringBuilder();
                peaksByType(hw).forEach((type, flops) -> byType.append(byType.length() == 0 ? "" : ", ")
                    .append(String.format(java.util.Locale.ROOT, "%s %.1f", type, flops / 1e12)));
                out().printf("  PE peaks       %s TFLOP/s (dense, by operand type)%n", byType);
            }
            out().printf("  memory         %.2f TB/s over %d channels, %.0f GiB; %s, %.0f ns fixed path%n",
                hw.memoryBytesPerS() / 1e12, hw.memory().channels(), hw.memory().capacityGib(),
                channels(hw.memory()), hw.memory().latencyNs());
            for (HardwareSpec.MemoryTier tier : hw.memoryTiers().subList(1, hw.memoryTiers().size())) {
                HardwareSpec.Memory m = tier.memory();
                out().printf("  tier %-9s %.2f TB/s over %d channels, %.0f GiB; %s, %.0f ns fixed path%n",
                    tier.name(), m.bytesPerSecond() / 1e12, m.channels(), m.capacityGib(), channels(m),
                    m.latencyNs());
            }
            out().printf("  GEMMs          %s, arrays sustain %.1f%% of peak%n", hw.core().gemmTiles().isEmpty()
                ? "tiles searched" : hw.core().gemmTiles().size() + " library tiles " + hw.core().gemmTiles(),
                100 * hw.core().peArray().sustainedFraction());
            out().printf("  dispatch       %s per kernel (%s mode; eager %.0f ns, graph %.0f ns)%n",
                dev.rafter.roofline.RooflineReport.time(hw.dispatch().perKernelNs() * 1e-9),
                hw.dispatch().mode().name().toLowerCase(java.util.Locale.ROOT), hw.dispatch().eagerNs(),
                hw.dispatch().graphNs());
            out().printf("  device links   %.1f GB/s, %s, all-reduce %s over %d cost rows%n",
                hw.deviceLink().bandwidthGbPerS(), hw.deviceLink().topology().name().toLowerCase(java.util.Locale.ROOT),
                hw.deviceLink().algorithm().name().toLowerCase(java.util.Locale.ROOT),
                hw.deviceLink().collectiveCosts().size());
            out().printf("  ridge point    %.1f FLOP/byte%n", hw.ridgeFlopsPerByte());
            out().printf("  SRAM           %.1f MiB (%d x %.0f KiB local + %.0f MiB global)%n",
                hw.sramBytes() / 1048576.0, hw.cores(), hw.core().localBuffer().capacityKib(),
                hw.globalBuffer().capacityMib());
            if (hw.energy() != null) {
                out().printf("  energy         %s tables: SRAM leakage %.2f W, MAC %.2f pJ, HBM %.1f pJ/bit%n",
                    hw.energy().name(), d.get("sram_leakage_w"), hw.energy().macPj().get(hw.dataType()),
                    hw.energy().memoryPjPerBit());
                dev.rafter.energy.DevicePower p = hw.energy().device();
                if (p != null) {
                    out().printf("  board power    idle %s, TDP %.0f W, cap %.0f W%n",
                        p.hasIdle() ? String.format(java.util.Locale.ROOT, "%.0f W", p.idleW()) : "not given",
                        p.tdpW(), p.capW());
                }
            }
        }
        return Main.OK;
    }

    /** A memory's channel model in words: simple, banked (its DRAM standard) or flash (its standard's figures). */
    private static String channels(HardwareSpec.Memory m) {
        if (m.flash() != null) {
            return String.format(java.util.Locale.ROOT, "flash channels (%s: %d KiB pages, %d planes, %s us page"
                + " reads, %d P/E cycles%s)", m.flash().name(), m.flash().pageBytes() / 1024, m.flash().planes(),
                dev.rafter.config.Check.fmt(m.flash().readLatencyUs()), m.flash().endurancePeCycles(),
                m.readBufferMib() > 0 ? ", read buffer " + dev.rafter.config.Check.fmt(m.readBufferMib()) + " MiB"
                    : "");
        }
        return m.timing() == null ? "simple channels" : "banked channels (" + m.timing().name() + ")";
    }

    static Map<String, Object> facts(HardwareSpec hw) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("name", hw.name());
        d.put("clock_mhz", hw.clockMhz());
        d.put("peak_flops_per_s", hw.peakFlopsPerS());
        d.put("peak_flops_per_s_by_type", peaksByType(hw));
        d.put("vector_flops_per_s", hw.vectorFlopsPerS());
        d.put("memory_bytes_per_s", hw.memoryBytesPerS());
        d.put("ridge_flops_per_byte", hw.ridgeFlopsPerByte());
        d.put("sram_bytes", hw.sramBytes());
        d.put("local_buffer_bytes_per_core", hw.core().localBuffer().capacityBytes());
        d.put("global_buffer_bytes", hw.globalBuffer().capacityBytes());
        d.put("device_link_bytes_per_s", hw.deviceLink().bytesPerSecond());
        if (hw.energy() != null) {
            d.put("energy_model", hw.energy().name());
            d.put("sram_leakage_w", new dev.rafter.energy.EnergyAccount(hw, hw.energy(),
                Catalogue.energyUses(hw)).leakageW());
            dev.rafter.energy.DevicePower p = hw.energy().device();
            if (p != null) {
                Map<String, Object> power = new LinkedHashMap<>();
                power.put("idle_w", p.hasIdle() ? p.idleW() : null);
                power.put("tdp_w", p.tdpW());
                power.put("cap_w", p.capW());
                d.put("power", power);
            }
        }
        return d;
    }

    /** PE-array peaks for the device's data type and each type its arrays declare a rate for, in type order. */
    static Map<String, Double> peaksByType(HardwareSpec hw) {
        Map<String, Double> peaks = new LinkedHashMap<>();
        for (dev.rafter.hw.DataType type : dev.rafter.hw.DataType.values()) {
            if (type == hw.dataType() || hw.core().peArray().macsPerCycleByType().containsKey(type)) {
                peaks.put(type.key(), hw.peakFlopsPerS(type));
            }
        }
        return peaks;
    }
}

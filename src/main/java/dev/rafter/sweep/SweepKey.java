package dev.rafter.sweep;

import dev.rafter.energy.EnergyModel;
import dev.rafter.hw.HardwareSpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * What a sweep point's result depends on, as content hashes: the device as loaded (the hardware file with every
 * {@code --set} and {@code --vary} value applied), its energy tables, the operators (the trace file's bytes or the
 * workload as loaded, and the phases), the {@code --cost} file's bytes when there is one, and Rafter's version and
 * build. {@code --resume} reuses a saved point only when all of them are equal, and says which differ otherwise.
 */
public record SweepKey(String rafter, String hardware, String energy, String source, String cost) {

    /** {@code costHash}: the hash of the {@code --cost} file's bytes, null without one (the key has no such entry). */
    public static SweepKey of(String rafterVersion, HardwareSpec hw, String sourceHash, String costHash) {
        return new SweepKey(rafterVersion, sha256(hw.withEnergy(null).toString()), sha256(energyText(hw.energy())),
            sourceHash, costHash);
    }

    /**
     * A system point's key: {@code hardware} hashes the system as loaded (its devices' hardware, switches, wires and
     * layout), {@code energy} its devices' energy tables; {@code costHash} as for a device.
     */
    public static SweepKey of(String rafterVersion, dev.rafter.hw.SystemSpec system, String sourceHash,
                              String costHash) {
        StringBuilder hardware = new StringBuilder(system.name());
        StringBuilder energy = new StringBuilder();
        for (dev.rafter.hw.SystemSpec.Device d : system.devices()) {
            hardware.append('|').append(d.name()).append('|').append(d.hardware().withEnergy(null));
            energy.append('|').append(energyText(d.hardware().energy()));
        }
        hardware.append('|').append(system.switches()).append('|').append(system.wires()).append('|')
            .append(system.dimensions()).append('|').append(system.ringOrder());
        return new SweepKey(rafterVersion, sha256(hardware.toString()), sha256(energy.toString()), sourceHash,
            costHash);
    }

    /** The energy tables as canonical text (records print their arrays by identity, so they are spelled out). */
    static String energyText(EnergyModel e) {
        if (e == null) {
            return "none";
        }
        StringBuilder sb = new StringBuilder(e.name()).append('|').append(e.nominalVoltage()).append('|')
            .append(e.macPj()).append('|').append(e.vectorFlopPj()).append('|');
        e.sramReadTable().forEach(r -> sb.append(Arrays.toString(r)));
        sb.append('|').append(e.sramWriteToRead()).append('|').append(e.sramLeakageUwPerKib()).append('|')
            .append(e.sramCell()).append('|').append(e.lowStandbyLeakageFactor()).append('|')
            .append(e.memoryPjPerBit()).append('|').append(e.linkPjPerBit()).append('|');
        e.voltageCurve().forEach(r -> sb.append(Arrays.toString(r)));
        // Only node tables and powered devices have these: a 45 nm table keeps the key it had before them.
        if (e.operandOverhead() != 0 || !e.dramPjPerBit().isEmpty() || !e.linkPjPerBitByStandard().isEmpty()) {
            sb.append('|').append(e.operandOverhead()).append('|').append(new java.util.TreeMap<>(e.dramPjPerBit()))
                .append('|').append(new java.util.TreeMap<>(e.linkPjPerBitByStandard()));
        }
        if (!e.phyPjPerBit().isEmpty()) {
            sb.append("|phy|").append(new java.util.TreeMap<>(e.phyPjPerBit()));
        }
        if (e.device() != null) {
            dev.rafter.energy.DevicePower p = e.device();
            sb.append("|power|").append(p.idleW()).append('|').append(p.tdpW()).append('|').append(p.capW())
                .append('|').append(p.memoryStandard()).append('|').append(p.linkStandard());
        }
        return sb.toString();
    }

    public Map<String, String> toMap() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("rafter", rafter);
        m.put("hardware", hardware);
        m.put("energy", energy);
        m.put("operators", source);
        if (cost != null) {
            m.put("cost", cost); // only with --cost: points of a sweep without one keep the inputs they had
        }
        return m;
    }

    /** Why a saved point with key {@code saved} is not this one: "" when equal. */
    public String difference(Map<String, String> saved) {
        Map<String, String> now = toMap();
        String[][] keys = {{"rafter", "Rafter version"}, {"hardware", "hardware (file or --set/--vary values)"},
            {"energy", "energy tables"}, {"operators", "trace or workload"}, {"cost", "cost file (--cost)"}};
        for (String[] k : keys) {
            // "cost" is absent from both without --cost; present in one only when --cost was given or dropped.
            if (!java.util.Objects.equals(now.get(k[0]), saved.get(k[0]))) {
                return k[1];
            }
        }
        return "";
    }

    public static String sha256(String text) {
        return hex(digest().digest(text.getBytes(StandardCharsets.UTF_8)));
    }

    /** The hash of a file's bytes, streamed. */
    public static String sha256(Path file) {
        MessageDigest d = digest();
        try (InputStream in = dev.rafter.config.InputFiles.newInputStream(file, Long.MAX_VALUE)) {
            byte[] buffer = new byte[1 << 16];
            int n;
            while ((n = in.read(buffer)) > 0) {
                d.update(buffer, 0, n);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        return hex(d.digest());
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) {
            sb.append(String.format(Locale.ROOT, "%02x", x));
        }
        return sb.toString();
    }
}

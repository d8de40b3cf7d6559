package dev.rafter.cli;

import dev.rafter.config.InputException;
import dev.rafter.config.Section;
import dev.rafter.energy.CostModel;
import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.hw.SystemSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The cost and carbon model a run is billed by: {@code --cost FILE}; {@code --cost none}, no cost; or without
 * {@code --cost} the file the hardware names ({@code cost: ../cost/cloud-2026.yaml}, relative to the hardware file),
 * so that the device's price is written once, in the cost file, and the hardware only points at it. An explicit file
 * must price the device (else exit 2); the hardware's default bills only a device it prices, and says so when printed.
 */
public record CostChoice(CostModel model, Path file, boolean byDefault) {
    /** No cost: {@code --cost none}, or no {@code --cost} and a hardware that names no cost file. */
    static final CostChoice NONE = new CostChoice(null, null, false);

    /** The value of {@code --cost} that turns the hardware's default off. */
    static final String OFF = "none";

    /** From {@code --cost} ({@code option}, null when not given) and the hardware's default ({@code named}). */
    static CostChoice of(Path option, Path named) {
        if (option != null) {
            return option.toString().equals(OFF) ? NONE : new CostChoice(CostModel.load(option), option, false);
        }
        return named == null ? NONE : new CostChoice(CostModel.load(named), named, true);
    }

    /** {@code --cost} on one device: the hardware file (with its {@code --set}s) names the default. */
    static CostChoice forHardware(Path option, Path hardwareFile, List<String> hardwareSets) {
        return of(option, option != null ? null : named(hardwareFile, hardwareSets));
    }

    /**
     * {@code --cost} on a system: the default is the cost file its devices' hardware files name, when they all name
     * the same one ({@code systemSets} apply to the system file, {@code deviceSets} to every device's hardware).
     */
    static CostChoice forSystem(Path option, Path systemFile, List<String> systemSets, List<String> deviceSets) {
        if (option != null) {
            return of(option, null);
        }
        Path shared = null;
        for (Section group : Section.load(systemFile).override(systemSets).list("devices")) {
            Path named = named(group.file("hardware"), deviceSets);
            if (named == null || (shared != null && !shared.equals(named))) {
                return NONE;
            }
            shared = named;
        }
        return of(null, shared);
    }

    /** The cost file a hardware file names (its {@code cost:} key, after {@code sets}), or null. */
    static Path named(Path hardwareFile, List<String> sets) {
        Section s = Section.loadExtending(hardwareFile).override(sets);
        return s.has(HardwareLoader.COST_KEY) ? s.file(HardwareLoader.COST_KEY) : null;
    }

    boolean none() {
        return model == null;
    }

    /**
     * The file's entry for {@code hw}: with {@code --cost FILE}, a device it does not price or one without energy
     * tables is bad input; with the hardware's default, such a device is simply not billed (null).
     */
    CostModel.Device device(HardwareSpec hw) {
        if (none()) {
            return null;
        }
        if (byDefault) {
            return hw.energy() == null ? null : model.devices().get(hw.name());
        }
        if (hw.energy() == null) {
            throw new InputException("--cost " + file + ": the hardware has no energy tables (energy:), so a run has"
                + " no energy to cost");
        }
        return model.device(hw.name(), file.toString());
    }

    /** The entry of every device of {@code spec} (see {@link #device}); null where the default bills none of them. */
    List<CostModel.Device> devices(SystemSpec spec) {
        if (none()) {
            return null;
        }
        if (!byDefault) {
            return SystemRun.costDevices(model, file, spec);
        }
        List<CostModel.Device> out = new ArrayList<>();
        for (SystemSpec.Device d : spec.devices()) {
            CostModel.Device priced = device(d.hardware());
            if (priced == null) {
                return null;
            }
            out.add(priced);
        }
        return out;
    }

    /** What the printed cost line says of its source: nothing for {@code --cost FILE}, the file for the default. */
    String source() {
        return byDefault ? "; the hardware's default " + shown(file) + ", off with --cost " + OFF : "";
    }

    /** {@code path} relative to the working directory where it lies under it (as a user typed it), else whole. */
    static String shown(Path path) {
        Path here = Path.of("").toAbsolutePath();
        Path full = path.toAbsolutePath().normalize();
        return (full.startsWith(here) ? here.relativize(full) : full).toString();
    }
}

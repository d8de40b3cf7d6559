package dev.rafter.cli;

import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** {@code --hardware H [--set K=V]...}, shared by every command that needs a device. */
public final class HardwareOptions {
    @Option(names = "--hardware", required = true, paramLabel = "H", description = "hardware model YAML")
    Path hardware;

    @Option(names = "--set", paramLabel = "K=V",
        description = "override a field by its dotted path: run.* and model.* go to the workload (e.g. run.batch=16),"
            + " every other path to the hardware (e.g. core.local_buffer.capacity_kib=64)")
    List<String> overrides = new ArrayList<>();

    /** The device, for commands without a workload: a workload path ({@code run.*}, {@code model.*}) is refused. */
    public HardwareSpec load() {
        for (String set : overrides) {
            if (dev.rafter.workload.Workload.isWorkloadPath(set)) {
                throw new dev.rafter.config.InputException("--set " + set + ": a workload path (run.*, model.*), but"
                    + " this command takes no --workload");
            }
        }
        return HardwareLoader.load(hardware, overrides);
    }

    /** The device with the hardware paths of {@code --set}; the workload paths are left to the workload. */
    public HardwareSpec loadBesideWorkload() {
        return HardwareLoader.load(hardware, hardwareSets());
    }

    /** The {@code --set} assignments of hardware paths. */
    public List<String> hardwareSets() {
        return overrides.stream().filter(s -> !dev.rafter.workload.Workload.isWorkloadPath(s)).toList();
    }

    /** The {@code --set} assignments of workload paths ({@code run.*}, {@code model.*}), in order. */
    public List<String> workloadSets() {
        return overrides.stream().filter(dev.rafter.workload.Workload::isWorkloadPath).toList();
    }
}

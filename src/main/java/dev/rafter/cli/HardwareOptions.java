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
        description = "override a hardware field by its dotted path, e.g. core.local_buffer.capacity_kib=64")
    List<String> overrides = new ArrayList<>();

    public HardwareSpec load() {
        return HardwareLoader.load(hardware, overrides);
    }
}

package dev.rafter.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.SystemLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A point's resume key depends on what the files say, not on the folder they were read from. */
class SweepKeyTest {
    @TempDir
    Path tmp;

    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }

    static List<String> yamlNames(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".yaml")).sorted().toList();
        }
    }

    @Test
    void everyBundledModelHasTheSameKeyInAnotherFolder() throws IOException {
        Path here = Path.of("models");
        Path there = tmp.resolve("elsewhere/deeper/models");
        copyTree(here, there);
        for (String name : yamlNames(here.resolve("hardware"))) {
            SweepKey a = SweepKey.of("v", HardwareLoader.load(here.resolve("hardware").resolve(name), List.of()), "s", null);
            SweepKey b = SweepKey.of("v", HardwareLoader.load(there.resolve("hardware").resolve(name), List.of()), "s", null);
            assertEquals(a, b, "hardware/" + name);
        }
        for (String name : yamlNames(here.resolve("systems"))) {
            SweepKey a = SweepKey.of("v", SystemLoader.load(here.resolve("systems").resolve(name), List.of()), "s", null);
            SweepKey b = SweepKey.of("v", SystemLoader.load(there.resolve("systems").resolve(name), List.of()), "s", null);
            assertEquals(a, b, "systems/" + name);
        }
    }

    @Test
    void aChangedComponentPresetValueChangesTheKey() throws IOException {
        Path models = tmp.resolve("models");
        copyTree(Path.of("models"), models);
        Path hw = models.resolve("hardware/h100-pim.yaml");
        SweepKey before = SweepKey.of("v", HardwareLoader.load(hw, List.of()), "s", null);
        Path preset = models.resolve("nmp");
        for (String name : yamlNames(preset)) {
            Path p = preset.resolve(name);
            String text = Files.readString(p);
            Files.writeString(p, text.replaceFirst("(?m)^(\\w+_per_cycle\\w*|\\w+_cycles): *(\\d+)", "$1: 9$2"));
        }
        SweepKey after = SweepKey.of("v", HardwareLoader.load(hw, List.of()), "s", null);
        assertNotEquals(before.hardware(), after.hardware());
    }
}

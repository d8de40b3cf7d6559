package dev.rafter.hw;

import dev.rafter.config.Section;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The bundled A100 model with its GPU-library keys taken out (the CTA tile list and the sustained tensor-core
 * fraction), for tests of the general tile search and of the ideal arrays, or without its SIMT side; parsed under
 * the model's own name, so its relative paths still resolve.
 */
public final class TestModels {
    private static final Path A100 = Path.of("models/hardware/a100.yaml");

    private TestModels() {}

    /** a100.yaml's text without {@code core.gemm_tiles} and {@code core.pe_array.sustained_fraction}. */
    public static String a100TextWithoutLibraryKeys() {
        try {
            return Files.readString(A100)
                .replaceAll("(?m)^  gemm_tiles:.*\\n(^ {6,}#.*\\n)*", "")
                .replaceAll("(?m)^    sustained_fraction:.*\\n(^ {6,}#.*\\n)*", "");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The A100 model without its {@code core.simt} section (kernels' latency chains not modelled, as on the devices
     * without one), with {@code --set} overrides.
     */
    public static HardwareSpec a100WithoutSimt(String... sets) {
        try {
            String text = Files.readString(A100).replaceAll("(?m)^  simt:.*\\n(^ {4,}.*\\n)*", "");
            return HardwareLoader.read(Section.parse(A100.toString(), text).override(List.of(sets)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The A100 model searching its own tiles at the arrays' full rate, with {@code --set} overrides. */
    public static HardwareSpec a100Generic(String... sets) {
        return HardwareLoader.read(Section.parse(A100.toString(), a100TextWithoutLibraryKeys())
            .override(List.of(sets)));
    }
}

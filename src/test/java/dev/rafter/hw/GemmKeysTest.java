package dev.rafter.hw;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.config.InputException;
import dev.rafter.config.Section;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The optional GEMM keys: core.gemm_tiles and core.pe_array.sustained_fraction. */
class GemmKeysTest {
    static String a100Text() throws IOException {
        return TestModels.a100TextWithoutLibraryKeys();
    }

    /** Reads the text as if it were the A100 file (paths in it resolve against models/hardware/). */
    static HardwareSpec read(String text, String... sets) {
        return HardwareLoader.read(Section.parse("models/hardware/a100.yaml", text).override(List.of(sets)));
    }

    static String withTiles(String tiles) throws IOException {
        return a100Text().replace("  pe_arrays: 4", "  gemm_tiles: " + tiles + "\n  pe_arrays: 4");
    }

    static String error(Runnable r) {
        return assertThrows(InputException.class, r::run).getMessage();
    }

    @Test
    void withoutTheKeysTheDefaultsKeepTodaysModel() throws IOException {
        HardwareSpec hw = read(a100Text());
        assertEquals(List.of(), hw.core().gemmTiles());
        assertEquals(1.0, hw.core().peArray().sustainedFraction());
        assertEquals(hw.core().peArray().cycles(128, 64, 64), hw.core().peArray().sustainedCycles(128, 64, 64));
    }

    @Test
    void tilesAndFractionAreRead() throws IOException {
        HardwareSpec hw = read(withTiles("[[128, 256, 64], [64, 64, 64]]"),
            "core.pe_array.sustained_fraction=0.869");
        assertEquals(List.of(new HardwareSpec.GemmTile(128, 256, 64), new HardwareSpec.GemmTile(64, 64, 64)),
            hw.core().gemmTiles());
        assertEquals(0.869, hw.core().peArray().sustainedFraction());
        assertEquals(311.9e12, hw.peakFlopsPerS(), 311.9e12 * 0.01, "the roofline keeps the datasheet peak");
    }

    @Test
    void badValuesNameTheirKey() throws IOException {
        String a100 = a100Text();
        for (String bad : new String[] {"[[128, 256]]", "[[128, 256, 64.5]]", "[[128, 0, 64]]", "[128, 256, 64]",
            "[]"}) {
            String text = withTiles(bad);
            String m = error(() -> read(text));
            assertTrue(m.contains("core.gemm_tiles"), bad + ": " + m);
        }
        // A list none of whose tiles fits the local buffer is valid (a buffer sweep gets there): the mapper falls
        // back to its own search and says so.
        HardwareSpec tooBig = read(withTiles("[[1024, 1024, 64]]"));
        String why = dev.rafter.mapping.GemmMapper.plan(tooBig, dev.rafter.workload.Operator.gemm(0, "g",
            dev.rafter.workload.Phase.PREFILL, 0, 0, 1, 4096, 4096, 4096, DataType.FP16)).program().explanation();
        assertTrue(why.startsWith("no library tile fits: searched local tile"), why);
        for (String bad : new String[] {"0", "1.5", "-0.2"}) {
            String m = error(() -> read(a100, "core.pe_array.sustained_fraction=" + bad));
            assertTrue(m.contains("core.pe_array.sustained_fraction"), m);
        }
    }
}

package dev.rafter.hw;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.Map;
import java.util.function.ToIntFunction;
import org.junit.jupiter.api.Test;

/**
 * The faster parts' standards are their base standard's ns timings at their own clock: HBM3E (hbm3e.yaml) is HBM3
 * (hbm3.yaml) at 9.375 Gb/s (1.2 TB/s per stack over 1024 pins), LPDDR5X-7500 (lpddr5x.yaml) is LPDDR5-6400
 * (lpddr5.yaml) at 7500 Mb/s. Each cycle count must be the base's time rounded up to whole cycles of the new clock.
 */
class MemoryPresetsTest {
    static MemoryTiming load(String name) {
        return MemoryTiming.load(Path.of("models/memory/" + name + ".yaml"));
    }

    /** The timings given in ns by the standards (the rest are burst-based or own rules, checked apart). */
    static final Map<String, ToIntFunction<MemoryTiming.Timing>> NS_TIMINGS = Map.ofEntries(
        Map.entry("cl", MemoryTiming.Timing::cl), Map.entry("cwl", MemoryTiming.Timing::cwl),
        Map.entry("rcd_rd", MemoryTiming.Timing::rcdRd), Map.entry("rcd_wr", MemoryTiming.Timing::rcdWr),
        Map.entry("rp", MemoryTiming.Timing::rp), Map.entry("ras", MemoryTiming.Timing::ras),
        Map.entry("rtp", MemoryTiming.Timing::rtp), Map.entry("wr", MemoryTiming.Timing::wr),
        Map.entry("ccd_l", MemoryTiming.Timing::ccdL), Map.entry("rrd_s", MemoryTiming.Timing::rrdS),
        Map.entry("rrd_l", MemoryTiming.Timing::rrdL), Map.entry("faw", MemoryTiming.Timing::faw),
        Map.entry("wtr_s", MemoryTiming.Timing::wtrS), Map.entry("wtr_l", MemoryTiming.Timing::wtrL),
        Map.entry("refi", MemoryTiming.Timing::refi));

    static void assertRescaled(MemoryTiming base, MemoryTiming fast) {
        assertEquals(base.organisation(), fast.organisation());
        assertEquals(base.controller(), fast.controller());
        assertEquals(base.timing().bl(), fast.timing().bl(), "a burst is as many clocks");
        assertEquals(base.timing().ccdS(), fast.timing().ccdS(), "one burst");
        NS_TIMINGS.forEach((key, timing) -> {
            double ns = timing.applyAsInt(base.timing()) * base.timing().tckNs();
            // The new tCK is rounded to 4 digits in the file: compare against the exact clock.
            assertEquals((int) Math.ceil(ns / exactTck(fast) - 1e-9), timing.applyAsInt(fast.timing()), key);
        });
    }

    static double exactTck(MemoryTiming t) {
        return switch (t.name()) {
            case "HBM3E-9375" -> 4 / 9.375;
            case "LPDDR5X-7500" -> 8 / 7.5;
            default -> throw new AssertionError(t.name());
        };
    }

    @Test
    void hbm3eIsHbm3AtItsDataRate() {
        MemoryTiming hbm3e = load("hbm3e");
        assertEquals(4 / 9.375, hbm3e.timing().tckNs(), 5e-5);
        assertRescaled(load("hbm3"), hbm3e);
        // tRFC 450 ns (12 Gb a channel), tRTW kept in ns: 12.5 ns.
        assertEquals(1055, hbm3e.timing().rfc());
        assertEquals(30, hbm3e.timing().rtw());
    }

    @Test
    void lpddr5xIsLpddr5AtItsDataRate() {
        MemoryTiming lpddr5x = load("lpddr5x");
        assertEquals(8 / 7.5, lpddr5x.timing().tckNs(), 5e-5);
        assertRescaled(load("lpddr5"), lpddr5x);
        MemoryTiming.Timing t = lpddr5x.timing();
        assertEquals(t.cl() + t.bl() + 2 - t.cwl(), t.rtw(), "Ramulator's read-to-write rule");
        assertEquals((int) Math.ceil(280 / (8 / 7.5)), t.rfc(), "tRFCab 280 ns");
    }

    /**
     * The 3D-stacked DRAM channel (stacked-dram.yaml) is HBM3's DRAM core, in ns at HBM3's clock, on a channel half
     * as wide: the same 32-B burst over twice the beats, a page of the same 256 columns at half the width, and the
     * read-to-write turnaround longer by the longer burst.
     */
    @Test
    void stackedDramIsHbm3OnAHalfWidthChannel() {
        MemoryTiming hbm3 = load("hbm3");
        MemoryTiming stacked = load("stacked-dram");
        assertEquals(hbm3.timing().tckNs(), stacked.timing().tckNs());
        NS_TIMINGS.forEach((key, timing) -> assertEquals(timing.applyAsInt(hbm3.timing()),
            timing.applyAsInt(stacked.timing()), key));
        assertEquals(2 * hbm3.timing().bl(), stacked.timing().bl(), "16 b x BL16 against 32 b x BL8");
        assertEquals(stacked.timing().bl(), stacked.timing().ccdS(), "one burst after another on the data bus");
        assertEquals(hbm3.organisation().burstBytes(), stacked.organisation().burstBytes());
        assertEquals(hbm3.organisation().rowBytes() / 2, stacked.organisation().rowBytes());
        assertEquals(hbm3.organisation().banks(), stacked.organisation().banks());
        assertEquals(hbm3.timing().rtw() + hbm3.timing().bl(), stacked.timing().rtw());
        assertEquals(hbm3.timing().rfc(), stacked.timing().rfc());
        assertEquals(hbm3.controller(), stacked.controller());
    }
}

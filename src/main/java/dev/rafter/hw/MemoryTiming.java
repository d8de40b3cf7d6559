package dev.rafter.hw;

import static dev.rafter.config.Check.intIn;
import static dev.rafter.config.Check.positive;

import dev.rafter.config.InputException;
import dev.rafter.config.Section;
import java.nio.file.Path;

/**
 * One DRAM standard as data ({@code models/memory/*.yaml}, Ramulator 2's way): the organisation of one channel,
 * its command timings in clock cycles of {@code tck_ns}, and the controller's write-queue watermarks. Read by the
 * banked memory channel; the plain channel ignores it. A new standard is a new file, never a code path.
 */
public record MemoryTiming(String name, Organisation organisation, Timing timing, Controller controller) {

    public MemoryTiming {
        if (organisation.rowBytes() % organisation.burstBytes() != 0) {
            throw new InputException("organisation.row_bytes: " + organisation.rowBytes()
                + " is not a whole number of bursts of " + organisation.burstBytes() + " B");
        }
    }

    /** One channel (the unit with its own banks and data bus: an HBM pseudo-channel, a DDR5 sub-channel). */
    public record Organisation(int bankGroups, int banksPerGroup, int rowBytes, int burstBytes) {
        public Organisation {
            intIn("bank_groups", bankGroups, 1, 64);
            intIn("banks_per_group", banksPerGroup, 1, 256);
            intIn("row_bytes", rowBytes, 16, 1 << 20);
            intIn("burst_bytes", burstBytes, 1, 4096);
            powerOfTwo("bank_groups", bankGroups);
            powerOfTwo("banks_per_group", banksPerGroup);
            powerOfTwo("row_bytes", rowBytes);
            powerOfTwo("burst_bytes", burstBytes);
        }

        /** DRAM address fields are bit fields: every count is a power of two. */
        private static void powerOfTwo(String key, int value) {
            if (Integer.bitCount(value) != 1) {
                throw new InputException(key + ": expected a power of two, got " + value);
            }
        }

        public int banks() {
            return bankGroups * banksPerGroup;
        }
    }

    /**
     * Command timings in cycles of {@code tckNs} (JEDEC names): burst length (bl), read/write latency (cl, cwl),
     * activate to read/write (rcd_rd, rcd_wr), precharge (rp), activate to precharge (ras), read to precharge
     * (rtp), write recovery (wr), column to column in another / the same bank group (ccd_s, ccd_l), activate to
     * activate in another / the same bank group (rrd_s, rrd_l), four-activate window (faw), read to write (rtw),
     * end of write data to read in another / the same bank group (wtr_s, wtr_l), all-bank refresh (rfc) and its
     * interval (refi).
     */
    public record Timing(double tckNs, int bl, int cl, int cwl, int rcdRd, int rcdWr, int rp, int ras, int rtp,
                         int wr, int ccdS, int ccdL, int rrdS, int rrdL, int faw, int rtw, int wtrS, int wtrL,
                         int rfc, int refi) {
        public Timing {
            positive("tck_ns", tckNs, 100);
            intIn("bl_tck", bl, 1, 1000);
            intIn("cl_tck", cl, 1, 1000);
            intIn("cwl_tck", cwl, 0, 1000);
            intIn("rcd_rd_tck", rcdRd, 1, 1000);
            intIn("rcd_wr_tck", rcdWr, 1, 1000);
            intIn("rp_tck", rp, 1, 1000);
            intIn("ras_tck", ras, 1, 10_000);
            intIn("rtp_tck", rtp, 1, 1000);
            intIn("wr_tck", wr, 1, 1000);
            intIn("ccd_s_tck", ccdS, 1, 1000);
            intIn("ccd_l_tck", ccdL, ccdS, 1000);
            intIn("rrd_s_tck", rrdS, 1, 1000);
            intIn("rrd_l_tck", rrdL, rrdS, 1000);
            intIn("faw_tck", faw, 1, 10_000);
            intIn("rtw_tck", rtw, 1, 1000);
            intIn("wtr_s_tck", wtrS, 0, 1000);
            intIn("wtr_l_tck", wtrL, wtrS, 1000);
            intIn("rfc_tck", rfc, 1, 1_000_000);
            intIn("refi_tck", refi, rfc + 1, 100_000_000);
        }

        /** {@code cycles} of this clock in picoseconds. */
        public long ps(int cycles) {
            return Math.round(cycles * tckNs * 1000);
        }
    }

    /** Writes wait in a queue and drain in batches: from the high watermark down to the low one, or when idle. */
    public record Controller(int writeQueueHighBytes, int writeQueueLowBytes) {
        public Controller {
            intIn("write_queue_high_bytes", writeQueueHighBytes, 1, 1 << 30);
            intIn("write_queue_low_bytes", writeQueueLowBytes, 0, writeQueueHighBytes - 1);
        }
    }

    /** Reads a standard's file strictly: every key required, unknown keys rejected, errors name file and key. */
    public static MemoryTiming load(Path file) {
        return Section.read(file, MemoryTiming::read);
    }

    static MemoryTiming read(Section s) {
        String name = s.string("name");
        Section o = s.section("organisation");
        Organisation org = o.build(() -> new Organisation(o.int32("bank_groups"), o.int32("banks_per_group"),
            o.int32("row_bytes"), o.int32("burst_bytes")));
        Section t = s.section("timing");
        Timing timing = t.build(() -> new Timing(t.number("tck_ns"), t.int32("bl_tck"), t.int32("cl_tck"),
            t.int32("cwl_tck"), t.int32("rcd_rd_tck"), t.int32("rcd_wr_tck"), t.int32("rp_tck"), t.int32("ras_tck"),
            t.int32("rtp_tck"), t.int32("wr_tck"), t.int32("ccd_s_tck"), t.int32("ccd_l_tck"), t.int32("rrd_s_tck"),
            t.int32("rrd_l_tck"), t.int32("faw_tck"), t.int32("rtw_tck"), t.int32("wtr_s_tck"), t.int32("wtr_l_tck"),
            t.int32("rfc_tck"), t.int32("refi_tck")));
        Section c = s.section("controller");
        Controller controller = c.build(() -> new Controller(c.int32("write_queue_high_bytes"),
            c.int32("write_queue_low_bytes")));
        return s.build(() -> new MemoryTiming(name, org, timing, controller));
    }
}

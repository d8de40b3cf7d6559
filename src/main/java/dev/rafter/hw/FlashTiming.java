package dev.rafter.hw;

import static dev.rafter.config.Check.intIn;
import static dev.rafter.config.Check.numberIn;

import dev.rafter.config.InputException;
import dev.rafter.config.Section;
import java.nio.file.Path;

/**
 * One flash standard as data ({@code models/memory/hbf.yaml}), read by the {@code flash} memory model: the page
 * (the unit an array read senses and a program writes), the planes behind one channel (the arrays that sense or
 * program in parallel), the erase block, the array times and the endurance. Read latency and endurance are
 * required: no vendor publishes them for HBF, so a file must state the value it assumes.
 */
public record FlashTiming(String name, int pageBytes, int planes, int pagesPerBlock, double readLatencyUs,
                          double programLatencyUs, double eraseLatencyUs, long endurancePeCycles) {

    public FlashTiming {
        intIn("endurance_pe_cycles", endurancePeCycles, 1, 1_000_000_000L);
    }

    /** The organisation section's checks, alone so that a complaint names its key inside that section. */
    static void checkOrganisation(int pageBytes, int planes, int pagesPerBlock) {
        intIn("page_bytes", pageBytes, 512, 1 << 20);
        if (Integer.bitCount(pageBytes) != 1) {
            throw new InputException("page_bytes: expected a power of two, got " + pageBytes);
        }
        intIn("planes", planes, 1, 1 << 16);
        intIn("pages_per_block", pagesPerBlock, 1, 1 << 16);
    }

    /** The timing section's checks (microseconds). */
    static void checkTiming(double readLatencyUs, double programLatencyUs, double eraseLatencyUs) {
        numberIn("read_latency_us", readLatencyUs, 0, 1e4, true);
        numberIn("program_latency_us", programLatencyUs, 0, 1e5, true);
        numberIn("erase_latency_us", eraseLatencyUs, 0, 1e6, false);
    }

    /** tR: a page from the array into its plane's register, in ps. */
    public long readPs() {
        return Math.round(readLatencyUs * 1e6);
    }

    /**
     * The plane time one page program takes: tPROG plus its share of one block erase (a block is erased once per
     * {@code pages_per_block} pages programmed into it, in the background, on the same plane).
     */
    public long programPs() {
        return Math.round(programLatencyUs * 1e6 + eraseLatencyUs * 1e6 / pagesPerBlock);
    }

    /** The same standard with the given read latency and endurance (a tier's own values, for sweeps). */
    public FlashTiming with(double readLatencyUs, long endurancePeCycles) {
        checkTiming(readLatencyUs, programLatencyUs, eraseLatencyUs);
        return new FlashTiming(name, pageBytes, planes, pagesPerBlock, readLatencyUs, programLatencyUs,
            eraseLatencyUs, endurancePeCycles);
    }

    /** Reads a standard's file strictly: every key required, unknown keys rejected, errors name file and key. */
    public static FlashTiming load(Path file) {
        return Section.read(file, FlashTiming::read);
    }

    static FlashTiming read(Section s) {
        String name = s.string("name");
        Section o = s.section("organisation");
        int page = o.int32("page_bytes");
        int planes = o.int32("planes");
        int block = o.int32("pages_per_block");
        o.build(() -> {
            checkOrganisation(page, planes, block);
            return null;
        });
        Section t = s.section("timing");
        double read = t.number("read_latency_us");
        double program = t.number("program_latency_us");
        double erase = t.number("erase_latency_us");
        t.build(() -> {
            checkTiming(read, program, erase);
            return null;
        });
        long endurance = s.integer("endurance_pe_cycles");
        return s.build(() -> new FlashTiming(name, page, planes, block, read, program, erase, endurance));
    }
}

package dev.rafter.sim.component;

import dev.rafter.sim.component.ComponentKind.Parameter;
import dev.rafter.sim.component.ComponentKind.Placement;
import dev.rafter.sim.component.ComponentKind.Port;
import dev.rafter.sim.component.ComponentKind.Scope;
import dev.rafter.sim.component.ComponentKind.Statistic;
import dev.rafter.sim.component.ComponentKind.Utilisation;
import dev.rafter.energy.EnergyUse;
import java.util.List;
import java.util.Set;
import dev.rafter.sim.trace.SliceKind;

import dev.rafter.sim.message.MemoryAccess;
import dev.rafter.sim.steady.Counters;
import dev.rafter.sim.steady.Digest;
import dev.rafter.sim.steady.Frame;
import dev.rafter.sim.steady.Jump;
import dev.rafter.sim.steady.Periodic;

/**
 * The memory controller: splits a transfer over the channels by address interleaving (consecutive
 * {@link #INTERLEAVE_BYTES} blocks go to consecutive channels) and reports completion when every part is done.
 * Each channel gets one contiguous range of its own (channel-local) address space: block {@code b} of the device
 * is block {@code b / channels} of channel {@code b % channels}.
 * Contention emerges from the channel queues that concurrent transfers share.
 */
public final class MemoryController implements Periodic {
    /**
     * The declaration of the tier named {@code hbm} (the first tier unless the hardware file names it otherwise):
     * kind {@code hbm_channel}, tracks {@code hbm.ch0...}, {@code utilisation.hbm}, energy {@code hbm}.
     */
    public static final ComponentKind KIND = declare(dev.rafter.hw.HardwareSpec.FIRST_TIER_NAME);

    /** The kinds declared so far, by tier name: one declaration, instantiated per tier name. */
    private static final java.util.Map<String, ComponentKind> TIER_KINDS = new java.util.concurrent.ConcurrentHashMap<>(
        java.util.Map.of(dev.rafter.hw.HardwareSpec.FIRST_TIER_NAME, KIND));

    /** The kind of the memory tier called {@code tier}: {@code <tier>_channel}, its tracks {@code <tier>.ch<i>}. */
    public static ComponentKind kindOf(String tier) {
        return TIER_KINDS.computeIfAbsent(tier, MemoryController::declare);
    }

    /**
     * The declaration of a tier's controller and channels, one track per channel, everything named by the tier: its
     * statistics, its utilisation (its work over the tier's bandwidth) and its energy (the pJ/bit of the tier's
     * {@code standard:} row of the off-chip table, else the energy model's memory figure).
     */
    private static ComponentKind declare(String tier) {
        String kind = tier + "_channel";
        return new ComponentKind(kind,
            (tier.equals(dev.rafter.hw.HardwareSpec.FIRST_TIER_NAME) ? "a main-memory channel"
                : "a channel of the memory tier '" + tier + "'")
                + ", behind the controller that interleaves accesses (memory.model: simple | banked | flash)",
            new Placement(Scope.DEVICE, hw -> hw.tier(tier) == null ? 0 : hw.tier(tier).memory().channels(),
                (core, i) -> tier + ".ch" + i),
            List.of(Parameter.number("memory.channels", "channels", 1, 4096, null, "(pseudo-)channels"),
                Parameter.number("memory.bandwidth_gb_per_s", "GB/s", 1e-3, 1e6, null, "all channels"),
                Parameter.number("memory.latency_ns", "ns", 0, 1e6, null, "fixed path"),
                Parameter.number("memory.capacity_gib", "GiB", 0, 1 << 20, null, "capacity"),
                Parameter.choice("memory.model", List.of("simple", "banked", "flash"), "simple", "channel model"),
                Parameter.file("memory.timing", "none", "the banked model's DRAM standard (timing table) or the "
                    + "flash model's flash standard"),
                Parameter.number("memory.read_buffer_mib", "MiB", 0, 1 << 30, "0",
                    "flash pages buffered in front of a flash tier")),
            List.of(new Port("access", Port.Direction.IN, List.of(MemoryAccess.class),
                "stage fills, result writes, collective reads and writes")),
            List.of(Statistic.of("read_bytes", "B", Statistic.Measure.AMOUNT,
                    java.util.EnumSet.complementOf(java.util.EnumSet.of(SliceKind.HBM_WRITE, SliceKind.FLASH_PAGE_READ,
                        SliceKind.FLASH_BUFFER_HIT, SliceKind.FLASH_PROGRAM)), Statistic.Combine.SUM,
                    "bytes read"),
                Statistic.of("write_bytes", "B", Statistic.Measure.AMOUNT, Set.of(SliceKind.HBM_WRITE),
                    Statistic.Combine.SUM, "bytes written"),
                Statistic.ofAll("busy_ps", "ps", Statistic.Measure.DURATION, Statistic.Combine.BUSY_FRACTION,
                    "time a channel is busy (transfers and refresh)"),
                Statistic.of("flash_pages_read", "pages", Statistic.Measure.AMOUNT, Set.of(SliceKind.FLASH_PAGE_READ),
                    Statistic.Combine.SUM, "flash pages sensed from the array (model flash)"),
                Statistic.of("read_buffer_hits", "pages", Statistic.Measure.AMOUNT,
                    Set.of(SliceKind.FLASH_BUFFER_HIT), Statistic.Combine.SUM,
                    "flash pages served by the read buffer without an array read (model flash)"),
                Statistic.of("flash_pages_programmed", "pages", Statistic.Measure.AMOUNT,
                    Set.of(SliceKind.FLASH_PROGRAM), Statistic.Combine.SUM, "flash pages programmed (model flash)")),
            new Utilisation(tier, List.of("read_bytes", "write_bytes"),
                hw -> hw.tier(tier).memory().bytesPerSecond(), true),
            new EnergyUse(tier, (a, c) -> 8.0 * (c.count(kind, "read_bytes") + c.count(kind, "write_bytes"))
                * pjPerBit(a, tier) * 1e-12 + phyJ(a, tier, c.count(kind, "read_bytes"), c.count(kind, "write_bytes")),
                EnergyUse.NO_LEAKAGE),
            in -> MemoryModels.channel(in.hardware().tier(tier).memory(), in.index(), in.scheduler(), in.sink(),
                in.track()));
    }

    /** A tier's energy per bit: its own off-chip row ({@code standard:}) or else the energy model's figure. */
    private static double pjPerBit(dev.rafter.energy.EnergyAccount a, String tier) {
        dev.rafter.hw.HardwareSpec.MemoryTier t = a.hardware().tier(tier);
        return a.model().memoryPjPerBit(t == null ? null : t.standard());
    }

    /**
     * The host PHY's joules for the bytes a tier read and wrote (its standard's {@code phy_pj_per_bit} row; 0 without
     * one, added apart so that a tier without a PHY figure is charged exactly what it was before).
     */
    private static double phyJ(dev.rafter.energy.EnergyAccount a, String tier, long readBytes, long writeBytes) {
        dev.rafter.hw.HardwareSpec.MemoryTier t = a.hardware().tier(tier);
        String standard = t == null ? null : t.standard();
        return 8.0 * (readBytes * a.model().memoryPhyPjPerBit(standard, false)
            + writeBytes * a.model().memoryPhyPjPerBit(standard, true)) * 1e-12;
    }

    /** Whether {@code kind} is a memory tier's. */
    public static boolean isTierKind(ComponentKind kind) {
        return TIER_KINDS.get(kind.name().endsWith("_channel")
            ? kind.name().substring(0, kind.name().length() - "_channel".length()) : "") == kind;
    }

    /** A statistic summed over every memory tier's kind (e.g. all bytes read from memory, whichever tier). */
    public static long countAllTiers(EnergyUse.Counts counts, String statistic) {
        long sum = 0;
        for (ComponentKind k : TIER_KINDS.values()) {
            sum += counts.count(k.name(), statistic);
        }
        return sum;
    }

    /**
     * 256 B interleave: a common HBM controller granularity (several 32-64 B bursts per channel hop). Private:
     * callers ask for addresses ({@link #firstResultAddress}, {@link #afterResult}) and for how accesses split
     * ({@link #addressPeriod}, {@link #splitsAlike}), never for the interleave or the channel count.
     */
    private static final int INTERLEAVE_BYTES = 256;

    private final MemoryChannel[] channels;
    private final dev.rafter.sim.Scheduler scheduler;

    private final Tap[] taps;

    public MemoryController(MemoryChannel[] channels, dev.rafter.sim.Scheduler scheduler) {
        this(channels, scheduler, new Tap[0]);
    }

    public MemoryController(MemoryChannel[] channels, dev.rafter.sim.Scheduler scheduler, Tap[] taps) {
        this.channels = channels;
        this.scheduler = scheduler;
        this.taps = taps.clone();
    }

    /**
     * A component that sees every access the controller receives, as it arrives (the hook for a registered kind
     * whose port accepts {@link MemoryAccess}). It keeps no state across accesses that would need shifting when
     * fast-forwarding skips repetitions: the skipped accesses' statistics are multiplied like every other sum.
     */
    public interface Tap {
        void access(MemoryAccess access);
    }

    /** Serves a memory access; {@code done} runs once every channel's part has completed. */
    public void transfer(MemoryAccess access, Runnable done) {
        for (Tap tap : taps) {
            tap.access(access);
        }
        long address = access.address();
        long bytes = access.bytes();
        int n = channels.length;
        long blocks = bytes / INTERLEAVE_BYTES;
        long rest = bytes % INTERLEAVE_BYTES;
        long firstBlock = address / INTERLEAVE_BYTES;
        int first = (int) (firstBlock % n);
        // The channels first, first + 1, ... (cyclically) carry the transfer: all of them once it spans n blocks.
        int issued = (int) Math.min(n, blocks + (rest > 0 ? 1 : 0));
        if (issued == 0) {
            done.run();
            return;
        }
        // One event for the whole transfer, at its last part's completion: the parts the channels plan at once
        // (reads) return their times, the others (posted writes) are told later, when their channel plans them.
        // Where every part's time is known at once, that event is done itself (the caller's event object, which
        // fast-forwarding can read).
        Parts parts = new Parts(issued, done);
        long known = -1;
        int knownParts = 0;
        // Served in channel order: channels [0, first + issued - n) when the range wraps, then [first, ...).
        int wrapped = Math.max(0, first + issued - n);
        long perChannel = blocks / n;
        long extra = blocks % n; // the first `extra` channels of the transfer carry one block more
        long baseRow = firstBlock / n; // block firstBlock + i is block baseRow (+1 past the wrap) of its channel
        long opId = access.opId();
        boolean write = access.write();
        for (int k = 0; k < issued; k++) {
            int c = k < wrapped ? k : first + k - wrapped;
            int i = c >= first ? c - first : c + n - first; // the channel's place in the transfer
            long part = (perChannel + (i < extra ? 1 : 0)) * INTERLEAVE_BYTES + (i == extra ? rest : 0);
            long local = (baseRow + (first + i >= n ? 1 : 0)) * INTERLEAVE_BYTES
                + (i == 0 ? address % INTERLEAVE_BYTES : 0);
            long t = channels[c].serve(opId, local, part, write, parts);
            if (t != MemoryChannel.DEFERRED) {
                known = Math.max(known, t);
                knownParts++;
            }
        }
        if (knownParts == issued) {
            scheduler.at(known, done);
        } else if (knownParts > 0) {
            parts.known(knownParts, known);
        }
    }

    /** The parts of one transfer still to be planned, and the latest completion so far: done runs after it. */
    private final class Parts implements MemoryChannel.Completion {
        private int left;
        private long end = -1;
        private final Runnable done;

        Parts(int parts, Runnable done) {
            this.left = parts;
            this.done = done;
        }

        void known(int count, long time) {
            left -= count - 1;
            at(time);
        }

        @Override
        public void at(long timePs) {
            end = Math.max(end, timePs);
            if (--left == 0) {
                scheduler.at(end, done);
            }
        }
    }

    public MemoryChannel[] channels() {
        return channels;
    }

    /**
     * Where core {@code core}'s first result of an operator is written: each core starts on its own channel, so
     * that the cores' first writes do not queue behind one another.
     */
    public long firstResultAddress(int core) {
        return (long) core * INTERLEAVE_BYTES;
    }

    /** Where the result after one of {@code bytes} at {@code address} is written: the next interleave block. */
    public long afterResult(long address, long bytes) {
        return address + (bytes + INTERLEAVE_BYTES - 1) / INTERLEAVE_BYTES * INTERLEAVE_BYTES;
    }

    /** The period of the address-to-channel map: addresses congruent modulo it are served by the same channels. */
    public long addressPeriod() {
        return (long) INTERLEAVE_BYTES * channels.length;
    }

    /**
     * Whether accesses of {@code bytes} at {@code a} and at {@code b} split over the channels alike: loads of
     * whole interleave rounds do wherever they start, others where their addresses are one period apart.
     */
    public boolean splitsAlike(long a, long b, long bytes) {
        long period = addressPeriod();
        return bytes % period == 0 || Math.floorMod(b - a, period) == 0;
    }

    /**
     * Whether every channel can digest itself (see {@link Periodic}): only then may a repetition be skipped. The
     * {@code banked} model's refresh runs at absolute times and never repeats exactly.
     */
    public boolean periodic() {
        for (MemoryChannel c : channels) {
            if (!(c instanceof Periodic)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void digest(Frame frame, Digest out) {
        for (MemoryChannel c : channels) {
            ((Periodic) c).digest(frame, out);
        }
    }

    @Override
    public void shift(Jump jump) {
        for (MemoryChannel c : channels) {
            ((Periodic) c).shift(jump);
        }
    }

    @Override
    public void counters(Counters counters) {
        for (MemoryChannel c : channels) {
            ((Periodic) c).counters(counters);
        }
    }
}

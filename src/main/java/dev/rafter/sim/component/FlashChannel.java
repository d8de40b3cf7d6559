package dev.rafter.sim.component;

import dev.rafter.hw.FlashTiming;
import dev.rafter.sim.Scheduler;
import dev.rafter.sim.trace.SliceKind;
import dev.rafter.sim.trace.TraceSink;
import dev.rafter.sim.trace.Track;
import java.util.Arrays;

/**
 * One flash channel, the {@code flash} memory model (a High Bandwidth Flash channel). Parameters: a flash standard
 * ({@link FlashTiming}: page size, planes behind the channel, pages per erase block, read time tR, program time
 * tPROG, erase time tBERS, endurance), the channel's data bandwidth, the fixed path latency added to every access,
 * and the capacity of a read buffer of pages in front of it (0: none). Port: {@link #access}. Statistics (via the
 * trace): data as {@code hbm read}/{@code hbm write} slices on the channel's track, and one instant slice per page
 * sensed ({@code flash page read}), served by the buffer ({@code read buffer hit}) or programmed
 * ({@code flash program}), whose amounts the tier's kind counts as pages.
 *
 * <p>Address map (channel-local): consecutive pages go to consecutive planes. A read touches each page it spans:
 * a page already in its plane's register (the last one the plane sensed) or in the read buffer needs no array
 * read; any other page waits for its plane, which senses it for tR (and it enters the buffer). The page's
 * requested bytes then cross the channel's data bus, one transfer at a time in the order the pages were planned.
 * A plane senses its next page while its last one drains (NAND's cache read), so requests to {@code planes}
 * different planes overlap their tR: planes, not the bus, bound a channel that is read a page at a time.
 *
 * <p>A write crosses the data bus first, then programs every page it touches on that page's plane (a partial page
 * costs a whole program: there is no write buffer) for tPROG plus one block erase's share, tBERS /
 * pages_per_block: a block is erased once per pages_per_block pages programmed into it, in the background on the
 * same plane, and its program/erase cycles are what endurance counts (the report turns pages programmed into a
 * lifetime at the run's write rate). A write completes when its last page is programmed.
 *
 * <p>Reads and writes are planned on arrival, in arrival order, so {@link #serve} always knows the completion
 * time. Every kernel finds the planes idle, their registers and the read buffer empty ({@link #settle}), so a
 * kernel's timing does not depend on when it starts (which exact reuse relies on): the buffer hides the page reads
 * a kernel repeats beyond what the global buffer catches. Keeping pages across kernels (the next decode step's
 * weights) needs every tensor at its own address: today every tensor of a role starts at address 0 of its tier,
 * so one layer's pages would stand for another's. Not modelled: reordering, read retries and ECC time, program
 * suspend, garbage collection beyond the erase share, wear levelling beyond an even spread over all blocks.
 */
public final class FlashChannel implements MemoryChannel {
    private static final long NONE = -1;

    private final Scheduler scheduler;
    private final TraceSink sink;
    private final Track track;
    private final Server bus;
    private final long latencyPs;
    private final int pageShift;
    private final int planes;
    private final long readPs;
    private final long programPs;
    /** When each plane can start its next array operation. */
    private final long[] planeFree;
    /** The page each plane's register holds (NONE: none) and when it is there. */
    private final long[] registerPage;
    private final long[] registerReady;
    private final PageBuffer buffer;
    private final long[] start = new long[1];

    public FlashChannel(Scheduler scheduler, TraceSink sink, Track track, double bytesPerSecond, long latencyPs,
                        FlashTiming standard, long bufferPages) {
        this.scheduler = scheduler;
        this.sink = sink;
        this.track = track;
        this.bus = new Server(1e12 / bytesPerSecond);
        this.latencyPs = latencyPs;
        this.pageShift = Integer.numberOfTrailingZeros(standard.pageBytes());
        this.planes = standard.planes();
        this.readPs = standard.readPs();
        this.programPs = standard.programPs();
        this.planeFree = new long[planes];
        this.registerPage = new long[planes];
        this.registerReady = new long[planes];
        this.buffer = bufferPages > 0 ? new PageBuffer((int) Math.min(bufferPages, 1 << 24)) : null;
        Arrays.fill(registerPage, NONE);
    }

    @Override
    public void access(long opId, long address, long bytes, boolean write, Runnable done) {
        scheduler.at(serve(opId, address, bytes, write, null), done);
    }

    @Override
    public long serve(long opId, long address, long bytes, boolean write, Completion done) {
        long now = scheduler.now();
        long end = now;
        long page = address >>> pageShift;
        long last = (address + bytes - 1) >>> pageShift;
        long at = address;
        for (; page <= last; page++) {
            long next = Math.min((page + 1) << pageShift, address + bytes);
            long part = next - at;
            at = next;
            int plane = (int) (page % planes);
            if (write) {
                long dataIn = bus.reserve(now, part, start);
                sink.slice(track, SliceKind.HBM_WRITE, opId, start[0], dataIn, part);
                long programStart = Math.max(dataIn, planeFree[plane]);
                planeFree[plane] = programStart + programPs;
                // The register held what is now overwritten; a buffered copy of the page is stale.
                registerPage[plane] = NONE;
                if (buffer != null) {
                    buffer.remove(page);
                }
                sink.count(track, SliceKind.FLASH_PROGRAM, opId, 1);
                end = Math.max(end, planeFree[plane]);
            } else {
                long ready = pageReady(opId, page, plane, now);
                long dataOut = bus.reserve(ready, part, start);
                sink.slice(track, SliceKind.HBM_READ, opId, start[0], dataOut, part);
                end = Math.max(end, dataOut);
            }
        }
        return end + latencyPs;
    }

    /** When {@code page} is in its plane's register or the buffer, sensing it if it is in neither. */
    private long pageReady(long opId, long page, int plane, long now) {
        if (registerPage[plane] == page) {
            return Math.max(now, registerReady[plane]);
        }
        if (buffer != null && buffer.touch(page)) {
            sink.count(track, SliceKind.FLASH_BUFFER_HIT, opId, 1);
            return now;
        }
        long senseStart = Math.max(now, planeFree[plane]);
        long ready = senseStart + readPs;
        planeFree[plane] = ready;
        registerPage[plane] = page;
        registerReady[plane] = ready;
        if (buffer != null) {
            buffer.add(page);
        }
        sink.count(track, SliceKind.FLASH_PAGE_READ, opId, 1);
        return ready;
    }

    /** Every kernel finds the planes idle, their registers and the buffer empty. */
    @Override
    public void settle() {
        Arrays.fill(planeFree, 0);
        Arrays.fill(registerPage, NONE);
        Arrays.fill(registerReady, 0);
        if (buffer != null) {
            buffer.clear();
        }
    }

    @Override
    public long bytesMoved() {
        return bus.bytes;
    }

    /**
     * The read buffer's share of one channel: the most recently used {@code capacity} pages (least recently used
     * out first), kept in access order.
     */
    static final class PageBuffer {
        private final int capacity;
        private final java.util.LinkedHashMap<Long, Boolean> pages;

        PageBuffer(int capacity) {
            this.capacity = capacity;
            this.pages = new java.util.LinkedHashMap<>(16, 0.75f, true);
        }

        /** Whether {@code page} is held; a hit makes it the most recently used. */
        boolean touch(long page) {
            return pages.get(page) != null;
        }

        void add(long page) {
            pages.put(page, Boolean.TRUE);
            if (pages.size() > capacity) {
                pages.remove(pages.keySet().iterator().next());
            }
        }

        void remove(long page) {
            pages.remove(page);
        }

        void clear() {
            pages.clear();
        }
    }
}

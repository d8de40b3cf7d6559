package dev.rafter.sim.component;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rafter.hw.FlashTiming;
import dev.rafter.sim.Kernel;
import dev.rafter.sim.trace.SliceKind;
import dev.rafter.sim.trace.TraceSink;
import dev.rafter.sim.trace.Track;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The flash channel against hand derivations from the HBF standard (models/memory/hbf.yaml: 16384-B pages, 32
 * planes, 256 pages per block, tR 10 us, tPROG 200 us, tBERS 3000 us). Requests are injected directly, many at
 * once, as a memory system with enough bytes in flight would send them. The channel runs at 50 GB/s (one of the 64
 * channels of h100-hbf.yaml's 3.2 TB/s), 20 ps a byte, so a page crosses the bus in 16384 x 20 = 327,680 ps; no
 * path latency.
 */
class FlashChannelTest {
    static final FlashTiming HBF = FlashTiming.load(Path.of("models/memory/hbf.yaml"));
    static final double CHANNEL = 50e9;
    static final long PAGE = 16384;
    static final long PAGE_ON_BUS = 327_680;
    static final long TR = 10_000_000;

    record Slice(SliceKind kind, long start, long end, long amount) {}

    final List<Slice> slices = new ArrayList<>();
    final TraceSink sink = new TraceSink() {
        @Override
        public void slice(Track track, SliceKind kind, long op, long start, long end, long amount) {
            slices.add(new Slice(kind, start, end, amount));
        }

        @Override
        public void count(Track track, SliceKind kind, long op, long amount) {
            slices.add(new Slice(kind, -1, -1, amount));
        }
    };
    static final Track TRACK = Catalogue.track(0, MemoryController.KIND, -1, 0, "ch0");

    FlashChannel channel(dev.rafter.sim.Scheduler s, long bufferPages) {
        return new FlashChannel(s, sink, TRACK, CHANNEL, 0, HBF, bufferPages);
    }

    long count(SliceKind kind) {
        return slices.stream().filter(x -> x.kind() == kind).mapToLong(Slice::amount).sum();
    }

    @Test
    void theStandardIsReadAsWritten() {
        assertEquals(new FlashTiming("HBF-gen1", 16384, 32, 256, 10, 200, 3000, 100_000), HBF);
    }

    @Test
    void onePageReadIsTheArrayReadThenThePageOnTheBus() {
        long[] done = new long[1];
        new Kernel().run(s -> channel(s, 0).access(0, 0, PAGE, false, () -> done[0] = s.now()));
        // Sense 0..10 us, then 16 KB at 50 GB/s: ready at 10,327,680 ps.
        assertEquals(10_327_680, done[0]);
        assertEquals(new Slice(SliceKind.HBM_READ, TR, TR + PAGE_ON_BUS, PAGE), slices.get(1));
        assertEquals(1, count(SliceKind.FLASH_PAGE_READ));
    }

    @Test
    void readsOnDifferentPlanesOverlapTheirArrayReads() {
        List<Long> done = new ArrayList<>();
        new Kernel().run(s -> {
            FlashChannel ch = channel(s, 0);
            // 33 one-page reads at once: pages 0..31 on planes 0..31, page 32 on plane 0 again.
            for (int p = 0; p <= 32; p++) {
                ch.access(0, p * PAGE, PAGE, false, () -> done.add(s.now()));
            }
        });
        // The 32 planes sense together (0..10 us); their pages leave one after another: page k at
        // 10 us + (k + 1) x 327,680 ps, the 32nd at 20,485,760. Plane 0 senses page 32 from 10 us (its register
        // drained to the cache) to 20 us; the bus is free at 20,485,760, so it is done at 20,813,440.
        assertEquals(33, done.size());
        assertEquals(TR + PAGE_ON_BUS, done.get(0));
        assertEquals(20_485_760L, done.get(31));
        assertEquals(20_813_440L, done.get(32));
        assertEquals(33, count(SliceKind.FLASH_PAGE_READ));
        // One plane alone would take 33 x 10 us: the planes hide all but the first read's latency.
    }

    @Test
    void aPageInItsPlanesRegisterIsNotReadAgain() {
        List<Long> done = new ArrayList<>();
        new Kernel().run(s -> {
            FlashChannel ch = channel(s, 0);
            ch.access(0, 0, 256, false, () -> done.add(s.now()));
            // The same page at 1 us: no second array read, it waits for the first (256 B = 5,120 ps each).
            s.schedule(1_000_000, () -> ch.access(0, 256, 256, false, () -> done.add(s.now())));
        });
        assertEquals(List.of(TR + 5_120, TR + 10_240), done);
        assertEquals(1, count(SliceKind.FLASH_PAGE_READ));
    }

    @Test
    void aWriteCrossesTheBusThenProgramsAtProgramBandwidth() {
        List<Long> done = new ArrayList<>();
        new Kernel().run(s -> {
            FlashChannel ch = channel(s, 0);
            // One page per plane, 32 pages (512 KB) at once.
            for (int p = 0; p < 32; p++) {
                ch.access(0, p * PAGE, PAGE, true, () -> done.add(s.now()));
            }
        });
        // Page k: data in until (k + 1) x 327,680, then tPROG 200 us + the erase share 3000 us / 256 = 11,718,750
        // ps on its plane: 211,718,750 ps a page. The first is done at 212,046,430, the 32nd at 10,485,760 +
        // 211,718,750 = 222,204,510: 512 KB in 222.2 us, 2.36 GB/s against 50 GB/s for reads.
        assertEquals(212_046_430L, done.get(0));
        assertEquals(222_204_510L, done.get(31));
        assertEquals(32, count(SliceKind.FLASH_PROGRAM));
        assertEquals(0, count(SliceKind.FLASH_PAGE_READ));
    }

    @Test
    void aPartialPageWriteProgramsTheWholePage() {
        long[] done = new long[1];
        new Kernel().run(s -> channel(s, 0).access(0, 100, 200, true, () -> done[0] = s.now()));
        // 200 B in (4,000 ps), then one page program: 4,000 + 211,718,750.
        assertEquals(211_722_750, done[0]);
        assertEquals(1, count(SliceKind.FLASH_PROGRAM));
    }

    @Test
    void theReadBufferServesARepeatedPageWithoutAnArrayRead() {
        List<Long> done = new ArrayList<>();
        new Kernel().run(s -> {
            FlashChannel ch = channel(s, 2);
            ch.access(0, 0, PAGE, false, () -> done.add(s.now()));
            // Page 32 is on plane 0 too: it replaces page 0 in the register (sensed 10..20 us, out at 20,327,680).
            ch.access(0, 32 * PAGE, PAGE, false, () -> done.add(s.now()));
            // Page 0 again at 30 us: in the buffer, so it crosses the bus at once.
            s.schedule(30_000_000, () -> ch.access(0, 0, PAGE, false, () -> done.add(s.now())));
        });
        assertEquals(List.of(TR + PAGE_ON_BUS, 2 * TR + PAGE_ON_BUS, 3 * TR + PAGE_ON_BUS), done);
        assertEquals(2, count(SliceKind.FLASH_PAGE_READ));
        assertEquals(1, count(SliceKind.FLASH_BUFFER_HIT));
    }

    @Test
    void theReadBufferDropsTheLeastRecentlyUsedPage() {
        List<Long> done = new ArrayList<>();
        new Kernel().run(s -> {
            FlashChannel ch = channel(s, 2);
            // Pages 0, 32, 64 on plane 0 (sensed back to back); the buffer keeps 32 and 64, so page 0 is read again.
            for (int p : new int[] {0, 32, 64}) {
                ch.access(0, p * PAGE, PAGE, false, () -> done.add(s.now()));
            }
            s.schedule(100_000_000, () -> ch.access(0, 0, PAGE, false, () -> done.add(s.now())));
        });
        assertEquals(100_000_000 + TR + PAGE_ON_BUS, done.get(3));
        assertEquals(4, count(SliceKind.FLASH_PAGE_READ));
        assertEquals(0, count(SliceKind.FLASH_BUFFER_HIT));
    }

    @Test
    void everyKernelFindsTheRegistersAndTheBufferEmpty() {
        List<Long> done = new ArrayList<>();
        new Kernel().run(s -> {
            FlashChannel ch = channel(s, 4);
            ch.access(0, 0, PAGE, false, () -> done.add(s.now()));
            s.schedule(50_000_000, () -> {
                ch.settle();
                ch.access(0, 0, PAGE, false, () -> done.add(s.now()));
            });
        });
        // After the settle neither the register nor the buffer holds page 0: a second array read.
        assertEquals(List.of(TR + PAGE_ON_BUS, 50_000_000 + TR + PAGE_ON_BUS), done);
        assertEquals(2, count(SliceKind.FLASH_PAGE_READ));
        assertEquals(0, count(SliceKind.FLASH_BUFFER_HIT));
    }
}

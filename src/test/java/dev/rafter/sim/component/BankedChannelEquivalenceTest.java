package dev.rafter.sim.component;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.hw.MemoryTiming;
import dev.rafter.sim.Kernel;
import dev.rafter.sim.Scheduler;
import dev.rafter.sim.trace.TraceSink;
import dev.rafter.sim.trace.Track;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The banked channel is the straightforward model of {@link BankedChannelReference} (the channel as it was before
 * it was made faster: per-bank walk for every train, a queue of write records, per-channel timing copies), made
 * faster without changing a picosecond: both get the same random request streams (every standard, at and above
 * its speed bin, with and without write batching, several channels, kernels separated by settles, idle gaps
 * across refreshes, repeated, streaming, scattered and unaligned requests) and must produce the same slices, the
 * same completion times and the same counters.
 */
class BankedChannelEquivalenceTest {
    static final String[] STANDARDS = {"hbm2", "hbm2e", "hbm3", "hbm3e", "ddr5", "lpddr5", "lpddr5x"};

    interface ChannelFactory {
        MemoryChannel make(Scheduler s, TraceSink sink, Track track, double bytesPerS, long latencyPs,
                           MemoryTiming standard, long firstRefreshPs);
    }

    static final ChannelFactory REFERENCE = BankedChannelReference::new;
    static final ChannelFactory FAST = BankedChannel::new;

    record Request(long at, int channel, long address, long bytes, boolean write) {}

    /** A run's observable record: every slice, every completion (request index and time), counters per channel. */
    static List<String> run(ChannelFactory factory, MemoryTiming standard, double bytesPerS, long latencyPs,
                            int channels, List<List<Request>> kernels) {
        List<String> log = new ArrayList<>();
        TraceSink sink = (track, kind, op, start, end, amount) ->
            log.add("slice " + track.index() + " " + kind + " " + op + " " + start + " " + end + " " + amount);
        MemoryChannel[] ch = new MemoryChannel[channels];
        new Kernel().run(s -> {
            for (int c = 0; c < channels; c++) {
                Track track = Catalogue.track(c, MemoryController.KIND, -1, c, "ch" + c);
                ch[c] = factory.make(s, sink, track, bytesPerS, latencyPs, standard,
                    BankedChannel.firstRefreshPs(standard, c, channels));
            }
            startKernel(s, ch, kernels, 0, log);
        });
        for (int c = 0; c < channels; c++) {
            log.add("bytes " + c + " " + ch[c].bytesMoved());
            if (ch[c] instanceof BankedChannel b) {
                log.add("counts " + c + " " + b.rowHits() + " " + b.rowMisses() + " " + b.rowConflicts() + " "
                    + b.refreshes());
            } else if (ch[c] instanceof BankedChannelReference b) {
                log.add("counts " + c + " " + b.rowHits() + " " + b.rowMisses() + " " + b.rowConflicts() + " "
                    + b.refreshes());
            }
        }
        return log;
    }

    /** Issues kernel {@code k}'s requests at their times; when all are done, settles every channel and goes on. */
    static void startKernel(Scheduler s, MemoryChannel[] ch, List<List<Request>> kernels, int k, List<String> log) {
        if (k == kernels.size()) {
            return;
        }
        List<Request> requests = kernels.get(k);
        long base = s.now();
        int[] left = {requests.size()};
        for (int i = 0; i < requests.size(); i++) {
            Request r = requests.get(i);
            int index = i;
            s.at(base + r.at(), () -> ch[r.channel()].access(k, r.address(), r.bytes(), r.write(), () -> {
                log.add("done " + k + " " + index + " " + s.now());
                if (--left[0] == 0) {
                    s.schedule(1_000_000 + k * 777_777L, () -> {
                        for (MemoryChannel c : ch) {
                            c.settle();
                        }
                        startKernel(s, ch, kernels, k + 1, log);
                    });
                }
            }));
        }
    }

    /** Random kernels: mixes of request shapes and arrival gaps that exercise every path of the model. */
    static List<List<Request>> stimulus(long seed, int channels, long refiPs) {
        SplittableRandom random = new SplittableRandom(seed);
        List<List<Request>> kernels = new ArrayList<>();
        int count = 2 + random.nextInt(3);
        for (int k = 0; k < count; k++) {
            List<Request> requests = new ArrayList<>();
            long t = 0;
            int n = 50 + random.nextInt(400);
            long stream = random.nextLong(1L << 26) & ~255L;
            long[] repeatAddress = new long[3];
            long[] repeatBytes = new long[3];
            for (int r = 0; r < 3; r++) {
                repeatAddress[r] = random.nextLong(1L << 24) & ~(r == 0 ? 255L : 31L);
                repeatBytes[r] = r == 0 ? 256L * (1 + random.nextInt(4)) : 32L * (1 + random.nextInt(r == 1 ? 5 : 40));
            }
            for (int i = 0; i < n; i++) {
                int gap = random.nextInt(20);
                if (gap < 8) {
                    t += 0; // same instant: a burst of arrivals
                } else if (gap < 14) {
                    t += random.nextLong(2_000);
                } else if (gap < 19) {
                    t += random.nextLong(100_000);
                } else {
                    t += random.nextLong(3 * refiPs); // idle across refreshes
                }
                boolean write = random.nextInt(5) < 3;
                long address;
                long bytes;
                switch (random.nextInt(6)) {
                    case 0, 1 -> { // the same train again (a core's repeated store region), any length
                        int r = random.nextInt(3);
                        address = repeatAddress[r];
                        bytes = repeatBytes[r];
                    }
                    case 2 -> { // a stream
                        bytes = 256L * (1 + random.nextInt(8));
                        address = stream;
                        stream += bytes;
                    }
                    case 3 -> { // scattered: row conflicts
                        address = random.nextLong(1L << 30) & ~31L;
                        bytes = 32L * (1 + random.nextInt(16));
                    }
                    case 4 -> { // unaligned, any size
                        address = random.nextLong(1L << 20);
                        bytes = 1 + random.nextInt(5_000);
                    }
                    default -> { // large: many super-rows
                        address = random.nextLong(1L << 28) & ~4095L;
                        bytes = 4096L * (1 + random.nextInt(24)) + random.nextInt(3) * 96L;
                    }
                }
                requests.add(new Request(t, random.nextInt(channels), address, bytes, write));
            }
            kernels.add(requests);
        }
        return kernels;
    }

    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        for (String name : STANDARDS) {
            MemoryTiming t = MemoryTiming.load(Path.of("models/memory/" + name + ".yaml"));
            double bin = t.organisation().burstBytes() / (t.timing().ps(t.timing().bl()) * 1e-12);
            MemoryTiming unbuffered = new MemoryTiming(t.name(), t.organisation(), t.timing(),
                new MemoryTiming.Controller(1, 0));
            MemoryTiming small = new MemoryTiming(t.name(), t.organisation(), t.timing(),
                new MemoryTiming.Controller(1024, 256));
            cases.add(Arguments.of(name + " at its bin", t, bin, 0L, 1, 11L));
            cases.add(Arguments.of(name + " x1.7, latency, 3 channels", t, bin * 1.7, 206_000L, 3, 12L));
            cases.add(Arguments.of(name + " writes unbuffered", unbuffered, bin, 50_000L, 2, 13L));
            cases.add(Arguments.of(name + " small write queue", small, bin * 0.8, 0L, 2, 14L));
            cases.add(Arguments.of(name + " x3.1, 1 channel", t, bin * 3.1, 0L, 1, 15L));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void sameSlicesCompletionsAndCountersAsTheReference(String label, MemoryTiming standard, double bytesPerS,
                                                        long latencyPs, int channels, long seed) {
        long refi = standard.timing().ps(standard.timing().refi());
        for (long s = seed; s < seed + 3; s++) {
            assertSameAsReference(label + " seed " + s, standard, bytesPerS, latencyPs, channels,
                stimulus(s * 7919, channels, refi));
        }
    }

    /**
     * Long requests (up to 40 super-rows: the trains after a request's first start from the last one's column
     * command, the shortcut of a request's later trains) queued back to back over many refresh intervals, so that
     * refreshes fall between the trains of one request; reads and writes mixed; each request starts on the last
     * super-row of the one before, half of them arriving with it, so that its first train may repeat that one's last
     * and the loop goes on after a repeat.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void longRequestsAcrossRefreshesAsTheReference(String label, MemoryTiming standard, double bytesPerS,
                                                   long latencyPs, int channels, long seed) {
        long refi = standard.timing().ps(standard.timing().refi());
        long superRowBytes = (long) standard.organisation().bankGroups() * standard.organisation().rowBytes();
        SplittableRandom random = new SplittableRandom(seed * 31);
        List<List<Request>> kernels = new ArrayList<>();
        for (int k = 0; k < 2; k++) {
            List<Request> requests = new ArrayList<>();
            long t = 0;
            long address = random.nextLong(1L << 16) * superRowBytes;
            for (int i = 0; i < 60; i++) {
                long rows = 2 + random.nextInt(random.nextBoolean() ? 3 : 39);
                long tail = random.nextInt(3) == 0 ? standard.organisation().burstBytes() * 3L : 0;
                requests.add(new Request(t, random.nextInt(channels), address, rows * superRowBytes - tail,
                    random.nextInt(4) == 0));
                address += (rows - 1) * superRowBytes;
                t += random.nextBoolean() ? 0 : random.nextLong(refi / 4);
            }
            kernels.add(requests);
        }
        assertSameAsReference(label, standard, bytesPerS, latencyPs, channels, kernels);
    }

    static void assertSameAsReference(String label, MemoryTiming standard, double bytesPerS, long latencyPs,
                                      int channels, List<List<Request>> kernels) {
        List<String> expected = run(REFERENCE, standard, bytesPerS, latencyPs, channels, kernels);
        List<String> actual = run(FAST, standard, bytesPerS, latencyPs, channels, kernels);
        assertTrue(expected.stream().anyMatch(l -> l.contains("DRAM_REFRESH")), "the stimulus meets refreshes");
        assertEquals(expected.size(), actual.size(), label);
        for (int i = 0; i < expected.size(); i++) {
            assertEquals(expected.get(i), actual.get(i), label + " line " + i);
        }
    }

    @Test
    void channelsOfDifferentStandardsBuiltInTurnKeepTheirOwnTimings() {
        // The fast channel shares derived timings between channels built alike; alternating standards must not
        // mix them up.
        MemoryTiming a = MemoryTiming.load(Path.of("models/memory/hbm3.yaml"));
        MemoryTiming b = MemoryTiming.load(Path.of("models/memory/ddr5.yaml"));
        List<String> expected = new ArrayList<>();
        List<String> actual = new ArrayList<>();
        for (ChannelFactory f : List.of(REFERENCE, FAST)) {
            List<String> log = f == REFERENCE ? expected : actual;
            TraceSink sink = (track, kind, op, start, end, amount) ->
                log.add(track.index() + " " + kind + " " + start + " " + end + " " + amount);
            new Kernel().run(s -> {
                for (int c = 0; c < 4; c++) {
                    MemoryTiming t = c % 2 == 0 ? a : b;
                    double bytesPerS = c < 2 ? 25.6e9 : 40e9;
                    MemoryChannel ch = f.make(s, sink, Catalogue.track(c, MemoryController.KIND, -1, c, "ch" + c),
                        bytesPerS, c * 1000L, t, 1_000_000);
                    for (int i = 0; i < 20; i++) {
                        long at = i * 3_000L;
                        int index = i;
                        s.at(at, () -> ch.access(0, index * 8192L, 512, index % 3 == 0, () -> log.add("done "
                            + s.now())));
                    }
                }
            });
        }
        assertEquals(expected, actual);
    }

    @Test
    void theFoldInHalvesIsTheFieldByFieldFold() {
        SplittableRandom random = new SplittableRandom(5);
        for (int bits = 1; bits <= 8; bits++) {
            long mask = (1L << bits) - 1;
            int top = BankedChannel.foldTopShift(bits);
            for (int i = 0; i < 20_000; i++) {
                long q = i < 1000 ? i : random.nextLong() >>> random.nextInt(64);
                long gray = q ^ (q >>> 1);
                long fold = 0;
                for (long g = gray; g != 0; g >>>= bits) {
                    fold ^= g;
                }
                assertEquals(fold & mask, BankedChannel.fold(q, bits, top) & mask, "bits " + bits + " q " + q);
            }
        }
    }
}

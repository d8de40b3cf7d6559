package dev.rafter.sim.component;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.mapping.Region;
import dev.rafter.mapping.TensorRole;
import dev.rafter.sim.Kernel;
import dev.rafter.sim.message.MemoryAccess;
import dev.rafter.sim.trace.TraceSink;
import dev.rafter.sim.trace.Track;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The memory controller alone, with accesses injected at given times and completions asserted to the picosecond.
 * The expected times follow from its documented interleave (consecutive 256 B blocks on consecutive channels)
 * and the {@code simple} channel (bytes over the channel's bandwidth, then its latency).
 */
class MemoryControllerTest {
    private static final TraceSink NONE = (track, kind, op, start, end, amount) -> {};
    private static final long LATENCY_PS = 40_000;

    /** {@code n} simple channels of 1 GB/s (1 B per ns) and 40 ns latency. */
    private static MemoryController controller(dev.rafter.sim.Scheduler s, int n) {
        MemoryChannel[] channels = new MemoryChannel[n];
        for (int i = 0; i < n; i++) {
            channels[i] = new SimpleChannel(s, NONE, Catalogue.track(i, MemoryController.KIND, -1, i, "ch" + i), 1e9,
                LATENCY_PS);
        }
        return new MemoryController(channels, s);
    }

    private static MemoryAccess read(long address, long bytes) {
        return new MemoryAccess.StageFill(0, TensorRole.WEIGHTS, Region.FIRST_TIER, address, bytes);
    }

    private static MemoryAccess write(long address, long bytes) {
        return new MemoryAccess.ResultWrite(0, TensorRole.ACTIVATIONS, Region.FIRST_TIER, address, bytes);
    }

    @Test
    void concurrentAccessesQueueOnTheChannelsTheyShare() {
        List<String> done = new ArrayList<>();
        new Kernel().run(s -> {
            MemoryController memory = controller(s, 2);
            // 1024 B from 0: blocks 0..3 on channels 0,1,0,1, 512 B each: 512 ns + 40 ns.
            memory.transfer(read(0, 1024), () -> done.add("a@" + s.now()));
            // 256 B from 256: channel 1, behind a's 512 B there: 768 ns + 40 ns.
            memory.transfer(read(256, 256), () -> done.add("b@" + s.now()));
            // 100 B written at 512: channel 0, behind a's 512 B: 612 ns + 40 ns.
            memory.transfer(write(512, 100), () -> done.add("c@" + s.now()));
            // At 1000 ns both channels are idle: 300 B from 0 is 256 B on channel 0 and 44 B on channel 1.
            s.schedule(1_000_000, () -> memory.transfer(read(0, 300), () -> done.add("d@" + s.now())));
        });
        assertEquals(List.of("a@552000", "c@652000", "b@808000", "d@1296000"), done);
    }

    @Test
    void eachCoresFirstResultGoesToItsOwnChannel() {
        List<Long> done = new ArrayList<>();
        new Kernel().run(s -> {
            MemoryController memory = controller(s, 4);
            // Four cores' first 256 B results at once: one channel each, none waits for another.
            for (int core = 0; core < 4; core++) {
                memory.transfer(write(memory.firstResultAddress(core), 256), () -> done.add(s.now()));
            }
        });
        assertEquals(List.of(296_000L, 296_000L, 296_000L, 296_000L), done);
    }

    @Test
    void resultAddressesAndSplitsFollowTheInterleaveWithoutShowingIt() {
        List<Long> done = new ArrayList<>();
        new Kernel().run(s -> {
            MemoryController memory = controller(s, 4);
            assertEquals(768, memory.firstResultAddress(3));
            assertEquals(256, memory.afterResult(0, 1), "a result takes whole blocks");
            assertEquals(768 + 512, memory.afterResult(768, 300));
            assertEquals(1024, memory.addressPeriod(), "4 channels of 256 B blocks");
            assertTrue(memory.splitsAlike(0, 1024, 100), "one period apart");
            assertFalse(memory.splitsAlike(0, 256, 100), "different channels");
            assertTrue(memory.splitsAlike(0, 256, 2048), "whole rounds split evenly wherever they start");
            assertTrue(memory.periodic(), "simple channels digest themselves");
        });
    }
}

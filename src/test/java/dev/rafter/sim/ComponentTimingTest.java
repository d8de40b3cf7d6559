package dev.rafter.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rafter.hw.HardwareSpec;
import dev.rafter.mapping.Region;
import dev.rafter.mapping.Stage;
import dev.rafter.mapping.TensorRole;
import dev.rafter.sim.component.Catalogue;
import dev.rafter.sim.component.DeviceLink;
import dev.rafter.sim.component.GlobalBuffer;
import dev.rafter.sim.component.MemoryController;
import dev.rafter.sim.component.MemorySystem;
import dev.rafter.sim.component.SimpleChannel;
import dev.rafter.sim.component.Interconnect;
import dev.rafter.sim.component.VectorUnit;
import dev.rafter.sim.message.CoreTransfer;
import dev.rafter.sim.message.LinkTransfer;
import dev.rafter.sim.message.MemoryAccess;
import dev.rafter.sim.trace.SliceKind;
import dev.rafter.sim.trace.TraceSink;
import dev.rafter.sim.trace.Track;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Components driven by injected requests; completion times asserted to the picosecond. */
class ComponentTimingTest {
    record Slice(String track, SliceKind kind, long start, long end, long amount) {}

    final List<Slice> slices = new ArrayList<>();
    final TraceSink sink = (track, kind, op, start, end, amount) ->
        slices.add(new Slice(track.name(), kind, start, end, amount));

    static Track track(String name) {
        return Catalogue.track(0, MemoryController.KIND, -1, 0, name);
    }

    @Test
    void hbmChannelQueuesRequestsAndAddsItsLatency() {
        List<Long> done = new ArrayList<>();
        // 1 byte per ns (1 GB/s), 40 ns latency: 1000 B take 1000 ns on the channel.
        new Kernel().run(s -> {
            SimpleChannel ch = new SimpleChannel(s, sink, track("ch0"), 1e9, 40_000);
            ch.access(0, 0, 1000, false, () -> done.add(s.now()));
            ch.access(0, 0, 500, false, () -> done.add(s.now()));
            s.schedule(2_000_000, () -> ch.access(0, 0, 100, true, () -> done.add(s.now())));
        });
        assertEquals(List.of(1_040_000L, 1_540_000L, 2_140_000L), done);
        assertEquals(new Slice("ch0", SliceKind.HBM_READ, 1_000_000, 1_500_000, 500), slices.get(1));
        assertEquals(SliceKind.HBM_WRITE, slices.get(2).kind());
    }

    @Test
    void hbmInterleavesATransferOverChannelsAndCompletesWithTheLastPart() {
        long[] done = {-1};
        SimpleChannel[] channels = new SimpleChannel[4];
        new Kernel().run(s -> {
            for (int i = 0; i < 4; i++) {
                channels[i] = new SimpleChannel(s, sink, track("ch" + i), 1e9, 0);
            }
            // 9 blocks of 256 B + 10 B from channel 1: blocks go to 1,2,3,0,1,2,3,0,1, the tail to channel 2.
            new MemoryController(channels, s).transfer(new MemoryAccess.StageFill(0, TensorRole.WEIGHTS,
                Region.FIRST_TIER, 256, 9 * 256 + 10), () -> done[0] = s.now());
        });
        assertEquals(2 * 256, channels[0].bytesMoved());
        assertEquals(3 * 256, channels[1].bytesMoved());
        assertEquals(2 * 256 + 10, channels[2].bytesMoved());
        assertEquals(2 * 256, channels[3].bytesMoved());
        assertEquals(768_000, done[0], "the busiest channel (768 B at 1 B/ns) decides");
    }

    @Test
    void interconnectIsCutThroughAndContendsAtTheSharedGlobalPort() {
        List<Long> done = new ArrayList<>();
        Track[] ports = {track("p0"), track("p1")};
        new Kernel().run(s -> {
            // global port 1000 ps/byte (shared), core ports 2000 ps/byte each, 5000 ps link latency.
            Interconnect ic = new Interconnect(s, sink, 1000, track("gb"), 2000, ports, 5000);
            ic.transfer(new CoreTransfer.TileLoad(0, 0, 100), () -> done.add(s.now()));
            ic.transfer(new CoreTransfer.TileLoad(0, 1, 100), () -> done.add(s.now()));
            ic.transfer(new CoreTransfer.TileLoad(0, 1, 100), () -> done.add(s.now()));
        });
        // Core 0: its port needs 200 ns, the global port 100 ns: 200 ns + 5 ns latency.
        // Core 1, first: global port busy until 100 ns, free again at 200 ns; its port needs 200 ns: ends at 200.
        // Core 1, second: global port 200..300 ns; its own port 200..400 ns.
        assertEquals(List.of(205_000L, 205_000L, 405_000L), done);
    }

    @Test
    void deviceLinkStepsQueueAndEachPaysTheHopLatency() {
        List<Long> done = new ArrayList<>();
        HardwareSpec.DeviceLink ring = new HardwareSpec.DeviceLink(1, 500, HardwareSpec.Topology.RING);
        new Kernel().run(s -> {
            // 1 GB/s = 1 byte per ns; 500 ns per hop
            DeviceLink link = new DeviceLink(ring, s, sink, track("link"));
            link.send(new LinkTransfer(0, 1000), 500_000, () -> done.add(s.now()));
            link.send(new LinkTransfer(0, 1000), 500_000, () -> done.add(s.now()));
        });
        assertEquals(List.of(1_500_000L, 2_500_000L), done);
    }

    @Test
    void vectorUnitTakesTheLongerOfItsFlopsAndItsBufferTraffic() {
        HardwareSpec.Core core = new HardwareSpec.Core(1, new HardwareSpec.PeArray(16, 16,
            dev.rafter.hw.Dataflow.OUTPUT_STATIONARY, false), new HardwareSpec.VectorUnit(32, 4),
            new HardwareSpec.LocalBuffer(64, 128));
        ClockDomain clock = new ClockDomain("core", 1000);
        VectorUnit v = new VectorUnit(core, sink, track("v"));
        assertEquals(10, v.compute(0, 0, 1280, 256, clock), "1280 flops at 128 per cycle");
        assertEquals(20, v.compute(0, 0, 128, 2560, clock), "2560 bytes at 128 per cycle");
        assertEquals(new Slice("v", SliceKind.COMPUTE, 0, 20_000, 128), slices.get(1));
    }

    @Test
    void globalBufferLoadsTwoStagesAheadWithinItsCapacity() {
        List<String> log = new ArrayList<>();
        List<Stage> stages = List.of(new Stage(0, 1000, 0, 0, 1), new Stage(1024, 1000, 0, 0, 1),
            new Stage(2048, 1000, 0, 0, 1));
        for (long capacity : new long[] {10_000, 1_500}) {
            log.clear();
            new Kernel().run(s -> {
                MemoryController hbm = new MemoryController(new SimpleChannel[] {new SimpleChannel(s, sink, track("ch"), 1e9, 0)}, s);
                GlobalBuffer gb = new GlobalBuffer(new MemorySystem(new MemoryController[] {hbm},
                    dev.rafter.mapping.Region.FIRST_TIER), capacity, s);
                gb.begin(0, stages);
                for (int i = 0; i < 3; i++) {
                    int stage = i;
                    gb.whenReady(stage, () -> log.add(stage + "@" + s.now()));
                }
                // Each stage's one user says, once its data has arrived, when it will be done with it.
                s.schedule(2_000_000, () -> gb.releaseAt(0, 5_000_000));
                s.schedule(7_000_000, () -> gb.releaseAt(1, 9_000_000));
            });
            if (capacity == 10_000) {
                // Two stages in flight on one 1 B/ns channel; the third loads when the first is released.
                assertEquals(List.of("0@1000000", "1@2000000", "2@6000000"), log);
            } else {
                // Room for one stage only: each loads when the one before is released.
                assertEquals(List.of("0@1000000", "1@6000000", "2@10000000"), log);
            }
        }
    }

    @Test
    void globalBufferLoadsAsManyStagesAheadAsTheCoresKeepInFlight() {
        List<String> log = new ArrayList<>();
        List<Stage> stages = List.of(new Stage(0, 1000, 0, 0, 1), new Stage(1024, 1000, 0, 0, 1),
            new Stage(2048, 1000, 0, 0, 1));
        new Kernel().run(s -> {
            MemoryController hbm = new MemoryController(new SimpleChannel[] {new SimpleChannel(s, sink, track("ch"), 1e9, 0)}, s);
            GlobalBuffer gb = new GlobalBuffer(new MemorySystem(new MemoryController[] {hbm},
                dev.rafter.mapping.Region.FIRST_TIER), 10_000, s);
            gb.begin(0, stages, 3);
            for (int i = 0; i < 3; i++) {
                int stage = i;
                gb.whenReady(stage, () -> log.add(stage + "@" + s.now()));
            }
            s.schedule(2_000_000, () -> gb.releaseAt(0, 5_000_000));
            s.schedule(7_000_000, () -> gb.releaseAt(1, 9_000_000));
            s.schedule(7_000_000, () -> gb.releaseAt(2, 9_000_000));
        });
        // A window of three: all three stages stream from the 1 B/ns channel at once, none waits for a release.
        assertEquals(List.of("0@1000000", "1@2000000", "2@3000000"), log);
    }

    @Test
    void clockDomainRoundsOnceFromTheCycleCount() {
        ClockDomain c = new ClockDomain("core", 1410);
        assertEquals(709, c.ps(1));
        assertEquals(Math.round(1_000_000 * 1e6 / 1410), c.ps(1_000_000));
        assertEquals(1000.0, new ClockDomain("x", 1000).cycles(1_000_000), 0);
    }
}

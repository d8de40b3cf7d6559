package dev.rafter.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.mapping.Region;
import dev.rafter.mapping.TensorRole;
import dev.rafter.sim.message.MemoryAccess;
import dev.rafter.sim.trace.TraceSink;
import dev.rafter.sim.trace.Track;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A device with two memory tiers: each access is served by the controller of its region's tier, on that tier's
 * channels, at that tier's bandwidth and latency. Expected times follow from the {@code simple} channel (bytes over
 * the channel's share of the tier's bandwidth, then the tier's latency) and the 256 B interleave.
 */
class MemoryTiersTest {
    @TempDir
    Path tmp;

    /**
     * The A100 model with a {@code simple} first tier of 4 channels at 8 GB/s (2 B/ns each) and 100 ns, and a
     * second tier "hbf" of 4 channels at 4 GB/s (1 B/ns each) and 10 us.
     */
    private HardwareSpec twoTiers() throws IOException {
        String a100 = Files.readString(Path.of("models/hardware/a100.yaml"))
            .replaceAll("(?m)^energy:.*\\n(^ +#.*\\n)*", "").replaceAll("(?m)^  (model|timing):.*\\n", "");
        Path f = tmp.resolve("two-tiers.yaml");
        Files.writeString(f, a100 + "memory_tiers:\n  - name: hbf\n    channels: 4\n    bandwidth_gb_per_s: 4\n"
            + "    latency_ns: 10000\n    capacity_gib: 800\n");
        return HardwareLoader.load(f, List.of("memory.channels=4", "memory.bandwidth_gb_per_s=8",
            "memory.latency_ns=100"));
    }

    @Test
    void anAccessToTheSecondTierLandsOnItsChannelsAtItsBandwidthAndLatency() throws IOException {
        HardwareSpec hw = twoTiers();
        List<Track> tracks = Device.tracks(hw);
        Map<String, Long> bytesByTrack = new TreeMap<>();
        TraceSink sink = (track, kind, op, start, end, amount) -> bytesByTrack.merge(track.name(), amount, Long::sum);
        List<String> done = new ArrayList<>();
        new Kernel().run(s -> {
            Device d = new Device(hw, s, sink, tracks);
            // 1024 B on each tier at once: 256 B per channel. Tier 1: 256 ns + 10 us; tier 0: 128 ns + 100 ns.
            d.memorySystem().transfer(new MemoryAccess.StageFill(1, TensorRole.WEIGHTS, new Region(1, 0), 0, 1024),
                () -> done.add("hbf@" + s.now()));
            d.memorySystem().transfer(new MemoryAccess.StageFill(2, TensorRole.KV_CACHE, Region.FIRST_TIER, 0, 1024),
                () -> done.add("hbm@" + s.now()));
        });
        assertEquals(List.of("hbm@228000", "hbf@10256000"), done);
        assertEquals(Map.of("hbf.ch0", 256L, "hbf.ch1", 256L, "hbf.ch2", 256L, "hbf.ch3", 256L,
            "hbm.ch0", 256L, "hbm.ch1", 256L, "hbm.ch2", 256L, "hbm.ch3", 256L), bytesByTrack);
    }
}

package dev.rafter.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.mapping.Region;
import dev.rafter.mapping.TensorPlacement;
import dev.rafter.mapping.TensorRole;
import dev.rafter.sim.message.MemoryAccess;
import dev.rafter.sim.trace.TraceSink;
import dev.rafter.sim.trace.Track;
import dev.rafter.workload.Operator;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Phase;
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
            .replaceAll("(?m)^(energy|cost):.*\\n(^ +#.*\\n)*", "").replaceAll("(?m)^power:.*\\n(^ +.*\\n)*", "")
            .replaceAll("(?m)^  (model|timing):.*\\n", "");
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

    /** The A100 model on simple memory, with a second tier "slow" like its first but at a quarter of its bandwidth. */
    private HardwareSpec quarterBandwidthTier() throws IOException {
        HardwareSpec one = HardwareLoader.load(Path.of("models/hardware/a100.yaml"), List.of("memory.model=simple"));
        HardwareSpec.Memory m = one.memory();
        return new HardwareSpec(one.name(), one.clockMhz(), one.cores(), one.core(), one.globalBuffer(), m,
            one.interconnect(), one.deviceLink(), one.dispatch(), one.dataType(), null, List.of(), dev.rafter.hw.HostModel.NONE,
            List.of(one.memoryTiers().get(0), new HardwareSpec.MemoryTier("slow", new HardwareSpec.Memory(
                m.channels(), m.bandwidthGbPerS() / 4, m.latencyNs(), m.capacityGib(), m.model(), null))));
    }

    @Test
    void weightsOnATierOfAQuarterTheBandwidthSlowADecodeGemvByTheBandwidthRatio() throws IOException {
        HardwareSpec hw = quarterBandwidthTier();
        // A decode GEMV, 1 x 8192 x 8192 in fp16: 128 MiB of weights streamed once, 16 KiB of activations.
        Operator gemv = Operator.gemm(1, "gemv", Phase.DECODE, 0, 1, 1, 1, 8192, 8192, DataType.FP16);
        TensorPlacement.Policy weightsOnSlow = role -> role == TensorRole.WEIGHTS ? new Region(1, 0)
            : Region.FIRST_TIER;
        Simulation fast = new Simulation(hw);
        Simulation slow = new Simulation(hw).placement(weightsOnSlow);
        long weightBytes = 0;
        for (var p : slow.programs(gemv)) {
            for (var stage : p.stages()) {
                weightBytes += stage.role() == TensorRole.WEIGHTS ? stage.loadBytes() : 0;
            }
        }
        assertEquals(8192L * 8192 * 2, weightBytes, 0.01 * weightBytes, "the stages stream the weights once");
        long fastPs = fast.run(OperatorSource.of(gemv), null, r -> { }).endPs();
        long slowPs = slow.run(OperatorSource.of(gemv), null, r -> { }).endPs();
        // Both stream at their tier's bandwidth behind the same fixed costs (latency, dispatch, the last tile's
        // compute): the difference is the weights' bytes at 4/B - 1/B.
        double bytesPerPs = hw.memory().bytesPerSecond() * 1e-12;
        double expected = weightBytes * (4 / bytesPerPs - 1 / bytesPerPs);
        assertEquals(expected, slowPs - fastPs, 0.01 * expected,
            "fast " + fastPs + " ps, slow " + slowPs + " ps");
    }

    @Test
    void aGemmReadsItsWeightsFromTheirTierAndItsActivationsFromTheirs() throws IOException {
        HardwareSpec hw = twoTiers();
        // 64 x 2048 x 2048 in fp16: 8 MiB of weights (B), 256 KiB of activations (A), 256 KiB of results.
        Operator gemm = Operator.gemm(1, "gemm", Phase.PREFILL, 0, 0, 1, 64, 2048, 2048, DataType.FP16);
        TensorPlacement.Policy weightsOnHbf = role -> role == TensorRole.WEIGHTS ? new Region(1, 0)
            : Region.FIRST_TIER;
        Simulation sim = new Simulation(hw).placement(weightsOnHbf);
        long programRead = 0;
        for (var p : sim.programs(gemm)) {
            programRead += p.hbmReadBytes();
        }
        Map<String, Long> bytes = new TreeMap<>();
        TraceSink sink = (track, kind, op, start, end, amount) -> {
            if (track.name().contains(".ch")) {
                String tier = track.name().substring(0, track.name().indexOf('.'));
                bytes.merge(tier + (kind == dev.rafter.sim.trace.SliceKind.HBM_WRITE ? " write" : " read"), amount,
                    Long::sum);
            }
        };
        long endPs = sim.run(OperatorSource.of(gemm), sink, r -> { }).endPs();
        long weights = 2048L * 2048 * 2;
        long activations = 64L * 2048 * 2;
        // Each operand is read once (the activations stay pinned in the global buffer while the weights stream); the
        // results stay in the A100's write-back L2.
        assertEquals(Map.of("hbf read", weights, "hbm read", activations), bytes);
        assertEquals(programRead, bytes.get("hbf read") + bytes.get("hbm read"), "every byte the mapping reads");
        double roofline = new dev.rafter.roofline.Roofline(hw, weightsOnHbf).of(gemm).seconds();
        // Weights at 4 GB/s bound it: 8 MiB / 4 GB/s = 2.097 ms.
        assertEquals(weights / 4e9, roofline, 1e-12);
        org.junit.jupiter.api.Assertions.assertTrue(endPs * 1e-12 >= roofline,
            endPs * 1e-12 + " s is under the per-tier roofline's " + roofline + " s");
    }
}

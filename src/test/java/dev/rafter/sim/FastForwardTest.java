package dev.rafter.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.mapping.Region;
import dev.rafter.mapping.TensorPlacement;
import dev.rafter.mapping.TensorRole;
import dev.rafter.sim.trace.RunStats;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Phase;
import java.lang.reflect.Field;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Fast-forwarding repeating stretches of a program is exact: every operator's start and end (to the picosecond),
 * every statistic and the run's totals equal those of the step-by-step simulation, while many stages are skipped.
 */
class FastForwardTest {
    /** The study device cut down so that programs repeat many times in a test: 8 cores, 4 channels, 16 KiB. */
    static HardwareSpec small(String... more) {
        List<String> sets = new ArrayList<>(List.of("cores=8", "memory.channels=4",
            "core.local_buffer.capacity_kib=16", "global_buffer.capacity_mib=1"));
        sets.addAll(List.of(more));
        return HardwareLoader.load(Path.of("models/hardware/sram-study-45nm.yaml"), sets);
    }

    static List<Operator> operators() {
        return List.of(
            Operator.gemm(0, "wide", Phase.PREFILL, 0, 0, 1, 1024, 2048, 512, DataType.FP16),
            Operator.gemm(1, "batched", Phase.PREFILL, 0, 0, 16, 256, 256, 64, DataType.FP16),
            Operator.gemm(2, "ragged", Phase.PREFILL, 0, 0, 1, 1000, 1000, 300, DataType.FP16),
            Operator.gemm(3, "fp8 weights", Phase.DECODE, 0, 1, 1, 16, 4096, 2048, DataType.FP16, DataType.FP8),
            Operator.rows(4, "softmax", OpKind.SOFTMAX, Phase.PREFILL, 0, 0, 4096, 2048, DataType.FP16),
            Operator.vector(5, "add", OpKind.ELEMENTWISE, Phase.PREFILL, 0, 0, 1 << 22, DataType.FP16),
            Operator.flashAttention(6, "flash", Phase.PREFILL, 0, 0, 8, 1024, 1024, 64, 1024, true, DataType.FP16,
                DataType.FP16));
    }

    private record Run(List<Simulation.OpResult> ops, Simulation.Result result) {}

    private static Run run(HardwareSpec hw, TensorPlacement.Policy placement, boolean fastForward) {
        List<Simulation.OpResult> ops = new ArrayList<>();
        Simulation.Result r = new Simulation(hw).placement(placement).fastForward(fastForward)
            .run(OperatorSource.of(operators().toArray(Operator[]::new)), null, ops::add);
        return new Run(ops, r);
    }

    @Test
    void fastForwardEqualsStepByStepToThePicosecond() throws Exception {
        assertSame(small());
    }

    @Test
    void fastForwardIsExactWithDispatchCostsAndAnotherClock() throws Exception {
        assertSame(small("clock_mhz=700", "dispatch.eager_ns=2500", "memory.bandwidth_gb_per_s=300"));
    }

    /**
     * Two tiers, each fast-forwarded by its own controller: weights and KV cache on a second {@code simple} tier of 3
     * channels at half the bandwidth and 4x the latency (an interleave period unlike the first tier's 4 channels),
     * activations and results on the first.
     */
    @Test
    void fastForwardIsExactPerTier() throws Exception {
        HardwareSpec one = small();
        HardwareSpec.Memory m = one.memory();
        HardwareSpec hw = new HardwareSpec(one.name(), one.clockMhz(), one.cores(), one.core(), one.globalBuffer(), m,
            one.interconnect(), one.deviceLink(), one.dispatch(), one.dataType(), one.energy(), one.components(),
            one.host(), List.of(one.memoryTiers().get(0), new HardwareSpec.MemoryTier("slow", new HardwareSpec.Memory(
                3, m.bandwidthGbPerS() / 2, 4 * m.latencyNs(), m.capacityGib(), m.model(), null))));
        TensorPlacement.Policy secondTier = role -> role == TensorRole.WEIGHTS || role == TensorRole.KV_CACHE
            ? new Region(1, 0) : Region.FIRST_TIER;
        assertSame(hw, secondTier);
        // The second tier carried the streamed operands, so its channels' digests took part in every jump.
        Simulation.Result r = run(hw, secondTier, true).result();
        assertTrue(r.device().memorySystem().tier(1).channels()[0].bytesMoved() > 0);
    }

    private static void assertSame(HardwareSpec hw) throws Exception {
        assertSame(hw, TensorPlacement.FIRST_TIER);
    }

    private static void assertSame(HardwareSpec hw, TensorPlacement.Policy placement) throws Exception {
        Run step = run(hw, placement, false);
        Run fast = run(hw, placement, true);
        assertEquals(0, step.result().fastForwardedStages());
        assertTrue(fast.result().fastForwardedStages() > 500, fast.result().fastForwardedStages() + " stages skipped");
        assertTrue(fast.result().events() < step.result().events() * 0.7,
            fast.result().events() + " vs " + step.result().events() + " events");
        assertEquals(step.result().endPs(), fast.result().endPs());
        assertEquals(step.ops().size(), fast.ops().size());
        for (int i = 0; i < step.ops().size(); i++) {
            Simulation.OpResult a = step.ops().get(i);
            Simulation.OpResult b = fast.ops().get(i);
            String op = a.op().name();
            assertEquals(a.startPs(), b.startPs(), op);
            assertEquals(a.endPs(), b.endPs(), op);
            assertEquals(a.mapping(), b.mapping(), op);
            assertEquals(sums(a.sums()), sums(b.sums()), op);
        }
        assertEquals(sums(step.result().stats().total()), sums(fast.result().stats().total()));
    }

    /** Every field of the sums, by name. */
    static String sums(RunStats.Sums s) throws Exception {
        StringBuilder out = new StringBuilder();
        for (Field f : RunStats.Sums.class.getFields()) {
            Object v = f.get(s);
            out.append(f.getName()).append('=').append(v instanceof long[] a ? Arrays.toString(a) : v).append(' ');
        }
        return out.toString();
    }
}

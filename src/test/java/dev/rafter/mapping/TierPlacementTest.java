package dev.rafter.mapping;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.rafter.config.InputException;
import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.workload.Capacity;
import dev.rafter.workload.Phase;
import dev.rafter.workload.Workload;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Placement on memory tiers: named tiers first, then each remaining role on the first tier with room (weights, KV
 * cache, activations in turn), capacity checked per tier. Sizes come from {@link Capacity} (its own tests check
 * them); here only where they go.
 */
class TierPlacementTest {
    private static final double GIB = 1024.0 * 1024 * 1024;
    private static final HardwareSpec HBF = HardwareLoader.load(Path.of("models/hardware/h100-hbf.yaml"), List.of());

    private static Workload llama70b(String... sets) {
        List<String> all = new java.util.ArrayList<>(List.of("run.tensor_parallel=1"));
        all.addAll(List.of(sets));
        return Workload.load(Path.of("models/workloads/llama2-70b.yaml"), all);
    }

    private static Capacity need(Workload w) {
        return Capacity.of(w, EnumSet.of(Phase.PREFILL, Phase.DECODE));
    }

    @Test
    void weightsBeyondTheFirstTierGoToTheNextThatFitsTheRestStays() {
        Workload w = llama70b();
        Capacity need = need(w);
        TierPlacement p = TierPlacement.of(HBF, w.placement(), need, false);
        // 70B parameters in fp16 (about 128 GiB) exceed the 80 GiB of HBM: weights in HBF, the rest in HBM.
        assertEquals(1, p.tierOf(TensorRole.WEIGHTS));
        assertEquals(0, p.tierOf(TensorRole.KV_CACHE));
        assertEquals(0, p.tierOf(TensorRole.ACTIVATIONS));
        assertEquals(0, p.tierOf(TensorRole.SCRATCH));
        assertEquals(new Region(1, 0), p.regionOf(TensorRole.WEIGHTS));
        assertEquals(Region.FIRST_TIER, p.regionOf(TensorRole.KV_CACHE));
        assertArrayEquals(new long[] {need.kvCacheBytes() + need.activationBytes(), need.weightBytes(), 0},
            p.bytesByTier());
    }

    @Test
    void aNamedTierWinsAndScratchFollowsTheActivations() {
        Workload w = llama70b("placement.kv_cache=hbf", "placement.activations=hbf");
        TierPlacement p = TierPlacement.of(HBF, w.placement(), need(w), false);
        assertEquals(1, p.tierOf(TensorRole.KV_CACHE));
        assertEquals(1, p.tierOf(TensorRole.ACTIVATIONS));
        assertEquals(1, p.tierOf(TensorRole.SCRATCH));
        assertEquals(1, p.tierOf(TensorRole.WEIGHTS), "128 GiB of weights still fit HBF's room, not HBM");
    }

    @Test
    void aTierThatDoesNotExistIsRefusedNamingTheKeyAndTheTiers() {
        Workload w = llama70b("placement.weights=flash");
        InputException e = assertThrows(InputException.class, () -> TierPlacement.of(HBF, w.placement(), need(w),
            false));
        assertEquals("placement.weights: no memory tier named 'flash' (the device has [hbm, hbf, host])",
            e.getMessage());
    }

    @Test
    void weightsThatFitNoTierAreRefusedNamingEachTiersRoom() {
        HardwareSpec small = HardwareLoader.load(Path.of("models/hardware/h100-hbf.yaml"), List.of());
        Workload w = llama70b();
        Capacity need = need(w);
        // Only 100 GiB of HBF: 128 GiB of weights fit neither tier.
        HardwareSpec.Memory hbf = small.tier("hbf").memory();
        HardwareSpec cut = new HardwareSpec(small.name(), small.clockMhz(), small.cores(), small.core(),
            small.globalBuffer(), small.memory(), small.interconnect(), small.deviceLink(), small.dispatch(),
            small.dataType(), null, List.of(), dev.rafter.hw.HostModel.NONE, List.of(small.memoryTiers().get(0), new HardwareSpec.MemoryTier("hbf",
                new HardwareSpec.Memory(hbf.channels(), hbf.bandwidthGbPerS(), hbf.latencyNs(), 100, hbf.model(),
                    null, hbf.flash(), 0))));
        InputException e = assertThrows(InputException.class, () -> TierPlacement.of(cut, w.placement(), need,
            false));
        assertEquals(String.format(java.util.Locale.ROOT, "memory.capacity_gib: no memory tier holds the %.1f GiB of"
            + " weights (hbm 80.0 GiB with 80.0 GiB left, hbf 100.0 GiB with 100.0 GiB left); add capacity or a"
            + " tier, or pass --allow-overcommit", need.weightBytes() / GIB), e.getMessage());
        // Allowed to overcommit, they go to the first tier.
        assertEquals(0, TierPlacement.of(cut, w.placement(), need, true).tierOf(TensorRole.WEIGHTS));
    }

    @Test
    void aNamedTierWithoutRoomIsRefused() {
        Workload w = llama70b("placement.weights=hbm");
        InputException e = assertThrows(InputException.class, () -> TierPlacement.of(HBF, w.placement(), need(w),
            false));
        assertEquals(String.format(java.util.Locale.ROOT, "placement.weights: %.1f GiB of weights cannot fit on tier"
            + " 'hbm' (80.0 GiB of its 80.0 GiB left); place them on another tier, or pass --allow-overcommit",
            need(w).weightBytes() / GIB), e.getMessage());
    }
}

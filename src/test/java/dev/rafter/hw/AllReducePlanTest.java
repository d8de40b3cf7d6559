package dev.rafter.hw;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.rafter.config.InputException;
import java.util.List;
import org.junit.jupiter.api.Test;

class AllReducePlanTest {
    /** NCCL's NVLink constants (reference/gpu-microbenchmarks.md 5b), 240 GB/s of links. */
    private static final List<CollectiveCost> NCCL = List.of(
        new CollectiveCost(CollectiveAlgorithm.RING, "ll", 6600, 600, 0.5),
        new CollectiveCost(CollectiveAlgorithm.RING, "simple", 8400, 3400, 1.0),
        new CollectiveCost(CollectiveAlgorithm.TREE, "ll", 6800, 600, 0.5),
        new CollectiveCost(CollectiveAlgorithm.IN_SWITCH, "simple", 25000, 0, 1.0));

    private static HardwareSpec.DeviceLink links(HardwareSpec.Topology t, boolean nvls, CollectiveAlgorithm a) {
        return new HardwareSpec.DeviceLink(240, t, nvls, a, NCCL);
    }

    @Test
    void algorithmsMoveTheBytesTheirSchedulesSay() {
        assertEquals(14, CollectiveAlgorithm.RING.hops(8));
        assertEquals(1750, CollectiveAlgorithm.RING.egressBytes(1000, 8), "2 (p-1)/p of the tensor");
        assertEquals(14, CollectiveAlgorithm.TREE.hops(8), "a chain inside the node, down and back");
        assertEquals(1750, CollectiveAlgorithm.TREE.egressBytes(1000, 8));
        assertEquals(1125, CollectiveAlgorithm.IN_SWITCH.egressBytes(1000, 8));
        assertEquals(1500, CollectiveAlgorithm.DIRECT.egressBytes(1000, 4));
    }

    @Test
    void smallMessagesTakeTheLowLatencyProtocolAndLargeOnesTheFullBandwidthOne() {
        HardwareSpec.DeviceLink l = links(HardwareSpec.Topology.SWITCH, false, CollectiveAlgorithm.AUTO);
        AllReducePlan small = AllReducePlan.choose(l, 8 * 1024, 8);
        // ring LL: 6.6 + 14 x 0.6 = 15.0 us (the sheet's derived 8-GPU alpha) + 14336 B / (120 GB/s)
        assertEquals(CollectiveAlgorithm.RING, small.cost().algorithm());
        assertEquals("ll", small.cost().protocol());
        assertEquals(15.0e-6 + 14336 / 120e9, small.predictedS(), 1e-12);
        AllReducePlan large = AllReducePlan.choose(l, 1L << 30, 8);
        assertEquals("simple", large.cost().protocol());
        assertEquals(CollectiveAlgorithm.RING, large.cost().algorithm());
        assertEquals((8400 + 14 * 3400) * 1e-9 + (1L << 30) * 14 / 8 / 240e9, large.predictedS(), 1e-9);
    }

    @Test
    void inSwitchReductionNeedsASwitchThatReduces() {
        HardwareSpec.DeviceLink nvls = links(HardwareSpec.Topology.SWITCH, true, CollectiveAlgorithm.AUTO);
        assertEquals(CollectiveAlgorithm.IN_SWITCH, AllReducePlan.choose(nvls, 1L << 30, 8).cost().algorithm());
        HardwareSpec.DeviceLink plain = links(HardwareSpec.Topology.SWITCH, false, CollectiveAlgorithm.IN_SWITCH);
        InputException e = assertThrows(InputException.class, () -> AllReducePlan.choose(plain, 1000, 8));
        assertEquals("device_link.algorithm: no row of device_link.collective_costs runs in_switch on a switch "
            + "topology", e.getMessage());
    }

    @Test
    void theLowerBoundIsBelowEveryPlan() {
        for (boolean nvls : new boolean[] {false, true}) {
            HardwareSpec.DeviceLink l = links(HardwareSpec.Topology.SWITCH, nvls, CollectiveAlgorithm.AUTO);
            for (long bytes : new long[] {64, 65536, 1L << 26, 1L << 32}) {
                for (int p : new int[] {2, 4, 8}) {
                    double bound = AllReducePlan.lowerBoundS(l, bytes, p);
                    double plan = AllReducePlan.choose(l, bytes, p).predictedS();
                    assertEquals(true, bound <= plan, bytes + " B over " + p + ": " + bound + " > " + plan);
                }
            }
        }
    }
}

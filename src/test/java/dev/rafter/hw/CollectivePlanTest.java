package dev.rafter.hw;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.rafter.config.InputException;
import java.util.List;
import org.junit.jupiter.api.Test;

class CollectivePlanTest {
    /** NCCL's NVLink constants (NCCL src/graph/tuning.cc), 240 GB/s of links. */
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
        assertEquals(14, CollectiveAlgorithm.RING.hops(Collective.ALL_REDUCE, 8));
        assertEquals(1750, CollectiveAlgorithm.RING.egressBytes(Collective.ALL_REDUCE, 1000, 8), "2 (p-1)/p of the tensor");
        assertEquals(14, CollectiveAlgorithm.TREE.hops(Collective.ALL_REDUCE, 8), "a chain inside the node, down and back");
        assertEquals(1750, CollectiveAlgorithm.TREE.egressBytes(Collective.ALL_REDUCE, 1000, 8));
        assertEquals(1125, CollectiveAlgorithm.IN_SWITCH.egressBytes(Collective.ALL_REDUCE, 1000, 8));
        assertEquals(1500, CollectiveAlgorithm.DIRECT.egressBytes(Collective.ALL_REDUCE, 1000, 4));
    }

    @Test
    void smallMessagesTakeTheLowLatencyProtocolAndLargeOnesTheFullBandwidthOne() {
        HardwareSpec.DeviceLink l = links(HardwareSpec.Topology.SWITCH, false, CollectiveAlgorithm.AUTO);
        CollectivePlan small = CollectivePlan.choose(l, Collective.ALL_REDUCE, 8 * 1024, 8);
        // ring LL: 6.6 + 14 x 0.6 = 15.0 us (NCCL tuning.cc's 8-GPU alpha) + 14336 B / (120 GB/s)
        assertEquals(CollectiveAlgorithm.RING, small.cost().algorithm());
        assertEquals("ll", small.cost().protocol());
        assertEquals(15.0e-6 + 14336 / 120e9, small.predictedS(), 1e-12);
        CollectivePlan large = CollectivePlan.choose(l, Collective.ALL_REDUCE, 1L << 30, 8);
        assertEquals("simple", large.cost().protocol());
        assertEquals(CollectiveAlgorithm.RING, large.cost().algorithm());
        assertEquals((8400 + 14 * 3400) * 1e-9 + (1L << 30) * 14 / 8 / 240e9, large.predictedS(), 1e-9);
    }

    @Test
    void inSwitchReductionNeedsASwitchThatReduces() {
        HardwareSpec.DeviceLink nvls = links(HardwareSpec.Topology.SWITCH, true, CollectiveAlgorithm.AUTO);
        assertEquals(CollectiveAlgorithm.IN_SWITCH, CollectivePlan.choose(nvls, Collective.ALL_REDUCE, 1L << 30, 8).cost().algorithm());
        HardwareSpec.DeviceLink plain = links(HardwareSpec.Topology.SWITCH, false, CollectiveAlgorithm.IN_SWITCH);
        InputException e = assertThrows(InputException.class, () -> CollectivePlan.choose(plain, Collective.ALL_REDUCE, 1000, 8));
        assertEquals("device_link.algorithm: no row of device_link.collective_costs runs all_reduce with in_switch on a "
            + "switch topology", e.getMessage());
    }

    @Test
    void theLowerBoundIsBelowEveryPlan() {
        for (boolean nvls : new boolean[] {false, true}) {
            HardwareSpec.DeviceLink l = links(HardwareSpec.Topology.SWITCH, nvls, CollectiveAlgorithm.AUTO);
            for (long bytes : new long[] {64, 65536, 1L << 26, 1L << 32}) {
                for (int p : new int[] {2, 4, 8}) {
                    double bound = CollectivePlan.lowerBoundS(l, Collective.ALL_REDUCE, bytes, p);
                    double plan = CollectivePlan.choose(l, Collective.ALL_REDUCE, bytes, p).predictedS();
                    assertEquals(true, bound <= plan, bytes + " B over " + p + ": " + bound + " > " + plan);
                }
            }
        }
    }

    @Test
    void theOtherCollectivesMoveTheirOwnBytes() {
        // nccl-tests' sizes: all-gather's output, reduce-scatter's input; each device sends (p-1)/p of it on a ring.
        assertEquals(7, CollectiveAlgorithm.RING.hops(Collective.ALL_GATHER, 8));
        assertEquals(875, CollectiveAlgorithm.RING.egressBytes(Collective.ALL_GATHER, 1000, 8));
        assertEquals(875, CollectiveAlgorithm.RING.egressBytes(Collective.REDUCE_SCATTER, 1000, 8));
        assertEquals(125, CollectiveAlgorithm.IN_SWITCH.egressBytes(Collective.ALL_GATHER, 1000, 8), "multicast");
        assertEquals(1, CollectiveAlgorithm.DIRECT.hops(Collective.ALL_TO_ALL, 8));
        assertEquals(875, CollectiveAlgorithm.DIRECT.egressBytes(Collective.ALL_TO_ALL, 1000, 8));
        assertEquals(3500, CollectiveAlgorithm.RING.egressBytes(Collective.ALL_TO_ALL, 1000, 8),
            "on a ring the share for the peer d hops away crosses d links");
        assertEquals(false, CollectiveAlgorithm.TREE.runsOn(Collective.ALL_GATHER, HardwareSpec.Topology.SWITCH,
            true), "NCCL's tree serves all-reduce only");
        assertEquals(125, Collective.ALL_GATHER.readBytes(1000, 8));
        assertEquals(125, Collective.REDUCE_SCATTER.writeBytes(1000, 8));
        HardwareSpec.DeviceLink l = links(HardwareSpec.Topology.SWITCH, false, CollectiveAlgorithm.AUTO);
        CollectivePlan ag = CollectivePlan.choose(l, Collective.ALL_GATHER, 1L << 30, 8);
        assertEquals(CollectiveAlgorithm.RING, ag.cost().algorithm());
        assertEquals((8400 + 7 * 3400) * 1e-9 + (1L << 30) * 7 / 8 / 240e9, ag.predictedS(), 1e-9);
    }
}

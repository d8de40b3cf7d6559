package dev.rafter.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.hw.Collective;
import dev.rafter.hw.CollectivePlan;
import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.sim.component.DeviceLink;
import dev.rafter.sim.component.MemoryController;
import dev.rafter.sim.trace.SliceKind;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;
import dev.rafter.workload.Phase;
import org.junit.jupiter.api.Test;

/** Kernel dispatch on the timeline, and all-reduces run as pipelined plans of the collective cost table. */
class DispatchAndCollectiveTest {
    private static final String SIMPLE = "memory.model=simple";

    static Operator norm() {
        return Operator.vector(0, "n", OpKind.RMSNORM, Phase.DECODE, 0, 1, 8 * 4096, DataType.FP16);
    }

    @Test
    void eachKernelStartsAfterItsDispatchCostChargedAsADispatchWait() {
        HardwareSpec ideal = SimulationTest.a100(SIMPLE, "dispatch.eager_ns=0");
        HardwareSpec eager = SimulationTest.a100(SIMPLE, "dispatch.eager_ns=2555", "dispatch.graph_ns=1340");
        HardwareSpec graph = SimulationTest.a100(SIMPLE, "dispatch.eager_ns=2555", "dispatch.graph_ns=1340",
            "dispatch.mode=graph");
        Simulation.OpResult base = SimulationTest.one(ideal, norm());
        Simulation.OpResult e = SimulationTest.one(eager, norm());
        Simulation.OpResult g = SimulationTest.one(graph, norm());
        long basePs = base.endPs() - base.startPs();
        assertEquals(basePs + 2_555_000, e.endPs() - e.startPs(), "one kernel: the eager gap, exactly");
        assertEquals(basePs + 1_340_000, g.endPs() - g.startPs(), "under graphs the GPU-side cost stays");
        int arrays = eager.cores() * eager.core().peArrays();
        assertEquals(2_555_000L * arrays, e.sums().stallPs(SliceKind.STALL_DISPATCH), "a dispatch slice per array");
        assertEquals(0, base.sums().stallPs(SliceKind.STALL_DISPATCH));
    }

    @Test
    void aFusedAttentionPaysOneDispatchPerKernelItRuns() {
        HardwareSpec hw = SimulationTest.a100(SIMPLE, "dispatch.eager_ns=2000");
        Operator att = new Operator(0, "att", OpKind.ATTENTION, Phase.PREFILL, 0, 0, 8, 128, 512, 128, 0,
            DataType.FP16, Operator.NO_DEPS);
        int kernels = new Simulation(hw).programs(att).size();
        Simulation.OpResult r = SimulationTest.one(hw, att);
        int arrays = hw.cores() * hw.core().peArrays();
        assertEquals(2_000_000L * kernels * arrays, r.sums().stallPs(SliceKind.STALL_DISPATCH));
    }

    @Test
    void aLargeAllReduceRunsNearItsAlphaBetaTimeAndNeverBelowItsBound() {
        HardwareSpec hw = SimulationTest.a100(SIMPLE);
        long elements = 64L << 20;
        Operator ar = Operator.allReduce(0, "ar", Phase.PREFILL, 0, 0, elements, 4, DataType.FP16);
        Simulation.OpResult r = SimulationTest.one(hw, ar);
        CollectivePlan plan = CollectivePlan.choose(hw.deviceLink(), Collective.ALL_REDUCE, elements * 2, 4);
        double ratio = r.latencyS() / plan.predictedS();
        // Pipelined slices hide all but one hop latency; the memory reads and writes overlap the links.
        assertTrue(ratio > 0.9 && ratio < 1.1, "simulated / alpha-beta = " + ratio);
        assertTrue(r.latencyS() >= r.bound().seconds());
        long wire = (long) Math.ceil(plan.egressBytes() / plan.cost().payloadFraction());
        assertTrue(Math.abs(r.sums().get(DeviceLink.KIND, "bytes") - wire) <= 64L * plan.hops(), r.sums().get(DeviceLink.KIND, "bytes") + " vs " + wire);
        assertEquals(2 * elements * 2, r.sums().get(MemoryController.KIND, "read_bytes") + r.sums().get(MemoryController.KIND, "write_bytes"), "read once, written once");
    }

    @Test
    void aTinyAllReduceCostsItsLatencies() {
        HardwareSpec hw = SimulationTest.a100(SIMPLE);
        Operator ar = Operator.allReduce(0, "ar", Phase.DECODE, 0, 1, 1024, 4, DataType.FP16);
        Simulation.OpResult r = SimulationTest.one(hw, ar);
        CollectivePlan plan = CollectivePlan.choose(hw.deviceLink(), Collective.ALL_REDUCE, 2048, 4);
        double latencies = (plan.cost().baseLatencyNs() + plan.hops() * plan.cost().hopLatencyNs()) * 1e-9;
        assertTrue(r.latencyS() >= latencies, r.latencyS() + " < " + latencies);
        assertTrue(r.latencyS() <= latencies + 2e-6, "latency-bound: " + r.latencyS() + " vs " + latencies);
    }

    @Test
    void allGatherReadsItsShareAndWritesTheWholeReduceScatterTheReverse() {
        HardwareSpec hw = SimulationTest.a100(SIMPLE);
        long elements = 16L << 20;
        for (OpKind kind : new OpKind[] {OpKind.ALL_GATHER, OpKind.REDUCE_SCATTER, OpKind.ALL_TO_ALL}) {
            Operator op = Operator.collective(0, "c", kind, Phase.PREFILL, 0, 0, elements, 4, DataType.FP16);
            Simulation.OpResult r = SimulationTest.one(hw, op);
            long bytes = elements * 2;
            Collective c = kind.collective();
            assertEquals(c.readBytes(bytes, 4), r.sums().get(MemoryController.KIND, "read_bytes"), kind.key());
            assertEquals(c.writeBytes(bytes, 4), r.sums().get(MemoryController.KIND, "write_bytes"), kind.key());
            CollectivePlan plan = CollectivePlan.choose(hw.deviceLink(), c, bytes, 4);
            double ratio = r.latencyS() / plan.predictedS();
            assertTrue(ratio > 0.9 && ratio < 1.15, kind.key() + ": simulated / alpha-beta = " + ratio);
            assertTrue(r.latencyS() >= r.bound().seconds(), kind.key());
        }
    }
}

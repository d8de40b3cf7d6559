package dev.rafter.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.sim.component.MemoryController;
import dev.rafter.sim.component.PeArray;
import dev.rafter.sim.trace.RunStats;
import dev.rafter.sim.trace.SliceKind;
import dev.rafter.workload.Operator;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Phase;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * One 16x16x16 GEMM on a one-core device, followed through every component to the picosecond. Device (1000 MHz,
 * so 1 cycle = 1000 ps): 8 HBM channels of 32 B/ns with 42 ns latency; global buffer, port and local buffer
 * 1024 B/cycle; interconnect latency 1 cycle; one 16x16 output-stationary array, plain fold model.
 */
class CoreTimelineTest {
    @Test
    void aSingleTileRunsLoadComputeStoreExactlyAsDerivedByHand() {
        HardwareSpec hw = HardwareLoader.load(Path.of("validation/hardware/single-array.yaml"),
            List.of("core.pe_array.rows=16", "core.pe_array.cols=16"));
        List<Simulation.OpResult> out = new ArrayList<>();
        new Simulation(hw).run(OperatorSource.of(
            Operator.gemm(0, "g", Phase.PREFILL, 0, 0, 1, 16, 16, 16, DataType.FP16)), null, out::add);
        Simulation.OpResult r = out.get(0);
        // Stage A+B = 1024 B from address 0: four 256 B blocks on channels 0-3, 8 ns each + 42 ns -> ready at 50 ns.
        // Load 1024 B to the core: 1 cycle on the ports + 1 cycle latency -> arrives at 52 ns.
        // Compute: one fold of 16 + 16 + 16 - 2 = 46 cycles -> 98 ns.
        // Store 512 B: 0.5 cycle + 1 cycle latency -> 99.5 ns; HBM write on channels 0-1: 8 ns + 42 ns -> 149.5 ns.
        assertEquals(149_500, r.endPs() - r.startPs());
        RunStats.Sums s = r.sums();
        assertEquals(46_000, s.get(PeArray.KIND, "busy_ps"));
        assertEquals(50_000, s.stallPs(SliceKind.STALL_MEMORY));
        assertEquals(2_000 + 1_500, s.stallPs(SliceKind.STALL_INTERCONNECT));
        assertEquals(50_000, s.stallPs(SliceKind.STALL_DEPENDENCY), "waiting for the result to reach HBM");
        assertEquals(16 * 16 * 16, s.get(PeArray.KIND, "macs"));
        assertEquals(1024, s.get(MemoryController.KIND, "read_bytes"));
        assertEquals(512, s.get(MemoryController.KIND, "write_bytes"));
    }
}

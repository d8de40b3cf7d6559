package dev.rafter.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.sim.Simulation;
import dev.rafter.workload.Operator;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.StepLowering;
import dev.rafter.workload.Workload;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StepTimerTest {
    private static final HardwareSpec H100 = HardwareLoader.load(Path.of("models/hardware/h100.yaml"), List.of());
    private static final Workload TINY = Workload.load(Path.of("models/workloads/tiny.yaml"));

    /**
     * The step's operators run as one simulate run (reuse off: every operator simulated), each finding nothing in
     * the L2 from the ones before, as the step timer prices them.
     */
    private static long simulatedAsOneRun(List<StepLowering.Group> groups, long emitting) {
        List<Operator> ops = new ArrayList<>();
        StepLowering.lower(TINY, 0, groups, emitting, ops::add);
        return new Simulation(H100).reuse(false).l2Residency(false).run(OperatorSource.of(ops.toArray(Operator[]::new)), null, r -> { })
            .endPs();
    }

    @Test
    void aStepFromTheMemoTakesExactlyWhatItsOperatorsTakeInOneRun() {
        StepTimer timer = new StepTimer(H100, TINY);
        List<StepLowering.Group> mixed = List.of(new StepLowering.Group(1, 48, 48), new StepLowering.Group(2, 1, 70));
        List<StepLowering.Group> decodes = List.of(new StepLowering.Group(2, 1, 71), new StepLowering.Group(1, 1, 49));
        long first = timer.stepPs(0, mixed, 3);
        assertEquals(simulatedAsOneRun(mixed, 3), first);
        long shapesAfterFirst = timer.operatorShapesSimulated();
        assertEquals(first, timer.stepPs(1, mixed, 3));
        assertEquals(shapesAfterFirst, timer.operatorShapesSimulated()); // the repeat simulated nothing
        assertEquals(simulatedAsOneRun(decodes, 3), timer.stepPs(2, decodes, 3));
        assertEquals(1L, timer.memo().get("step_hits"));
        // Attention is one kernel over all the groups: its shape, and so the memo, tells a later group apart.
        List<StepLowering.Group> longer = List.of(new StepLowering.Group(2, 1, 71), new StepLowering.Group(1, 1, 300));
        long longerPs = timer.stepPs(3, longer, 3);
        assertEquals(simulatedAsOneRun(longer, 3), longerPs);
        assertTrue(longerPs > timer.stepPs(4, decodes, 3), "a longer KV length takes longer");
    }
}

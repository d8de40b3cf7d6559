package dev.rafter.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.energy.EnergyAccount;
import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.sim.Simulation;
import dev.rafter.sim.component.Catalogue;
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
     * The step's operators run as one simulate run (reuse off: every operator simulated), each finding in the L2 what
     * the ones before it left (h100.yaml keeps the L2 between kernels), as the step timer prices them.
     */
    private static long simulatedAsOneRun(List<StepLowering.Group> groups, long emitting) {
        return simulatedAsOneRun(H100, groups, emitting);
    }

    private static long simulatedAsOneRun(HardwareSpec hw, List<StepLowering.Group> groups, long emitting) {
        return simulatedAsOneRun(hw, TINY, groups, emitting, false);
    }

    /** With {@code reuse}, twins replay (exact: ReuseTest), so a run of many layers stays quick. */
    private static long simulatedAsOneRun(HardwareSpec hw, Workload w, List<StepLowering.Group> groups, long emitting,
                                          boolean reuse) {
        List<Operator> ops = new ArrayList<>();
        StepLowering.lower(w, 0, groups, emitting, ops::add);
        return new Simulation(hw).reuse(reuse).run(OperatorSource.of(ops.toArray(Operator[]::new)), null, r -> { })
            .endPs();
    }

    /**
     * Llama-3-8B's 32 layers each stream more weights through the H100's 50 MB L2 than it holds, so after the second
     * layer it holds what it held after the first (a layer later): the timer lowers two layers and counts the second
     * for the other 31. The step must still take what the whole step takes in one run.
     */
    @Test
    void twoLayersStandForAllWhereTheL2SettlesAfterOne() {
        Workload llama = Workload.load(Path.of("models/workloads/llama3-8b.yaml"));
        StepTimer timer = new StepTimer(H100, llama);
        for (List<StepLowering.Group> groups : List.of(List.of(new StepLowering.Group(4, 1, 300)),
                List.of(new StepLowering.Group(2, 1, 700), new StepLowering.Group(1, 64, 64)))) {
            assertEquals(simulatedAsOneRun(H100, llama, groups, groups.size(), true),
                timer.stepPs(0, groups, groups.size()), groups.toString());
        }
    }

    /**
     * tiny.yaml at 6 layers moves about 1.4 MB a layer through the L2: in 4 MiB the results pile up until the third
     * layer, from which the bytes each layer fetches push earlier results out, so later layers write back what the
     * first two did not (more DRAM writes: more energy), and two layers cannot stand for the rest: the step is lowered
     * whole. Counting the second layer for the other five would miss those write-backs.
     */
    @Test
    void aStepWhoseL2KeepsFillingIsLoweredWhole() {
        HardwareSpec small = HardwareLoader.load(Path.of("models/hardware/h100.yaml"),
            List.of("global_buffer.capacity_mib=4"));
        Workload deep = Workload.load(Path.of("models/workloads/tiny.yaml"), List.of("model.layers=6"));
        List<StepLowering.Group> groups = List.of(new StepLowering.Group(2, 1, 71), new StepLowering.Group(1, 48, 48));
        List<Operator> ops = new ArrayList<>();
        StepLowering.lower(deep, 0, groups, 3, ops::add);
        Simulation.Result run = new Simulation(small).reuse(false).run(OperatorSource.of(ops.toArray(Operator[]::new)),
            null, r -> { });
        EnergyAccount account = new EnergyAccount(small, small.energy(), Catalogue.energyUses(small));
        double dynamic = account.of(run.stats().total().activity(0)).dynamic();
        StepTimer.Cost step = new StepTimer(small, deep).step(0, groups, 3);
        assertEquals(run.endPs(), step.ps());
        assertEquals(2 * dynamic, step.joules(), ops.size() * 1e-15); // tiny.yaml: a tensor-parallel pair
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

    @Test
    void aStepsEnergyIsWhatItsOperatorsSpendInOneRunOnEveryDeviceOfTheGroup() {
        // tiny.yaml is lowered as one device's share of a tensor-parallel pair: the group spends twice that.
        StepTimer timer = new StepTimer(H100, TINY);
        EnergyAccount account = new EnergyAccount(H100, H100.energy(), Catalogue.energyUses(H100));
        for (List<StepLowering.Group> groups : List.of(List.of(new StepLowering.Group(1, 48, 48)),
                List.of(new StepLowering.Group(2, 1, 71), new StepLowering.Group(1, 1, 49)))) {
            List<Operator> ops = new ArrayList<>();
            StepLowering.lower(TINY, 0, groups, 3, ops::add);
            double[] flops = {0};
            Simulation.Result run = new Simulation(H100).reuse(false).run(OperatorSource.of(
                ops.toArray(Operator[]::new)), null, r -> flops[0] += r.bound().flops());
            double dynamic = account.of(run.stats().total().activity(run.endPs() * 1e-12)).dynamic();
            StepTimer.Cost step = timer.step(0, groups, 3);
            assertEquals(run.endPs(), step.ps());
            // Each operator's energy is kept to the femtojoule.
            assertEquals(2 * dynamic, step.joules(), ops.size() * 1e-15);
            assertEquals(2 * flops[0], step.flops(), 1e-9 * flops[0]);
            assertTrue(step.joules() > 0);
            // From the memo: the same figures.
            assertEquals(step, timer.step(1, groups, 3));
        }
        // The pair's static power: each device's board idle power (h100.yaml power.idle_w, above its SRAM leakage).
        assertEquals(2 * account.staticW(), timer.staticW(), 0);
    }
}

package dev.rafter.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.rafter.config.InputException;
import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.sim.component.PeArray;
import dev.rafter.workload.Operator;
import dev.rafter.workload.OperatorOrder;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Phase;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.Test;

/**
 * An operator's clock is its own ({@link Simulation#clocks}): the device of {@link CoreTimelineTest} (1000 MHz, one
 * 16x16 array) runs one 16x16x16 GEMM at 500 MHz between two at its own clock.
 */
class OperatingPointTest {
    private static final HardwareSpec HW = HardwareLoader.load(Path.of("validation/hardware/single-array.yaml"),
        List.of("core.pe_array.rows=16", "core.pe_array.cols=16"));

    private static Operator gemm(long id) {
        return Operator.gemm(id, "g" + id, Phase.PREFILL, 0, 0, 1, 16, 16, 16, DataType.FP16);
    }

    private static List<Simulation.OpResult> run(HardwareSpec hw, ToDoubleFunction<Operator> clocks) {
        List<Simulation.OpResult> out = new ArrayList<>();
        Simulation sim = new Simulation(hw);
        if (clocks != null) {
            sim.clocks(clocks);
        }
        sim.run(OperatorSource.of(gemm(0), gemm(1), gemm(2)), null, out::add);
        return out;
    }

    private static long ps(Simulation.OpResult r) {
        return r.endPs() - r.startPs();
    }

    @Test
    void anOperatorAtALowerClockTakesItsCyclesAtThatClockAndTheOthersAreUnchanged() {
        List<Simulation.OpResult> mixed = run(HW, op -> op.id() == 1 ? 500 : 1000);
        // By hand, as CoreTimelineTest at 1000 MHz (149.5 ns) with 2 ns cycles: operands staged from HBM at 50 ns
        // (memory is given in GB/s and ns: no change); load 1024 B, 1 cycle on the ports + 1 cycle of latency ->
        // 54 ns; compute 46 cycles / 500 MHz = 92 ns -> 146 ns; store 512 B, 0.5 + 1 cycle -> 149 ns; HBM write
        // 8 + 42 ns -> 199 ns.
        assertEquals(199_000, ps(mixed.get(1)));
        assertEquals(46 * 2_000, mixed.get(1).sums().get(PeArray.KIND, "busy_ps"), "46 cycles / f_low");
        List<Simulation.OpResult> nominal = run(HW, null);
        for (int i : new int[] {0, 2}) {
            assertEquals(ps(nominal.get(i)), ps(mixed.get(i)), "op " + i + " at the device's clock: unchanged");
            assertEquals(nominal.get(i).sums().get(PeArray.KIND, "busy_ps"),
                mixed.get(i).sums().get(PeArray.KIND, "busy_ps"));
        }
        assertEquals(ps(run(HW.withClockMhz(500), null).get(1)), ps(mixed.get(1)),
            "as the whole device at 500 MHz runs it");
    }

    @Test
    void aReusedOperatorIsOneThatRanAtTheSameClock() {
        // op 2 has op 0's shape but runs at 500 MHz: it is simulated, not taken from op 0 (a twin at 1000 MHz)
        List<Simulation.OpResult> r = run(HW, op -> op.id() == 2 ? 500 : 1000);
        assertEquals(199_000, ps(r.get(2)));
        assertEquals(ps(r.get(0)), ps(r.get(1)));
    }

    @Test
    void operatorsAtTheirOwnClocksRunOneAfterAnother() {
        Simulation sim = new Simulation(HW).clocks(op -> 500).order(OperatorOrder.DEPENDENCIES);
        InputException e = assertThrows(InputException.class, () -> sim.run(OperatorSource.of(gemm(0)), null, r -> {}));
        assertEquals(true, e.getMessage().contains("--order strict"), e.getMessage());
    }
}

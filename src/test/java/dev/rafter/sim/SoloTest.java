package dev.rafter.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;
import dev.rafter.workload.Phase;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Operators simulated ahead, one after another on one device ({@link Simulation.Solo}). */
class SoloTest {
    @Test
    void aDeviceKeptFromOperatorToOperatorGivesEachWhatARunOfItAloneGives() {
        // The A100 (banked HBM, a global buffer that keeps its contents): decode attention at two KV lengths, GEMMs,
        // a row reduction, each after others on one kept device, its clock going on; each must end, sum and map as
        // a run of that one operator does on a fresh device from time 0.
        HardwareSpec hw = SimulationTest.a100();
        List<Operator> ops = List.of(
            Operator.flashAttention(0, "attn", Phase.DECODE, 0, 1, 64, 4, 1911, 128, 1, true, DataType.BF16,
                DataType.BF16),
            SimulationTest.gemm(64, 4096, 4096),
            Operator.rows(0, "norm", OpKind.RMSNORM, Phase.DECODE, 0, 1, 64, 4096, DataType.BF16),
            Operator.flashAttention(0, "attn", Phase.DECODE, 0, 2, 64, 4, 1912, 128, 1, true, DataType.BF16,
                DataType.BF16),
            SimulationTest.gemm(512, 1024, 2048));
        try (Simulation.Solo kept = new Simulation(hw).new Solo(false)) {
            for (Operator op : ops) {
                Simulation.Replay ahead = kept.simulate(op, new Simulation.ReuseKey(op.shape(), 0, 0), false);
                Simulation.OpResult alone = SimulationTest.one(hw, op);
                assertEquals(alone.endPs() - alone.startPs(), ahead.durationPs(), op.name());
                assertTrue(alone.sums().sameValues(ahead.own()), op.name() + ": its sums");
                assertEquals(alone.mapping(), ahead.mapping(), op.name());
                assertEquals(alone.bound(), ahead.bound(), op.name());
            }
            assertTrue(kept.events() > 0);
        }
    }
}

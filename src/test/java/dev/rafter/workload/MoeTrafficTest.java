package dev.rafter.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.sim.Simulation;
import dev.rafter.sim.component.MemoryController;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Mixtral decode: simulated HBM reads of the expert FFNs are k experts' weights at batch 1, all 8 at batch 64, run
 * per expert or as grouped GEMMs (each touched expert's weights read once either way).
 */
class MoeTrafficTest {
    static double expertBytesRead(int batch, boolean grouped) {
        HardwareSpec hw = HardwareLoader.load(Path.of("models/hardware/a100.yaml"), List.of());
        Workload w = LoweringTest.withRun(grouped ? LoweringTest.load("mixtral-8x7b")
            : LoweringTest.perExpert("mixtral-8x7b"), batch, RunSpec.Attention.FLASH);
        RunSpec r = w.run();
        Workload one = new Workload(w.model(), new RunSpec(batch, r.promptTokens(), 2, r.tensorParallel(),
            r.dataType(), 1, r.attention(), r.kvDataType(), r.weightDataType()));
        double[] bytes = {0};
        new Simulation(hw).run(OperatorSource.of(one, EnumSet.of(Phase.DECODE)), null, res -> {
            if (res.op().name().startsWith("expert") && res.op().kind().isMatrix()) {
                bytes[0] += res.sums().get(MemoryController.KIND, "read_bytes");
            }
        });
        return bytes[0];
    }

    @Test
    void batchOneDecodeReadsTwoExpertsAndBatch64ReadsAll() {
        double expert = 3.0 * 4096 * (14336 / 2) * 2; // gate, up, down per device under TP 2, bf16
        for (boolean grouped : new boolean[] {false, true}) {
            assertEquals(2, expertBytesRead(1, grouped) / expert, 0.01);
            assertEquals(8, expertBytesRead(64, grouped) / expert, 0.03, "plus the 16 tokens' activations per expert");
        }
    }
}

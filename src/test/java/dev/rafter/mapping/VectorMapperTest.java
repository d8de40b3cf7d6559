package dev.rafter.mapping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;
import dev.rafter.workload.Phase;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class VectorMapperTest {
    static final HardwareSpec A100 = HardwareLoader.load(Path.of("models/hardware/a100.yaml"), List.of());

    @ParameterizedTest
    @CsvSource({"SOFTMAX,805306368", "ELEMENTWISE,1000", "RMSNORM,1", "GELU,12345677"})
    void chunksCoverEveryElementOnceAndFitTheLocalBuffer(OpKind kind, long elements) {
        Operator op = Operator.vector(0, "v", kind, Phase.PREFILL, 0, 0, elements, DataType.FP16);
        TileProgram p = VectorMapper.plan(A100, op);
        long covered = 0;
        int users = 0;
        for (List<Work> core : p.cores()) {
            for (Work w : core) {
                VectorTile t = (VectorTile) w;
                covered += t.elements();
                users++;
                long twoChunks = 2 * (t.loadBytes(0, 2) + t.reserveBytes(0, 2));
                assertTrue(twoChunks <= A100.core().localBuffer().capacityBytes());
            }
        }
        assertEquals(elements, covered);
        assertEquals(users, p.stages().stream().mapToInt(Stage::users).sum());
        assertEquals(elements * kind.inputsPerElement() * 2, p.hbmReadBytes());
        assertEquals(elements * kind.outputsPerElement() * 2, p.hbmWriteBytes());
        assertEquals(p.hbmReadBytes(), p.stages().stream().mapToLong(Stage::loadBytes).sum());
    }
}

package dev.rafter.sim.component;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.sim.Simulation;
import dev.rafter.sim.trace.SliceKind;
import dev.rafter.sim.trace.TraceSink;
import dev.rafter.workload.Operator;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Phase;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The wiring is data the catalogue builds a device from: ports as declared, each core joined to its own parts. */
class WiringTest {
    static final HardwareSpec A100 = HardwareLoader.load(Path.of("models/hardware/a100.yaml"), List.of());

    @Test
    void aWireJoinsOnlyPortsItsKindsDeclare() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> new Wiring.Wire(Core.KIND, "arrays", PeArray.KIND, "memory"));
        assertEquals("pe_array has no port 'memory' (it has [compute])", e.getMessage());
    }

    @Test
    void theMemoryControllerReachesEachTiersChannelsInTierOrder() {
        HardwareSpec hbf = HardwareLoader.load(Path.of("models/hardware/h100-hbf.yaml"), List.of());
        List<String> tiers = Wiring.of(hbf, Catalogue.present(hbf)).stream()
            .filter(w -> w.from() == MemorySystem.KIND && w.fromPort().equals("channels"))
            .map(w -> w.to().name()).toList();
        assertEquals(List.of("hbm_channel", "hbf_channel", "host_channel"), tiers);
    }

    @Test
    void everyCoreDrivesItsOwnArrays() {
        // 108 x 128 rows by 256 columns: every core of the A100's 108 gets work.
        Operator gemm = Operator.gemm(1, "gemm", Phase.PREFILL, 0, 0, 1, 108 * 128, 256, 256, DataType.FP16);
        Set<String> computing = new TreeSet<>();
        TraceSink sink = (track, kind, op, start, end, amount) -> {
            if (kind == SliceKind.COMPUTE) {
                computing.add(track.name());
            }
        };
        new Simulation(A100).run(OperatorSource.of(gemm), sink, r -> { });
        Set<String> expected = new TreeSet<>();
        for (int c = 0; c < A100.cores(); c++) {
            for (int l = 0; l < A100.core().peArrays(); l++) {
                expected.add("core" + c + ".pe" + l);
            }
        }
        assertEquals(expected, computing, "each core computes on its own arrays, all of them");
    }
}

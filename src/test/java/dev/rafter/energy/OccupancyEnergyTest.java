package dev.rafter.energy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.hw.HardwareSpec.GemmTile;
import dev.rafter.sim.Simulation;
import dev.rafter.sim.component.Catalogue;
import dev.rafter.sim.component.PeArray;
import dev.rafter.sim.component.VectorUnit;
import dev.rafter.sim.trace.RunStats;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Phase;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Work that occupies hardware without being useful still costs energy: padded MACs, special functions. */
class OccupancyEnergyTest {
    /** The A100 (7 nm table, no voltage curve: V / V_nominal = 1) with one library tile, 128x128x64. */
    static HardwareSpec a100With128Tiles() {
        String text = dev.rafter.hw.TestModels.a100TextWithoutLibraryKeys()
            .replace("  pe_arrays: 4", "  gemm_tiles: [[128, 128, 64]]\n  pe_arrays: 4");
        return HardwareLoader.read(dev.rafter.config.Section.parse("models/hardware/a100.yaml", text));
    }

    static RunStats.Sums run(HardwareSpec hw, Operator op) {
        List<Simulation.OpResult> out = new ArrayList<>();
        new Simulation(hw).run(OperatorSource.of(op), null, out::add);
        return out.get(0).sums();
    }

    static double dynamicJ(HardwareSpec hw, RunStats.Sums sums, String component) {
        return new EnergyAccount(hw, hw.energy(), Catalogue.energyUses(hw)).of(sums.activity(0)).of(component);
    }

    @Test
    void aGemmWhoseTileIsHalfPaddedPaysItsPaddedMacsAtThePaddedRate() {
        HardwareSpec hw = a100With128Tiles();
        // 64 x 128 x 64 on a 128 x 128 x 64 tile: the array runs 128 rows, half of them padding.
        RunStats.Sums sums = run(hw, Operator.gemm(0, "g", Phase.PREFILL, 0, 0, 1, 64, 128, 64, DataType.FP16));
        long useful = 64L * 128 * 64;
        assertEquals(useful, sums.get(PeArray.KIND, "macs"));
        assertEquals(useful, sums.get(PeArray.KIND, "padded_macs"), "half the tile is padding");
        // 7 nm fp16 MAC 0.141 pJ x (1 + operand overhead 0.2); a padded MAC at 0.167 of that (7nm.yaml).
        double macPj = 0.141 * 1.2;
        assertEquals((useful + useful * 0.167) * macPj * 1e-12, dynamicJ(hw, sums, "pe_array"), 1e-18);
    }

    @Test
    void aGemmThatFillsItsTilesPaysNoPadding() {
        HardwareSpec hw = a100With128Tiles();
        RunStats.Sums sums = run(hw, Operator.gemm(0, "g", Phase.PREFILL, 0, 0, 1, 128, 128, 64, DataType.FP16));
        assertEquals(0, sums.get(PeArray.KIND, "padded_macs"));
        assertEquals(128L * 128 * 64 * 0.141 * 1.2 * 1e-12, dynamicJ(hw, sums, "pe_array"), 1e-18);
    }

    @Test
    void specialFunctionsOnTheSfusCostEnergyBesideTheirFlops() {
        HardwareSpec hw = a100With128Tiles();
        // Softmax rows of 4096 fp16 stay on chip: 1 exp per element (OpKind), 5 FLOPs per element.
        RunStats.Sums sums = run(hw, Operator.rows(0, "s", OpKind.SOFTMAX, Phase.PREFILL, 0, 0, 8, 4096,
            DataType.FP16));
        long elements = 8L * 4096;
        assertEquals(elements, sums.get(VectorUnit.KIND, "special_functions"));
        long flops = sums.get(VectorUnit.KIND, "flops");
        // 7 nm: fp16 vector FLOP 0.0707 pJ, special function 0.868 pJ (7nm.yaml).
        assertEquals((flops * 0.0707 + elements * 0.868) * 1e-12, dynamicJ(hw, sums, "vector_unit"), 1e-18);
    }

    @Test
    void withoutSfusSpecialFunctionsAreFlopsAndCostNothingMore() {
        HardwareSpec sfuless = HardwareLoader.read(dev.rafter.config.Section.parse("models/hardware/a100.yaml",
            dev.rafter.hw.TestModels.a100TextWithoutLibraryKeys()).override(
                List.of("core.vector_unit.special_functions_per_cycle=0")));
        RunStats.Sums sums = run(sfuless, Operator.rows(0, "s", OpKind.SOFTMAX, Phase.PREFILL, 0, 0, 8, 4096,
            DataType.FP16));
        assertEquals(0, sums.get(VectorUnit.KIND, "special_functions"));
        assertEquals(sums.get(VectorUnit.KIND, "flops") * 0.0707 * 1e-12, dynamicJ(sfuless, sums, "vector_unit"),
            1e-18);
    }
}

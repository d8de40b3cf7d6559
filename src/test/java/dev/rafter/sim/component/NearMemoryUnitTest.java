package dev.rafter.sim.component;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rafter.cli.CliTest;
import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.hw.NearMemorySpec;
import dev.rafter.roofline.Roofline;
import dev.rafter.sim.Simulation;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Phase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Near-memory units (HBM-PIM beside the H100's 160 HBM3 pseudo-channels, models/hardware/h100-pim.yaml): the
 * preset's figures, the offload policy's crossing, a unit's time to the picosecond, and what the reports show.
 */
class NearMemoryUnitTest {
    static final Path PIM = Path.of("models/hardware/h100-pim.yaml");

    @TempDir
    Path tmp;

    static HardwareSpec pim() {
        return HardwareLoader.load(PIM, List.of());
    }

    /** A decode GEMV of {@code m} rows against an 8192 x 8192 fp16 weight. */
    static Operator gemv(long m) {
        return Operator.gemm(0, "ffn", Phase.DECODE, 0, 1, 1, m, 8192, 8192, DataType.FP16);
    }

    @Test
    void theHbmPimPresetGivesTheAquaboltFiguresPerPseudoChannel() {
        NearMemorySpec s = NearMemorySpec.of(pim());
        assertEquals("hbm", s.tier());
        assertEquals(160, s.units());
        // ISSCC 2021: 1.2 TFLOPS per stack of 16 pseudo-channels at 300 MHz -> 125 MACs per cycle per unit.
        assertEquals(160 * 2 * 125 * 300e6, s.macFlopsPerS(), 1);
        // 4x the H100's 3350 GB/s inside the channels.
        assertEquals(4 * 3350e9, s.internalBytesPerS(pim()), 1);
        assertEquals(12e12 / 13.4e12, s.ridge(pim()), 1e-12);
        assertEquals(java.util.Set.of(NearMemorySpec.Offload.GEMV, NearMemorySpec.Offload.ATTENTION), s.offload());
    }

    @Test
    void theGddr6AimPresetBesideAnL40sGddr6Memory() throws Exception {
        Path hw = tmp.resolve("l40s-aim.yaml");
        Files.writeString(hw, Files.readString(Path.of("models/hardware/l40s.yaml"))
            .replace("../", Path.of("models").toAbsolutePath() + "/")
            + "components:\n  - kind: near_memory_unit\n    beside: hbm\n    preset: "
            + Path.of("models/nmp/gddr6-aim.yaml").toAbsolutePath() + "\n    offload: gemv\n");
        HardwareSpec l40s = HardwareLoader.load(hw, List.of());
        NearMemorySpec s = NearMemorySpec.of(l40s);
        // one unit per x16 channel (24), 1 GHz, 8x the channel's 36 GB/s inside (ISSCC 2022: 512 of 64 GB/s)
        assertEquals(24, s.units());
        assertEquals(1e9, s.clockHz());
        assertEquals(8 * 864e9, s.internalBytesPerS(l40s), 1);
        assertEquals(24 * 2 * 128 * 1e9, s.macFlopsPerS(), 1);
        // the entry's own offload: overrides the preset's
        assertEquals(java.util.Set.of(NearMemorySpec.Offload.GEMV), s.offload());
    }

    @Test
    void aGemvGoesToTheUnitsWhileItsIntensityIsBelowWhereTheRoofsCross() {
        Roofline r = new Roofline(pim());
        // Units: 2 m k n FLOPs at 12 TFLOP/s (compute-bound from m = 1: 1 FLOP per weight byte > the 0.896 ridge);
        // cores: the weights at 3.35 TB/s. They cross at m = 12 / 3.35 = 3.58.
        for (long m = 1; m <= 3; m++) {
            assertTrue(r.of(gemv(m)).nearMemory(), "m = " + m);
            assertEquals(2.0 * m * 8192 * 8192 / 12e12, r.of(gemv(m)).computeS(), 1e-15);
        }
        assertFalse(r.of(gemv(4)).nearMemory());
        assertFalse(new Roofline(HardwareLoader.load(Path.of("models/hardware/h100.yaml"), List.of()))
            .of(gemv(1)).nearMemory());
    }

    @Test
    void eachUnitTakesItsShareAtItsOwnRates() {
        Simulation.OpResult[] result = new Simulation.OpResult[1];
        Simulation.Result run = new Simulation(pim()).run(OperatorSource.of(gemv(1)), null, r -> result[0] = r);
        var sums = run.stats().total();
        // 8192 x 8192 MACs over 160 units: 419431 each (the largest share) at 125 per cycle and 300 MHz.
        assertEquals(Math.ceil(1e12 * 419431 / 125 / 300e6), sums.get(NearMemoryUnit.KIND, "busy_ps"), 1);
        assertEquals(8192L * 8192, sums.get(NearMemoryUnit.KIND, "macs"));
        assertEquals(8192L * 8192 * 2, sums.get(NearMemoryUnit.KIND, "internal_bytes"));
        // Operand (8192 x 2 B) down and result (8192 x 2 B) back over the channels: nothing else.
        assertEquals(2 * 8192 * 2, sums.get(MemoryController.KIND, "read_bytes")
            + sums.get(MemoryController.KIND, "write_bytes"));
        assertEquals("near-memory units beside hbm", result[0].mapping());
        assertTrue(result[0].latencyS() >= result[0].bound().seconds());
    }

    @Test
    void attentionOverAnMhaKvCacheGoesThereAtEveryBatch() {
        Roofline r = new Roofline(pim());
        for (long batch : new long[] {1, 8, 64}) {
            // one query row per head over 4096 keys of 128: about 1 FLOP per KV byte, whatever the batch
            Operator att = new Operator(0, "attention", OpKind.ATTENTION, Phase.DECODE, 0, 1, batch * 32, 1, 4096,
                128, 0, DataType.FP16, Operator.NO_DEPS);
            assertTrue(r.of(att).nearMemory(), "batch " + batch);
        }
    }

    @Test
    void summaryTraceAndRooflineShowTheUnits() throws Exception {
        Path trace = tmp.resolve("gemv.csv");
        Files.writeString(trace, "op_id,name,kind,phase,layer,step,batch,m,n,k,elements,data_type,deps\n"
            + "0,ffn,gemm,decode,0,1,1,1,8192,8192,,fp16,\n");
        Path out = tmp.resolve("run");
        CliTest.Result r = CliTest.run("simulate", "--hardware", PIM.toString(), "--trace", trace.toString(), "--out",
            out.toString(), "--events", "perfetto");
        assertEquals(0, r.code(), r.err());
        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        JsonNode nm = s.get("near_memory");
        assertEquals("hbm", nm.get("beside").asText());
        assertEquals(160, nm.get("units").asInt());
        assertEquals(8192.0 * 8192 * 2 / 160, nm.at("/per_unit/internal_bytes").asDouble(), 1e-6);
        // 1.5 pJ per MAC and 9.68 pJ per byte read inside (models/nmp/hbm-pim.yaml)
        double joules = 8192.0 * 8192 * 1.5e-12 + 8192.0 * 8192 * 2 * 9.68e-12;
        assertEquals(joules, s.at("/energy_j/by_component/near_memory").asDouble(), joules * 1e-9);
        assertEquals(joules / 160, nm.at("/per_unit/energy_j").asDouble(), joules * 1e-9);
        assertTrue(s.at("/utilisation/near_memory").asDouble() > 0);
        assertEquals(1, s.at("/components/near_memory_unit/instances").asInt());
        assertTrue(Files.readString(out.resolve("trace.json")).contains("\"args\":{\"name\":\"near-memory units\"}"));

        Path roof = tmp.resolve("roof");
        assertEquals(0, CliTest.run("roofline", "--hardware", PIM.toString(), "--trace", trace.toString(), "--out",
            roof.toString()).code());
        String row = Files.readAllLines(roof.resolve("roofline.csv")).get(1);
        // the units' bound: 2 x 8192 x 8192 FLOPs at their 12 TFLOP/s, compute-bound
        assertTrue(row.contains(",compute"), row);
        assertTrue(row.contains(",1.11848e-05,"), row);
    }

    /**
     * The edge what-if (models/hardware/orin-agx-pim.yaml) is the Orin with units beside its 16 LPDDR5 channels,
     * their internal bandwidth 4x a channel's 12.8 GB/s and their MAC rate matched to it (all assumed:
     * models/nmp/lpddr5-pim.yaml).
     */
    @Test
    void orinPimHasAUnitPerLpddr5Channel() {
        HardwareSpec pim = HardwareLoader.load(Path.of("models/hardware/orin-agx-pim.yaml"), List.of());
        NearMemorySpec units = NearMemorySpec.of(pim);
        assertEquals(16, units.units());
        assertEquals(4, units.internalBandwidthRatio());
        // 4 x 204.8 GB/s of weights at 2 B each, one MAC per weight: 409.6 G MAC/s, within the rounding of 85.33
        assertEquals(4 * 204.8e9 / 2 * 2, units.macFlopsPerS(), 1e9);
    }

    @Test
    void unitsBesideAMemoryTheDeviceLacksAreBadInputNamingTheKey() throws Exception {
        Path hw = tmp.resolve("pim.yaml");
        Files.writeString(hw, Files.readString(PIM).replace("beside: hbm", "beside: hbf")
            .replace("../", Path.of("models").toAbsolutePath() + "/")
            .replace("extends: ", "extends: " + Path.of("models/hardware").toAbsolutePath() + "/"));
        CliTest.assertBadInput(CliTest.run("simulate", "--hardware", hw.toString(), "--trace",
            "traces/gemm-small.csv"), "components[0].beside: the device has no memory tier 'hbf'");
        CliTest.assertBadInput(CliTest.run("roofline", "--hardware", hw.toString(), "--trace",
            "traces/gemm-small.csv"), "components[0].beside");
    }
}

package dev.rafter.mapping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.workload.GemmKernel;
import dev.rafter.workload.Operator;
import dev.rafter.workload.Phase;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class GemmMapperTest {
    /** The A100 model with the general tile search (its library tile list taken out). */
    static final HardwareSpec A100 = dev.rafter.hw.TestModels.a100Generic();

    static Operator gemm(long batch, long m, long n, long k) {
        return Operator.gemm(0, "g", Phase.PREFILL, 0, 0, batch, m, n, k, DataType.FP16);
    }

    @ParameterizedTest
    @CsvSource({"1,8192,8192,8192", "1,8,12288,12288", "1,1000,333,777", "64,4,1025,128", "3,300,5000,64",
        "1,1,1,1"})
    void tilesCoverTheOutputOnceAndFitTheBuffers(long batch, long m, long n, long k) {
        GemmPlan p = GemmMapper.plan(A100, gemm(batch, m, n, k));
        long area = 0;
        int tiles = 0;
        TileProgram prog = p.program();
        for (List<Work> core : prog.cores()) {
            for (Work w : core) {
                MatrixTile t = (MatrixTile) w;
                area += (long) t.m() * t.n();
                tiles++;
                assertEquals(k, t.k());
                assertTrue(t.stage(t.chunks() - 1) < prog.stages().size());
            }
        }
        assertEquals(batch * m * n, area, "every output element computed exactly once");
        assertEquals(prog.hbmWriteBytes(), area * 2);
        assertTrue(GemmMapper.localBytes(p.localM(), p.localN(), p.localK(), 2)
            <= A100.core().localBuffer().capacityBytes());
        int users = prog.stages().stream().mapToInt(Stage::users).sum();
        int stagesPerBlock = (int) ((k + p.globalK() - 1) / p.globalK());
        assertEquals((long) tiles * stagesPerBlock, users, "each tile uses each stage of its block once");
        long pinned = prog.stages().stream().mapToLong(Stage::pinnedBytes).sum();
        long unpinned = prog.stages().stream().mapToLong(Stage::unpinBytes).sum();
        assertEquals(pinned, unpinned, "every pin is released");
        assertTrue(prog.hbmReadBytes() >= GemmMapper.compulsory(gemm(batch, m, n, k), 2));
    }

    @Test
    void aNamedKernelIsShownBesideTheMappingAndSetsOnlyItsPipeline() {
        HardwareSpec h100 = HardwareLoader.load(Path.of("models/hardware/h100.yaml"), List.of());
        Operator plain = Operator.gemm(0, "g", Phase.PREFILL, 0, 0, 1, 141, 512, 512, DataType.BF16);
        // As the BERT trace names it: 32x32x128, 2 stages (double buffering, as a GEMM without a named kernel).
        Operator named = plain.withKernel(new GemmKernel("cutlass_80_wmma_tensorop_bf16_s161616gemm_bf16_32x32_128x2_tn"
            + "_align8", 32, 32, 128, GemmKernel.Path.WARP_MMA, 2));
        GemmPlan own = GemmMapper.plan(h100, plain);
        GemmPlan shown = GemmMapper.plan(h100, named);
        assertEquals("the trace ran cutlass_80_wmma_tensorop_bf16_s161616gemm_bf16_32x32_128x2_tn_align8 (tile "
            + "32x32x128, warp-level MMA); " + own.program().explanation().replace("cycles), ", "cycles), 2 k-steps "
            + "in flight (the named kernel's stages), "), shown.program().explanation());
        assertEquals(List.of(own.localM(), own.localN(), own.localK(), own.globalK(), own.splitK()),
            List.of(shown.localM(), shown.localN(), shown.localK(), shown.globalK(), shown.splitK()));
        assertEquals(own.program().cores(), shown.program().cores());
        assertEquals(own.program().stages(), shown.program().stages());
        // A kernel whose name gives no stages (cuBLAS sm90): the same tiles, as many k-steps in flight as the
        // 228 KiB hold beside the accumulator: (233472 - 64 x 64 x 2) / ((64 x 64 + 64 x 64) x 2) = 13.75, so 13.
        GemmPlan sm90 = GemmMapper.plan(h100, plain.withKernel(new GemmKernel("sm90_xmma", 64, 64, 64,
            GemmKernel.Path.WARPGROUP_MMA)));
        assertEquals(own.program().stages(), sm90.program().stages());
        List<dev.rafter.mapping.Work> ownTiles = own.program().cores().get(0);
        List<dev.rafter.mapping.Work> sm90Tiles = sm90.program().cores().get(0);
        MatrixTile a = (MatrixTile) ownTiles.get(0);
        MatrixTile b = (MatrixTile) sm90Tiles.get(0);
        assertEquals(2, a.loadsInFlight());
        assertEquals(13, b.loadsInFlight());
        assertEquals(new MatrixTile(a.firstStage(), a.m(), a.n(), a.k(), a.localK(), a.chunksPerStage(), a.arrayM(),
            a.arrayN(), a.fullDepth(), a.resultBytes(), a.bBytes(), a.chunkLatencyCycles(), 13), b);
    }

    @Test
    void aGemmThatFitsOnChipReadsEachOperandOnce() {
        // 2048^3 fp16: A and B are 8 MiB each, the global buffer 40 MiB.
        Operator op = gemm(1, 2048, 2048, 2048);
        GemmPlan p = GemmMapper.plan(A100, op);
        assertEquals(GemmMapper.compulsory(op, 2), p.program().hbmReadBytes(), 0);
    }

    @Test
    void tileSizesAreSearchedAndDependOnTheBuffer() {
        GemmPlan big = GemmMapper.plan(A100, gemm(1, 8192, 8192, 8192));
        HardwareSpec small = dev.rafter.hw.TestModels.a100Generic("core.local_buffer.capacity_kib=32");
        GemmPlan tight = GemmMapper.plan(small, gemm(1, 8192, 8192, 8192));
        assertTrue((long) tight.localM() * tight.localN() < (long) big.localM() * big.localN(), tight.program().explanation());
        GemmPlan decode = GemmMapper.plan(A100, gemm(1, 8, 12288, 12288));
        assertEquals(8, decode.localM(), "a decode GEMM is not padded to the array height");
    }

    @Test
    void laneSplitGivesEveryLaneAShareAndCoversTheTile() {
        long[][] shares = LaneSplit.shares(A100.core(), 128, 128);
        long area = 0;
        for (long[] s : shares) {
            area += s[0] * s[1];
            assertEquals(128 * 32, s[0] * s[1]);
        }
        assertEquals(128 * 128, area);
        long[][] narrow = LaneSplit.shares(A100.core(), 64, 8);
        assertEquals(64 * 8, java.util.Arrays.stream(narrow).mapToLong(s -> s[0] * s[1]).sum());
    }
}

package dev.rafter.mapping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec.GemmTile;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.sim.Device;
import dev.rafter.sim.Kernel;
import dev.rafter.sim.Simulation;
import dev.rafter.sim.component.MemoryController;
import dev.rafter.sim.component.PeArray;
import dev.rafter.sim.trace.RunStats;
import dev.rafter.sim.trace.Track;
import dev.rafter.workload.Operator;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Phase;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * GEMMs over a library's tile list on an A100-like device: 108 cores of 4 16x16 arrays at 1.41 GHz, 192 KiB local
 * buffers with 64 B/clk ports (200 cycles of latency), 2048 GB/s HBM (42 ns); arrays sustaining 86.9% of peak issue
 * (pinned: the A100 file's former whole-GEMM figure; its per-tile rate is now 0.927), and the L2 at its measured 3.85 KB/clk (gpu-benches gpu-l2-cache/a100_80.txt)
 * unless stated. Hand checks use the
 * overlapped fold model: a lane's m x n x k share takes (folds - 1) x max(k, 16) + (16 + 16 + k - 2) cycles, then
 * ceil(cycles / 0.869).
 */
class LibraryTilesTest {
    /** CUTLASS SM80 default 128x256x64 and the cuBLAS-style list down to 64x64 (NVIDIA DU-09799-001 2.3). */
    static final List<GemmTile> TILES = List.of(new GemmTile(128, 256, 64), new GemmTile(256, 128, 64),
        new GemmTile(128, 128, 64), new GemmTile(128, 64, 64), new GemmTile(64, 128, 64), new GemmTile(64, 64, 64));

    static HardwareSpec a100(int l2BytesPerCycle, List<GemmTile> tiles) {
        String text = dev.rafter.hw.TestModels.a100TextWithoutLibraryKeys();
        String list = tiles.stream().map(t -> "[" + t.m() + ", " + t.n() + ", " + t.k() + "]")
            .collect(java.util.stream.Collectors.joining(", ", "[", "]"));
        text = text.replace("  pe_arrays: 4", "  gemm_tiles: " + list + "\n  pe_arrays: 4");
        // The figures the hand checks use are pinned, so the checks hold whatever the model file says.
        return HardwareLoader.read(dev.rafter.config.Section.parse("models/hardware/a100.yaml", text).override(List.of(
            "core.pe_array.sustained_fraction=0.869", "global_buffer.bytes_per_cycle=" + l2BytesPerCycle,
            "memory.bandwidth_gb_per_s=2048", "memory.latency_ns=42", "interconnect.bytes_per_cycle=64",
            "interconnect.latency_cycles=200", "core.local_buffer.capacity_kib=192", "clock_mhz=1410", "cores=108",
            "dispatch.eager_ns=2555", "dispatch.mode=eager",
            // Written through: the checks count every result byte into DRAM.
            "global_buffer.keeps_contents=false")));
    }

    static final HardwareSpec A100 = a100(3850, TILES);

    static Operator gemm(long batch, long m, long n, long k) {
        return Operator.gemm(0, "g", Phase.PREFILL, 0, 0, batch, m, n, k, DataType.FP16);
    }

    static List<MatrixTile> tiles(TileProgram p) {
        List<MatrixTile> out = new ArrayList<>();
        for (List<Work> core : p.cores()) {
            for (Work w : core) {
                out.add((MatrixTile) w);
            }
        }
        return out;
    }

    /** Runs the programs one after another on a fresh device; returns the end time in ps. */
    static long simulate(HardwareSpec hw, List<TileProgram> programs) {
        List<Track> tracks = Device.tracks(hw);
        RunStats stats = new RunStats(tracks);
        return new Kernel().run(s -> next(new Device(hw, s, stats, tracks), programs, 0));
    }

    private static void next(Device d, List<TileProgram> programs, int i) {
        if (i < programs.size()) {
            d.runProgram(0, DataType.FP16, programs.get(i), () -> next(d, programs, i + 1));
        }
    }

    @Test
    void square4096TakesTheCutlassTileIn512TilesAndFiveWaves() {
        GemmPlan p = GemmMapper.plan(A100, gemm(1, 4096, 4096, 4096));
        assertEquals(List.of(128, 256, 64, 1), List.of(p.localM(), p.localN(), p.localK(), p.splitK()));
        assertNull(p.reduction());
        assertEquals(512, tiles(p.program()).size(), "32 x 16 tiles");
        // 512 = 4 x 108 + 80: five waves, the last with 80 of the 108 cores busy.
        long fiveTiles = p.program().cores().stream().filter(c -> c.size() == 5).count();
        long fourTiles = p.program().cores().stream().filter(c -> c.size() == 4).count();
        assertEquals(List.of(80L, 28L), List.of(fiveTiles, fourTiles));
        // Per k-step: 4 lanes of 128x64, 32 folds: 31 x 64 + 94 = 2078 cycles, ceil(2078 / 0.869) = 2392; 64 steps.
        // Per tile the port moves 64 x 49152 B of operands + 65536 B of results = 3211264 B: 50176 cycles at
        // 64 B/clk, and 108 cores share 3850 B/clk of L2: 90083 cycles. Compute (153088) wins; 5 waves, plus the
        // first load (768) and the L2 latency (200).
        LibraryTiles.Candidate c = LibraryTiles.search(A100, 1, 4096, 4096, 4096, DataType.FP16);
        assertEquals(5, c.waves());
        assertEquals(5 * 64 * 2392 + 768 + 200, c.cycles(), 1e-6);
        assertTrue(p.program().explanation().startsWith("library tile 128x256x64, 512 tiles in 5 waves on 108 cores "
            + "(waves 94.8% full"), p.program().explanation());
    }

    @Test
    void wavesCountInTheScoreSoFullerWavesWinWhereTheL2CanFeedSmallerTiles() {
        // With the whitepaper's 5120 B/clk of L2, 128x64 tiles are no longer L2-bound: a k-step of 128x16 lane
        // shares takes 7 x 64 + 94 = 542 cycles, ceil(542 / 0.869) = 624; 2048 tiles run in 19 waves (99.8% full)
        // against 5 waves of 128x256 tiles that are only 94.8% full.
        HardwareSpec whitepaperL2 = a100(5120, TILES);
        LibraryTiles.Candidate small = LibraryTiles.score(whitepaperL2, new GemmTile(128, 64, 64), 1, 1, 4096, 4096,
            4096, DataType.FP16);
        assertEquals(List.of(2048L, 19L), List.of(small.tiles(), small.waves()));
        assertEquals(19 * 64 * 624 + 384 + 200, small.cycles(), 1e-6);
        LibraryTiles.Candidate large = LibraryTiles.score(whitepaperL2, new GemmTile(128, 256, 64), 1, 1, 4096, 4096,
            4096, DataType.FP16);
        assertEquals(5 * 64 * 2392 + 768 + 200, large.cycles(), 1e-6);
        assertEquals(64, GemmMapper.plan(whitepaperL2, gemm(1, 4096, 4096, 4096)).localN());
        // At the measured 3850 B/clk the 128x64 tiles wait for the L2: 108 x (64 x 24576 + 16384) B / 3850 per tile.
        LibraryTiles.Candidate starved = LibraryTiles.score(A100, new GemmTile(128, 64, 64), 1, 1, 4096, 4096, 4096,
            DataType.FP16);
        assertEquals(19 * (108.0 * (64 * 24576 + 16384) / 3850) + 384 + 200, starved.cycles(), 1e-6);
        assertTrue(starved.cycles() > large.cycles());
    }

    @Test
    void theOutputIsPaddedToTheTileButOnlyRealBytesMove() {
        HardwareSpec hw = a100(3850, List.of(new GemmTile(128, 128, 64)));
        Operator op = gemm(1, 100, 333, 100);
        GemmPlan p = GemmMapper.plan(hw, op);
        List<MatrixTile> tiles = tiles(p.program());
        assertEquals(3, tiles.size(), "1 x 3 tiles of 128x128");
        long area = 0;
        for (MatrixTile t : tiles) {
            assertEquals(List.of(100, 128, 128), List.of(t.m(), t.arrayM(), t.arrayN()));
            assertEquals(2, t.chunks());
            assertEquals(List.of(64, 36), List.of(t.chunkK(0), t.chunkK(1)), "real depth of the k-steps");
            assertEquals(List.of(64, 64), List.of(t.arrayK(0), t.arrayK(1)), "the arrays run whole k-steps");
            assertEquals((100L * 36 + 36L * t.n()) * 2, t.loadBytes(1, 2));
            assertEquals(100L * t.n() * 2, t.storeBytes(1, 2));
            area += (long) t.m() * t.n();
        }
        assertEquals(List.of(128, 128, 77), tiles.stream().map(MatrixTile::n).sorted(java.util.Comparator.reverseOrder())
            .toList());
        assertEquals(100 * 333, area);
        assertEquals(100 * 333 * 2, p.program().hbmWriteBytes());
        assertEquals((100 * 100 + 100 * 333) * 2, p.program().hbmReadBytes(), "fits on chip: operands read once");

        List<Simulation.OpResult> out = new ArrayList<>();
        Simulation.Result r = new Simulation(hw).run(OperatorSource.of(op), null, out::add);
        assertEquals(100L * 333 * 100, out.get(0).sums().get(PeArray.KIND, "macs"), "the trace counts the useful MACs");
        long padded = hw.core().peArray().sustainedCycles(128, 32, 64) * 2; // a lane's share, two k-steps
        assertTrue(out.get(0).sums().get(PeArray.KIND, "busy_ps") >= padded * 1e6 / hw.clockMhz() * 4 * 3 * 0.99,
            "while the arrays are busy for the padded tiles: 3 tiles x 4 lanes");
        assertEquals(100 * 333 * 2, out.get(0).sums().get(MemoryController.KIND, "write_bytes"));
        assertTrue(r.endPs() > 0);
    }

    @Test
    void aSkinnyGemmWithFewOutputTilesSplitsK() {
        // 8 x 1024 x 16384: 64x64 tiles give 16 output tiles for 108 cores. Split 4 ways, 64 cores each run 64
        // k-steps (k-step of 4 lanes of 64x16: 3 x 64 + 94 = 286 cycles, ceil(286 / 0.869) = 330).
        Operator op = gemm(1, 8, 1024, 16384);
        GemmPlan p = GemmMapper.plan(A100, op);
        assertEquals(List.of(64, 64, 64, 4), List.of(p.localM(), p.localN(), p.localK(), p.splitK()));
        List<MatrixTile> parts = tiles(p.program());
        assertEquals(64, parts.size());
        for (MatrixTile t : parts) {
            assertEquals(4096, t.k(), "each part covers a quarter of K");
            assertEquals(8L * 64 * 4, t.storeBytes(t.chunks() - 1, 2), "fp32 partials");
        }
        assertEquals(4L * 8 * 1024 * 4, p.program().hbmWriteBytes(), "4 partials of 8 x 1024 fp32");
        assertEquals(2L * (8 * 16384 + 16384L * 1024), p.program().hbmReadBytes(), "A and B read once");
        // The reduction reads the four partials of each output and writes the output in fp16.
        TileProgram red = p.reduction();
        assertEquals(List.of(p.program(), red), p.programs());
        assertEquals(4L * 8 * 1024 * 4, red.hbmReadBytes());
        assertEquals(8L * 1024 * 2, red.hbmWriteBytes());
        long outputs = 0;
        for (List<Work> core : red.cores()) {
            for (Work w : core) {
                VectorTile t = (VectorTile) w;
                assertEquals(8, t.inputsPerElement(), "4 fp32 partials = 8 fp16-sized operands");
                assertEquals(t.elements() * 16, t.loadBytes(0, 2));
                assertEquals(t.elements() * 3, t.flops());
                outputs += t.elements();
            }
        }
        assertEquals(8 * 1024, outputs);
        // Estimate: 64 x 330 cycles of compute beats the ports; HBM (33947648 B at 2048 GB/s, 1.41 GHz) is longer,
        // then the reduction: a second kernel's dispatch 2555 ns, latency 42 ns + 200 cycles, and its 147456 B of
        // HBM traffic.
        LibraryTiles.Candidate c = LibraryTiles.search(A100, 1, 8, 1024, 16384, DataType.FP16);
        double hbm = 33947648 / 2048e9 * 1.41e9;
        double reduction = (2555 + 42) * 1.41 + 200 + 147456 / 2048e9 * 1.41e9;
        assertEquals(hbm + reduction, c.cycles(), 1e-6);
        // Unsplit, 16 cores would each run 256 k-steps: 84480 cycles of compute.
        LibraryTiles.Candidate whole = LibraryTiles.score(A100, new GemmTile(64, 64, 64), 1, 1, 8, 1024, 16384,
            DataType.FP16);
        assertEquals(256 * 330 + 144 + 200, whole.cycles(), 1e-6);
        // And the simulation agrees: split-K runs in well under half the time.
        long split = simulate(A100, p.programs());
        long unsplit = simulate(A100, LibraryTiles.plan(A100, op, whole).programs());
        assertTrue(split < unsplit / 2, split + " ps split vs " + unsplit + " ps whole");
    }

    @Test
    void splitKIsNotConsideredWhenTheTilesFillTheCoresNorChosenWhenMemoryBinds() {
        assertEquals(1, GemmMapper.plan(A100, gemm(1, 4096, 4096, 4096)).splitK());
        // 8 x 4096 x 4096: 64 tiles of 64x64 run 64 k-steps (21120 cycles) under the 23191 cycles HBM needs for the
        // weights; splitting adds partials and a reduction and cannot beat memory.
        GemmPlan decode = GemmMapper.plan(A100, gemm(1, 8, 4096, 4096));
        assertEquals(List.of(64, 64, 1), List.of(decode.localM(), decode.localN(), decode.splitK()));
        LibraryTiles.Candidate split = LibraryTiles.score(A100, new GemmTile(64, 64, 64), 2, 1, 8, 4096, 4096,
            DataType.FP16);
        LibraryTiles.Candidate whole = LibraryTiles.score(A100, new GemmTile(64, 64, 64), 1, 1, 8, 4096, 4096,
            DataType.FP16);
        assertTrue(split.cycles() > whole.cycles());
    }

    @Test
    void aBatchedGemmCountsItsTilesOverTheBatch() {
        // 64 x (2048 x 2048 x 128): 64 x 16 x 8 = 8192 tiles of 128x256, 76 waves (the last 92 of 108 cores).
        GemmPlan p = GemmMapper.plan(A100, gemm(64, 2048, 2048, 128));
        assertEquals(List.of(128, 256, 64, 1), List.of(p.localM(), p.localN(), p.localK(), p.splitK()));
        assertEquals(8192, tiles(p.program()).size());
        assertEquals(76, p.program().cores().stream().mapToInt(List::size).max().orElseThrow());
    }

    @Test
    void stagesStayLargeEnoughToKeepMemoryStreaming() {
        // L = 42 ns + 200 cycles, C = one k-step of 330 cycles at 1.41 GHz; 64 ports of 64 B/clk (4096 B/clk,
        // under the L2's 3850 B/clk, which is then the limit) against 2048 GB/s of HBM: S >= (L + C) / (1/B - 1/P).
        double life = 42e-9 + (200 + 330) / 1.41e9;
        double bytes = life / (1 / 2048e9 - 1 / (3850 * 1.41e9));
        assertEquals((long) Math.ceil(bytes), LibraryTiles.streamingStageBytes(A100, 64, 330));
        assertEquals(0, LibraryTiles.streamingStageBytes(A100, 16, 330), "16 ports cannot outrun memory");
        // 8 x 4096 x 4096 on 64 tiles of 64x64: a k-step of all 64 tiles is (8 + 4096) x 64 x 2 = 525312 B, so a
        // stage holds ceil(S / 525312) k-steps.
        GemmPlan p = GemmMapper.plan(A100, gemm(1, 8, 4096, 4096));
        assertEquals(64 * GemmMapper.ceilDiv((long) Math.ceil(bytes), 525312), p.globalK());
    }
    @Test
    void aMainLoopKeepsTheNamedKernelsStagesOrAsManyAsTheLocalBufferHolds() {
        // No kernel named: double buffering.
        Operator plain = gemm(1, 141, 512, 512);
        assertEquals(2, LibraryTiles.pipelineStages(A100, plain, new GemmTile(64, 64, 64), 2));
        // A named kernel without stages in its name (cuBLAS sm90): as many as the 192 KiB local buffer (pinned
        // above) holds. 64x64x64 fp16: a k-step is (64 x 64 + 64 x 64) x 2 = 16384 B, the accumulator
        // 64 x 64 x 2 = 8192 B: (196608 - 8192) / 16384 = 11.5, so 11 stages.
        Operator xmma = plain.withKernel(new dev.rafter.workload.GemmKernel("x", 64, 64, 64,
            dev.rafter.workload.GemmKernel.Path.WARPGROUP_MMA));
        assertEquals(11, LibraryTiles.pipelineStages(A100, xmma, new GemmTile(64, 64, 64), 2));
        // 128x256x64: 49152 B a k-step, 65536 B of accumulator: (196608 - 65536) / 49152 = 2.67, so 2 (CUTLASS's
        // SM80 128x256x64 kernels run 3 stages with the accumulator in registers; here it takes buffer room).
        assertEquals(2, LibraryTiles.pipelineStages(A100, xmma, new GemmTile(128, 256, 64), 2));
        // A trace's kernel names its stages (cutlass_80_..._64x64_64x6_...: 6): those, while they fit.
        Operator six = plain.withKernel(new dev.rafter.workload.GemmKernel("k", 64, 64, 64,
            dev.rafter.workload.GemmKernel.Path.WARP_MMA, 6));
        assertEquals(6, LibraryTiles.pipelineStages(A100, six, new GemmTile(64, 64, 64), 2));
        assertEquals(2, LibraryTiles.pipelineStages(A100, six, new GemmTile(128, 256, 64), 2));
        // The tiles of the plan keep that many k-steps in flight.
        for (MatrixTile t : tiles(LibraryTiles.plan(A100, six, LibraryTiles.score(A100, new GemmTile(64, 64, 64), 1,
            1, 141, 512, 512, DataType.FP16)).program())) {
            assertEquals(6, t.loadsInFlight());
        }
    }
}

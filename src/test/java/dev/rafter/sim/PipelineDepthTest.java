package dev.rafter.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.mapping.MatrixTile;
import dev.rafter.mapping.Stage;
import dev.rafter.mapping.TileProgram;
import dev.rafter.mapping.Work;
import dev.rafter.sim.component.PeArray;
import dev.rafter.sim.trace.SliceKind;
import dev.rafter.sim.trace.TraceSink;
import dev.rafter.sim.trace.Track;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A core keeps as many chunk loads in flight as its work asks (a GEMM main loop's pipeline stages): with one, every
 * k-step pays its load's transfer, its latency and its computation in turn; with all of them in flight, the loads
 * stream back to back and only the first latency and the last computation are exposed. Times to the picosecond.
 */
class PipelineDepthTest {
    private static final int CHUNKS = 8;

    /** One core, a slow port (a chunk's transfer outlasts its computation) and a long latency. */
    private static final HardwareSpec HW = SimulationTest.a100("cores=1", "interconnect.bytes_per_cycle=8",
        "interconnect.latency_cycles=500", "global_buffer.keeps_contents=false");

    /** {end of the program, one chunk's computation} in ps, the tile keeping {@code inFlight} loads in flight. */
    private static long[] run(int inFlight) {
        // 16x16 outputs over K = 8 x 16, one global stage holding all operands: (16 x 128 + 128 x 16) x 2 B.
        Work tile = new MatrixTile(0, 16, 16, 16L * CHUNKS, 16, CHUNKS, 16, 16, false, 0, 0, 0, inFlight);
        TileProgram program = new TileProgram(List.of(new Stage(0, 2L * 2 * 16 * 16 * CHUNKS, 0, 0, 1)),
            List.of(List.of(tile)), 2L * 2 * 16 * 16 * CHUNKS, 2L * 16 * 16, "hand-made");
        List<Track> tracks = Device.tracks(HW);
        long[] compute = {-1};
        TraceSink sink = (track, kind, op, start, end, amount) -> {
            if (kind == SliceKind.COMPUTE && track.kind() == PeArray.KIND) {
                compute[0] = Math.max(compute[0], end - start);
            }
        };
        long[] end = {-1};
        new Kernel().run(s -> new Device(HW, s, sink, tracks).runProgram(0, DataType.FP16, program,
            () -> end[0] = s.now()));
        return new long[] {end[0], compute[0]};
    }

    @Test
    void loadsInFlightHideEveryLatencyButTheFirst() {
        long[] one = run(1);
        long[] all = run(CHUNKS);
        long latency = new ClockDomain("core", HW.clockMhz()).ps(HW.interconnect().latencyCycles());
        long transfer = new ClockDomain("core", HW.clockMhz()).ps(2L * 2 * 16 * 16 / 8);
        long compute = one[1];
        assertEquals(compute, all[1]);
        assertTrue(compute < transfer, "the port, not the arrays, paces the streaming loads");
        // One in flight: CHUNKS x (transfer + latency + compute). All in flight: CHUNKS transfers back to back, then
        // the last one's latency and computation. The same stage fill before and store after in both.
        assertEquals((CHUNKS - 1) * (latency + compute), one[0] - all[0]);
        // Double buffering (the default) lies between.
        long[] two = run(Work.DOUBLE_BUFFERED);
        assertTrue(two[0] < one[0] && two[0] > all[0], one[0] + " > " + two[0] + " > " + all[0]);
    }
}

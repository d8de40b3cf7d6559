package dev.rafter.sim.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rafter.sim.component.Catalogue;
import dev.rafter.sim.component.MemoryController;
import dev.rafter.sim.component.PeArray;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The run's sums and each operator's, with every slice counted once. */
class RunStatsTest {
    private final Track array = Catalogue.track(0, PeArray.KIND, 0, 0, "core 0 array 0");
    private final Track channel = Catalogue.track(1, MemoryController.KIND, -1, 0, "hbm 0");
    private final RunStats stats = new RunStats(List.of(array, channel));

    @Test
    void aSliceCountsForItsOperatorAndOnceForTheRun() {
        stats.beginOperator(1);
        stats.slice(array, SliceKind.COMPUTE, 1, 0, 10, 100);
        stats.slice(channel, SliceKind.HBM_READ, 1, 0, 4, 64);
        RunStats.Sums first = stats.beginOperator(2);
        // A write of operator 1 that lands while operator 2 runs: the run's, not operator 2's.
        stats.slice(channel, SliceKind.HBM_WRITE, 1, 10, 12, 32);
        stats.slice(array, SliceKind.COMPUTE, 2, 10, 15, 50);
        stats.slice(array, SliceKind.STALL_MEMORY, 2, 15, 18, 0);

        assertEquals(10, first.get(PeArray.KIND, "busy_ps"));
        assertEquals(100, first.get(PeArray.KIND, "macs"));
        assertEquals(64, first.get(MemoryController.KIND, "read_bytes"));
        assertEquals(0, first.get(MemoryController.KIND, "write_bytes"), "operator 1's sums were closed when operator 2 began");
        assertEquals(5, stats.current().get(PeArray.KIND, "busy_ps"));
        assertEquals(0, stats.current().get(MemoryController.KIND, "write_bytes"));
        assertEquals(3, stats.current().stallPs(SliceKind.STALL_MEMORY));

        RunStats.Sums total = stats.total();
        assertEquals(15, total.get(PeArray.KIND, "busy_ps"));
        assertEquals(150, total.get(PeArray.KIND, "macs"));
        assertEquals(64, total.get(MemoryController.KIND, "read_bytes"));
        assertEquals(32, total.get(MemoryController.KIND, "write_bytes"));
        assertEquals(3, total.stallPs(SliceKind.STALL_MEMORY));
        assertEquals(6, total.get(MemoryController.KIND, "busy_ps"));
        // total() is a snapshot: later slices do not change it.
        stats.slice(array, SliceKind.COMPUTE, 2, 18, 20, 7);
        assertEquals(15, total.get(PeArray.KIND, "busy_ps"));
        assertEquals(17, stats.total().get(PeArray.KIND, "busy_ps"));
    }

    @Test
    void aReusedOperatorAddsItsTwinsGrowthAndKeepsItsSharedSumsUntouched() {
        stats.beginOperator(1);
        RunStats.Sums before = stats.total();
        stats.slice(array, SliceKind.COMPUTE, 1, 0, 10, 100);
        RunStats.Sums delta = stats.total().since(before);
        RunStats.Sums own = stats.current().copy();

        stats.replay(2, delta, own);
        assertEquals(20, stats.total().get(PeArray.KIND, "busy_ps"), "operator 1 plus its reused twin");
        assertEquals(200, stats.total().get(PeArray.KIND, "macs"));
        // A late slice of the reused operator's id goes to the run only; the shared sums stay as they were.
        stats.slice(array, SliceKind.COMPUTE, 2, 20, 21, 1);
        assertEquals(10, own.get(PeArray.KIND, "busy_ps"));
        assertEquals(21, stats.total().get(PeArray.KIND, "busy_ps"));

        stats.beginOperator(3);
        stats.slice(array, SliceKind.COMPUTE, 3, 21, 25, 4);
        assertEquals(4, stats.current().get(PeArray.KIND, "busy_ps"));
        assertEquals(25, stats.total().get(PeArray.KIND, "busy_ps"));
    }
}

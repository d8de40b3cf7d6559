package dev.rafter.mapping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.rafter.hw.DataType;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;
import dev.rafter.workload.Phase;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What a global buffer that outlives kernels holds, and how a program reads the resident part of its inputs. */
class L2ResidencyTest {
    @Test
    void theLeastRecentlyWrittenBytesAreEvictedFirst() {
        L2Residency l2 = new L2Residency(1000);
        l2.wrote(1, 600);
        l2.wrote(2, 300);
        assertEquals(600, l2.residentOf(1));
        l2.wrote(3, 300);
        // 1200 written into 1000: the oldest 200 bytes go, all of them op 1's.
        assertEquals(400, l2.residentOf(1));
        assertEquals(300, l2.residentOf(2));
        assertEquals(300, l2.residentOf(3));
        l2.fetched(500);
        // 500 bytes fetched from memory push out op 1's last 400 and then 100 of op 2's.
        assertEquals(0, l2.residentOf(1));
        assertEquals(200, l2.residentOf(2));
        assertEquals(300, l2.residentOf(3));
        assertEquals(1000, l2.held());
        l2.wrote(4, 2500);
        // A result larger than the buffer: only its last 1000 bytes stay, and nothing older.
        assertEquals(1000, l2.residentOf(4));
        assertEquals(0, l2.residentOf(2) + l2.residentOf(3));
        assertEquals(0, l2.residentOf(99), "never written");
    }

    @Test
    void resultsAreDirtyUntilEvictedAndFetchedBytesAreClean() {
        L2Residency l2 = new L2Residency(1000);
        l2.fetched(400);
        l2.wrote(1, 600);
        assertEquals(600, l2.dirty());
        l2.wrote(2, 300);
        // 300 more: the 300 oldest bytes go, fetched ones, which need no writing.
        assertEquals(0, l2.evictedDirty());
        l2.fetched(500);
        // 500 fetched: the last 100 fetched bytes, then 400 of op 1's result, which must be written to memory.
        assertEquals(400, l2.evictedDirty());
        assertEquals(200 + 300, l2.dirty());
        assertEquals(l2.dirty() + l2.evictedDirty(), 600 + 300, "every result byte is dirty or written back");
    }

    @Test
    void anOperatorWritesBackWhatItsFetchesAndItsResultEvict() {
        L2Residency l2 = new L2Residency(1000);
        Operator first = Operator.vector(0, "a", OpKind.COPY, Phase.PREFILL, 0, 0, 500, DataType.FP16);
        // Fetches 1000, writes its 1000-byte result: the fetched bytes go, clean.
        assertEquals(0, l2.run(first));
        assertEquals(0, l2.lastWrittenBack());
        // A gather of 100 elements: fetches 200 bytes of its table and writes 200, evicting 400 of the copy's result.
        Operator gather = Operator.vector(1, "g", OpKind.GATHER, Phase.PREFILL, 0, 0, 100, DataType.FP16);
        assertEquals(0, l2.run(gather));
        assertEquals(400, l2.lastWrittenBack());
        assertEquals(600 + 200, l2.dirty());
    }

    @Test
    void writeBackIsSpreadOverTheStagesInOrderTheFirstOnesCarryingTheRemainder() {
        Region hbm = Region.FIRST_TIER;
        Stage s = new Stage(0, 100, 0, 0, 1, TensorRole.ACTIVATIONS, hbm, 0, TensorRole.ACTIVATIONS, hbm);
        TileProgram a = new TileProgram(List.of(s, s), List.of(List.of()), 200, 0, "a");
        TileProgram b = new TileProgram(List.of(s), List.of(List.of()), 100, 0, "b");
        List<TileProgram> out = L2Residency.writingBack(List.of(a, b), 11);
        assertEquals(List.of(4L, 4L), out.get(0).stages().stream().map(Stage::writeBackBytes).toList());
        assertEquals(List.of(3L), out.get(1).stages().stream().map(Stage::writeBackBytes).toList());
        assertSame(a, L2Residency.writingBack(List.of(a), 0).get(0), "nothing to write: the programs themselves");
    }

    @Test
    void anOperatorWithoutProducersFindsTheNewestResultsNotWhatWasFetched() {
        L2Residency l2 = new L2Residency(1000);
        l2.wrote(1, 200);
        l2.fetched(300);
        l2.wrote(2, 100);
        assertEquals(100, l2.newestResults(100), "the operator before it");
        assertEquals(250, l2.newestResults(250), "then the one before that, skipping fetched bytes");
        assertEquals(300, l2.newestResults(5000), "no more than the results held");
    }

    @Test
    void eachStageReadsTheResidentShareOfItsActivationsFromTheBuffer() {
        Region hbm = Region.FIRST_TIER;
        // A GEMM's stage: 600 bytes of weights streamed, 400 of activations (A) beside them.
        Stage gemm = new Stage(0, 1000, 0, 0, 1, TensorRole.WEIGHTS, hbm, 400, TensorRole.ACTIVATIONS, hbm);
        // A vector operator's stage: all 500 bytes activations.
        Stage vector = new Stage(0, 500, 0, 0, 1, TensorRole.ACTIVATIONS, hbm, 0, TensorRole.ACTIVATIONS, hbm);
        // A split-K reduction's stage reads scratch: never resident.
        Stage scratch = new Stage(0, 300, 0, 0, 1, TensorRole.SCRATCH, hbm, 0, TensorRole.SCRATCH, hbm);
        TileProgram p = new TileProgram(List.of(gemm, vector, scratch), List.of(List.of()), 1800, 64, "p");

        TileProgram quarter = L2Residency.readingResident(List.of(p), 250, 1000).get(0);
        assertEquals(List.of(100L, 125L, 0L), quarter.stages().stream().map(Stage::residentBytes).toList());
        assertEquals(600, quarter.stages().get(0).memoryStreamedBytes(), "the weights all come from memory");
        assertEquals(300, quarter.stages().get(0).memoryOtherBytes(), "three quarters of A");
        assertEquals(375, quarter.stages().get(1).memoryStreamedBytes());
        assertEquals(1800 - 225, quarter.hbmReadBytes(), "the programs read what is resident no more");
        assertEquals(64, quarter.hbmWriteBytes());

        TileProgram all = L2Residency.readingResident(List.of(p), 1000, 1000).get(0);
        assertEquals(List.of(400L, 500L, 0L), all.stages().stream().map(Stage::residentBytes).toList());
        assertEquals(0, all.stages().get(1).memoryStreamedBytes() + all.stages().get(1).memoryOtherBytes());
        List<TileProgram> cold = List.of(p);
        assertSame(cold, L2Residency.readingResident(cold, 0, 1000), "nothing resident: the programs themselves");
    }

    @Test
    void entriesByIdAgreeWithAHashMapThroughPutsAndRemovals() {
        // Ids that collide in the table's low bits, put and removed at random, and looked up after every change.
        L2Residency.EntriesById table = new L2Residency.EntriesById();
        java.util.Map<Long, long[]> expected = new java.util.HashMap<>();
        java.util.SplittableRandom random = new java.util.SplittableRandom(16);
        for (int i = 0; i < 20_000; i++) {
            long id = random.nextInt(300) * 64L;
            if (random.nextInt(3) == 0) {
                table.remove(id);
                expected.remove(id);
            } else {
                long[] entry = {id, i};
                table.put(id, entry);
                expected.put(id, entry);
            }
            long probe = random.nextInt(300) * 64L;
            assertSame(expected.get(probe), table.get(probe), "id " + probe + " after step " + i);
        }
        for (long id = 0; id < 300 * 64L; id += 64) {
            assertSame(expected.get(id), table.get(id), "id " + id);
        }
    }
}

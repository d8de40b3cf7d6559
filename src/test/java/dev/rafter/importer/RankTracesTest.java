package dev.rafter.importer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;

class RankTracesTest {
    @Test
    void aProcessGroupsRanksComeFromItsListOrItsStartAndStride() {
        assertEquals(List.of(0, 1), RankTraces.groupRanks("[0, 1]", 0, 1, 2));
        assertEquals(List.of(4, 5, 6, 7), RankTraces.groupRanks("[4, 5, 6, 7]", -1, -1, -1));
        // PyTorch cuts long lists short ("[0, 2, 4, ...]"): then start + i x stride for the group's size.
        assertEquals(List.of(0, 2, 4, 6), RankTraces.groupRanks("[0, 2, ...]", 0, 2, 4));
        assertEquals(List.of(3, 4), RankTraces.groupRanks(null, 3, 1, 2));
        // A list that disagrees with the group's size yields to start and stride when they are there.
        assertEquals(List.of(1, 2), RankTraces.groupRanks("[1]", 1, 1, 2));
        assertNull(RankTraces.groupRanks(null, -1, -1, 2));
        assertNull(RankTraces.groupRanks("[0, x]", -1, -1, 2));
        assertNull(RankTraces.groupRanks("[0, 1, ...]", -1, -1, 8));
    }
}

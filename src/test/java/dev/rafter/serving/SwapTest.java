package dev.rafter.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.workload.Workload;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Preemption by swapping KV blocks to host memory over its link. */
class SwapTest {
    private static final HardwareSpec H100 = HardwareLoader.load(Path.of("models/hardware/h100.yaml"), List.of());
    private static final Workload TINY = Workload.load(Path.of("models/workloads/tiny.yaml"));
    /** 4 blocks of 16 tokens: two requests of 16 + 30 tokens (45 in the cache at the end, 3 blocks) cannot share. */
    private static final ServingEngine.Limits FOUR_BLOCKS = new ServingEngine.Limits(256, 8, 16, 4, 0);
    /** A block of 1000 B over a 1 GB/s link with 2 us of latency. */
    private static final ServingEngine.Swap SLOW = new ServingEngine.Swap(1000, 1e9, 2_000_000, 1000);
    /** The same with the link free: the same schedule, no time for the transfers. */
    private static final ServingEngine.Swap FREE = new ServingEngine.Swap(1000, 1e30, 0, 1000);

    private static ServingEngine.Result run(ServingEngine.Swap swap, ServingEngine.Limits limits) {
        ServingEngine engine = new ServingEngine(new StepTimer(H100, TINY), limits, Policy.FCFS);
        List<Request> two = List.of(new Request(0, 0, 16, 30, 0, "a"), new Request(1, 0, 16, 30, 0, "b"));
        return (swap == null ? engine : engine.swapping(swap)).run(Traffic.of(two));
    }

    private static long tokens(ServingEngine.Result r) {
        long sum = 0;
        for (int i = 0; i < r.steps().count(); i++) {
            sum += r.steps().tokens.get(i);
        }
        return sum;
    }

    @Test
    void aTransferTakesTheLinksLatencyAndItsBytesOverTheBandwidth() {
        assertEquals(2_000_000 + 3_000_000, SLOW.transferPs(3)); // 2 us + 3000 B at 1 B/ns
        assertEquals(0, SLOW.transferPs(0));
    }

    @Test
    void aPreemptedSequenceSwapsOutAndBackInsteadOfRecomputing() {
        // Both prefill 16 tokens (a block each), then decode; at 32 tokens each holds 2 blocks and the first needs a
        // third: the second (last in FCFS order) is preempted with its 2 blocks. It comes back when the first has
        // finished, with its 2 blocks swapped in and a third for its next token.
        ServingEngine.Result swapped = run(SLOW, FOUR_BLOCKS);
        ServingEngine.Result free = run(FREE, FOUR_BLOCKS);
        ServingEngine.Result recomputed = run(null, FOUR_BLOCKS);
        assertEquals(1, swapped.preemptions());
        assertEquals(2L, swapped.swapped().get("swapped_out_blocks"));
        assertEquals(2L, swapped.swapped().get("swapped_in_blocks"));
        // Every token computed once: 16 + 29 a request.
        assertEquals(2 * 45, tokens(swapped));
        assertTrue(tokens(recomputed) > 2 * 45, "recomputation computes the preempted tokens again");
        assertEquals(free.steps().count(), swapped.steps().count());
        long last = swapped.outcomes().get(1).finishPs() - free.outcomes().get(1).finishPs();
        assertEquals(2 * SLOW.transferPs(2), last, "the steps that swap out and in wait for the link");
        assertEquals(free.outcomes().get(0).finishPs() + SLOW.transferPs(2), swapped.outcomes().get(0).finishPs());
    }

    @Test
    void aVictimThatHostMemoryCannotHoldIsRecomputed() {
        ServingEngine.Result full = run(new ServingEngine.Swap(1000, 1e9, 2_000_000, 1), FOUR_BLOCKS);
        assertEquals(1, full.preemptions());
        assertEquals(0L, full.swapped().get("swapped_out_blocks"));
        assertEquals(tokens(run(null, FOUR_BLOCKS)), tokens(full));
    }

    @Test
    void everyRequestFinishesAndLittlesLawHoldsWhenSwapping() {
        List<Request> requests = Traffic.open(new Traffic.Arrivals(20_000, 1), 300, 0, new SplittableRandom(3),
            i -> new Request(0, 0, 150, 50, 0, "test"));
        ServingEngine.Result result = new ServingEngine(new StepTimer(H100, TINY),
            new ServingEngine.Limits(256, 8, 16, 40, 0), Policy.FCFS).swapping(SLOW).run(Traffic.of(requests));
        assertTrue(result.preemptions() > 0);
        assertEquals(result.swapped().get("swapped_out_blocks"), result.swapped().get("swapped_in_blocks"));
        java.util.Map<String, Object> s = ServingReport.summary(result, new ServingReport.Slo(1, 1), 40);
        assertEquals(300L, ((java.util.Map<?, ?>) s.get("requests")).get("finished"));
        assertTrue((double) ((java.util.Map<?, ?>) s.get("littles_law")).get("relative_error")
            <= ServingReport.LITTLE_TOLERANCE);
        for (ServingEngine.Outcome o : result.outcomes()) {
            assertEquals(50, o.generated());
        }
        assertEquals(300L * (150 + 49), tokens(result), "no token computed twice");
    }
}

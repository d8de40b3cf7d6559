package dev.rafter.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.workload.Workload;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ServingEngineTest {
    private static final HardwareSpec H100 = HardwareLoader.load(Path.of("models/hardware/h100.yaml"), List.of());
    private static final Workload TINY = Workload.load(Path.of("models/workloads/tiny.yaml"));

    private static ServingEngine engine(int maxTokens, int maxSequences, int blockTokens, long kvBlocks) {
        return new ServingEngine(new StepTimer(H100, TINY), new ServingEngine.Limits(maxTokens, maxSequences,
            blockTokens, kvBlocks, 0), Policy.FCFS);
    }

    private static Request fixed(int prompt, int output) {
        return new Request(0, 0, prompt, output, 0, "test");
    }

    /**
     * Batching off (one sequence at a time), identical requests, Poisson arrivals: an M/D/1 queue, whose mean wait
     * is rho / (2 mu (1 - rho)) (Pollaczek-Khinchine with a deterministic service time). 200,000 requests at rho
     * 0.5: the sample mean scatters by about 0.8% of the mean between seeds (30 seeds of the Lindley recursion
     * for this queue), so 2% is two and a half of that; the seed is fixed.
     */
    @Test
    void oneSequenceAtATimeIsAnMd1QueueWithinTwoPercent() {
        ServingEngine probe = engine(8192, 1, 16, 1_000_000);
        long servicePs = probe.run(Traffic.of(List.of(fixed(64, 2)))).outcomes().get(0).finishPs();
        double serviceS = servicePs * 1e-12;
        double rho = 0.5;
        double rate = rho / serviceS;
        List<Request> requests = Traffic.open(new Traffic.Arrivals(rate, 1), 200_000, 0, new SplittableRandom(7),
            i -> fixed(64, 2));
        ServingEngine.Result result = engine(8192, 1, 16, 1_000_000).run(Traffic.of(requests));
        double sumWait = 0;
        for (ServingEngine.Outcome o : result.outcomes()) {
            assertEquals(servicePs, o.finishPs() - o.firstScheduledPs(), "deterministic service");
            sumWait += ServingReport.queueS(o);
        }
        double meanWait = sumWait / requests.size();
        // Against the realised arrival rate, as the formula's lambda.
        double lambda = requests.size() / (requests.get(requests.size() - 1).arrivalPs() * 1e-12);
        double r = lambda * serviceS;
        double expected = r / (2 * (1 / serviceS) * (1 - r));
        assertEquals(expected, meanWait, 0.02 * expected, "mean wait " + meanWait + " s, M/D/1 " + expected + " s");
    }

    @Test
    void everyRequestFinishesAndLittlesLawHoldsUnderPreemption() {
        // A cache of 40 blocks of 16 tokens: three 200-token requests (13 blocks each at the end) fill it, so
        // decodes preempt.
        List<Request> requests = Traffic.open(new Traffic.Arrivals(20_000, 1), 300, 0, new SplittableRandom(3),
            i -> fixed(150, 50));
        ServingEngine.Result result = engine(256, 8, 16, 40).run(Traffic.of(requests));
        assertTrue(result.preemptions() > 0, "the small cache preempts");
        Map<String, Object> s = ServingReport.summary(result, new ServingReport.Slo(1, 1), 40);
        @SuppressWarnings("unchecked")
        Map<String, Object> counts = (Map<String, Object>) s.get("requests");
        assertEquals(300L, counts.get("arrived"));
        assertEquals(300L, counts.get("finished"));
        for (ServingEngine.Outcome o : result.outcomes()) {
            assertEquals(50, o.generated());
            assertTrue(o.firstScheduledPs() >= o.request().arrivalPs());
            assertTrue(o.firstTokenPs() > o.firstScheduledPs() && o.finishPs() > o.firstTokenPs());
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> little = (Map<String, Object>) s.get("littles_law");
        assertTrue((double) little.get("relative_error") <= ServingReport.LITTLE_TOLERANCE);
        for (int i = 0; i < result.steps().count(); i++) {
            assertTrue(result.steps().kvBlocks.get(i) <= 40);
            assertTrue(result.steps().tokens.get(i) <= 256);
            assertTrue(result.steps().sequences.get(i) <= 8);
        }
    }

    @Test
    void aLongPromptIsChunkedAndDecodesRunBesideIt() {
        // Request 0 decodes while request 1's 300-token prompt goes in 3 chunks of the 128-token budget less the
        // decode's token: 127, 127, 46.
        List<Request> requests = List.of(new Request(0, 0, 32, 20, 0, "a"), new Request(1, 1, 300, 2, 0, "b"));
        ServingEngine.Result result = engine(128, 8, 16, 1000).run(Traffic.of(requests));
        ServingEngine.Steps steps = result.steps();
        assertEquals(List.of(32L, 128L, 128L, 47L), List.of(steps.tokens.get(0), steps.tokens.get(1),
            steps.tokens.get(2), steps.tokens.get(3)));
        ServingEngine.Outcome b = result.outcomes().get(1);
        assertEquals(steps.endPs.get(3), b.firstTokenPs());
    }

    @Test
    void priorityServesTheLowerValueFirst() {
        List<Request> requests = List.of(new Request(0, 0, 64, 4, 0, "a"), new Request(1, 1, 64, 4, 5, "b"),
            new Request(2, 2, 64, 4, 1, "c"));
        ServingEngine priority = new ServingEngine(new StepTimer(H100, TINY), new ServingEngine.Limits(8192, 1, 16,
            1000, 0), Policy.PRIORITY);
        ServingEngine.Result result = priority.run(Traffic.of(requests));
        assertTrue(result.outcomes().get(2).finishPs() < result.outcomes().get(1).finishPs());
    }

    @Test
    void closedLoopClientsKeepTheirNumberInFlight() {
        ServingEngine.Result result = engine(8192, 64, 16, 100_000).run(Traffic.closed(4, 40, 0,
            i -> fixed(64, 8)));
        assertEquals(40, result.outcomes().size());
        for (int i = 0; i < result.steps().count(); i++) {
            assertTrue(result.steps().sequences.get(i) <= 4);
        }
        assertEquals(4, result.steps().sequences.get(0));
    }
}

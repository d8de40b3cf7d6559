package dev.rafter.serving;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.workload.Workload;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ReplicasTest {
    private static final HardwareSpec H100 = HardwareLoader.load(Path.of("models/hardware/h100.yaml"), List.of());
    private static final Workload TINY = Workload.load(Path.of("models/workloads/tiny.yaml"));
    /** A small cache (40 blocks of 16 tokens) and 8 sequences, so that replicas batch, queue and preempt. */
    private static final ServingEngine.Limits LIMITS = new ServingEngine.Limits(256, 8, 16, 40, 0);

    private static List<ServingEngine> engines(int n) {
        return engines(n, LIMITS);
    }

    private static List<ServingEngine> engines(int n, ServingEngine.Limits limits) {
        StepTimer shared = new StepTimer(H100, TINY);
        List<ServingEngine> engines = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            engines.add(new ServingEngine(shared, limits, Policy.FCFS));
        }
        return engines;
    }

    private static ServingEngine alone() {
        return alone(LIMITS);
    }

    private static ServingEngine alone(ServingEngine.Limits limits) {
        return new ServingEngine(new StepTimer(H100, TINY), limits, Policy.FCFS);
    }

    private static List<Request> poisson(int count) {
        return Traffic.open(new Traffic.Arrivals(40_000, 1), count, 0, new SplittableRandom(5),
            i -> new Request(0, 0, 150, 50, 0, "test"));
    }

    private static String csv(ServingEngine.Result result) throws IOException {
        StringWriter w = new StringWriter();
        ServingReport.writeRequests(w, result);
        return w.toString();
    }

    @Test
    void roundRobinGivesEachReplicaWhatItWouldServeAlone() throws IOException {
        List<Request> requests = poisson(300);
        for (int n : new int[] {2, 3}) {
            Replicas.Result routed = Replicas.serve(engines(n), requests, Replicas.Router.ROUND_ROBIN);
            for (int k = 0; k < n; k++) {
                List<Request> subset = new ArrayList<>();
                for (int i = k; i < requests.size(); i += n) {
                    subset.add(requests.get(i));
                }
                ServingEngine.Result solo = alone().run(Traffic.of(subset));
                ServingEngine.Result replica = routed.replicas().get(k);
                assertTrue(solo.preemptions() > 0, "the case preempts, so the replica's state matters");
                assertEquals(solo.outcomes(), replica.outcomes(), n + " replicas, replica " + k);
                assertEquals(csv(solo), csv(replica), n + " replicas, replica " + k);
                assertEquals(solo.steps().count(), replica.steps().count());
            }
            for (int i = 0; i < requests.size(); i++) {
                assertEquals(i % n, routed.replicaOf()[i], "request " + i + " in turn");
            }
        }
    }

    @Test
    void littlesLawAndConservationHoldOverAllReplicas() {
        List<Request> requests = poisson(300);
        for (Replicas.Router router : Replicas.Router.values()) {
            Replicas.Result routed = Replicas.serve(engines(3), requests, router);
            Map<String, Object> s = ServingReport.summary(routed.merged(), new ServingReport.Slo(1, 1), 40);
            Map<?, ?> counts = (Map<?, ?>) s.get("requests");
            assertEquals(300L, counts.get("arrived"), router.key());
            assertEquals(300L, counts.get("finished"), router.key());
            Map<?, ?> little = (Map<?, ?>) s.get("littles_law");
            assertTrue((double) little.get("relative_error") <= ServingReport.LITTLE_TOLERANCE, router.key());
            // Mean in system = rate x mean time, with the rate over all requests: 300 over the whole window.
            assertEquals(300 / (double) little.get("arrival_rate_per_s"), (double) s.get("span_s")
                + requests.get(0).arrivalPs() * 1e-12, 1e-9, router.key());
        }
    }

    @Test
    void oneReplicaIsTheEngineAlone() throws IOException {
        List<Request> requests = poisson(300);
        ServingEngine.Result solo = alone().run(Traffic.of(requests));
        for (Replicas.Router router : Replicas.Router.values()) {
            Replicas.Result routed = Replicas.serve(engines(1), requests, router);
            assertEquals(solo.outcomes(), routed.merged().outcomes(), router.key());
            assertEquals(csv(solo), csv(routed.merged()), router.key());
            assertEquals(solo.steps().count(), routed.merged().steps().count());
            for (int i = 0; i < solo.steps().count(); i++) {
                assertEquals(solo.steps().endPs.get(i), routed.merged().steps().endPs.get(i));
            }
        }
    }

    /**
     * By hand: A (64 + 1000 tokens) arrives first and goes to replica 0 (both idle: the lower index); B (64 + 800)
     * arrives halfway through A and goes to the idle replica 1. C arrives just after A finishes, while B runs:
     * replica 0 has nothing outstanding, replica 1 has B's 864 tokens, so C goes to replica 0 (counting A as still
     * outstanding would send it to 1). D arrives right after: 68 tokens (C) against 864, replica 0 again, where
     * round-robin sends it to 1.
     */
    @Test
    void leastLoadedSendsARequestToTheReplicaWithFewestOutstandingTokens() {
        ServingEngine.Limits roomy = new ServingEngine.Limits(256, 8, 16, 1000, 0);
        long aFinish = alone(roomy).run(Traffic.of(List.of(new Request(0, 0, 64, 1000, 0, "A")))).outcomes().get(0)
            .finishPs();
        List<Request> requests = List.of(new Request(0, 0, 64, 1000, 0, "A"),
            new Request(1, aFinish / 2, 64, 800, 0, "B"), new Request(2, aFinish + 1, 64, 4, 0, "C"),
            new Request(3, aFinish + 2, 64, 4, 0, "D"));
        Replicas.Result least = Replicas.serve(engines(2, roomy), requests, Replicas.Router.LEAST_LOADED);
        ServingEngine.Outcome b = least.merged().outcomes().get(1);
        assertTrue(b.finishPs() > aFinish + 2, "B still runs when C and D arrive");
        assertEquals(aFinish, least.merged().outcomes().get(0).finishPs(), "A on its own replica, as alone");
        assertArrayEquals(new int[] {0, 1, 0, 0}, least.replicaOf());
        Replicas.Result turn = Replicas.serve(engines(2, roomy), requests, Replicas.Router.ROUND_ROBIN);
        assertArrayEquals(new int[] {0, 1, 0, 1}, turn.replicaOf());
    }

    /**
     * By hand: A's and B's first requests (a 64-token prefix each, 4 blocks of 16) go to replicas 0 and 1 as least
     * loaded would send them. Long after both finished, each replica still caches its prefix: the next B goes to
     * replica 1 (least loaded: to 0, the tie's lower index), A to replica 0, and B again to 1 (least loaded: the
     * tie of one request each, to 0).
     */
    @Test
    void prefixRoutingSendsARequestToTheReplicaHoldingItsPrefix() {
        ServingEngine.Limits caching = new ServingEngine.Limits(256, 8, 16, 1000, 0).withPrefixCaching(true);
        long later = 1_000_000_000_000L; // 1 s: both first requests have long finished
        List<Request> requests = List.of(prefixed(0, 0, "A"), prefixed(1, 1, "B"), prefixed(2, later, "B"),
            prefixed(3, later + 1, "A"), prefixed(4, later + 2, "B"));
        Replicas.Result prefix = Replicas.serve(engines(2, caching), requests, Replicas.Router.PREFIX);
        assertArrayEquals(new int[] {0, 1, 1, 0, 1}, prefix.replicaOf());
        Replicas.Result least = Replicas.serve(engines(2, caching), requests, Replicas.Router.LEAST_LOADED);
        assertArrayEquals(new int[] {0, 1, 0, 1, 0}, least.replicaOf());
        // Routed by prefix, only the first request of each prefix computes it: 3 x 64 of 5 x 80 tokens hit.
        long hits = 0;
        for (ServingEngine.Result r : prefix.replicas()) {
            hits += (long) r.prefixCache().get("hit_tokens");
        }
        assertEquals(3 * 64, hits);
    }

    private static Request prefixed(long id, long arrivalPs, String prefix) {
        return new Request(id, arrivalPs, 80, 4, 0, "test", prefix, 64);
    }
}

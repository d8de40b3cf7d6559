package dev.rafter.serving;

import dev.rafter.config.InputException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * Identical replicas (each a device, or a tensor-parallel group) behind a router, as a serving deployment puts
 * several engine instances behind one endpoint (the router of vLLM's production stack, or llm-d's inference
 * scheduler). The router assigns each request, in arrival order, as it arrives: {@link Router#ROUND_ROBIN} in turn,
 * {@link Router#LEAST_LOADED} to the replica with the fewest outstanding tokens (prompt plus output tokens of the
 * requests it has been sent that have not finished by the arrival; ties to the lowest index), or
 * {@link Router#PREFIX} to the replica whose prefix cache holds the most of the request's prompt blocks at the
 * arrival (ties, and a request none holds, least loaded). Each replica runs
 * its own {@link ServingEngine} on the requests it is sent; the replicas advance together in time, each up to the
 * next arrival, so that the router sees their state at that instant and nothing later. Given the same requests, a
 * replica's run is exactly its engine's run on them alone.
 */
public final class Replicas {
    /** How the router picks a replica. */
    public enum Router {
        ROUND_ROBIN("round_robin"),
        LEAST_LOADED("least_loaded"),
        PREFIX("prefix");

        private final String key;

        Router(String key) {
            this.key = key;
        }

        public String key() {
            return key;
        }

        public static Router of(String key) {
            for (Router r : values()) {
                if (r.key.equals(key)) {
                    return r;
                }
            }
            throw new InputException("--router: expected round_robin, least_loaded or prefix, got '" + key + "'");
        }
    }

    /**
     * Each replica's run, in replica order; all requests' outcomes merged (in id order, steps of every replica)
     * as one run; and the replica each merged outcome was sent to.
     */
    public record Result(List<ServingEngine.Result> replicas, ServingEngine.Result merged, int[] replicaOf) {}

    private Replicas() {}

    /** Serves {@code requests} (in arrival order) on {@code engines}, one per replica, routed by {@code router}. */
    public static Result serve(List<ServingEngine> engines, List<Request> requests, Router router) {
        return serve(engines, Traffic.of(requests), router);
    }

    /**
     * Serves {@code traffic} on {@code engines}, one per replica, routed by {@code router}; each finish is passed on
     * to {@code traffic}, so closed-loop clients send their next request then (routed like any arrival).
     */
    public static Result serve(List<ServingEngine> engines, Traffic traffic, Router router) {
        int n = engines.size();
        List<ArrayDeque<Request>> queues = new ArrayList<>(n);
        List<ServingEngine.Replay> replays = new ArrayList<>(n);
        Routing routing = new Routing(router, n);
        for (int k = 0; k < n; k++) {
            ArrayDeque<Request> queue = new ArrayDeque<>();
            int replica = k;
            queues.add(queue);
            replays.add(engines.get(k).replay(Traffic.queued(queue, (request, ps) -> {
                routing.finished(replica, request, ps);
                traffic.finished(request, ps);
            })));
        }
        Map<Long, Integer> sentTo = new HashMap<>();
        while (true) {
            // The replica that acts first moves one iteration at a time, until none acts before the next arrival:
            // a finish on the way may bring an earlier arrival (a closed-loop client's next request). Replicas are
            // independent between arrivals, so each ends where advancing it alone up to the arrival would.
            Request r = traffic.peek();
            long at = r == null ? Long.MAX_VALUE : r.arrivalPs();
            ServingEngine.Replay first = null;
            for (ServingEngine.Replay replay : replays) {
                if (replay.nextActionPs() < at && (first == null || replay.nextActionPs() < first.nextActionPs())) {
                    first = replay;
                }
            }
            if (first != null) {
                first.iterate();
                continue;
            }
            if (r == null) {
                break;
            }
            traffic.poll();
            int chosen = routing.choose(r, at, k -> replays.get(k).cachedPromptTokens(r));
            queues.get(chosen).add(r);
            sentTo.put(r.id(), chosen);
        }
        List<ServingEngine.Result> results = new ArrayList<>(n);
        for (ServingEngine.Replay replay : replays) {
            results.add(replay.result()); // every replica has run to the end of its requests
        }
        return new Result(results, merge(results), replicaOf(results, sentTo));
    }

    /** The router's view: how many requests it has sent, and each replica's outstanding tokens. */
    static final class Routing {
        private final Router router;
        private final long[] outstanding;
        private final List<PriorityQueue<long[]>> finishes = new ArrayList<>();
        private long index;

        Routing(Router router, int replicas) {
            this.router = router;
            this.outstanding = new long[replicas];
            for (int k = 0; k < replicas; k++) {
                finishes.add(new PriorityQueue<>(Comparator.comparingLong(f -> f[0])));
            }
        }

        /**
         * The replica {@code r} goes to at {@code at}, given the tokens of its prompt each replica's prefix cache
         * holds; the request counts as outstanding there until it {@link #finished}.
         */
        int choose(Request r, long at, java.util.function.IntToLongFunction cachedPromptTokens) {
            int n = outstanding.length;
            int chosen = 0;
            if (router == Router.ROUND_ROBIN) {
                chosen = (int) (index % n);
            } else {
                long[] held = new long[n];
                for (int k = 0; k < n; k++) {
                    // A request finished by the arrival no longer counts; one that finishes later still does.
                    PriorityQueue<long[]> done = finishes.get(k);
                    while (!done.isEmpty() && done.peek()[0] <= at) {
                        outstanding[k] -= done.poll()[1];
                    }
                    held[k] = router == Router.PREFIX ? cachedPromptTokens.applyAsLong(k) : 0;
                    if (held[k] > held[chosen] || held[k] == held[chosen] && outstanding[k] < outstanding[chosen]) {
                        chosen = k;
                    }
                }
            }
            index++;
            outstanding[chosen] += tokens(r);
            return chosen;
        }

        /** {@code request}, sent to replica {@code k}, finishes there at {@code ps}. */
        void finished(int k, Request request, long ps) {
            finishes.get(k).add(new long[] {ps, tokens(request)});
        }
    }

    private static long tokens(Request r) {
        return (long) r.promptTokens() + r.outputTokens();
    }

    /** Every replica's outcomes in id order and every replica's steps, as one run (for the totals over all). */
    static ServingEngine.Result merge(List<ServingEngine.Result> results) {
        List<ServingEngine.Outcome> outcomes = new ArrayList<>();
        ServingEngine.Steps steps = new ServingEngine.Steps();
        long preemptions = 0;
        for (ServingEngine.Result r : results) {
            outcomes.addAll(r.outcomes());
            ServingEngine.Steps s = r.steps();
            for (int i = 0; i < s.count(); i++) {
                steps.dynamicJ.add(s.dynamicJ.get(i));
                steps.flops.add(s.flops.get(i));
                steps.startPs.add(s.startPs.get(i));
                steps.endPs.add(s.endPs.get(i));
                steps.sequences.add(s.sequences.get(i));
                steps.tokens.add(s.tokens.get(i));
                steps.kvBlocks.add(s.kvBlocks.get(i));
                steps.preemptions.add(s.preemptions.get(i));
            }
            preemptions += r.preemptions();
        }
        outcomes.sort(Comparator.comparingLong(o -> o.request().id()));
        return new ServingEngine.Result(outcomes, steps, preemptions);
    }

    private static int[] replicaOf(List<ServingEngine.Result> results, Map<Long, Integer> sentTo) {
        List<ServingEngine.Outcome> all = new ArrayList<>();
        results.forEach(r -> all.addAll(r.outcomes()));
        all.sort(Comparator.comparingLong(o -> o.request().id()));
        int[] of = new int[all.size()];
        for (int i = 0; i < of.length; i++) {
            of[i] = sentTo.get(all.get(i).request().id());
        }
        return of;
    }
}

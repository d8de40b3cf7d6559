package dev.rafter.serving;

import dev.rafter.sim.fabric.FabricGraph;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * Disaggregated prefill and decode (Splitwise, DistServe) as one event loop in simulated time: prefill replicas
 * (device groups of a system) compute each request's prompt and first token, and decode replicas generate the rest,
 * all stepping concurrently. The router assigns arrivals to prefill replicas as {@link Replicas} does, and a request
 * whose prefill has ended to a decode replica by the same policy (prefix-aware routing falls back to the least
 * loaded: decode replicas cache no prefixes). The decode replica takes its hand-overs first come, first served: it
 * admits one when it has the blocks for the prompt and its next token and a place among its running sequences (and
 * no preempted sequence of its own waits), at once or when a step of its own frees them; it then sets those aside
 * and the KV cache crosses the fabric ({@link KvTransfers}, contending with the transfers in flight). Until the
 * transfer ends the prefill replica keeps the request's blocks, so when decode falls behind, prefill's cache fills
 * and its admissions stop (back-pressure). When the KV has arrived the request joins the decode replica's running
 * sequences at its next step. A request of one output token needs no decode: it ends with its prefill. Its time to
 * first token runs to the end of its transfer (the token reaches the user with the decode side's stream).
 */
public final class Disaggregated {
    /**
     * The prefill replicas' run (over the prefill part of every request); each decode replica's run; every request's
     * outcome from arrival to its last token, merged in id order with all steps of both sides; per merged request,
     * its prefill and decode replica (-1: none), how long it waited after its prefill for decode room and how long
     * its transfer took, in picoseconds (-1: none); the links.
     */
    public record Result(Replicas.Result prefill, List<ServingEngine.Result> decode, ServingEngine.Result merged,
                         int[] prefillOf, int[] decodeOf, long[] waitPs, long[] transferPs, long transferBytes,
                         List<KvTransfers.LinkUse> links) {}

    /** A prefill that ended at {@code ps} on prefill replica {@code replica}. */
    private record Prefilled(long ps, long id, int replica) {}

    /** A request handed to a decode replica, waiting for room there; its prefill ended at {@code readyPs}. */
    private record HandOver(Request request, int prefillReplica, long readyPs) {}

    private Disaggregated() {}

    /** {@link #serve(List, List, Traffic, Replicas.Router, FabricGraph, List, List, long)} of a list of requests. */
    public static Result serve(List<ServingEngine> prefill, List<ServingEngine> decode, List<Request> requests,
                               Replicas.Router router, FabricGraph graph, List<List<Integer>> prefillDevices,
                               List<List<Integer>> decodeDevices, long kvBytesPerToken) {
        return serve(prefill, decode, Traffic.of(requests), router, graph, prefillDevices, decodeDevices,
            kvBytesPerToken);
    }

    /**
     * Serves {@code traffic}: prefill on {@code prefill} engines (replica k on devices {@code prefillDevices.get(k)};
     * each is set {@link ServingEngine#handingOver}), decode on {@code decode} engines made with
     * {@link ServingEngine#arrivingPrefilled} (replica k on {@code decodeDevices.get(k)}); each rank moves
     * {@code kvBytesPerToken} per prompt token. Each request's last token is passed on to {@code traffic}, so
     * closed-loop clients send their next request then.
     */
    public static Result serve(List<ServingEngine> prefill, List<ServingEngine> decode, Traffic traffic,
                               Replicas.Router router, FabricGraph graph, List<List<Integer>> prefillDevices,
                               List<List<Integer>> decodeDevices, long kvBytesPerToken) {
        Map<Long, Request> byId = new HashMap<>();
        Map<Long, long[]> sides = new HashMap<>(); // per request: prefill, decode, wait, transfer
        PriorityQueue<Prefilled> prefilled = new PriorityQueue<>((a, b) -> a.ps != b.ps
            ? Long.compare(a.ps, b.ps) : Long.compare(a.id, b.id));
        Replicas.Routing prefillRouting = new Replicas.Routing(router, prefill.size());
        List<ArrayDeque<Request>> prefillQueues = new ArrayList<>();
        List<ServingEngine.Replay> prefillReplays = new ArrayList<>();
        for (int k = 0; k < prefill.size(); k++) {
            ArrayDeque<Request> queue = new ArrayDeque<>();
            int replica = k;
            prefillQueues.add(queue);
            prefillReplays.add(prefill.get(k).handingOver().replay(Traffic.queued(queue, (request, ps) -> {
                prefillRouting.finished(replica, request, ps);
                prefilled.add(new Prefilled(ps, request.id(), replica));
            })));
        }
        Replicas.Routing decodeRouting = new Replicas.Routing(router, decode.size());
        List<ArrayDeque<Request>> arrived = new ArrayList<>();
        List<ArrayDeque<HandOver>> pending = new ArrayList<>();
        List<ServingEngine.Replay> decodeReplays = new ArrayList<>();
        long[] tryAtPs = new long[decode.size()];
        Arrays.fill(tryAtPs, Long.MAX_VALUE);
        for (int k = 0; k < decode.size(); k++) {
            ArrayDeque<Request> queue = new ArrayDeque<>();
            int replica = k;
            arrived.add(queue);
            pending.add(new ArrayDeque<>());
            decodeReplays.add(decode.get(k).replay(Traffic.queued(queue, (request, ps) -> {
                decodeRouting.finished(replica, request, ps);
                traffic.finished(byId.get(request.id()), ps);
            })));
        }
        List<ServingEngine.Replay> replays = new ArrayList<>(prefillReplays);
        replays.addAll(decodeReplays);
        // Closing the fabric releases its kernel's run.
        try (KvTransfers fabric = new KvTransfers(graph)) {
            long[] bytes = {0};
            while (true) {
                // One action at a time, the earliest first; at one instant: the fabric's events (a transfer that ends
                // frees the prefill blocks and delivers the request), prefills that end, arrivals, hand-overs to decode
                // replicas with room, then steps, so that a step sees everything that happened by its start.
                long fabricPs = fabric.nextEventPs();
                long prefilledPs = prefilled.isEmpty() ? Long.MAX_VALUE : prefilled.peek().ps;
                Request next = traffic.peek();
                long arrivalPs = next == null ? Long.MAX_VALUE : next.arrivalPs();
                int trying = -1;
                for (int k = 0; k < decode.size(); k++) {
                    // Hand-overs at one instant go in request order, so transfers that start together queue by id.
                    if (!pending.get(k).isEmpty() && (trying < 0 || tryAtPs[k] < tryAtPs[trying]
                        || tryAtPs[k] == tryAtPs[trying] && pending.get(k).peek().request().id()
                        < pending.get(trying).peek().request().id())) {
                        trying = k;
                    }
                }
                long tryPs = trying < 0 ? Long.MAX_VALUE : tryAtPs[trying];
                int stepping = -1;
                for (int i = 0; i < replays.size(); i++) {
                    if (stepping < 0 || replays.get(i).nextActionPs() < replays.get(stepping).nextActionPs()) {
                        stepping = i;
                    }
                }
                long stepPs = replays.get(stepping).nextActionPs();
                long now = Math.min(Math.min(fabricPs, prefilledPs), Math.min(Math.min(arrivalPs, tryPs), stepPs));
                if (now == Long.MAX_VALUE) {
                    break;
                }
                if (fabricPs == now) {
                    fabric.runNext();
                } else if (prefilledPs == now) {
                    Prefilled p = prefilled.poll();
                    Request r = byId.get(p.id());
                    if (r.outputTokens() == 1) {
                        prefillReplays.get(p.replica()).release(r.id(), now);
                        traffic.finished(r, now);
                        continue;
                    }
                    int k = decodeRouting.choose(r, now, j -> 0);
                    sides.get(r.id())[1] = k;
                    pending.get(k).add(new HandOver(r, p.replica(), now));
                    tryAtPs[k] = now;
                } else if (arrivalPs == now) {
                    Request r = traffic.poll();
                    Request firstToken = new Request(r.id(), r.arrivalPs(), r.promptTokens(), 1, r.priority(),
                        r.source(), r.prefixId(), r.prefixTokens());
                    byId.put(r.id(), r);
                    int k = prefillRouting.choose(firstToken, now, j -> prefillReplays.get(j).cachedPromptTokens(r));
                    sides.put(r.id(), new long[] {k, -1, -1, -1});
                    prefillQueues.get(k).add(firstToken);
                } else if (tryPs == now) {
                    // The head of one decode replica's hand-overs; the rest are tried again at once, in id order.
                    int k = trying;
                    ServingEngine.Replay replay = decodeReplays.get(k);
                    HandOver h = pending.get(k).peek();
                    if (!replay.reserve(h.request(), now)) {
                        // A step under way frees its finishes' blocks at its end; else the next step may.
                        tryAtPs[k] = replay.nowPs() > now ? replay.nowPs() : Long.MAX_VALUE;
                        continue;
                    }
                    pending.get(k).poll();
                    Request r = h.request();
                    long[] side = sides.get(r.id());
                    side[2] = now - h.readyPs();
                    List<Integer> from = prefillDevices.get(h.prefillReplica());
                    long perRank = kvBytesPerToken * r.promptTokens();
                    bytes[0] += perRank * from.size();
                    long start = now;
                    fabric.start(new KvTransfers.Transfer(start, from, decodeDevices.get(k), perRank), end -> {
                        side[3] = end - start;
                        prefillReplays.get(h.prefillReplica()).release(r.id(), end);
                        arrived.get(k).add(r.sentAs(r.id(), end));
                    });
                } else {
                    replays.get(stepping).iterate();
                    if (stepping >= prefill.size()) {
                        int k = stepping - prefill.size();
                        tryAtPs[k] = now; // its step may have freed blocks
                    }
                }
            }
            return result(prefillReplays, decodeReplays, byId, sides, bytes[0], fabric.links());
        }
    }

    private static Result result(List<ServingEngine.Replay> prefillReplays, List<ServingEngine.Replay> decodeReplays,
                                 Map<Long, Request> byId, Map<Long, long[]> sides, long bytes,
                                 List<KvTransfers.LinkUse> links) {
        List<ServingEngine.Result> prefilled = new ArrayList<>();
        prefillReplays.forEach(r -> prefilled.add(r.result()));
        ServingEngine.Result prefillMerged = Replicas.merge(prefilled);
        List<ServingEngine.Result> decoded = new ArrayList<>();
        Map<Long, ServingEngine.Outcome> decodedById = new HashMap<>();
        for (ServingEngine.Replay replay : decodeReplays) {
            ServingEngine.Result result = replay.result();
            decoded.add(result);
            result.outcomes().forEach(o -> decodedById.put(o.request().id(), o));
        }
        List<ServingEngine.Outcome> pre = prefillMerged.outcomes();
        int n = pre.size();
        int[] prefillOf = new int[n];
        int[] decodeOf = new int[n];
        long[] waitPs = new long[n];
        long[] transferPs = new long[n];
        List<ServingEngine.Outcome> outcomes = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            ServingEngine.Outcome p = pre.get(i);
            Request r = byId.get(p.request().id());
            long[] side = sides.get(r.id());
            prefillOf[i] = (int) side[0];
            decodeOf[i] = (int) side[1];
            waitPs[i] = side[2];
            transferPs[i] = side[3];
            ServingEngine.Outcome d = decodedById.get(r.id());
            if (r.outputTokens() == 1) {
                outcomes.add(new ServingEngine.Outcome(r, p.firstScheduledPs(), p.firstTokenPs(), p.finishPs(),
                    p.preemptions(), p.generated(), p.energyJ()));
            } else if (d == null) {
                // Its first token has not reached the user: it waits for decode room, or its KV is on the way.
                outcomes.add(new ServingEngine.Outcome(r, p.firstScheduledPs(), -1, -1, p.preemptions(), 0,
                    p.energyJ()));
            } else {
                outcomes.add(new ServingEngine.Outcome(r, p.firstScheduledPs(), d.firstTokenPs(), d.finishPs(),
                    p.preemptions() + d.preemptions(), d.generated(), p.energyJ() + d.energyJ()));
            }
        }
        List<ServingEngine.Result> all = new ArrayList<>(prefilled);
        all.addAll(decoded);
        ServingEngine.Result steps = Replicas.merge(all);
        ServingEngine.Result merged = new ServingEngine.Result(outcomes, steps.steps(), steps.preemptions());
        return new Result(new Replicas.Result(prefilled, prefillMerged, prefillOf), decoded, merged, prefillOf,
            decodeOf, waitPs, transferPs, bytes, links);
    }
}

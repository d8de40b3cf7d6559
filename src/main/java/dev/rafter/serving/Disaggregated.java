package dev.rafter.serving;

import dev.rafter.sim.fabric.FabricGraph;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Disaggregated prefill and decode (Splitwise, DistServe): prefill replicas (device groups of a system) compute
 * each request's prompt and first token; its KV cache then crosses the fabric ({@link KvTransfers}) to a decode
 * replica, which admits it with its prompt's cache in place and generates the rest. The router assigns requests to
 * prefill replicas as {@link Replicas} does; a request goes to the decode replicas in turn, in the order its
 * prefill ends (ties by id), since a decode replica's load is not known at the hand-over without running it first.
 * Prefill does not wait for decode: its blocks are freed when the first token is out, and a transferred request
 * waits on the decode side for blocks there. A request of one output token needs no decode: it ends with its
 * prefill. Its time to first token runs to the end of its transfer (the token reaches the user with the decode
 * side's stream).
 */
public final class Disaggregated {
    /**
     * The prefill replicas' run (over the prefill part of every request); each decode replica's run; every request's
     * outcome from arrival to its last token, merged in id order with all steps of both sides; per merged request,
     * its prefill and decode replica (-1: none) and its transfer's time in picoseconds (-1: none); the links.
     */
    public record Result(Replicas.Result prefill, List<ServingEngine.Result> decode, ServingEngine.Result merged,
                         int[] prefillOf, int[] decodeOf, long[] transferPs, long transferBytes,
                         List<KvTransfers.LinkUse> links) {}

    private Disaggregated() {}

    /**
     * Serves {@code requests} (in arrival order): prefill on {@code prefill} engines (replica k on devices
     * {@code prefillDevices.get(k)}), decode on {@code decode} engines made with {@link ServingEngine#arrivingPrefilled}
     * (replica k on {@code decodeDevices.get(k)}); each rank moves {@code kvBytesPerToken} per prompt token.
     */
    public static Result serve(List<ServingEngine> prefill, List<ServingEngine> decode, List<Request> requests,
                               Replicas.Router router, FabricGraph graph, List<List<Integer>> prefillDevices,
                               List<List<Integer>> decodeDevices, long kvBytesPerToken) {
        List<Request> firstTokens = new ArrayList<>(requests.size());
        Map<Long, Request> byId = new HashMap<>();
        for (Request r : requests) {
            firstTokens.add(new Request(r.id(), r.arrivalPs(), r.promptTokens(), 1, r.priority(), r.source(),
                r.prefixId(), r.prefixTokens()));
            byId.put(r.id(), r);
        }
        Replicas.Result prefilled = Replicas.serve(prefill, firstTokens, router);
        List<ServingEngine.Outcome> pre = prefilled.merged().outcomes();
        List<Integer> handedOver = new ArrayList<>();
        for (int i = 0; i < pre.size(); i++) {
            if (byId.get(pre.get(i).request().id()).outputTokens() > 1) {
                handedOver.add(i);
            }
        }
        handedOver.sort(Comparator.<Integer>comparingLong(i -> pre.get(i).finishPs())
            .thenComparingLong(i -> pre.get(i).request().id()));
        List<KvTransfers.Transfer> transfers = new ArrayList<>();
        int[] decodeOf = new int[pre.size()];
        Arrays.fill(decodeOf, -1);
        long bytes = 0;
        for (int n = 0; n < handedOver.size(); n++) {
            int i = handedOver.get(n);
            ServingEngine.Outcome p = pre.get(i);
            decodeOf[i] = n % decode.size();
            long perRank = kvBytesPerToken * p.request().promptTokens();
            List<Integer> from = prefillDevices.get(prefilled.replicaOf()[i]);
            transfers.add(new KvTransfers.Transfer(p.finishPs(), from, decodeDevices.get(decodeOf[i]), perRank));
            bytes += perRank * from.size();
        }
        KvTransfers.Result moved = KvTransfers.run(graph, transfers);
        long[] transferPs = new long[pre.size()];
        Arrays.fill(transferPs, -1);
        List<List<Request>> toDecode = new ArrayList<>();
        for (int k = 0; k < decode.size(); k++) {
            toDecode.add(new ArrayList<>());
        }
        for (int n = 0; n < handedOver.size(); n++) {
            int i = handedOver.get(n);
            Request r = byId.get(pre.get(i).request().id());
            transferPs[i] = moved.endPs()[n] - transfers.get(n).startPs();
            toDecode.get(decodeOf[i]).add(new Request(r.id(), moved.endPs()[n], r.promptTokens(), r.outputTokens(),
                r.priority(), r.source(), r.prefixId(), r.prefixTokens()));
        }
        List<ServingEngine.Result> decoded = new ArrayList<>();
        Map<Long, ServingEngine.Outcome> decodedById = new HashMap<>();
        for (int k = 0; k < decode.size(); k++) {
            List<Request> arriving = toDecode.get(k);
            arriving.sort(Comparator.comparingLong(Request::arrivalPs).thenComparingLong(Request::id));
            ServingEngine.Result result = decode.get(k).run(Traffic.of(arriving));
            decoded.add(result);
            result.outcomes().forEach(o -> decodedById.put(o.request().id(), o));
        }
        List<ServingEngine.Result> all = new ArrayList<>(prefilled.replicas());
        all.addAll(decoded);
        ServingEngine.Result steps = Replicas.merge(all);
        List<ServingEngine.Outcome> outcomes = new ArrayList<>(pre.size());
        for (ServingEngine.Outcome p : pre) {
            Request r = byId.get(p.request().id());
            ServingEngine.Outcome d = decodedById.get(r.id());
            outcomes.add(d == null
                ? new ServingEngine.Outcome(r, p.firstScheduledPs(), p.firstTokenPs(), p.finishPs(), p.preemptions(),
                    p.generated())
                : new ServingEngine.Outcome(r, p.firstScheduledPs(), d.firstTokenPs(), d.finishPs(),
                    p.preemptions() + d.preemptions(), d.generated()));
        }
        ServingEngine.Result merged = new ServingEngine.Result(outcomes, steps.steps(), steps.preemptions());
        return new Result(prefilled, decoded, merged, prefilled.replicaOf(), decodeOf, transferPs, bytes,
            moved.links());
    }
}

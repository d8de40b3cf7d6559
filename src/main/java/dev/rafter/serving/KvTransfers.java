package dev.rafter.serving;

import dev.rafter.sim.Kernel;
import dev.rafter.sim.fabric.Fabric;
import dev.rafter.sim.fabric.FabricAlgorithm;
import dev.rafter.sim.fabric.FabricCollectives;
import dev.rafter.sim.fabric.FabricGraph;
import dev.rafter.sim.fabric.FabricOp;
import dev.rafter.sim.fabric.FabricPlan;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * KV caches sent from prefill devices to decode devices over a system's fabric, all on one kernel run, so that
 * transfers crossing a link at the same time share it (each link serves the slices first come, first served).
 * A transfer is one send/recv per tensor-parallel rank, prefill device i to decode device i, each of that device's
 * share of the cache; it ends when every rank's bytes have arrived. A send is what a pipeline stage's hand-over is
 * in {@code simulate --system}: the collective library's base latency, then the bytes in slices hop by hop.
 */
public final class KvTransfers {
    /** A transfer: when it starts, the devices that send and receive (rank by rank), bytes each rank sends. */
    public record Transfer(long startPs, List<Integer> from, List<Integer> to, long bytesPerRank) {
        public Transfer {
            from = List.copyOf(from);
            to = List.copyOf(to);
            if (from.size() != to.size() || bytesPerRank < 1) {
                throw new IllegalArgumentException("a transfer pairs equal groups and moves at least a byte");
            }
        }
    }

    /** One direction of a wire after the run: its name, the bytes that crossed it and for how long it was busy. */
    public record LinkUse(String name, long bytes, long busyPs) {}

    /** When each transfer ended (in the order given), and what each link carried. */
    public record Result(long[] endPs, List<LinkUse> links) {}

    private KvTransfers() {}

    public static Result run(FabricGraph graph, List<Transfer> transfers) {
        long[] end = new long[transfers.size()];
        java.util.Arrays.fill(end, -1);
        Fabric[] fabric = new Fabric[1];
        Map<String, FabricPlan> plans = new HashMap<>();
        new Kernel().run(clock -> {
            fabric[0] = new Fabric(graph, clock, (track, kind, op, start, stop, amount) -> { });
            for (int i = 0; i < transfers.size(); i++) {
                Transfer t = transfers.get(i);
                int index = i;
                int[] left = {t.from().size()};
                clock.schedule(t.startPs(), () -> {
                    for (int rank = 0; rank < t.from().size(); rank++) {
                        int from = t.from().get(rank);
                        int to = t.to().get(rank);
                        FabricPlan plan = plans.computeIfAbsent(from + "/" + to + "/" + t.bytesPerRank(), k ->
                            FabricPlan.choose(graph, FabricOp.SEND_RECV, t.bytesPerRank(), FabricAlgorithm.AUTO,
                                List.of(from, to)));
                        FabricCollectives.send(fabric[0], plan, from, to, index, () -> {
                            if (--left[0] == 0) {
                                end[index] = clock.now();
                            }
                        });
                    }
                });
            }
        });
        for (long e : end) {
            if (e < 0) {
                throw new IllegalStateException("a KV-cache transfer did not finish");
            }
        }
        List<LinkUse> links = new ArrayList<>();
        for (FabricGraph.DirectedLink l : graph.links()) {
            links.add(new LinkUse(l.name(), fabric[0].bytesMoved(l.index()), fabric[0].busyPs(l.index())));
        }
        return new Result(end, List.copyOf(links));
    }
}

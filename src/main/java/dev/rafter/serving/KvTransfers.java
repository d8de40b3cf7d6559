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
 * KV caches sent from prefill devices to decode devices over a system's fabric, all on one fabric, so that
 * transfers crossing a link at the same time share it (each link serves the slices first come, first served).
 * A transfer is one send/recv per tensor-parallel rank, prefill device i to decode device i, each of that device's
 * share of the cache; it ends when every rank's bytes have arrived. A send is what a pipeline stage's hand-over is
 * in {@code simulate --system}: the collective library's base latency, then the bytes in slices hop by hop.
 * The fabric runs on a kernel of its own that the serving loop advances event by event ({@link #runNext}), so
 * transfers can be started as prefills end, while others are in flight. Close it to release the kernel's run.
 */
public final class KvTransfers implements AutoCloseable {
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
    public record LinkUse(String name, long bytes, long busyPs, double pjPerBit) {
        /** What the bytes that crossed it spent, J (the system file's energy per bit of the link). */
        public double energyJ() {
            return 8.0 * bytes * pjPerBit * 1e-12;
        }
    }

    /** When each transfer ended (in the order given), and what each link carried. */
    public record Result(long[] endPs, List<LinkUse> links) {}

    private final FabricGraph graph;
    private final Kernel clock = new Kernel();
    private final Kernel.Stepping events = clock.stepping(scheduler -> { });
    private final Fabric fabric;
    private final Map<String, FabricPlan> plans = new HashMap<>();
    private long started;

    /** An idle fabric at time 0. */
    public KvTransfers(FabricGraph graph) {
        this.graph = graph;
        this.fabric = new Fabric(graph, clock, (track, kind, op, start, stop, amount) -> { });
    }

    /** When the next fabric event happens; {@link Long#MAX_VALUE} when none is pending. */
    public long nextEventPs() {
        return events.nextEventPs();
    }

    /** Runs the next fabric event (a transfer that ends calls its {@code done} then, at its end). */
    public void runNext() {
        events.runNext();
    }

    @Override
    public void close() {
        events.close();
    }

    /**
     * Starts {@code t} at its start time (no earlier than any event run yet); {@code done} runs when its last rank's
     * bytes have arrived, with that time.
     */
    public void start(Transfer t, java.util.function.LongConsumer done) {
        long index = started++;
        int[] left = {t.from().size()};
        clock.at(t.startPs(), () -> {
            for (int rank = 0; rank < t.from().size(); rank++) {
                int from = t.from().get(rank);
                int to = t.to().get(rank);
                FabricPlan plan = plans.computeIfAbsent(from + "/" + to + "/" + t.bytesPerRank(), k ->
                    FabricPlan.choose(graph, FabricOp.SEND_RECV, t.bytesPerRank(), FabricAlgorithm.AUTO,
                        List.of(from, to)));
                FabricCollectives.send(fabric, plan, from, to, index, () -> {
                    if (--left[0] == 0) {
                        done.accept(clock.now());
                    }
                });
            }
        });
    }

    /** What each link carried so far, and for how long it was busy. */
    public List<LinkUse> links() {
        List<LinkUse> links = new ArrayList<>();
        for (FabricGraph.DirectedLink l : graph.links()) {
            links.add(new LinkUse(l.name(), fabric.bytesMoved(l.index()), fabric.busyPs(l.index()),
                l.parameters().pjPerBit()));
        }
        return List.copyOf(links);
    }

    /** Runs {@code transfers} (each from its start time) to the end on an idle fabric. */
    public static Result run(FabricGraph graph, List<Transfer> transfers) {
        long[] end = new long[transfers.size()];
        java.util.Arrays.fill(end, -1);
        List<LinkUse> links;
        try (KvTransfers fabric = new KvTransfers(graph)) {
            for (int i = 0; i < transfers.size(); i++) {
                int index = i;
                fabric.start(transfers.get(i), ps -> end[index] = ps);
            }
            while (fabric.nextEventPs() != Long.MAX_VALUE) {
                fabric.runNext();
            }
            links = fabric.links();
        }
        for (long e : end) {
            if (e < 0) {
                throw new IllegalStateException("a KV-cache transfer did not finish");
            }
        }
        return new Result(end, links);
    }
}

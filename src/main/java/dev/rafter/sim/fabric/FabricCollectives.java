package dev.rafter.sim.fabric;

import dev.rafter.hw.HardwareSpec;
import dev.rafter.sim.Device;
import dev.rafter.sim.Kernel;
import dev.rafter.sim.Scheduler;
import dev.rafter.sim.message.LinkTransfer;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs a {@link FabricPlan} as traffic (ASTRA-sim's way): each phase's pattern becomes the messages its steps send
 * between peers, and the fabric moves them hop by hop, so contention and topology emerge. As
 * {@code Device.runCollective} does, the call waits the row's base latency, a step is cut into slices of at most
 * 512 KiB (NCCL's; up to 64 of them, at least 8 of 4 KiB or more where the bytes allow; smaller if a switch buffer
 * is), a message carries its payload divided by the protocol's payload fraction, and each step a device sends adds
 * the row's per-hop latency on arrival. A ring or direct step starts when the whole step before it has reached the
 * device (NCCL's model charges steps one after another); a chain or tree forwards each slice as it arrives; phases
 * run one after another.
 *
 * <p>Each message also moves through the devices' memories ({@link Memories}; a switch has none): the sender reads
 * the payload it sends, the receiver writes the payload it receives, and where the receiver reduces what arrives
 * (a ring's reduce-scatter steps, a tree's way down, a direct reduce-scatter) it also reads its own part to add to
 * it (NCCL's recvReduceSend reads the received and the local chunk). A ring all-reduce over p devices thus reads
 * 3 (p - 1) S / p and writes 2 (p - 1) S / p on each device. The accesses are issued when the message is sent and
 * a message has arrived once the link has delivered it (and the per-step latency passed) and its accesses are
 * done, whichever is later: NCCL's per-step latency is measured end to end, so it already holds the memory's
 * access latency, and what the memory adds is its bandwidth. A step's time is thus the longer of its link time
 * and its memory time, and on a busy device the collective's accesses queue behind (and delay) compute's.
 */
public final class FabricCollectives {
    static final long SLICE_BYTES = 512 * 1024;
    static final int MAX_SLICES = 64;
    static final int MIN_SLICES = 8;
    static final long MIN_SLICE_BYTES = 4096;
    /** The operator id a lone collective's messages carry. */
    private static final long LONE_OP_ID = 0;

    /**
     * What a run did: its time, per device and per link what crossed, and per device what the collective asked its
     * memory to read and write and what the memory's channels moved.
     */
    public record Result(FabricPlan plan, long timePs, long[] payloadSent, long[] payloadReceived,
                         List<LinkUse> links, long[] memoryRead, long[] memoryWritten, long[] channelBytes) {
        public double timeS() {
            return timePs * 1e-12;
        }

        /** The link that was busy longest. */
        public LinkUse busiest() {
            LinkUse best = links.get(0);
            for (LinkUse l : links) {
                if (l.busyPs() > best.busyPs()) {
                    best = l;
                }
            }
            return best;
        }

        public double energyJ() {
            return links.stream().mapToDouble(l -> 8.0 * l.bytes() * l.pjPerBit() * 1e-12).sum();
        }
    }

    /** One direction of a wire after the run. */
    public record LinkUse(String name, long bytes, long busyPs, double pjPerBit) {}

    /**
     * Where a collective's messages read and write on each device: {@link #access} serves {@code bytes} on device
     * {@code device}'s memory and runs {@code done} when they are served.
     */
    public interface Memories {
        void access(int device, boolean write, long bytes, Runnable done);

        /** Memories that take no time (a fabric studied without its devices). */
        Memories NONE = (device, write, bytes, done) -> done.run();
    }

    private FabricCollectives() {}

    /**
     * Simulates {@code plan} alone on an idle fabric, between idle devices of the system's hardware: their memories
     * serve the collective's reads and writes.
     */
    public static Result run(FabricGraph graph, FabricPlan plan) {
        long[] end = {-1};
        Runner[] runner = new Runner[1];
        Fabric[] fabric = new Fabric[1];
        int count = graph.devices();
        long[] read = new long[count];
        long[] written = new long[count];
        Device[] devices = new Device[count];
        new Kernel().run(s -> {
            fabric[0] = new Fabric(graph, s, (track, kind, op, start, stop, amount) -> { });
            for (int d = 0; d < count; d++) {
                HardwareSpec hw = graph.spec().devices().get(d).hardware();
                devices[d] = new Device(hw, s, (track, kind, op, start, stop, amount) -> { }, Device.tracks(hw));
            }
            Memories memories = (device, write, bytes, done) -> {
                (write ? written : read)[device] += bytes;
                devices[device].collectiveAccess(LONE_OP_ID, write, bytes, done);
            };
            runner[0] = new Runner(fabric[0], plan, LONE_OP_ID, memories, () -> end[0] = s.now());
            runner[0].start();
        });
        if (end[0] < 0) {
            throw new IllegalStateException("the collective did not finish: " + plan.describe());
        }
        List<LinkUse> links = new ArrayList<>();
        for (FabricGraph.DirectedLink l : graph.links()) {
            links.add(new LinkUse(l.name(), fabric[0].bytesMoved(l.index()), fabric[0].busyPs(l.index()),
                l.parameters().pjPerBit()));
        }
        long[] channelBytes = new long[count];
        for (int d = 0; d < count; d++) {
            channelBytes[d] = devices[d].memorySystem().bytesMoved();
        }
        return new Result(plan, end[0], runner[0].sent, runner[0].received, List.copyOf(links), read, written,
            channelBytes);
    }

    /**
     * Starts {@code plan} now on a fabric that other traffic may share (a system's devices computing on it); its
     * messages carry {@code opId}; {@code done} runs when every device has its result.
     */
    public static void start(Fabric fabric, FabricPlan plan, long opId, Memories memories, Runnable done) {
        new Runner(fabric, plan, opId, memories, done).start();
    }

    /**
     * Sends a send/recv plan's bytes from one device to another only (a pipeline stage handing its activations
     * on): the row's base latency, then the bytes in slices down the route, each paying the per-step latency on
     * arrival; {@code done} runs when all have arrived. The devices' memories take no part (see the overload).
     */
    public static void send(Fabric fabric, FabricPlan plan, int from, int to, long opId, Runnable done) {
        send(fabric, plan, from, to, opId, Memories.NONE, done);
    }

    /**
     * As {@link #send(Fabric, FabricPlan, int, int, long, Runnable)}, each slice also read from the sender's memory
     * and written to the receiver's (see the class): it has arrived when the later of the two is done.
     */
    public static void send(Fabric fabric, FabricPlan plan, int from, int to, long opId, Memories memories,
                            Runnable done) {
        Scheduler scheduler = fabric.scheduler();
        long hopPs = Math.round(plan.cost().hopLatencyNs() * 1000);
        double payload = plan.cost().payloadFraction();
        long[] slices = slices(plan.tensorBytes(), Math.min(SLICE_BYTES, fabric.graph().largestMessageBytes()));
        Countdown left = new Countdown(slices.length, done);
        scheduler.schedule(Math.round(plan.cost().baseLatencyNs() * 1000), () -> {
            for (long bytes : slices) {
                Countdown arrived = new Countdown(3, left::tick);
                memories.access(from, false, bytes, arrived::tick);
                memories.access(to, true, bytes, arrived::tick);
                fabric.route(from, to).send(new LinkTransfer(opId, (long) Math.ceil(bytes / payload)),
                    () -> scheduler.schedule(hopPs, arrived::tick));
            }
        });
    }

    /** One collective in flight. */
    static final class Runner {
        private final Fabric fabric;
        private final long opId;
        private final Scheduler scheduler;
        private final FabricPlan plan;
        private final Memories memories;
        private final Runnable done;
        private final long hopPs;
        private final double payload;
        private final long sliceBytes;
        final long[] sent;
        final long[] received;

        Runner(Fabric fabric, FabricPlan plan, long opId, Memories memories, Runnable done) {
            this.fabric = fabric;
            this.memories = memories;
            this.opId = opId;
            this.scheduler = fabric.scheduler();
            this.plan = plan;
            this.done = done;
            this.hopPs = Math.round(plan.cost().hopLatencyNs() * 1000);
            this.payload = plan.cost().payloadFraction();
            this.sliceBytes = Math.min(SLICE_BYTES, fabric.graph().largestMessageBytes());
            int devices = fabric.graph().devices();
            this.sent = new long[devices];
            this.received = new long[devices];
        }

        void start() {
            scheduler.schedule(Math.round(plan.cost().baseLatencyNs() * 1000), () -> phase(0));
        }

        private void phase(int index) {
            if (index == plan.phases().size()) {
                done.run();
                return;
            }
            FabricPlan.Phase p = plan.phases().get(index);
            Countdown groupsLeft = new Countdown(p.groups().size(), () -> phase(index + 1));
            for (List<Integer> group : p.groups()) {
                switch (p.pattern()) {
                    case RING -> new Ring(group, p.hops(), reducingSteps(p), slices(p.egressBytes() / p.hops()),
                        groupsLeft).start();
                    case CHAIN -> chain(group, slices(p.egressBytes()), groupsLeft);
                    case TREE -> tree(group, slices(p.tensorBytes()), groupsLeft);
                    case DIRECT -> new Direct(group, p.hops(), reducingSteps(p), slices(p.egressBytes() / p.hops()),
                        groupsLeft).start();
                    case SWITCH -> new InSwitch(group, p.part(), slices(p.tensorBytes()), groupsLeft).start();
                }
            }
        }

        /**
         * {@code bytes} cut into slices: at most {@link #SLICE_BYTES} each (up to {@link #MAX_SLICES}), and at
         * least {@link #MIN_SLICES} of {@link #MIN_SLICE_BYTES} or more where the bytes allow, so a step's store
         * and forward through a switch costs one slice, not the whole step, again.
         */
        private long[] slices(long bytes) {
            return FabricCollectives.slices(bytes, sliceBytes);
        }

        /**
         * The steps of a ring or direct phase whose receivers reduce what arrives: a reduce-scatter's all, an
         * all-reduce's first half.
         */
        private static int reducingSteps(FabricPlan.Phase p) {
            return switch (p.part()) {
                case REDUCE_SCATTER -> p.hops();
                case ALL_REDUCE -> p.hops() / 2;
                default -> 0;
            };
        }

        /**
         * Sends {@code bytes} of payload between endpoints, read from the sender's memory and written to the
         * receiver's (a switch has none), which also reads as much of its own to add it to where it
         * {@code reduces}; {@code arrived} runs once the link has delivered it and the accesses are done.
         */
        private void send(int from, int to, long bytes, boolean step, boolean reduces, Runnable arrived) {
            int devices = fabric.graph().devices();
            Countdown done = new Countdown(1 + (from < devices ? 1 : 0) + (to < devices ? (reduces ? 2 : 1) : 0),
                arrived);
            if (from < devices) {
                sent[from] += bytes;
                memories.access(from, false, bytes, done::tick);
            }
            if (to < devices) {
                memories.access(to, true, bytes, done::tick);
                if (reduces) {
                    memories.access(to, false, bytes, done::tick);
                }
            }
            long wire = (long) Math.ceil(bytes / payload);
            fabric.route(from, to).send(new LinkTransfer(opId, wire), () -> {
                if (to < devices) {
                    received[to] += bytes;
                }
                // The protocol's per-step latency follows each step a device sends (not a switch's forwarding).
                scheduler.schedule(step ? hopPs : 0, done::tick);
            });
        }

        /**
         * Each device sends a step's slices to the next round the ring, and starts its next step when the whole
         * step before has reached it (NCCL's cost model charges the steps one after another).
         */
        private final class Ring {
            private final List<Integer> group;
            private final int steps;
            private final int reducing;
            private final long[] slices;
            private final int[] received;
            private final Countdown devicesLeft;

            Ring(List<Integer> group, int steps, int reducing, long[] slices, Countdown done) {
                this.group = group;
                this.steps = steps;
                this.reducing = reducing;
                this.slices = slices;
                this.received = new int[group.size()];
                this.devicesLeft = new Countdown(group.size(), done::tick);
            }

            void start() {
                for (int r = 0; r < group.size(); r++) {
                    step(r, 0);
                }
            }

            private void step(int rank, int step) {
                int next = (rank + 1) % group.size();
                for (long bytes : slices) {
                    send(group.get(rank), group.get(next), bytes, true, step < reducing, () -> arrived(next, step));
                }
            }

            // A device receives its steps in order (one sender, one route, FIFO links), so a count tells them apart.
            private void arrived(int rank, int step) {
                if (++received[rank] % slices.length == 0) {
                    if (step + 1 < steps) {
                        step(rank, step + 1);
                    } else {
                        devicesLeft.tick();
                    }
                }
            }
        }

        /** Down the chain from the first device, slice by slice: each device forwards a slice as it arrives. */
        private void chain(List<Integer> group, long[] slices, Countdown done) {
            Countdown arrivals = new Countdown((group.size() - 1) * slices.length, done::tick);
            for (long bytes : slices) {
                forward(group, 0, bytes, arrivals);
            }
        }

        private void forward(List<Integer> group, int rank, long bytes, Countdown arrivals) {
            send(group.get(rank), group.get(rank + 1), bytes, true, false, () -> {
                if (rank + 2 < group.size()) {
                    forward(group, rank + 1, bytes, arrivals);
                }
                arrivals.tick();
            });
        }

        /**
         * A slice is reduced down the chain to the first device (each device adds its own and passes it on when the
         * one after it has sent), then broadcast back up; slices follow one another, so the chain pipelines.
         */
        private void tree(List<Integer> group, long[] slices, Countdown done) {
            int d = group.size();
            Countdown arrivals = new Countdown((d - 1) * slices.length, done::tick);
            for (long bytes : slices) {
                reduceDown(group, d - 1, bytes, arrivals);
            }
        }

        private void reduceDown(List<Integer> group, int rank, long bytes, Countdown arrivals) {
            send(group.get(rank), group.get(rank - 1), bytes, true, true, () -> {
                if (rank - 1 > 0) {
                    reduceDown(group, rank - 1, bytes, arrivals);
                } else {
                    forward(group, 0, bytes, arrivals);
                }
            });
        }

        /**
         * Every device sends each peer its part of every slice at once, peers in turn from the next one on (so
         * no device's port is everyone's first); with two steps (all-reduce) a device sends its reduced parts when
         * every peer's first-step parts have reached it.
         */
        private final class Direct {
            private final List<Integer> group;
            private final int steps;
            private final int reducing;
            private final long[] slices;
            private final int[][] received;
            private final Countdown devicesLeft;

            Direct(List<Integer> group, int steps, int reducing, long[] slices, Countdown done) {
                this.group = group;
                this.steps = steps;
                this.reducing = reducing;
                this.slices = slices;
                this.received = new int[steps][group.size()];
                this.devicesLeft = new Countdown(group.size(), done::tick);
            }

            void start() {
                for (int r = 0; r < group.size(); r++) {
                    step(r, 0);
                }
            }

            private void step(int rank, int step) {
                int d = group.size();
                for (long bytes : slices) {
                    for (int k = 1; k < d; k++) {
                        int peer = (rank + k) % d;
                        send(group.get(rank), group.get(peer), share(bytes, d - 1, k - 1), true, step < reducing,
                            () -> arrived(peer, step));
                    }
                }
            }

            private void arrived(int rank, int step) {
                if (++received[step][rank] == (group.size() - 1) * slices.length) {
                    if (step + 1 < steps) {
                        step(rank, step + 1);
                    } else {
                        devicesLeft.tick();
                    }
                }
            }
        }

        /**
         * NVLink SHARP, slice by slice. To reduce, each device sends its slices to the switch one after another
         * (the next when the last has arrived, so its gather traffic interleaves rather than queueing behind the
         * whole tensor); when every device's slice is in, the switch sends each device its reduced share. To
         * gather, a device sends its share and the switch multicasts it to the others. An all-reduce gathers each
         * share as soon as it is reduced.
         */
        private final class InSwitch {
            private final List<Integer> group;
            private final FabricPlan.Part part;
            private final long[] slices;
            private final int sw;
            private final Countdown arrivals;

            InSwitch(List<Integer> group, FabricPlan.Part part, long[] slices, Countdown done) {
                this.group = group;
                this.part = part;
                this.slices = slices;
                this.sw = fabric.graph().reducingSwitch();
                int d = group.size();
                this.arrivals = new Countdown(slices.length * d * (part == FabricPlan.Part.REDUCE_SCATTER ? 1 : d - 1),
                    done::tick);
            }

            void start() {
                int d = group.size();
                if (part == FabricPlan.Part.ALL_GATHER) {
                    for (long bytes : slices) {
                        for (int r = 0; r < d; r++) {
                            multicast(r, share(bytes, d, r));
                        }
                    }
                    return;
                }
                List<Countdown> atSwitch = new ArrayList<>();
                for (long bytes : slices) {
                    atSwitch.add(new Countdown(d, () -> reduced(bytes)));
                }
                for (int r = 0; r < d; r++) {
                    up(r, 0, atSwitch);
                }
            }

            private void up(int rank, int slice, List<Countdown> atSwitch) {
                send(group.get(rank), sw, slices[slice], true, false, () -> {
                    atSwitch.get(slice).tick();
                    if (slice + 1 < slices.length) {
                        up(rank, slice + 1, atSwitch);
                    }
                });
            }

            private void reduced(long bytes) {
                int d = group.size();
                for (int r = 0; r < d; r++) {
                    int rank = r;
                    long mine = share(bytes, d, r);
                    send(sw, group.get(r), mine, false, false, () -> {
                        if (part == FabricPlan.Part.ALL_REDUCE) {
                            multicast(rank, mine);
                        } else {
                            arrivals.tick();
                        }
                    });
                }
            }

            private void multicast(int rank, long bytes) {
                send(group.get(rank), sw, bytes, true, false, () -> {
                    for (int peer = 0; peer < group.size(); peer++) {
                        if (peer != rank) {
                            send(sw, group.get(peer), bytes, false, false, arrivals::tick);
                        }
                    }
                });
            }
        }
    }

    static long[] slices(long bytes, long sliceBytes) {
        long n = Math.max((bytes + sliceBytes - 1) / sliceBytes,
            Math.min(MIN_SLICES, (bytes + MIN_SLICE_BYTES - 1) / MIN_SLICE_BYTES));
        int count = (int) Math.max(1, Math.min(MAX_SLICES, n));
        long[] out = new long[count];
        for (int j = 0; j < count; j++) {
            out[j] = share(bytes, count, j);
        }
        return out;
    }

    /**
     * How far past its closed form a lone run of {@code plan} may finish: the pipeline fill of its slices. The
     * closed form moves each step's bytes as if its path were one wire; hop by hop, the last slice of a step still
     * has to cross the links after the first (store and forward), and a switch's gather waits for the last slice's
     * reduction. Bounded per phase by hops x path links x the largest slice's wire time on the slowest link.
     */
    public static double fillBoundS(FabricGraph graph, FabricPlan plan) {
        long sliceBytes = Math.min(SLICE_BYTES, graph.largestMessageBytes());
        double total = 0;
        for (FabricPlan.Phase p : plan.phases()) {
            long cut = switch (p.pattern()) {
                case RING, DIRECT -> p.egressBytes() / p.hops();
                case CHAIN -> p.egressBytes();
                case TREE -> p.tensorBytes();
                case SWITCH -> p.tensorBytes();
            };
            double wire = Math.ceil(slices(cut, sliceBytes)[0] / plan.cost().payloadFraction());
            int links = 0;
            double slowest = Double.MAX_VALUE;
            for (List<Integer> g : p.groups()) {
                for (int from : g) {
                    for (int to : g) {
                        if (from != to) {
                            List<FabricGraph.DirectedLink> path = graph.path(from, to);
                            links = Math.max(links, path.size());
                            for (FabricGraph.DirectedLink l : path) {
                                slowest = Math.min(slowest, l.parameters().bytesPerSecond());
                            }
                        }
                    }
                }
            }
            total += p.hops() * links * wire / slowest;
        }
        return total;
    }

    /** Part {@code i} of {@code total} cut into {@code n} near-equal parts. */
    static long share(long total, int n, int i) {
        return total / n + (i < total % n ? 1 : 0);
    }

    /** Runs an action when ticked a given number of times. */
    static final class Countdown {
        private int left;
        private final Runnable then;

        Countdown(int count, Runnable then) {
            this.left = count;
            this.then = then;
        }

        void tick() {
            if (--left == 0) {
                then.run();
            }
        }
    }
}

package dev.rafter.sim.fabric;

import dev.rafter.config.InputException;
import dev.rafter.hw.CollectiveAlgorithm;
import dev.rafter.hw.CollectiveCost;
import dev.rafter.hw.HardwareSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * How one collective runs on a fabric: its algorithm, the cost row of the devices' collective library (their
 * hardware file's {@code device_link.collective_costs}: NCCL's per-call and per-step latencies and protocol), and
 * its phases. Each phase is one pattern over groups of devices; its alpha-beta time is
 * {@code hops x (hop latency + path latency) + egress / (bandwidth x payload)}, with the bandwidth of the slowest
 * link its steps cross and the latency of its longest path; each step takes at least the time its devices'
 * memories need for the step's reads and writes ({@link Phase#closedFormS}), as each message in the run waits for
 * both its link and its memory accesses. The plan's time is the row's base latency plus its phases'. That closed
 * form chooses {@code auto} and is the check a lone collective on an idle fabric must meet; the simulation
 * ({@link FabricCollectives}) moves the bytes hop by hop.
 */
public record FabricPlan(FabricOp op, long tensorBytes, FabricAlgorithm algorithm, CollectiveCost cost,
                         List<Phase> phases, double predictedS) {

    /** How the devices of a group exchange data in a phase. */
    public enum Pattern { RING, CHAIN, TREE, DIRECT, SWITCH }

    /** What a phase does to the data. */
    public enum Part { REDUCE_SCATTER, ALL_GATHER, ALL_REDUCE, ALL_TO_ALL, BROADCAST, SHIFT }

    /**
     * One phase: a pattern run by every group at once (devices in their order in the group) on a tensor of
     * {@code tensorBytes} (nccl-tests' S for the phase). Its alpha-beta time has two terms. Alpha: {@code hops}
     * steps, each the row's per-hop latency, plus {@code chainLatencyPs}, the wires' and switches' latency along the
     * longest chain of steps that wait for one another. Beta: the busiest link's bytes ({@code busiestBytes}, over
     * the whole phase) at its bandwidth ({@code busiestBytesPerS}) and the protocol's payload fraction. On a uniform,
     * uncontended fabric this is exactly today's {@code base + hops x hop + egress / (bandwidth x payload)}: the
     * busiest link is a device's own, carrying its egress; where groups share a link (a PCIe uplink, a NIC), the
     * shared link's load binds instead.
     *
     * <p>The messages also pass through the devices' memories ({@link FabricCollectives}): a message has arrived
     * when both its link step and its memory accesses are done. {@code memoryBytes} is what the busiest device's
     * memory serves (reads and writes together), per step for a ring or direct phase (whose steps follow one
     * another), over the whole phase for the pipelined patterns (a chain, a tree, the switch);
     * {@code memoryBytesPerS} the slowest memory among the phase's devices (its first tier's bandwidth, where a
     * lone collective's activations lie, as the memory system's channels share it). A chain or tree also passes
     * each of its {@code slices} (the largest {@code sliceBytes}) along its links one after another:
     * {@code chainSecondsPerByte} sums the inverse bandwidths of the links a slice crosses (0 for the other
     * patterns), {@code slowestLinkBytesPerS} is the slowest of them.
     */
    public record Phase(Pattern pattern, Part part, List<List<Integer>> groups, long tensorBytes, int hops,
                        long egressBytes, long chainLatencyPs, long busiestBytes, double busiestBytesPerS,
                        String busiestLink, List<Long> memoryBytes, double memoryBytesPerS, int slices,
                        long sliceBytes, double chainSecondsPerByte, double slowestLinkBytesPerS) {
        /**
         * The phase's closed form. Link: alpha plus beta (above). Memory: per step, the longer of the step's link
         * time (its share of alpha and beta) and its memory time; for the pipelined patterns the longer of the
         * whole phase's. A chain or tree's beta is at least its pipeline's: a slice crosses every link of the
         * chain, and the slowest link carries the other {@code slices - 1} too. Where no
         * memory binds and no chain is longer than its busiest link's load, this is the alpha-beta form exactly.
         */
        public double closedFormS(CollectiveCost cost) {
            double alpha = hops * cost.hopLatencyNs() * 1e-9 + chainLatencyPs * 1e-12;
            double beta = busiestBytes / (busiestBytesPerS * cost.payloadFraction());
            if (chainSecondsPerByte > 0) {
                double wire = Math.ceil(sliceBytes / cost.payloadFraction());
                beta = Math.max(beta, wire * (chainSecondsPerByte + (slices - 1) / slowestLinkBytesPerS));
            }
            double link = alpha + beta;
            if (pattern == Pattern.RING || pattern == Pattern.DIRECT) {
                double stepLink = link / hops;
                double memoryBound = 0;
                for (long bytes : memoryBytes) {
                    memoryBound += Math.max(0, bytes / memoryBytesPerS - stepLink);
                }
                return link + memoryBound;
            }
            return link + Math.max(0, memoryBytes.get(0) / memoryBytesPerS - link);
        }
    }

    public static FabricPlan choose(FabricGraph graph, FabricOp op, long tensorBytes, FabricAlgorithm wanted) {
        return choose(graph, op, tensorBytes, wanted, graph.spec().ringOrder());
    }

    /**
     * The plan of a collective among {@code group}, a subset of the system's devices (a tensor-parallel group of a
     * larger system): its ring visits them in the system's ring order; a hierarchical plan needs every device.
     */
    public static FabricPlan choose(FabricGraph graph, FabricOp op, long tensorBytes, FabricAlgorithm wanted,
                                    List<Integer> group) {
        List<Integer> ring = graph.spec().ringOrder().stream().filter(group::contains).toList();
        if (ring.size() != group.size() || ring.size() < 2) {
            throw new IllegalArgumentException("a collective group is 2 or more distinct devices of the system, got "
                + group);
        }
        if (tensorBytes < 1) {
            throw new InputException("--bytes: expected a size of at least 1 byte, got " + tensorBytes);
        }
        HardwareSpec.DeviceLink library = graph.spec().library();
        List<FabricAlgorithm> algorithms = wanted == FabricAlgorithm.AUTO
            ? List.of(FabricAlgorithm.RING, FabricAlgorithm.TREE, FabricAlgorithm.DIRECT, FabricAlgorithm.IN_SWITCH,
                FabricAlgorithm.HIERARCHICAL)
            : List.of(wanted);
        FabricPlan best = null;
        String why = null;
        for (FabricAlgorithm a : algorithms) {
            why = refusal(graph, op, a, wanted == FabricAlgorithm.AUTO);
            if (why == null && a == FabricAlgorithm.HIERARCHICAL && ring.size() < graph.devices()) {
                why = "a hierarchical collective spans every device";
            }
            if (why != null) {
                continue;
            }
            List<Phase> phases = phases(graph, op, tensorBytes, a, ring);
            boolean anyRow = false;
            for (CollectiveCost row : library.collectiveCosts()) {
                if (!rowFits(library, a, row)) {
                    continue;
                }
                anyRow = true;
                double t = row.baseLatencyNs() * 1e-9;
                for (Phase p : phases) {
                    t += p.closedFormS(row);
                }
                if (best == null || t < best.predictedS) {
                    best = new FabricPlan(op, tensorBytes, a, row, phases, t);
                }
            }
            if (!anyRow) {
                why = "the devices' collective_costs have no "
                    + rowAlgorithm(library, a).name().toLowerCase(Locale.ROOT) + " row";
            }
        }
        if (best == null) {
            throw new InputException("--algorithm: " + key(wanted) + " cannot run " + op.key() + " on "
                + graph.spec().name() + ": " + why);
        }
        return best;
    }

    static String key(FabricAlgorithm a) {
        return a.name().toLowerCase(Locale.ROOT);
    }

    /** Why the algorithm cannot run the op on this fabric, or null if it can. */
    static String refusal(FabricGraph graph, FabricOp op, FabricAlgorithm a, boolean auto) {
        boolean flat = graph.spec().dimensions().isEmpty();
        return switch (a) {
            case RING -> op == FabricOp.ALL_TO_ALL ? "all_to_all runs direct" : null;
            case TREE -> op == FabricOp.ALL_REDUCE ? null : "a tree runs all_reduce";
            // Auto keeps direct to flat fabrics (one switch or full links), where its closed form holds; asked
            // for, it runs anywhere and contention shows what it costs.
            // Auto takes direct for all_to_all, and for the rest only where the cost table prices it (a direct
            // row) on a flat fabric; asked for, it runs anywhere, priced by the ring rows if need be.
            case DIRECT -> op == FabricOp.BROADCAST ? "broadcast runs down a ring"
                : auto && op != FabricOp.ALL_TO_ALL && (!flat || !hasDirectRows(graph)) ? "not chosen by auto" : null;
            case IN_SWITCH -> graph.reducingSwitch() < 0 ? "no switch that reduces is wired to every device"
                : op == FabricOp.ALL_REDUCE || op == FabricOp.ALL_GATHER || op == FabricOp.REDUCE_SCATTER ? null
                : "the switch reduces and multicasts (all_reduce, all_gather, reduce_scatter)";
            case HIERARCHICAL -> flat ? "the fabric has one level"
                : op == FabricOp.ALL_REDUCE || op == FabricOp.ALL_GATHER || op == FabricOp.REDUCE_SCATTER ? null
                : "levels run all_reduce, all_gather and reduce_scatter";
            case AUTO -> "auto is resolved first";
        };
    }

    private static boolean hasDirectRows(FabricGraph graph) {
        return graph.spec().library().collectiveCosts().stream()
            .anyMatch(r -> r.algorithm() == CollectiveAlgorithm.DIRECT);
    }

    /** The cost-table algorithm whose rows price a fabric algorithm. */
    private static CollectiveAlgorithm rowAlgorithm(HardwareSpec.DeviceLink library, FabricAlgorithm a) {
        return switch (a) {
            case RING, HIERARCHICAL -> CollectiveAlgorithm.RING;
            case TREE -> CollectiveAlgorithm.TREE;
            // NCCL prices point-to-point traffic (all-to-all, send/recv) with no row of its own; a table without
            // direct rows lends its ring rows (an assumption).
            case DIRECT -> library.collectiveCosts().stream().anyMatch(r -> r.algorithm() == CollectiveAlgorithm.DIRECT)
                ? CollectiveAlgorithm.DIRECT : CollectiveAlgorithm.RING;
            case IN_SWITCH -> CollectiveAlgorithm.IN_SWITCH;
            case AUTO -> throw new IllegalStateException("auto is resolved first");
        };
    }

    private static boolean rowFits(HardwareSpec.DeviceLink library, FabricAlgorithm a, CollectiveCost row) {
        return row.algorithm() == rowAlgorithm(library, a);
    }

    private static List<Phase> phases(FabricGraph graph, FabricOp op, long s, FabricAlgorithm a, List<Integer> ring) {
        List<List<Integer>> all = List.of(ring);
        return switch (a) {
            case RING -> List.of(switch (op) {
                case ALL_REDUCE -> ring(graph, Part.ALL_REDUCE, all, s);
                case ALL_GATHER -> ring(graph, Part.ALL_GATHER, all, s);
                case REDUCE_SCATTER -> ring(graph, Part.REDUCE_SCATTER, all, s);
                case BROADCAST -> ring(graph, Part.BROADCAST, all, s);
                case SEND_RECV -> ring(graph, Part.SHIFT, all, s);
                case ALL_TO_ALL -> throw new IllegalStateException("refused above");
            });
            case DIRECT -> List.of(direct(graph, switch (op) {
                case ALL_REDUCE -> Part.ALL_REDUCE;
                case ALL_GATHER -> Part.ALL_GATHER;
                case REDUCE_SCATTER -> Part.REDUCE_SCATTER;
                case ALL_TO_ALL -> Part.ALL_TO_ALL;
                case SEND_RECV -> Part.SHIFT;
                case BROADCAST -> throw new IllegalStateException("refused above");
            }, all, s));
            case IN_SWITCH -> List.of(inSwitch(graph, op, all, s));
            case TREE -> List.of(tree(graph, all, s));
            case HIERARCHICAL -> hierarchical(graph, op, s);
            case AUTO -> throw new IllegalStateException("auto is resolved first");
        };
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    /** Bytes per directed link a phase puts on the fabric. */
    private static final class Load {
        final FabricGraph graph;
        final long[] bytes;

        Load(FabricGraph graph) {
            this.graph = graph;
            this.bytes = new long[graph.links().size()];
        }

        void add(int from, int to, long amount) {
            for (FabricGraph.DirectedLink l : graph.path(from, to)) {
                bytes[l.index()] += amount;
            }
        }

        /** The phase of a pattern whose steps follow one another, with the bytes its memories serve per step. */
        Phase phase(Pattern pattern, Part part, List<List<Integer>> groups, long s, int hops, long egress,
                    long chainPs, List<Long> memoryBytes) {
            return phase(pattern, part, groups, s, hops, egress, chainPs, memoryBytes, List.of());
        }

        /**
         * The phase with its busiest link: the one whose bytes take longest at its bandwidth; {@code chain}: the
         * paths a pipelined chain's slices take one after another (none for the other patterns).
         */
        Phase phase(Pattern pattern, Part part, List<List<Integer>> groups, long s, int hops, long egress,
                    long chainPs, List<Long> memoryBytes, List<List<FabricGraph.DirectedLink>> chain) {
            FabricGraph.DirectedLink busiest = null;
            for (FabricGraph.DirectedLink l : graph.links()) {
                if (busiest == null || bytes[l.index()] / l.parameters().bytesPerSecond()
                    > bytes[busiest.index()] / busiest.parameters().bytesPerSecond()) {
                    busiest = l;
                }
            }
            double memoryBytesPerS = Double.MAX_VALUE;
            for (List<Integer> g : groups) {
                for (int d : g) {
                    memoryBytesPerS = Math.min(memoryBytesPerS,
                        graph.spec().devices().get(d).hardware().memoryBytesPerS());
                }
            }
            long[] slices = FabricCollectives.slices(s, Math.min(FabricCollectives.SLICE_BYTES,
                graph.largestMessageBytes()));
            double chainSecondsPerByte = 0;
            double slowest = Double.MAX_VALUE;
            for (List<FabricGraph.DirectedLink> path : chain) {
                for (FabricGraph.DirectedLink l : path) {
                    chainSecondsPerByte += 1 / l.parameters().bytesPerSecond();
                    slowest = Math.min(slowest, l.parameters().bytesPerSecond());
                }
            }
            return new Phase(pattern, part, groups, s, hops, egress, chainPs, bytes[busiest.index()],
                busiest.parameters().bytesPerSecond(), busiest.name(), List.copyOf(memoryBytes), memoryBytesPerS,
                slices.length, slices[0], chainSecondsPerByte, slowest);
        }
    }

    /**
     * What a device's memory serves in each step of a ring or direct phase whose steps move {@code chunk} bytes
     * per device: it reads what it sends and writes what it receives, and where it reduces (a reduce-scatter's
     * steps, an all-reduce's first half) reads as much again of its own to add (as {@link FabricCollectives}).
     */
    private static List<Long> stepMemory(Part part, int hops, long chunk) {
        int reducing = switch (part) {
            case REDUCE_SCATTER -> hops;
            case ALL_REDUCE -> hops / 2;
            default -> 0;
        };
        List<Long> out = new ArrayList<>();
        for (int k = 0; k < hops; k++) {
            out.add((k < reducing ? 3 : 2) * chunk);
        }
        return out;
    }

    private static Phase ring(FabricGraph graph, Part part, List<List<Integer>> groups, long s) {
        int d = groups.get(0).size();
        long share = ceilDiv(s * (d - 1), d);
        int hops = switch (part) {
            case ALL_REDUCE -> 2 * (d - 1);
            case SHIFT -> 1;
            default -> d - 1;
        };
        long egress = switch (part) {
            case ALL_REDUCE -> 2 * share;
            case BROADCAST, SHIFT -> s;
            default -> share;
        };
        Load load = new Load(graph);
        long chain = 0;
        if (part == Part.BROADCAST) {
            // Down the chain from the first device: every wire carries the tensor once, and the alpha is the
            // latency of the whole chain.
            List<List<FabricGraph.DirectedLink>> paths = new ArrayList<>();
            for (List<Integer> g : groups) {
                long sum = 0;
                for (int i = 0; i + 1 < d; i++) {
                    load.add(g.get(i), g.get(i + 1), s);
                    sum += graph.latencyPs(g.get(i), g.get(i + 1));
                }
                chain = Math.max(chain, sum);
            }
            List<Integer> first = groups.get(0);
            for (int i = 0; i + 1 < d; i++) {
                paths.add(graph.path(first.get(i), first.get(i + 1)));
            }
            // A middle device writes the tensor it receives and reads it again to pass it on.
            return load.phase(Pattern.CHAIN, part, groups, s, hops, egress, chain, List.of(d > 2 ? 2 * s : s),
                paths);
        }
        for (List<Integer> g : groups) {
            long[] latency = new long[d];
            for (int i = 0; i < d; i++) {
                load.add(g.get(i), g.get((i + 1) % d), egress);
                latency[i] = graph.latencyPs(g.get(i), g.get((i + 1) % d));
            }
            // Step k at a device waits for step k-1 at the one before it: the chain ending at each device runs
            // back over the previous `hops` wires of the ring.
            for (int end = 0; end < d; end++) {
                long sum = 0;
                for (int i = 1; i <= hops; i++) {
                    sum += latency[Math.floorMod(end - i, d)];
                }
                chain = Math.max(chain, sum);
            }
        }
        return load.phase(Pattern.RING, part, groups, s, hops, egress, chain, stepMemory(part, hops, egress / hops));
    }

    /**
     * NCCL's tree inside a node is a chain through the devices (its binary trees join nodes): reduce down the chain
     * to the first device, then broadcast back up it, slice by slice. Every wire of the chain carries the tensor
     * each way, so a middle device sends 2 S, where NCCL's own cost model charges the ring's 2 S (p-1)/p: the
     * busiest link's real load is what the closed form here charges.
     */
    private static Phase tree(FabricGraph graph, List<List<Integer>> groups, long s) {
        List<Integer> g = groups.get(0);
        int d = g.size();
        Load load = new Load(graph);
        long chain = 0;
        List<List<FabricGraph.DirectedLink>> paths = new ArrayList<>();
        for (int i = 0; i + 1 < d; i++) {
            load.add(g.get(i + 1), g.get(i), s);
            load.add(g.get(i), g.get(i + 1), s);
            chain += graph.latencyPs(g.get(i + 1), g.get(i)) + graph.latencyPs(g.get(i), g.get(i + 1));
            paths.add(graph.path(g.get(i + 1), g.get(i)));
            paths.add(graph.path(g.get(i), g.get(i + 1)));
        }
        // The busiest device's memory serves 5 S (a middle one: the way down written, read to reduce and read to
        // pass on; the way up written and read) or 3 S (the first of two). And the leaf sends the whole tensor at
        // once, so a device's memory (first come, first served) takes in all it receives before it reads what it
        // passes on: the way down runs through the memories one device after another, a pass of S each.
        long memory = Math.max(d > 2 ? 5 * s : 3 * s, d * s);
        return load.phase(Pattern.TREE, Part.ALL_REDUCE, groups, s, 2 * (d - 1), d > 2 ? 2 * s : s, chain,
            List.of(memory), paths);
    }

    private static Phase direct(FabricGraph graph, Part part, List<List<Integer>> groups, long s) {
        if (part == Part.SHIFT) {
            return ring(graph, part, groups, s);
        }
        int d = groups.get(0).size();
        int steps = part == Part.ALL_REDUCE ? 2 : 1;
        long egress = steps * ceilDiv(s * (d - 1), d);
        Load load = new Load(graph);
        long slowest = 0;
        for (List<Integer> g : groups) {
            for (int from : g) {
                for (int to : g) {
                    if (from != to) {
                        load.add(from, to, ceilDiv(egress, d - 1));
                        slowest = Math.max(slowest, graph.latencyPs(from, to));
                    }
                }
            }
        }
        // A step waits for every peer's part, so each step costs the slowest path's latency.
        return load.phase(Pattern.DIRECT, part, groups, s, steps, egress, steps * slowest,
            stepMemory(part, steps, egress / steps));
    }

    private static Phase inSwitch(FabricGraph graph, FabricOp op, List<List<Integer>> groups, long s) {
        int sw = graph.reducingSwitch();
        List<Integer> g = groups.get(0);
        int d = g.size();
        Part part = op == FabricOp.ALL_REDUCE ? Part.ALL_REDUCE
            : op == FabricOp.ALL_GATHER ? Part.ALL_GATHER : Part.REDUCE_SCATTER;
        CollectiveAlgorithm same = CollectiveAlgorithm.IN_SWITCH;
        long egress = same.egressBytes(op.collective(), s, d);
        Load load = new Load(graph);
        long roundTrip = 0;
        for (int device : g) {
            long share = ceilDiv(s, d);
            long down = switch (part) {
                case ALL_REDUCE -> s;
                case ALL_GATHER -> s - share;
                default -> share;
            };
            load.add(device, sw, egress);
            load.add(sw, device, down);
            roundTrip = Math.max(roundTrip, graph.latencyPs(device, sw) + graph.latencyPs(sw, device));
        }
        int hops = same.hops(op.collective(), d);
        // The switch reduces: a device reads what it sends up and writes what comes down, no more.
        long down = switch (part) {
            case ALL_REDUCE -> s;
            case ALL_GATHER -> s - ceilDiv(s, d);
            default -> ceilDiv(s, d);
        };
        return load.phase(Pattern.SWITCH, part, groups, s, hops, egress, hops * roundTrip, List.of(egress + down),
            List.of());
    }

    /** The groups of one level: devices that differ only in their coordinate on that level, in its order. */
    static List<List<Integer>> groups(List<Integer> dims, int level) {
        int total = dims.stream().reduce(1, (a, b) -> a * b);
        int stride = 1;
        for (int k = 0; k < level; k++) {
            stride *= dims.get(k);
        }
        List<List<Integer>> out = new ArrayList<>();
        for (int base = 0; base < total; base++) {
            if ((base / stride) % dims.get(level) != 0) {
                continue;
            }
            List<Integer> g = new ArrayList<>();
            for (int c = 0; c < dims.get(level); c++) {
                g.add(base + c * stride);
            }
            out.add(List.copyOf(g));
        }
        return out;
    }

    /**
     * Reduce-scatter level by level from the innermost (each level's tensor is the last one's share), then
     * all-gather back out: per level a ring whose closed form is the ring's on that level's links.
     */
    private static List<Phase> hierarchical(FabricGraph graph, FabricOp op, long s) {
        List<Integer> dims = graph.spec().dimensions();
        List<Long> sizes = new ArrayList<>();
        long size = s;
        for (int dim : dims) {
            sizes.add(size);
            size = ceilDiv(size, dim);
        }
        List<Phase> out = new ArrayList<>();
        if (op != FabricOp.ALL_GATHER) {
            for (int k = 0; k < dims.size(); k++) {
                out.add(ring(graph, Part.REDUCE_SCATTER, groups(dims, k), sizes.get(k)));
            }
        }
        if (op != FabricOp.REDUCE_SCATTER) {
            for (int k = dims.size() - 1; k >= 0; k--) {
                out.add(ring(graph, Part.ALL_GATHER, groups(dims, k), sizes.get(k)));
            }
        }
        return List.copyOf(out);
    }

    public String describe() {
        return String.format(Locale.ROOT, "%s of %d B: %s with %s/%s, %d phase(s), predicted %.4g us", op.key(),
            tensorBytes, key(algorithm), cost.algorithm().name().toLowerCase(Locale.ROOT), cost.protocol(),
            phases.size(), predictedS * 1e6);
    }
}

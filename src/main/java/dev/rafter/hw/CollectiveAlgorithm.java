package dev.rafter.hw;

/**
 * How a collective moves data between the devices of a group of p, as (payload bytes each device sends, hops on
 * the critical path) for a tensor of S bytes ({@link Collective} says which S):
 * <ul>
 *   <li>{@code ring}: around a ring. All-reduce: reduce-scatter then all-gather, 2 (p-1) hops of S/p; all-gather
 *       and reduce-scatter: p-1 hops of S/p; all-to-all on a ring: the share for the peer d hops away crosses d
 *       links, S (p-1)/2 in all, over p-1 hops;</li>
 *   <li>{@code tree} (all-reduce only, as in NCCL): inside one node NCCL's tree is a chain through the GPUs (the
 *       binary trees join nodes): 2 (p-1) hops and, in NCCL's model, the ring's bus bytes; it differs from the
 *       ring by its cost row (tuning.cc);</li>
 *   <li>{@code direct}: every device sends each peer its share at once (fully connected links or a switch):
 *       all-reduce 2 steps of (p-1)/p S; the others one step of (p-1)/p S;</li>
 *   <li>{@code in_switch}: the switch reduces or multicasts (NVLink SHARP / NVLS): all-reduce S (1 + 1/p) in 2 hops
 *       (the switch reads each device's tensor once, then multicasts its 1/p share of the result back);
 *       all-gather S/p in 1 (multicast); reduce-scatter S in 1 (the switch reads every byte once);</li>
 *   <li>{@code auto}: the one the cost table predicts fastest, as NCCL's tuner picks.</li>
 * </ul>
 */
public enum CollectiveAlgorithm {
    AUTO, RING, TREE, DIRECT, IN_SWITCH;

    /** Hops on the critical path of {@code c} over {@code p} devices. */
    public int hops(Collective c, int p) {
        boolean allReduce = c == Collective.ALL_REDUCE;
        return switch (this) {
            case RING, TREE -> (allReduce ? 2 : 1) * (p - 1);
            case DIRECT, IN_SWITCH -> allReduce ? 2 : 1;
            case AUTO -> throw new IllegalStateException("auto is resolved before use");
        };
    }

    /** Payload bytes each device sends for {@code c} of {@code tensorBytes} over {@code p} devices. */
    public long egressBytes(Collective c, long tensorBytes, int p) {
        if (this == AUTO) {
            throw new IllegalStateException("auto is resolved before use");
        }
        long share = Collective.ceilDiv(tensorBytes * (p - 1), p);
        return switch (c) {
            case ALL_REDUCE -> this == IN_SWITCH ? tensorBytes + Collective.ceilDiv(tensorBytes, p) : 2 * share;
            case ALL_GATHER -> this == IN_SWITCH ? Collective.ceilDiv(tensorBytes, p) : share;
            case REDUCE_SCATTER -> this == IN_SWITCH ? tensorBytes : share;
            case ALL_TO_ALL -> this == RING ? Collective.ceilDiv(tensorBytes * (p - 1), 2) : share;
        };
    }

    /** Whether the links can run {@code c} with this algorithm. */
    public boolean runsOn(Collective c, HardwareSpec.Topology topology, boolean inSwitchReduction) {
        return switch (this) {
            case RING -> true;
            case TREE -> c == Collective.ALL_REDUCE;
            case DIRECT -> topology != HardwareSpec.Topology.RING;
            case IN_SWITCH -> topology == HardwareSpec.Topology.SWITCH && inSwitchReduction
                && c != Collective.ALL_TO_ALL;
            case AUTO -> false;
        };
    }
}

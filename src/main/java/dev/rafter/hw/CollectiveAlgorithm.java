package dev.rafter.hw;

/**
 * How an all-reduce moves data between the devices of a group of p, as (total bytes each device sends, hops on the
 * critical path) for a tensor of S bytes:
 * <ul>
 *   <li>{@code ring}: reduce-scatter then all-gather around a ring, 2 (p-1) steps of S/p (NCCL ring);</li>
 *   <li>{@code tree}: NCCL's tree inside one node is a chain through the GPUs (the binary trees join nodes):
 *       reduce down the chain and broadcast back, 2 (p-1) hops, and in NCCL's model the ring's bus bytes,
 *       2 (p-1)/p S; it differs from the ring by its cost row (tuning.cc);</li>
 *   <li>{@code direct}: every device sends each peer its share at once (fully connected links): 2 steps of
 *       (p-1)/p S;</li>
 *   <li>{@code in_switch}: the switch reduces (NVLink SHARP / NVLS): each device's tensor is read once by the
 *       switch and its 1/p share of the result multicast back, S (1 + 1/p), 2 hops;</li>
 *   <li>{@code auto}: the one the cost table predicts fastest, as NCCL's tuner picks.</li>
 * </ul>
 */
public enum CollectiveAlgorithm {
    AUTO, RING, TREE, DIRECT, IN_SWITCH;

    /** Hops on the critical path of an all-reduce over {@code p} devices. */
    public int hops(int p) {
        return switch (this) {
            case RING, TREE -> 2 * (p - 1);
            case DIRECT, IN_SWITCH -> 2;
            case AUTO -> throw new IllegalStateException("auto is resolved before use");
        };
    }

    /** Payload bytes each device sends for an all-reduce of {@code tensorBytes} over {@code p} devices. */
    public long egressBytes(long tensorBytes, int p) {
        return switch (this) {
            case RING, TREE, DIRECT -> ceilDiv(2 * tensorBytes * (p - 1), p);
            case IN_SWITCH -> tensorBytes + ceilDiv(tensorBytes, p);
            case AUTO -> throw new IllegalStateException("auto is resolved before use");
        };
    }

    /** Whether the links can run this algorithm. */
    public boolean runsOn(HardwareSpec.Topology topology, boolean inSwitchReduction) {
        return switch (this) {
            case RING, TREE -> true;
            case DIRECT -> topology != HardwareSpec.Topology.RING;
            case IN_SWITCH -> topology == HardwareSpec.Topology.SWITCH && inSwitchReduction;
            case AUTO -> false;
        };
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}

package dev.rafter.hw;

/**
 * The collectives a device group runs, with the bytes each device reads from and writes to its memory for a
 * tensor of S bytes per device (S: what an all-reduce or all-to-all holds on each device, an all-gather's output,
 * a reduce-scatter's input — nccl-tests' "size"). Over p devices:
 * <ul>
 *   <li>{@code all_reduce}: reads S, writes the reduced S;</li>
 *   <li>{@code all_gather}: reads its own S/p, writes the gathered S;</li>
 *   <li>{@code reduce_scatter}: reads S, writes its reduced S/p;</li>
 *   <li>{@code all_to_all}: reads S, writes the S it received (S/p from each peer).</li>
 * </ul>
 */
public enum Collective {
    ALL_REDUCE, ALL_GATHER, REDUCE_SCATTER, ALL_TO_ALL;

    public long readBytes(long tensorBytes, int devices) {
        return this == ALL_GATHER ? ceilDiv(tensorBytes, devices) : tensorBytes;
    }

    public long writeBytes(long tensorBytes, int devices) {
        return this == REDUCE_SCATTER ? ceilDiv(tensorBytes, devices) : tensorBytes;
    }

    public String key() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}

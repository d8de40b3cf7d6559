package dev.rafter.sim.fabric;

import dev.rafter.hw.Collective;
import java.util.Locale;

/**
 * The operations a fabric runs, with nccl-tests' meaning of the size S: what an all-reduce, all-to-all or
 * broadcast holds on each device, an all-gather's output, a reduce-scatter's input, what send/recv moves from each
 * device to the next.
 */
public enum FabricOp {
    ALL_REDUCE, ALL_GATHER, REDUCE_SCATTER, ALL_TO_ALL, BROADCAST, SEND_RECV;

    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The collective of the single-device cost model, where there is one. */
    Collective collective() {
        return switch (this) {
            case ALL_REDUCE -> Collective.ALL_REDUCE;
            case ALL_GATHER -> Collective.ALL_GATHER;
            case REDUCE_SCATTER -> Collective.REDUCE_SCATTER;
            case ALL_TO_ALL -> Collective.ALL_TO_ALL;
            case BROADCAST, SEND_RECV -> null;
        };
    }

    /**
     * nccl-tests' bus-bandwidth factor: algorithm bandwidth (S / time) times this is what each device's links
     * carry, comparable across device counts (nccl-tests doc/PERFORMANCE.md).
     */
    public double busFactor(int devices) {
        double p = devices;
        return switch (this) {
            case ALL_REDUCE -> 2 * (p - 1) / p;
            case ALL_GATHER, REDUCE_SCATTER, ALL_TO_ALL -> (p - 1) / p;
            case BROADCAST, SEND_RECV -> 1;
        };
    }
}

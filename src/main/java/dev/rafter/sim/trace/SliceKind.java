package dev.rafter.sim.trace;

/** What a traced interval is. Stall kinds say why a PE array was not computing. */
public enum SliceKind {
    COMPUTE("compute"),
    STALL_MEMORY("wait: memory"),
    STALL_INTERCONNECT("wait: interconnect"),
    STALL_BUFFER_FULL("wait: buffer full"),
    STALL_DEPENDENCY("wait: dependency"),
    /** The device between kernels: launch gap, kernel start and drain (hardware data: {@code dispatch}). */
    STALL_DISPATCH("wait: dispatch"),
    IDLE("idle"),
    LOAD("load"),
    STORE("store"),
    HBM_READ("hbm read"),
    HBM_WRITE("hbm write"),
    TRANSFER("transfer"),
    /** A memory channel blocked by DRAM refresh. */
    DRAM_REFRESH("dram refresh"),
    /** The host's CPU issuing a kernel: framework work and the launch. */
    HOST_ISSUE("host: issue"),
    /** The host's CPU waiting in a synchronisation: the device's drain and the round trip. */
    HOST_SYNC("host: sync"),
    /** The device idle because the host has not launched its next kernel yet. */
    LAUNCH_WAIT("wait: launch"),
    /** A flash page sensed from its plane's array into the plane's register (counted: amount 1 page). */
    FLASH_PAGE_READ("flash page read"),
    /** A flash page found in the read buffer in front of the flash: no array read (counted: amount 1 page). */
    FLASH_BUFFER_HIT("read buffer hit"),
    /** A flash page programmed (counted: amount 1 page; its erase share is in the plane time). */
    FLASH_PROGRAM("flash program"),
    /**
     * Counted, not an interval ({@link TraceSink#count}), like the flash page events: MACs a PE array clocks on a tile's padding (the tile
     * padded to a library shape occupies the array, but its padding computes nothing anyone reads).
     */
    PADDED_MACS("padded macs"),
    /** Counted, not an interval: special-function evaluations (exp, rsqrt...) on a vector unit's SFUs. */
    SPECIAL_FUNCTIONS("special functions"),
    /** Counted, not an interval: bytes a near-memory unit read from its channel's arrays (never off the die). */
    NEAR_MEMORY_READ("near-memory read"),
    /** Counted, not an interval: vector FLOPs (softmax, scaling) of a near-memory unit's operator. */
    NEAR_MEMORY_VECTOR("near-memory vector");

    private final String label;

    SliceKind(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    /** Whether this kind is a count that shares another slice's interval (never in the trace files). */
    public boolean isCount() {
        return this == PADDED_MACS || this == SPECIAL_FUNCTIONS || this == FLASH_PAGE_READ || this == FLASH_BUFFER_HIT
            || this == FLASH_PROGRAM || this == NEAR_MEMORY_READ || this == NEAR_MEMORY_VECTOR;
    }

    /** The kinds that are intervals: what a statistic of "all slices" counts. */
    public static java.util.EnumSet<SliceKind> intervals() {
        java.util.EnumSet<SliceKind> out = java.util.EnumSet.allOf(SliceKind.class);
        out.removeIf(SliceKind::isCount);
        return out;
    }

    public boolean isStall() {
        return this == STALL_MEMORY || this == STALL_INTERCONNECT || this == STALL_BUFFER_FULL
            || this == STALL_DEPENDENCY || this == STALL_DISPATCH || this == IDLE;
    }
}

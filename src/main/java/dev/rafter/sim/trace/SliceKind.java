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
    /** A flash page sensed from its plane's array into the plane's register (an instant: amount 1 page). */
    FLASH_PAGE_READ("flash page read"),
    /** A flash page found in the read buffer in front of the flash: no array read (an instant: amount 1 page). */
    FLASH_BUFFER_HIT("read buffer hit"),
    /** A flash page programmed (an instant: amount 1 page; its erase share is in the plane time). */
    FLASH_PROGRAM("flash program");

    private final String label;

    SliceKind(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    public boolean isStall() {
        return this == STALL_MEMORY || this == STALL_INTERCONNECT || this == STALL_BUFFER_FULL
            || this == STALL_DEPENDENCY || this == STALL_DISPATCH || this == IDLE;
    }
}

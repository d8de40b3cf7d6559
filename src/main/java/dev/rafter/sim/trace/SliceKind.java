package dev.rafter.sim.trace;

/** What a traced interval is. Stall kinds say why a PE array was not computing. */
public enum SliceKind {
    COMPUTE("compute"),
    STALL_MEMORY("wait: memory"),
    STALL_INTERCONNECT("wait: interconnect"),
    STALL_BUFFER_FULL("wait: buffer full"),
    STALL_DEPENDENCY("wait: dependency"),
    IDLE("idle"),
    LOAD("load"),
    STORE("store"),
    HBM_READ("hbm read"),
    HBM_WRITE("hbm write"),
    TRANSFER("transfer");

    private final String label;

    SliceKind(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    public boolean isStall() {
        return this == STALL_MEMORY || this == STALL_INTERCONNECT || this == STALL_BUFFER_FULL
            || this == STALL_DEPENDENCY || this == IDLE;
    }
}

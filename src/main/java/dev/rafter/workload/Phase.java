package dev.rafter.workload;

/** Inference phases: prefill processes the prompt; decode generates one token per sequence per step. */
public enum Phase {
    PREFILL, DECODE;

    public String key() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}

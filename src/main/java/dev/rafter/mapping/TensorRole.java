package dev.rafter.mapping;

/**
 * What a tensor in memory is, which decides the tier it is placed on ({@link TensorPlacement}): the model's
 * weights, the attention's KV cache, the activations that flow from one operator to the next, or scratch (data
 * an operator writes only to read it back itself, e.g. an unfused attention's scores or split-K partial sums).
 */
public enum TensorRole {
    WEIGHTS("weights"), KV_CACHE("kv_cache"), ACTIVATIONS("activations"), SCRATCH("scratch");

    private final String key;

    TensorRole(String key) {
        this.key = key;
    }

    /** The name in files and reports. */
    public String key() {
        return key;
    }
}

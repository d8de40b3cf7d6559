package dev.rafter.serving;

/**
 * One request: when it arrives (picoseconds from the start), its prompt and output lengths in tokens, its priority
 * (lower runs first under the {@code priority} policy; 0 by default), where it came from (a file and line, or the
 * generator's options), for messages, and the prompt's shared prefix: requests with the same {@code prefixId} begin
 * with the same tokens, {@code prefixTokens} of them in this one (null and 0: no shared prefix).
 */
public record Request(long id, long arrivalPs, int promptTokens, int outputTokens, int priority, String source,
                      String prefixId, int prefixTokens) {
    public Request {
        if (prefixTokens < 0 || prefixTokens > promptTokens || (prefixId == null) != (prefixTokens == 0)) {
            throw new IllegalArgumentException("a prefix needs an id and 1 to prompt tokens, got " + prefixId + ", "
                + prefixTokens);
        }
    }

    /** A request without a shared prefix. */
    public Request(long id, long arrivalPs, int promptTokens, int outputTokens, int priority, String source) {
        this(id, arrivalPs, promptTokens, outputTokens, priority, source, null, 0);
    }

    /** This request's lengths, priority and prefix as request {@code id} arriving at {@code arrivalPs}. */
    public Request sentAs(long id, long arrivalPs) {
        return new Request(id, arrivalPs, promptTokens, outputTokens, priority, source, prefixId, prefixTokens);
    }
}

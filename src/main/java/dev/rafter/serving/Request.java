package dev.rafter.serving;

/**
 * One request: when it arrives (picoseconds from the start), its prompt and output lengths in tokens, its priority
 * (lower runs first under the {@code priority} policy; 0 by default) and where it came from (a file and line, or
 * the generator's options), for messages.
 */
public record Request(long id, long arrivalPs, int promptTokens, int outputTokens, int priority, String source) {}

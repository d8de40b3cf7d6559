package dev.rafter.sim.component;

/**
 * One memory channel as the controller ({@link Hbm}) sees it. Implementations are chosen by {@code memory.model}
 * in {@link MemoryModels}: {@link HbmChannel} ({@code simple}) and {@link BankedChannel} ({@code banked}).
 */
public interface MemoryChannel {
    /**
     * Moves {@code bytes} at the channel-local {@code address} (contiguous within the channel); {@code done} runs
     * once the data has crossed the channel and the fixed path latency has passed. Every {@code done} runs before
     * the event list drains.
     */
    void access(long opId, long address, long bytes, boolean write, Runnable done);

    /** Bytes moved so far (for the conservation checks). */
    long bytesMoved();
}

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

    /** What {@link #serve} returns when the channel will run {@code done} itself, later. */
    long DEFERRED = -1;

    /**
     * As {@link #access}, but without an event where the completion time is known at once (a read planned on
     * arrival): then it returns that time and leaves {@code done} to the caller, who may wait for several channels
     * with one event. Returns {@link #DEFERRED} when the channel runs {@code done} itself (a posted write).
     */
    long serve(long opId, long address, long bytes, boolean write, Runnable done);

    /**
     * Called at every kernel boundary, when no request is in flight: brings the channel to the state a kernel
     * finds (see the implementations). A model whose kernels are independent of their start time has nothing
     * to do.
     */
    default void settle() {}

    /** Bytes moved so far (for the conservation checks). */
    long bytesMoved();
}

package dev.rafter.sim.component;

/**
 * One memory channel as the controller ({@link MemoryController}) sees it. Implementations are chosen by {@code memory.model}
 * in {@link MemoryModels}: {@link SimpleChannel} ({@code simple}) and {@link BankedChannel} ({@code banked}).
 */
public interface MemoryChannel {
    /**
     * Moves {@code bytes} at the channel-local {@code address} (contiguous within the channel); {@code done} runs
     * once the data has crossed the channel and the fixed path latency has passed. Every {@code done} runs before
     * the event list drains.
     */
    void access(long opId, long address, long bytes, boolean write, Runnable done);

    /** What {@link #serve} returns when the completion time is not known yet: the channel tells it later. */
    long DEFERRED = -1;

    /** Told the time a request completes, as soon as the channel has planned it (that time or earlier). */
    @FunctionalInterface
    interface Completion {
        void at(long timePs);
    }

    /**
     * As {@link #access}, but without any event of the channel's: returns the completion time where it is known at
     * once (a read planned on arrival), or {@link #DEFERRED} and tells {@code done} the time once it has planned the
     * request (a posted write, when its batch is drained). The caller runs what waits on it, e.g. one event for the
     * parts of a transfer on several channels.
     */
    long serve(long opId, long address, long bytes, boolean write, Completion done);

    /**
     * Called at every kernel boundary, when no request is in flight: brings the channel to the state a kernel
     * finds (see the implementations). A model whose kernels are independent of their start time has nothing
     * to do.
     */
    default void settle() {}

    /** Bytes moved so far (for the conservation checks). */
    long bytesMoved();
}

package dev.rafter.sim.trace;

/**
 * Receives every interval the components report. Statistics, events.csv and trace.json are all fed from this one
 * stream, so figures never disagree with traces. {@code amount} is bytes for transfers and MACs for compute.
 */
public interface TraceSink {
    void slice(Track track, SliceKind kind, long opId, long startPs, long endPs, long amount);

    /**
     * Work that occupied {@code track} during one of its slices but is not an interval of its own ({@code kind}
     * {@link SliceKind#isCount}): padded MACs, special functions, flash pages read, hit and programmed. Statistics count it (for energy); the trace
     * files ignore it, so their rows stay one per interval.
     */
    default void count(Track track, SliceKind kind, long opId, long amount) {}

    /**
     * An operator ran from {@code startPs} to {@code endPs}: timelines show it as a labelled span above the
     * component tracks. Statistics ignore it (they come from the slices).
     */
    default void operator(dev.rafter.workload.Operator op, long startPs, long endPs) {}

    /**
     * Whether the slices of operator {@code opId} are wanted at all (a sink tracing a window of operators wants
     * only those): the simulation may then reuse an operator without having its slices to re-emit.
     */
    default boolean wants(long opId) {
        return true;
    }

    /** Flushes and closes; called once after the run. */
    default void close() {}
}

package dev.rafter.sim.trace;

/**
 * Receives every interval the components report. Statistics, events.csv and trace.json are all fed from this one
 * stream, so figures never disagree with traces. {@code amount} is bytes for transfers and MACs for compute.
 */
public interface TraceSink {
    void slice(Track track, SliceKind kind, long opId, long startPs, long endPs, long amount);

    /**
     * An operator ran from {@code startPs} to {@code endPs}: timelines show it as a labelled span above the
     * component tracks. Statistics ignore it (they come from the slices).
     */
    default void operator(dev.rafter.workload.Operator op, long startPs, long endPs) {}

    /** Flushes and closes; called once after the run. */
    default void close() {}
}

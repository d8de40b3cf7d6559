package dev.rafter.sim.trace;

/**
 * Receives every interval the components report. Statistics, events.csv and trace.json are all fed from this one
 * stream, so figures never disagree with traces. {@code amount} is bytes for transfers and MACs for compute.
 */
public interface TraceSink {
    void slice(Track track, SliceKind kind, long opId, long startPs, long endPs, long amount);

    /** Flushes and closes; called once after the run. */
    default void close() {}
}

package dev.rafter.sim.message;

/**
 * What components send each other: one record per kind of traffic, named for what it carries. The kind decides
 * the direction and how the trace labels it, so no component passes flags or tags.
 */
public sealed interface Message permits MemoryAccess, CoreTransfer, LinkTransfer {
    /** The operator this traffic belongs to (for the trace). */
    long opId();

    long bytes();
}

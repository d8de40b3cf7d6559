package dev.rafter.sim.message;

/** A transfer between the global buffer and one core over the interconnect. */
public sealed interface CoreTransfer extends Message {
    int core();

    /** Operands of one chunk, global buffer to local buffer. */
    record TileLoad(long opId, int core, long bytes) implements CoreTransfer {}

    /** A result, local buffer to global buffer (on its way to memory). */
    record ResultStore(long opId, int core, long bytes) implements CoreTransfer {}
}

package dev.rafter.sim.message;

/** A request to the HBM controller: a read or a write, by what it carries. */
public sealed interface MemoryAccess extends Message {
    long address();

    /** True for traffic into memory. */
    boolean write();

    /** Traffic out of memory. */
    sealed interface Read extends MemoryAccess {
        @Override
        default boolean write() {
            return false;
        }
    }

    /** Traffic into memory. */
    sealed interface Write extends MemoryAccess {
        @Override
        default boolean write() {
            return true;
        }
    }

    /** A global-buffer stage fetched from memory. */
    record StageFill(long opId, long address, long bytes) implements Read {}

    /** A collective's tensor read for sending over the device links. */
    record CollectiveRead(long opId, long address, long bytes) implements Read {}

    /** A core's result written back to memory. */
    record ResultWrite(long opId, long address, long bytes) implements Write {}

    /** A collective's reduced tensor written back. */
    record CollectiveWrite(long opId, long address, long bytes) implements Write {}
}

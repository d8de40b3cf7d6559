package dev.rafter.sim.message;

/** A request to the HBM controller. */
public sealed interface MemoryAccess extends Message {
    long address();

    /** True for traffic into memory. */
    boolean write();

    /** A global-buffer stage fetched from memory. */
    record StageFill(long opId, long address, long bytes) implements MemoryAccess {
        @Override
        public boolean write() {
            return false;
        }
    }

    /** A core's result written back to memory. */
    record ResultWrite(long opId, long address, long bytes) implements MemoryAccess {
        @Override
        public boolean write() {
            return true;
        }
    }

    /** A collective's tensor read for sending over the device links. */
    record CollectiveRead(long opId, long address, long bytes) implements MemoryAccess {
        @Override
        public boolean write() {
            return false;
        }
    }

    /** A collective's reduced tensor written back. */
    record CollectiveWrite(long opId, long address, long bytes) implements MemoryAccess {
        @Override
        public boolean write() {
            return true;
        }
    }
}

package dev.rafter.sim.message;

import dev.rafter.mapping.Region;
import dev.rafter.mapping.TensorRole;

/**
 * A request to a memory tier's controller: a read or a write, by what it carries, of a tensor of a {@link #role}
 * in a {@link #region} (the tier it goes to); {@link #address} is the address in that tier.
 */
public sealed interface MemoryAccess extends Message {
    TensorRole role();

    Region region();

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
    record StageFill(long opId, TensorRole role, Region region, long address, long bytes) implements Read {}

    /** A collective's tensor read for sending over the device links. */
    record CollectiveRead(long opId, TensorRole role, Region region, long address, long bytes) implements Read {}

    /** A core's result written back to memory. */
    record ResultWrite(long opId, TensorRole role, Region region, long address, long bytes) implements Write {}

    /** A dirty result evicted from a write-back global buffer (a GPU's L2), written to memory. */
    record WriteBack(long opId, TensorRole role, Region region, long address, long bytes) implements Write {}

    /** An offloaded operator's small operand, written by the cores for the near-memory units to read. */
    record NearMemoryOperand(long opId, TensorRole role, Region region, long address, long bytes) implements Write {}

    /** An offloaded operator's result, read back by the cores from the near-memory units' tier. */
    record NearMemoryResult(long opId, TensorRole role, Region region, long address, long bytes) implements Read {}

    /** A collective's reduced tensor written back. */
    record CollectiveWrite(long opId, TensorRole role, Region region, long address, long bytes) implements Write {}
}

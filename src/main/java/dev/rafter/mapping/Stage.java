package dev.rafter.mapping;

/**
 * One global-buffer stage: {@code loadBytes} come from memory before any core may use it; of these,
 * {@code pinnedBytes} stay resident for later stages; when its {@code users} have all released it, it frees its
 * streamed bytes ({@code loadBytes - pinnedBytes}) and {@code unpinBytes} of pinned data whose last use it was.
 *
 * <p>A stage reads parts of up to two tensors: the operand the operator streams, of {@code role} in {@code region}
 * (a GEMM's B: weights; an attention's K and V: the KV cache; a vector operator's input: activations), and
 * {@code otherBytes} of {@code loadBytes} of its other operand, of {@code otherRole} in {@code otherRegion} (a
 * GEMM's or an attention's A: activations). The stage's bytes lie from {@code address} (an offset from the region's
 * base), the streamed part first. The mappers make unplaced stages ({@link #Stage(long, long, long, long, int)},
 * {@link #Stage(long, long, long, long, int, long)}), {@link TensorPlacement} places them.
 *
 * <p>{@code residentBytes} of its activations' bytes (the streamed part's first, if it is of that role) are already
 * in the global buffer, left there by the operators before ({@link L2Residency}): the stage reads only the rest from
 * memory ({@link #memoryStreamedBytes}, {@link #memoryOtherBytes}).
 *
 * <p>As it loads, the stage writes {@code writeBackBytes} of dirty results that its operator's bytes evict from a
 * write-back global buffer to memory ({@link L2Residency#writingBack}).
 */
public record Stage(long address, long loadBytes, long pinnedBytes, long unpinBytes, int users, TensorRole role,
                    Region region, long otherBytes, TensorRole otherRole, Region otherRegion, long residentBytes,
                    long writeBackBytes) {
    public Stage {
        if (writeBackBytes < 0) {
            throw new IllegalArgumentException("write-back bytes " + writeBackBytes + " < 0");
        }
        if (otherBytes < 0 || otherBytes > loadBytes) {
            throw new IllegalArgumentException("other operand's bytes " + otherBytes + " not in 0.." + loadBytes);
        }
        long activations = (role == TensorRole.ACTIVATIONS ? loadBytes - otherBytes : 0)
            + (otherRole == TensorRole.ACTIVATIONS ? otherBytes : 0);
        if (residentBytes < 0 || residentBytes > activations) {
            throw new IllegalArgumentException("resident bytes " + residentBytes + " not in 0.." + activations
                + " (the stage's activations)");
        }
    }

    /** A placed stage that writes nothing back. */
    public Stage(long address, long loadBytes, long pinnedBytes, long unpinBytes, int users, TensorRole role,
                 Region region, long otherBytes, TensorRole otherRole, Region otherRegion, long residentBytes) {
        this(address, loadBytes, pinnedBytes, unpinBytes, users, role, region, otherBytes, otherRole, otherRegion,
            residentBytes, 0);
    }

    /** A placed stage none of whose bytes are in the global buffer before it loads. */
    public Stage(long address, long loadBytes, long pinnedBytes, long unpinBytes, int users, TensorRole role,
                 Region region, long otherBytes, TensorRole otherRole, Region otherRegion) {
        this(address, loadBytes, pinnedBytes, unpinBytes, users, role, region, otherBytes, otherRole, otherRegion, 0);
    }

    /** A stage of one operand before placement: activations on the first tier until placed. */
    public Stage(long address, long loadBytes, long pinnedBytes, long unpinBytes, int users) {
        this(address, loadBytes, pinnedBytes, unpinBytes, users, 0);
    }

    /** A stage before placement, {@code otherBytes} of whose bytes are the other operand's. */
    public Stage(long address, long loadBytes, long pinnedBytes, long unpinBytes, int users, long otherBytes) {
        this(address, loadBytes, pinnedBytes, unpinBytes, users, TensorRole.ACTIVATIONS, Region.FIRST_TIER,
            otherBytes, TensorRole.ACTIVATIONS, Region.FIRST_TIER);
    }

    public long heldBytes() {
        return loadBytes - pinnedBytes;
    }

    /** The bytes of the streamed operand (of {@link #role}). */
    public long streamedBytes() {
        return loadBytes - otherBytes;
    }

    /** Bytes of its activations (either operand's part of that role): what may be resident. */
    public long activationBytes() {
        return (role == TensorRole.ACTIVATIONS ? streamedBytes() : 0)
            + (otherRole == TensorRole.ACTIVATIONS ? otherBytes : 0);
    }

    /** Bytes of the streamed operand read from memory: all but the resident ones. */
    public long memoryStreamedBytes() {
        return streamedBytes() - residentOfStreamed();
    }

    /** Bytes of the other operand read from memory: all but the resident ones the streamed part did not hold. */
    public long memoryOtherBytes() {
        return otherBytes - (residentBytes - residentOfStreamed());
    }

    private long residentOfStreamed() {
        return role == TensorRole.ACTIVATIONS ? Math.min(residentBytes, streamedBytes()) : 0;
    }

    /** This stage with {@code bytes} of its activations already in the global buffer. */
    public Stage withResident(long bytes) {
        return new Stage(address, loadBytes, pinnedBytes, unpinBytes, users, role, region, otherBytes, otherRole,
            otherRegion, bytes, writeBackBytes);
    }

    /** This stage writing {@code bytes} of evicted results to memory as it loads. */
    public Stage withWriteBack(long bytes) {
        return new Stage(address, loadBytes, pinnedBytes, unpinBytes, users, role, region, otherBytes, otherRole,
            otherRegion, residentBytes, bytes);
    }

    /** The address in its tier: the region's base plus the stage's offset. */
    public long tierAddress() {
        return region.baseAddress() + address;
    }

    /** Where the other operand's part lies in its tier: after the streamed part. */
    public long otherTierAddress() {
        return otherRegion.baseAddress() + address + streamedBytes();
    }

    /** This stage, its streamed operand a tensor of {@code role} in {@code region}, its other one of {@code other}. */
    public Stage placed(TensorRole role, Region region, TensorRole other, Region otherRegion) {
        return new Stage(address, loadBytes, pinnedBytes, unpinBytes, users, role, region, otherBytes, other,
            otherRegion, residentBytes, writeBackBytes);
    }
}

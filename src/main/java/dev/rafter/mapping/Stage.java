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
 */
public record Stage(long address, long loadBytes, long pinnedBytes, long unpinBytes, int users, TensorRole role,
                    Region region, long otherBytes, TensorRole otherRole, Region otherRegion) {
    public Stage {
        if (otherBytes < 0 || otherBytes > loadBytes) {
            throw new IllegalArgumentException("other operand's bytes " + otherBytes + " not in 0.." + loadBytes);
        }
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
            otherRegion);
    }
}

package dev.rafter.mapping;

/**
 * One global-buffer stage: {@code loadBytes} come from memory before any core may use it; of these,
 * {@code pinnedBytes} stay resident for later stages; when its {@code users} have all released it, it frees its
 * streamed bytes ({@code loadBytes - pinnedBytes}) and {@code unpinBytes} of pinned data whose last use it was.
 * It reads the tensor of {@code role} in {@code region}, at {@code address} from the region's base: the mappers
 * make unplaced stages ({@link #Stage(long, long, long, long, int)}), {@link TensorPlacement} places them.
 */
public record Stage(long address, long loadBytes, long pinnedBytes, long unpinBytes, int users, TensorRole role,
                    Region region) {
    /** A stage before placement: activations on the first tier until {@link TensorPlacement} says otherwise. */
    public Stage(long address, long loadBytes, long pinnedBytes, long unpinBytes, int users) {
        this(address, loadBytes, pinnedBytes, unpinBytes, users, TensorRole.ACTIVATIONS, Region.FIRST_TIER);
    }

    public long heldBytes() {
        return loadBytes - pinnedBytes;
    }

    /** The address in its tier: the region's base plus the stage's offset. */
    public long tierAddress() {
        return region.baseAddress() + address;
    }

    /** This stage, reading the tensor of {@code role} in {@code region}. */
    public Stage placed(TensorRole role, Region region) {
        return new Stage(address, loadBytes, pinnedBytes, unpinBytes, users, role, region);
    }
}

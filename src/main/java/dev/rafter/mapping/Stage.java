package dev.rafter.mapping;

/**
 * One global-buffer stage: {@code loadBytes} come from HBM before any core may use it; of these, {@code pinnedBytes}
 * stay resident for later stages; when its {@code users} have all released it, it frees its streamed bytes
 * ({@code loadBytes - pinnedBytes}) and {@code unpinBytes} of pinned data whose last use it was.
 */
public record Stage(long address, long loadBytes, long pinnedBytes, long unpinBytes, int users) {
    public long heldBytes() {
        return loadBytes - pinnedBytes;
    }
}

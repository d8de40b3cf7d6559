package dev.rafter.mapping;

/**
 * Where a tensor lives: a memory tier of the device (its index, 0 the first in the hardware file) and the base
 * address of the tensor within that tier. Addresses of a stage are offsets from the base.
 */
public record Region(int tier, long baseAddress) {
    /** The first tier from address 0: where everything lives on a device with one memory. */
    public static final Region FIRST_TIER = new Region(0, 0);

    public Region {
        if (tier < 0) {
            throw new IllegalArgumentException("tier index must be >= 0, got " + tier);
        }
        if (baseAddress < 0) {
            throw new IllegalArgumentException("base address must be >= 0, got " + baseAddress);
        }
    }
}

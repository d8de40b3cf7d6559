package dev.rafter.mapping;

import dev.rafter.config.InputException;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.workload.Capacity;
import dev.rafter.workload.Workload;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Where a workload's tensors lie on a device with memory tiers: the tier the workload's {@code placement:} names
 * for a role, else the first tier (in the hardware file's order) that still has room for it, roles taken in the
 * order weights, KV cache, activations (the named ones first). Scratch goes with the activations. Every tensor
 * starts at address 0 of its tier, as on a device with one memory. Capacity is checked per tier: a tensor that fits
 * no tier, or not the tier named for it, is refused (exit 2) unless overcommit is allowed.
 *
 * @param tiers       the tier of each {@link TensorRole}, by ordinal
 * @param bytesByTier the bytes placed on each tier (weights, KV cache and activations)
 */
public record TierPlacement(int[] tiers, long[] bytesByTier) implements TensorPlacement.Policy {
    private static final double GIB = 1024.0 * 1024 * 1024;

    /** Everything on the first tier of {@code hw}, with {@code need} as its bytes. */
    public static TierPlacement firstTier(HardwareSpec hw, Capacity need) {
        long[] bytes = new long[hw.memoryTiers().size()];
        bytes[0] = saturatedSum(need);
        return new TierPlacement(new int[TensorRole.values().length], bytes);
    }

    @Override
    public Region regionOf(TensorRole role) {
        int tier = tiers[role.ordinal()];
        return tier == 0 ? Region.FIRST_TIER : new Region(tier, 0);
    }

    /** The tier index of {@code role}. */
    public int tierOf(TensorRole role) {
        return tiers[role.ordinal()];
    }

    /**
     * Places the tensors of a run needing {@code need} per device on {@code hw}'s tiers as {@code requested} says.
     * Bad input (a tier that does not exist, a tensor that fits no tier) names the key and the tiers.
     */
    public static TierPlacement of(HardwareSpec hw, Workload.Placement requested, Capacity need,
                                   boolean allowOvercommit) {
        List<HardwareSpec.MemoryTier> all = hw.memoryTiers();
        double[] free = new double[all.size()];
        for (int t = 0; t < free.length; t++) {
            free[t] = all.get(t).memory().capacityGib() * GIB;
        }
        int[] tiers = new int[TensorRole.values().length];
        long[] bytes = new long[all.size()];
        TensorRole[] roles = {TensorRole.WEIGHTS, TensorRole.KV_CACHE, TensorRole.ACTIVATIONS};
        String[] named = {requested.weights(), requested.kvCache(), requested.activations()};
        long[] size = {need.weightBytes(), need.kvCacheBytes(), need.activationBytes()};
        boolean[] placed = new boolean[roles.length];
        for (int r = 0; r < roles.length; r++) {
            if (named[r] == null) {
                continue;
            }
            int t = hw.tierIndex(named[r]);
            if (t < 0) {
                throw InputException.located("placement." + roles[r].key() + ": no memory tier named '" + named[r]
                    + "' (the device has " + names(all) + ")");
            }
            if (size[r] > free[t] && !allowOvercommit) {
                throw InputException.located(String.format(Locale.ROOT, "placement.%s: %s of %s cannot fit on"
                    + " tier '%s' (%s of its %s left); place them on another tier, or pass --allow-overcommit",
                    roles[r].key(), gib(size[r]), words(roles[r]), named[r], gib(Math.max(0, free[t])),
                    gib(all.get(t).memory().capacityGib() * GIB)));
            }
            put(tiers, bytes, free, roles[r], t, size[r]);
            placed[r] = true;
        }
        for (int r = 0; r < roles.length; r++) {
            if (placed[r]) {
                continue;
            }
            int t = 0;
            while (t < free.length && size[r] > free[t]) {
                t++;
            }
            if (t == free.length) {
                if (!allowOvercommit) {
                    throw InputException.located(String.format(Locale.ROOT, "memory.capacity_gib: no memory tier"
                        + " holds the %s of %s (%s); add capacity or a tier, or pass --allow-overcommit",
                        gib(size[r]), words(roles[r]), left(all, free)));
                }
                t = 0;
            }
            put(tiers, bytes, free, roles[r], t, size[r]);
        }
        tiers[TensorRole.SCRATCH.ordinal()] = tiers[TensorRole.ACTIVATIONS.ordinal()];
        return new TierPlacement(tiers, bytes);
    }

    private static void put(int[] tiers, long[] bytes, double[] free, TensorRole role, int t, long size) {
        tiers[role.ordinal()] = t;
        bytes[t] = bytes[t] > Long.MAX_VALUE - size ? Long.MAX_VALUE : bytes[t] + size;
        free[t] -= size;
    }

    private static long saturatedSum(Capacity need) {
        double total = need.totalBytes();
        return total >= Long.MAX_VALUE ? Long.MAX_VALUE : (long) total;
    }

    private static String words(TensorRole role) {
        return switch (role) {
            case WEIGHTS -> "weights";
            case KV_CACHE -> "KV cache";
            default -> "activations";
        };
    }

    private static List<String> names(List<HardwareSpec.MemoryTier> tiers) {
        List<String> out = new ArrayList<>();
        for (HardwareSpec.MemoryTier t : tiers) {
            out.add(t.name());
        }
        return out;
    }

    /** Each tier with its room left, e.g. {@code hbm 80.0 GiB with 2.5 GiB left}. */
    private static String left(List<HardwareSpec.MemoryTier> tiers, double[] free) {
        List<String> out = new ArrayList<>();
        for (int t = 0; t < tiers.size(); t++) {
            out.add(tiers.get(t).name() + " " + gib(tiers.get(t).memory().capacityGib() * GIB) + " with "
                + gib(Math.max(0, free[t])) + " left");
        }
        return String.join(", ", out);
    }

    private static String gib(double bytes) {
        return String.format(Locale.ROOT, "%.1f GiB", bytes / GIB);
    }
}

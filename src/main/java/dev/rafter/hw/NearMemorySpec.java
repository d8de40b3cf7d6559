package dev.rafter.hw;

import dev.rafter.config.InputException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;

/**
 * The near-memory units of a device (processing near memory: Samsung's HBM-PIM, SK hynix's GDDR6-AiM): a compute
 * unit beside each channel of one memory tier, with its own MAC and vector rates and the channel's internal
 * bandwidth (a multiple of what the channel carries off the die). Read from the hardware file's {@code components:}
 * entry of kind {@value #KIND} (its parameters, or a preset's, see {@code models/nmp/}); the simulator's component is
 * {@code sim/component/NearMemoryUnit}. Simulator-free, so the roofline and the offload policy can read it.
 *
 * @param tier       the tier the units sit beside ({@code beside:})
 * @param tierIndex  its index among the device's tiers
 * @param units      one per channel of that tier
 * @param clockHz    the units' clock
 * @param macsPerCycle        per unit
 * @param vectorFlopsPerCycle per unit (softmax and other elementwise work of an offloaded attention)
 * @param internalBandwidthRatio a unit's bandwidth to its channel's arrays over the channel's external bandwidth
 * @param offload    the operator kinds sent to the units when they are faster ({@link #offloads})
 * @param pjPerMac   energy of one MAC on a unit
 * @param pjPerInternalByte energy of one byte read from the arrays into a unit (no I/O crossing)
 */
public record NearMemorySpec(String tier, int tierIndex, int units, double clockHz, double macsPerCycle,
                             double vectorFlopsPerCycle, double internalBandwidthRatio, Set<Offload> offload,
                             double pjPerMac, double pjPerInternalByte) {
    /** The component kind's name in a hardware file's {@code components:} list. */
    public static final String KIND = "near_memory_unit";

    /** Operator kinds a unit can run. */
    public enum Offload {
        /** matrix-vector products: a GEMM whose B operand (the weights) lies beside the units */
        GEMV,
        /** attention over the KV cache, when the KV cache lies beside the units */
        ATTENTION;

        public String key() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** The values {@code offload:} takes: a comma-separated list of {@link Offload} keys, or none. */
    public static final List<String> OFFLOAD_CHOICES = List.of("gemv,attention", "gemv", "attention", "none");

    public NearMemorySpec {
        offload = Set.copyOf(offload);
    }

    /** Peak FLOP/s of all units (a MAC is two FLOPs). */
    public double macFlopsPerS() {
        return units * 2 * macsPerCycle * clockHz;
    }

    public double vectorFlopsPerS() {
        return units * vectorFlopsPerCycle * clockHz;
    }

    /** Bytes per second all units read from their channels' arrays. */
    public double internalBytesPerS(HardwareSpec hw) {
        return hw.memoryTiers().get(tierIndex).memory().bytesPerSecond() * internalBandwidthRatio;
    }

    /** The units' ridge: FLOPs per internal byte where their MACs and their internal bandwidth take equal time. */
    public double ridge(HardwareSpec hw) {
        return macFlopsPerS() / internalBytesPerS(hw);
    }

    public boolean offloads(Offload kind) {
        return offload.contains(kind);
    }

    /**
     * The device's units, or null if it has none. A unit beside a tier the device lacks, a second entry, or a
     * parameter that is not a positive number is bad input naming the key.
     */
    public static NearMemorySpec of(HardwareSpec hw) {
        List<HardwareSpec.Component> entries = hw.components().stream().filter(c -> c.kind().equals(KIND)).toList();
        if (entries.isEmpty()) {
            return null;
        }
        if (entries.size() > 1) {
            throw InputException.located(entries.get(1).where().get("kind") + ": a device has one " + KIND
                + " entry (its units sit beside every channel of one tier)");
        }
        HardwareSpec.Component c = entries.get(0);
        String beside = c.values().get("beside");
        if (beside == null) {
            throw InputException.located(where(c, "beside") + ": required parameter 'beside' is missing (the memory "
                + "tier whose channels the units sit beside, e.g. hbm)");
        }
        int tier = hw.tierIndex(beside);
        if (tier < 0) {
            throw InputException.located(where(c, "beside") + ": the device has no memory tier '" + beside
                + "' for the near-memory units to sit beside (its tiers: "
                + String.join(", ", hw.memoryTiers().stream().map(HardwareSpec.MemoryTier::name).toList()) + ")");
        }
        String offload = c.values().getOrDefault("offload", OFFLOAD_CHOICES.get(0));
        if (!OFFLOAD_CHOICES.contains(offload)) {
            throw InputException.located(where(c, "offload") + ": expected one of " + String.join("|",
                OFFLOAD_CHOICES) + ", got '" + offload + "'");
        }
        Set<Offload> kinds = offload.equals("none") ? Set.of() : Set.copyOf(Arrays.stream(offload.split(","))
            .map(k -> Offload.valueOf(k.toUpperCase(Locale.ROOT))).toList());
        Function<String, Double> number = key -> positive(c, key);
        return new NearMemorySpec(beside, tier, hw.memoryTiers().get(tier).memory().channels(),
            number.apply("clock_mhz") * 1e6, number.apply("macs_per_cycle"), number.apply("vector_flops_per_cycle"),
            number.apply("internal_bandwidth_ratio"), kinds, number.apply("pj_per_mac"),
            number.apply("pj_per_internal_byte"));
    }

    private static double positive(HardwareSpec.Component c, String key) {
        String v = c.values().get(key);
        if (v == null) {
            throw InputException.located(where(c, key) + ": required parameter '" + key + "' is missing (give it "
                + "or a preset: models/nmp/*.yaml)");
        }
        try {
            double x = dev.rafter.config.Numbers.parseDouble(v);
            if (x > 0 && Double.isFinite(x)) {
                return x;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw InputException.located(where(c, key) + ": expected a positive number, got '" + v + "'");
    }

    private static String where(HardwareSpec.Component c, String key) {
        return c.where().getOrDefault(key, c.where().get("kind") + " (" + KIND + "." + key + ")");
    }
}

package dev.rafter.energy;

/**
 * What one component kind is charged: dynamic energy from its counted work, and leakage power. Declared with the
 * kind (see {@code sim/component/ComponentKind}); {@link EnergyAccount} adds them up.
 *
 * @param name the key under {@code energy_j.by_component}
 */
public record EnergyUse(String name, Dynamic dynamic, Leakage leakage) {
    /** Joules for the counts of an interval. */
    @FunctionalInterface
    public interface Dynamic {
        double joules(EnergyAccount account, Counts counts);
    }

    /** Watts while the device is on. */
    @FunctionalInterface
    public interface Leakage {
        double watts(EnergyAccount account);
    }

    public static final Leakage NO_LEAKAGE = account -> 0;

    /** The statistics of an interval, by component kind and statistic name. */
    @FunctionalInterface
    public interface Counts {
        long count(String component, String statistic);
    }
}

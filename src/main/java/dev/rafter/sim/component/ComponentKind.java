package dev.rafter.sim.component;

import dev.rafter.energy.EnergyUse;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.sim.message.Message;
import dev.rafter.sim.trace.SliceKind;
import dev.rafter.sim.trace.TrackKind;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.ToDoubleFunction;
import java.util.function.ToIntFunction;

/**
 * What a kind of component declares about itself, as data (SST's ELI: parameters, ports, statistics): the
 * {@link Catalogue} makes its tracks and statistics from it, {@code rafter components} prints it, and the reports,
 * the energy account and the trace read its statistics by name instead of a hand-kept list.
 *
 * @param name         the kind's key (summary.json and energy_j.by_component use it where the kind reports)
 * @param placement    how many instances a device has and where their tracks sit
 * @param utilisation  the kind's utilisation in summary.json, or null
 * @param energy       what the kind is charged, or null
 * @param builder      makes an instance from the hardware model and the components wired to its ports
 *                     ({@link Wiring}), or null for a kind without an object of its own (its tracks belong to the
 *                     component wired to it: a core's DMA slots are the interconnect's ports; the host is the run's)
 */
public record ComponentKind(String name, String description, Placement placement, List<Parameter> parameters,
                            List<Port> ports, List<Statistic> statistics, Utilisation utilisation, EnergyUse energy,
                            Builder builder) implements TrackKind {

    public ComponentKind {
        parameters = List.copyOf(parameters);
        ports = List.copyOf(ports);
        statistics = List.copyOf(statistics);
        if (!name.matches("[a-z][a-z0-9_]*")) {
            throw new IllegalArgumentException("component kind name must be snake_case: " + name);
        }
        // A slice feeds at most one statistic per measure: the counting sink then adds each slice in two stores.
        for (Statistic.Measure m : Statistic.Measure.values()) {
            Set<SliceKind> seen = EnumSet.noneOf(SliceKind.class);
            for (Statistic s : statistics) {
                if (s.measure() == m) {
                    for (SliceKind k : s.slices()) {
                        if (!seen.add(k)) {
                            throw new IllegalArgumentException(name + ": two statistics count the " + m.key()
                                + " of '" + k.label() + "' slices");
                        }
                    }
                }
            }
        }
    }

    /** The statistic called {@code statistic}; an error names the ones there are. */
    public int statisticIndex(String statistic) {
        for (int i = 0; i < statistics.size(); i++) {
            if (statistics.get(i).name().equals(statistic)) {
                return i;
            }
        }
        throw new IllegalArgumentException(name + " has no statistic '" + statistic + "' (it has "
            + statistics.stream().map(Statistic::name).toList() + ")");
    }

    /** A hardware parameter: its key in the hardware file, unit, valid range and default (null: required). */
    public record Parameter(String key, String unit, double min, double max, List<String> choices, String byDefault,
                            String description) {
        public static Parameter number(String key, String unit, double min, double max, String byDefault,
                                       String description) {
            return new Parameter(key, unit, min, max, List.of(), byDefault, description);
        }

        public static Parameter choice(String key, List<String> choices, String byDefault, String description) {
            return new Parameter(key, "", Double.NaN, Double.NaN, List.copyOf(choices), byDefault, description);
        }

        public static Parameter file(String key, String byDefault, String description) {
            return new Parameter(key, "file", Double.NaN, Double.NaN, List.of(), byDefault, description);
        }

        /** The valid values in words: {@code 1..4096}, {@code a|b|c} or {@code path}. */
        public String range() {
            if (!choices.isEmpty()) {
                return String.join("|", choices);
            }
            if (Double.isNaN(min)) {
                return unit.equals("file") ? "path" : "a " + unit + " name";
            }
            return dev.rafter.config.Check.fmt(min) + ".." + dev.rafter.config.Check.fmt(max);
        }
    }

    /** A port: the message records it accepts ({@link Direction#IN}) or sends ({@link Direction#OUT}). */
    public record Port(String name, Direction direction, List<Class<? extends Message>> messages,
                       String description) {
        public enum Direction { IN, OUT }

        public Port {
            messages = List.copyOf(messages);
        }

        public boolean accepts(Class<? extends Message> message) {
            return direction == Direction.IN && messages.stream().anyMatch(m -> m.isAssignableFrom(message));
        }
    }

    /**
     * A statistic counted from the kind's trace slices: the {@link Measure} of the slices of the given kinds, added
     * up over time and over the kind's instances. {@link Combine} says how it is read.
     */
    public record Statistic(String name, String unit, Measure measure, Set<SliceKind> slices, Combine combine,
                            String description) {
        public Statistic {
            slices = slices.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(slices));
        }

        /** What a slice contributes. */
        public enum Measure {
            /** its length in ps */
            DURATION,
            /** its amount (bytes, MACs, FLOPs) */
            AMOUNT;

            public String key() {
                return name().toLowerCase(Locale.ROOT);
            }
        }

        /** How the sum over instances and time is reported. */
        public enum Combine {
            /** the sum itself */
            SUM,
            /** the summed busy time over (instances x elapsed time): 0..1 */
            BUSY_FRACTION;

            public String key() {
                return name().toLowerCase(Locale.ROOT);
            }
        }

        /** Counts the measure of every interval kind (not the counts: {@link SliceKind#isCount}). */
        public static Statistic ofAll(String name, String unit, Measure measure, Combine combine,
                                      String description) {
            return new Statistic(name, unit, measure, SliceKind.intervals(), combine, description);
        }

        public static Statistic of(String name, String unit, Measure measure, Set<SliceKind> slices,
                                   Combine combine, String description) {
            return new Statistic(name, unit, measure, slices, combine, description);
        }
    }

    /**
     * The kind's utilisation: the named statistics (summed) over what the device can do per second, e.g. MACs over
     * peak MACs/s. {@code inRunSummary} false keeps it to the phases (the device link, as published).
     */
    public record Utilisation(String key, List<String> work, ToDoubleFunction<HardwareSpec> capacityPerSecond,
                              boolean inRunSummary) {}

    /** Where a kind's instances are: in every core (tracks under the core) or on the device. */
    public enum Scope { CORE, DEVICE }

    /**
     * How many instances a device has (per core for {@link Scope#CORE}) and how their tracks are named. Null
     * {@code count}: as many as the hardware file's {@code components:} list names. Null {@code trackName}: the
     * instances have no track (a component that only joins others, such as a core's controller; its work shows on
     * the tracks of the components it drives).
     */
    public record Placement(Scope scope, ToIntFunction<HardwareSpec> count, TrackName trackName) {
        public boolean tracked() {
            return trackName != null;
        }
    }

    @FunctionalInterface
    public interface TrackName {
        /** {@code core} is -1 for a device-level instance. */
        String of(int core, int index);
    }

    /** Makes one instance of a kind when the catalogue assembles a device ({@link Catalogue#assemble}). */
    @FunctionalInterface
    public interface Builder {
        Object build(Instance instance);
    }

    /**
     * What an instance is built with: its track (null for a kind without tracks), the sink its slices go to, the
     * simulator's clock, the hardware model, its parameters from a {@code components:} entry (a registered kind's,
     * checked against the declaration, defaults filled in; empty for a built-in kind, which reads the hardware
     * model), where it sits (its core, -1 on the device, and its index there), the components wired to its ports
     * and where the run places its tensors.
     */
    public record Instance(dev.rafter.sim.trace.Track track, dev.rafter.sim.trace.TraceSink sink,
                           dev.rafter.sim.Scheduler scheduler, HardwareSpec hardware, Map<String, String> parameters,
                           int core, int index, Wiring.Peers peers, dev.rafter.mapping.TensorPlacement.Policy placement) {
        public double number(String key) {
            return Double.parseDouble(parameters.get(key));
        }
    }
}

package dev.rafter.sim.component;

import dev.rafter.energy.EnergyUse;
import dev.rafter.config.InputException;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.sim.trace.SliceKind;
import dev.rafter.sim.trace.Track;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The component kinds a device is made of, listed here (no classpath scanning), and the statistics registry
 * their declarations define: every (component kind, statistic) has a slot in the counting sink's arrays,
 * assigned when the kind is listed or {@link #register registered}. A run's {@code RunStats} is that registry for
 * one device, filled from the trace slices. The order of the list is the order of the trace's tracks (per core,
 * then the device's), and of the components block in summary.json.
 */
public final class Catalogue {
    private Catalogue() {}

    /** The kinds built in, in track order (the kinds without tracks last). */
    private static final List<ComponentKind> BUILT_IN = List.of(PeArray.KIND, VectorUnit.KIND,
        Interconnect.CORE_PORT, GlobalBuffer.KIND, DeviceLink.KIND, MemoryController.KIND, Host.KIND, Core.KIND,
        Interconnect.KIND, MemorySystem.KIND);

    /**
     * energy_j.by_component's order as published; the energy of kinds not named here follows in catalogue order.
     */
    private static final List<String> ENERGY_ORDER = List.of("pe_array", "vector_unit", "local_buffer",
        "global_buffer", "hbm", "device_link");

    /** Where a kind's statistics sit: per slice kind ordinal, the slot of its duration and of its amount. */
    public record Slots(int base, int[] duration, int[] amount) {}

    // Replaced whole on registration, read without locking (runs on several threads read them).
    private static volatile List<ComponentKind> kinds = List.of();
    private static volatile Map<ComponentKind, Slots> slots = new IdentityHashMap<>();
    /** Slot 0 takes what no statistic counts (never read), so adding a slice needs no branch. */
    private static int slotCount = 1;

    /**
     * The kinds Rafter ships that a hardware file places by its {@code components:} list (reported like a
     * registered kind: under {@code components.<kind>} in summary.json).
     */
    private static final List<ComponentKind> PLACED = List.of(NearMemoryUnit.KIND);

    static {
        for (ComponentKind k : BUILT_IN) {
            add(k);
        }
        for (ComponentKind k : PLACED) {
            add(k);
        }
    }

    /**
     * Adds a kind to the catalogue: its parameters show in {@code rafter components}, and a hardware file's
     * {@code components:} list may place instances of it (a kind with a {@link ComponentKind#builder}). Kinds stay
     * registered for the life of the process.
     */
    public static synchronized void register(ComponentKind kind) {
        if (!registered(kind)) {
            throw new IllegalArgumentException(kind.name() + ": a registered kind has a builder and is placed by "
                + "the hardware file's components list (count null)");
        }
        add(kind);
    }

    private static synchronized void add(ComponentKind kind) {
        if (kinds.stream().anyMatch(k -> k.name().equals(kind.name()))) {
            throw new IllegalArgumentException("component kind '" + kind.name() + "' is already in the catalogue");
        }
        int base = slotCount;
        int[] duration = new int[SliceKind.values().length];
        int[] amount = new int[SliceKind.values().length];
        List<ComponentKind.Statistic> stats = kind.statistics();
        for (int i = 0; i < stats.size(); i++) {
            int[] target = stats.get(i).measure() == ComponentKind.Statistic.Measure.DURATION ? duration : amount;
            for (SliceKind s : stats.get(i).slices()) {
                target[s.ordinal()] = base + i;
            }
        }
        Map<ComponentKind, Slots> next = new IdentityHashMap<>(slots);
        next.put(kind, new Slots(base, duration, amount));
        List<ComponentKind> all = new ArrayList<>(kinds);
        all.add(kind);
        slots = next;
        kinds = List.copyOf(all);
        slotCount = base + stats.size();
    }

    /** Whether {@code kind} is placed by a hardware file's {@code components:} list (a registered kind). */
    public static boolean registered(ComponentKind kind) {
        return kind.builder() != null && kind.placement().count() == null;
    }

    public static List<ComponentKind> kinds() {
        return kinds;
    }

    /**
     * The kinds as declared, for {@code rafter components}: the memory kind once (as {@code hbm_channel}), not each
     * tier it was instantiated for in this process.
     */
    public static List<ComponentKind> declarations() {
        return kinds.stream().filter(k -> !MemoryController.isTierKind(k) || k == MemoryController.KIND).toList();
    }

    /** Built in: listed here, or a memory tier's kind (declared once in {@link MemoryController}, per tier). */
    public static boolean builtIn(ComponentKind kind) {
        return BUILT_IN.contains(kind) || MemoryController.isTierKind(kind);
    }

    /**
     * Adds the kinds of {@code hw}'s memory tiers not in the catalogue yet (after the kinds there, so existing
     * track ids and slots stay), before anything places tracks or sizes sums for a device of {@code hw}.
     */
    private static void addTierKinds(HardwareSpec hw) {
        for (HardwareSpec.MemoryTier t : hw.memoryTiers()) {
            ComponentKind k = MemoryController.kindOf(t.name());
            if (!slots.containsKey(k)) {
                synchronized (Catalogue.class) {
                    if (!slots.containsKey(k)) {
                        add(k);
                    }
                }
            }
        }
    }

    /** The kind called {@code name}, or null. */
    public static ComponentKind kind(String name) {
        for (ComponentKind k : kinds()) {
            if (k.name().equals(name)) {
                return k;
            }
        }
        return null;
    }

    /** The number of registry slots so far (sums arrays are this long). */
    public static synchronized int slotCount() {
        return slotCount;
    }

    public static Slots slots(ComponentKind kind) {
        Slots s = slots.get(kind);
        if (s == null) {
            throw new IllegalArgumentException("component kind '" + kind.name() + "' is not in the catalogue");
        }
        return s;
    }

    /** Track {@code id} of {@code kind}, its slices counting in the kind's registry slots. */
    public static Track track(int id, ComponentKind kind, int core, int index, String name) {
        Slots s = slots(kind);
        return new Track(id, kind, core, index, name, s.duration(), s.amount());
    }

    /** The registry slot of a kind's statistic. */
    public static int slot(ComponentKind kind, String statistic) {
        return slots(kind).base() + kind.statisticIndex(statistic);
    }

    /** How many instances of {@code kind} a device of {@code hw} has (per core for a core's kind). */
    public static int instances(ComponentKind kind, HardwareSpec hw) {
        if (kind.placement().count() != null) {
            return kind.placement().count().applyAsInt(hw);
        }
        return (int) hw.components().stream().filter(c -> c.kind().equals(kind.name())).count();
    }

    /** The kinds a device of {@code hw} has at least one instance of, in catalogue order. */
    public static List<ComponentKind> present(HardwareSpec hw) {
        addTierKinds(hw);
        return kinds().stream().filter(k -> instances(k, hw) > 0).toList();
    }

    /**
     * The trace tracks of a device: each core's instances (its kinds in catalogue order), then the device's. A
     * track's id is its place in this list.
     */
    public static List<Track> tracks(HardwareSpec hw) {
        check(hw);
        addTierKinds(hw);
        List<ComponentKind> present = present(hw);
        List<Track> out = new ArrayList<>();
        present = present.stream().filter(k -> k.placement().tracked()).toList();
        for (int c = 0; c < hw.cores(); c++) {
            for (ComponentKind k : present) {
                if (k.placement().scope() == ComponentKind.Scope.CORE) {
                    for (int i = 0, n = instances(k, hw); i < n; i++) {
                        out.add(track(out.size(), k, c, i, k.placement().trackName().of(c, i)));
                    }
                }
            }
        }
        for (ComponentKind k : present) {
            if (k.placement().scope() == ComponentKind.Scope.DEVICE) {
                for (int i = 0, n = instances(k, hw); i < n; i++) {
                    out.add(track(out.size(), k, -1, i, k.placement().trackName().of(-1, i)));
                }
            }
        }
        return out;
    }

    /** The tracks of one kind, in order (for a core's kind: core by core). */
    public static List<Track> tracksOf(List<Track> tracks, ComponentKind kind) {
        return tracks.stream().filter(t -> t.kind() == kind).toList();
    }

    /** What a device of {@code hw} is charged energy for, in the published order. */
    public static List<EnergyUse> energyUses(HardwareSpec hw) {
        List<EnergyUse> uses = new ArrayList<>();
        for (String name : ENERGY_ORDER) {
            for (ComponentKind k : present(hw)) {
                if (k.energy() != null && k.energy().name().equals(name)) {
                    uses.add(k.energy());
                }
            }
        }
        for (ComponentKind k : present(hw)) {
            if (k.energy() != null && !ENERGY_ORDER.contains(k.energy().name())) {
                uses.add(k.energy());
            }
        }
        return uses;
    }

    /**
     * Builds the components of a device of {@code hw} on {@code tracks} ({@link #tracks}): every instance of every
     * kind it has, each by its kind's builder, after and with the components wired to its ports ({@link Wiring}); a
     * registered kind's instances with their parameters from the hardware file, checked against its declaration.
     */
    public static Assembly assemble(HardwareSpec hw, List<Track> tracks, dev.rafter.sim.trace.TraceSink sink,
                                    dev.rafter.sim.Scheduler scheduler,
                                    dev.rafter.mapping.TensorPlacement.Policy placement) {
        return new Assembly(hw, present(hw), tracks, sink, scheduler, placement);
    }

    /**
     * The parameters of one {@code components:} entry: every key declared (defaults filled in), numbers within
     * their range, choices among theirs; bad input names the file and key.
     */
    public static Map<String, String> parameters(ComponentKind kind, HardwareSpec.Component entry) {
        Map<String, String> out = new java.util.LinkedHashMap<>();
        for (String key : entry.values().keySet()) {
            if (!key.equals("kind") && kind.parameters().stream().noneMatch(p -> p.key().equals(key))) {
                throw InputException.located(entry.where().get(key) + ": not a parameter of " + kind.name()
                    + " (it has " + kind.parameters().stream().map(ComponentKind.Parameter::key).toList() + ")");
            }
        }
        for (ComponentKind.Parameter p : kind.parameters()) {
            String v = entry.values().getOrDefault(p.key(), p.byDefault());
            String where = entry.where().getOrDefault(p.key(), entry.where().get("kind") + " (" + kind.name() + ")");
            if (v == null) {
                throw InputException.located(where + ": required parameter '" + p.key() + "' is missing");
            }
            if (!p.choices().isEmpty() && !p.choices().contains(v)) {
                throw InputException.located(where + ": expected one of " + p.range() + ", got '" + v + "'");
            }
            if (p.choices().isEmpty() && !Double.isNaN(p.min())) {
                double x;
                try {
                    x = dev.rafter.config.Numbers.parseDouble(v);
                } catch (NumberFormatException e) {
                    throw InputException.located(where + ": expected a number in " + p.range() + " " + p.unit()
                        + ", got '" + v + "'");
                }
                if (!(x >= p.min() && x <= p.max())) {
                    throw InputException.located(where + ": expected a number in " + p.range() + " " + p.unit()
                        + ", got " + v);
                }
            }
            out.put(p.key(), v);
        }
        return out;
    }

    /** Every {@code components:} entry names a kind in the catalogue. */
    public static void check(HardwareSpec hw) {
        for (HardwareSpec.Component c : hw.components()) {
            ComponentKind k = kind(c.kind());
            if (k == null || !registered(k)) {
                throw InputException.located(c.where().get("kind") + ": unknown component kind '" + c.kind()
                    + "' (registered kinds: " + kinds().stream().filter(Catalogue::registered)
                    .map(ComponentKind::name).toList() + ")");
            }
            parameters(k, c);
        }
    }
}

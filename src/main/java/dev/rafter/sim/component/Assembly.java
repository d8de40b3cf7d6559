package dev.rafter.sim.component;

import dev.rafter.hw.HardwareSpec;
import dev.rafter.mapping.TensorPlacement;
import dev.rafter.sim.Scheduler;
import dev.rafter.sim.trace.TraceSink;
import dev.rafter.sim.trace.Track;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The components of one device, built by {@link Catalogue#assemble}: every instance of every kind the device has,
 * each made by its kind's builder after the components wired to its ports ({@link Wiring}), which it is handed.
 */
public final class Assembly {
    /**
     * One kind's instances: per instance its object (null for a kind without one) and track (or null); a core's
     * kind has {@code perCore} instances in each core, core by core.
     */
    private record Built(ComponentKind kind, List<Object> objects, List<Track> tracks, int perCore) {
        /** The instances a component on {@code core} (-1: the device) reaches: its core's, or all of them. */
        <E> List<E> reached(List<E> all, int core) {
            return core < 0 || perCore == 0 ? all : all.subList(core * perCore, (core + 1) * perCore);
        }
    }

    private final HardwareSpec hw;
    private final List<Track> tracks;
    private final TraceSink sink;
    private final Scheduler scheduler;
    private final TensorPlacement.Policy placement;
    private final List<Wiring.Wire> wires;
    private final List<ComponentKind> present;
    private final Map<ComponentKind, Built> built = new IdentityHashMap<>();
    private final Map<ComponentKind, Boolean> building = new IdentityHashMap<>();

    Assembly(HardwareSpec hw, List<ComponentKind> present, List<Track> tracks, TraceSink sink, Scheduler scheduler,
             TensorPlacement.Policy placement) {
        this.hw = hw;
        this.present = present;
        this.tracks = tracks;
        this.sink = sink;
        this.scheduler = scheduler;
        this.placement = placement;
        this.wires = Wiring.of(hw, present);
        for (ComponentKind k : present) {
            build(k);
        }
    }

    /** Every instance of {@code kind} (core by core for a core's kind). */
    public <T> List<T> of(ComponentKind kind, Class<T> type) {
        Built b = built.get(kind);
        if (b == null) {
            return List.of();
        }
        List<T> out = new ArrayList<>(b.objects().size());
        for (Object o : b.objects()) {
            out.add(cast(kind, o, type));
        }
        return out;
    }

    /** The one instance of a device-level {@code kind}. */
    public <T> T one(ComponentKind kind, Class<T> type) {
        List<T> all = of(kind, type);
        if (all.size() != 1) {
            throw new IllegalStateException(kind.name() + ": " + all.size() + " instances, not 1");
        }
        return all.get(0);
    }

    private static <T> T cast(ComponentKind kind, Object o, Class<T> type) {
        if (!type.isInstance(o)) {
            throw new IllegalStateException(kind.name() + ": its builder made "
                + (o == null ? "nothing" : "a " + o.getClass().getName()) + ", where a " + type.getName()
                + " is wired");
        }
        return type.cast(o);
    }

    /** Builds {@code kind}'s instances, after the kinds its ports are wired to. */
    private void build(ComponentKind kind) {
        if (built.containsKey(kind)) {
            return;
        }
        if (building.put(kind, true) != null) {
            throw new IllegalStateException("the wiring has a cycle through " + kind.name());
        }
        for (Wiring.Wire w : wires) {
            if (w.from() == kind && Catalogue.instances(w.to(), hw) > 0) {
                build(w.to());
            }
        }
        boolean perCore = kind.placement().scope() == ComponentKind.Scope.CORE;
        int n = Catalogue.instances(kind, hw);
        List<Track> mine = kind.placement().tracked() ? Catalogue.tracksOf(tracks, kind) : null;
        List<HardwareSpec.Component> entries = kind.placement().count() == null
            ? hw.components().stream().filter(c -> c.kind().equals(kind.name())).toList() : null;
        int total = perCore ? n * hw.cores() : n;
        List<Object> objects = new ArrayList<>(total);
        List<Track> kindTracks = new ArrayList<>(total);
        for (int j = 0; j < total; j++) {
            int core = perCore ? j / n : -1;
            int index = perCore ? j % n : j;
            Track track = mine == null ? null : mine.get(j);
            kindTracks.add(track);
            if (kind.builder() == null) {
                objects.add(null);
                continue;
            }
            Map<String, String> parameters = entries == null ? Map.of() : Catalogue.parameters(kind,
                entries.get(index));
            objects.add(kind.builder().build(new ComponentKind.Instance(track, sink, scheduler, hw, parameters,
                core, index, new Ports(kind, core), placement)));
        }
        built.put(kind, new Built(kind, objects, kindTracks, perCore ? n : 0));
    }

    /** The ports of an instance of {@code kind} on {@code core} (-1: the device). */
    private final class Ports implements Wiring.Peers {
        private final ComponentKind kind;
        private final int core;

        Ports(ComponentKind kind, int core) {
            this.kind = kind;
            this.core = core;
        }

        @Override
        public <T> List<T> all(String port, Class<T> type) {
            List<T> out = new ArrayList<>();
            for (List<T> wire : byWire(port, type)) {
                out.addAll(wire);
            }
            return out;
        }

        @Override
        public <T> List<List<T>> byWire(String port, Class<T> type) {
            List<List<T>> out = new ArrayList<>();
            for (Wiring.Wire w : wires(port)) {
                Built b = built.get(w.to());
                List<T> on = new ArrayList<>();
                for (Object o : b == null ? List.of() : b.reached(b.objects(), core)) {
                    on.add(cast(w.to(), o, type));
                }
                out.add(on);
            }
            return out;
        }

        @Override
        public List<Track> tracks(String port) {
            List<Track> out = new ArrayList<>();
            for (Wiring.Wire w : wires(port)) {
                Built b = built.get(w.to());
                if (b != null) {
                    out.addAll(b.reached(b.tracks(), core));
                }
            }
            return out;
        }

        @Override
        public long latencyPs(String port) {
            List<Wiring.Wire> on = wires(port);
            if (on.isEmpty()) {
                throw new IllegalStateException(kind.name() + "." + port + " is not wired");
            }
            return on.get(0).latencyPs().applyAsLong(hw);
        }

        private List<Wiring.Wire> wires(String port) {
            return wires.stream().filter(w -> w.from() == kind && w.fromPort().equals(port)).toList();
        }
    }
}

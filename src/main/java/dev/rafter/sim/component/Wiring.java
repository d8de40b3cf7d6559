package dev.rafter.sim.component;

import dev.rafter.hw.HardwareSpec;
import dev.rafter.sim.message.MemoryAccess;
import dev.rafter.sim.trace.Track;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToLongFunction;

/**
 * How a device's components connect, as data (SST's links): each wire joins a port of one kind to a port of another
 * and carries the latency that belongs to that connection, not to either end. The component on the {@code from}
 * side is built after, and holds, the ones wired to it; a per-core kind's port reaches its own core's instances of a
 * per-core kind, and every instance of a device-level kind. {@link Catalogue#assemble} builds a device by reading
 * these wires; {@code rafter components} prints them.
 */
public final class Wiring {
    private Wiring() {}

    /**
     * A connection from {@code from}'s port {@code fromPort} to {@code to}'s port {@code toPort}, with the latency
     * of the connection in ps, from the hardware model ({@code latency} says which key, empty for none).
     */
    public record Wire(ComponentKind from, String fromPort, ComponentKind to, String toPort,
                       ToLongFunction<HardwareSpec> latencyPs, String latency) {
        /** A wire without latency of its own. */
        public Wire(ComponentKind from, String fromPort, ComponentKind to, String toPort) {
            this(from, fromPort, to, toPort, hw -> 0, "");
        }

        public Wire {
            check(from, fromPort);
            check(to, toPort);
        }

        private static void check(ComponentKind kind, String port) {
            if (kind.ports().stream().noneMatch(p -> p.name().equals(port))) {
                throw new IllegalArgumentException(kind.name() + " has no port '" + port + "' (it has "
                    + kind.ports().stream().map(ComponentKind.Port::name).toList() + ")");
            }
        }
    }

    /** The wires between the kinds built into Rafter, apart from the memory tiers' (see {@link #of}). */
    private static final List<Wire> BUILT_IN = List.of(
        new Wire(Core.KIND, "arrays", PeArray.KIND, "compute"),
        new Wire(Core.KIND, "vector", VectorUnit.KIND, "compute"),
        new Wire(Core.KIND, "stages", GlobalBuffer.KIND, "stages"),
        new Wire(Core.KIND, "transfer", Interconnect.KIND, "transfer"),
        new Wire(Core.KIND, "results", MemorySystem.KIND, "access"),
        new Wire(Interconnect.KIND, "buffer", GlobalBuffer.KIND, "cores"),
        // The global buffer's data reaches a core this long after the transfer's last byte left the ports.
        new Wire(Interconnect.KIND, "cores", Interconnect.CORE_PORT, "transfer",
            hw -> Core.clock(hw).ps(hw.interconnect().latencyCycles()), "interconnect.latency_cycles"),
        new Wire(GlobalBuffer.KIND, "stage", MemorySystem.KIND, "access"));

    /**
     * The wires of a device of {@code hw} whose kinds are {@code present}: the built-in ones, the memory
     * controller's to each tier's channels (in tier order; a tier's latency is its channels'), and its taps: every
     * registered kind whose port accepts a {@link MemoryAccess} sees the accesses the controllers receive.
     */
    public static List<Wire> of(HardwareSpec hw, List<ComponentKind> present) {
        List<Wire> out = new ArrayList<>(BUILT_IN);
        for (HardwareSpec.MemoryTier tier : hw.memoryTiers()) {
            out.add(new Wire(MemorySystem.KIND, "channels", MemoryController.kindOf(tier.name()), "access"));
        }
        for (ComponentKind k : present) {
            if (Catalogue.registered(k)) {
                for (ComponentKind.Port p : k.ports()) {
                    if (p.accepts(MemoryAccess.class)) {
                        out.add(new Wire(MemorySystem.KIND, "taps", k, p.name()));
                    }
                }
            }
        }
        return out;
    }

    /** The wires built into Rafter that leave {@code kind}, for {@code rafter components}. */
    public static List<Wire> from(ComponentKind kind) {
        return BUILT_IN.stream().filter(w -> w.from() == kind).toList();
    }

    /** What an instance sees of the components wired to its ports. */
    public interface Peers {
        /** The components on every wire of {@code port}, wire by wire (core by core within a wire). */
        <T> List<T> all(String port, Class<T> type);

        /** The components on {@code port}, one list per wire. */
        <T> List<List<T>> byWire(String port, Class<T> type);

        /** The one component on {@code port}. */
        default <T> T one(String port, Class<T> type) {
            List<T> all = all(port, type);
            if (all.size() != 1) {
                throw new IllegalStateException("port '" + port + "' reaches " + all.size() + " components, not 1");
            }
            return all.get(0);
        }

        /** The tracks of the instances on {@code port} (the kind wired there may have no object of its own). */
        List<Track> tracks(String port);

        /** The latency of the wire on {@code port}, in ps. */
        long latencyPs(String port);
    }
}

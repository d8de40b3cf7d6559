package dev.rafter.sim.fabric;

import dev.rafter.hw.SystemSpec;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A system's fabric as a graph, with no simulator: endpoints (devices first, numbered as in the system file, then
 * switches) and directed links (each wire is two, one per direction). Paths are shortest by hop count; among equal
 * ones, breadth-first search over links in the order the file declares them picks the same one every run.
 */
public final class FabricGraph {
    /** One direction of a wire: from endpoint to endpoint, with the wire's numbers. */
    public record DirectedLink(int index, int from, int to, String name, SystemSpec.LinkParameters parameters) {}

    private final SystemSpec spec;
    private final List<String> endpoints = new ArrayList<>();
    private final Map<String, Integer> byName = new HashMap<>();
    private final List<DirectedLink> links = new ArrayList<>();
    private final List<List<DirectedLink>> outgoing = new ArrayList<>();
    private final double[] switchLatencyNs;
    private final Map<Long, List<DirectedLink>> paths = new HashMap<>();

    public FabricGraph(SystemSpec spec) {
        this.spec = spec;
        for (SystemSpec.Device d : spec.devices()) {
            add(d.name());
        }
        switchLatencyNs = new double[spec.devices().size() + spec.switches().size()];
        for (SystemSpec.Switch s : spec.switches()) {
            switchLatencyNs[add(s.name())] = s.latencyNs();
        }
        for (SystemSpec.Wire w : spec.wires()) {
            direct(byName.get(w.from()), byName.get(w.to()), w.parameters());
            direct(byName.get(w.to()), byName.get(w.from()), w.parameters());
        }
    }

    private int add(String name) {
        byName.put(name, endpoints.size());
        endpoints.add(name);
        outgoing.add(new ArrayList<>());
        return endpoints.size() - 1;
    }

    private void direct(int from, int to, SystemSpec.LinkParameters parameters) {
        DirectedLink l = new DirectedLink(links.size(), from, to, endpoints.get(from) + "->" + endpoints.get(to),
            parameters);
        links.add(l);
        outgoing.get(from).add(l);
    }

    public SystemSpec spec() {
        return spec;
    }

    public int devices() {
        return spec.devices().size();
    }

    public List<DirectedLink> links() {
        return links;
    }

    public String name(int endpoint) {
        return endpoints.get(endpoint);
    }

    public int endpoint(String name) {
        return byName.get(name);
    }

    public boolean isSwitch(int endpoint) {
        return endpoint >= devices();
    }

    /** Ps a message spends after leaving {@code link}: the wire, then the switch it enters (if it is one). */
    public long wirePs(DirectedLink link) {
        return Math.round((link.parameters().latencyNs() + switchLatencyNs[link.to()]) * 1000);
    }

    /** The links of the shortest path from one endpoint to another. */
    public List<DirectedLink> path(int from, int to) {
        if (from == to) {
            throw new IllegalArgumentException("no path from an endpoint to itself: " + name(from));
        }
        return paths.computeIfAbsent(((long) from << 32) | to, k -> search(from, to));
    }

    private List<DirectedLink> search(int from, int to) {
        List<DirectedLink> viaSwitches = search(from, to, true);
        return viaSwitches != null ? viaSwitches : search(from, to, false);
    }

    /**
     * Breadth-first search; {@code viaSwitchesOnly}: a path passes through switches, not other devices (devices
     * are endpoints, not routers), unless the fabric has no switches (a torus chip forwards through its own
     * router, which its wires stand for). A listed fabric whose only path runs through a device gets that path.
     */
    private List<DirectedLink> search(int from, int to, boolean viaSwitchesOnly) {
        DirectedLink[] via = new DirectedLink[endpoints.size()];
        boolean[] seen = new boolean[endpoints.size()];
        ArrayDeque<Integer> queue = new ArrayDeque<>(List.of(from));
        seen[from] = true;
        while (!queue.isEmpty() && !seen[to]) {
            int at = queue.poll();
            for (DirectedLink l : outgoing.get(at)) {
                if (!seen[l.to()] && (l.to() == to || isSwitch(l.to()) || spec.switches().isEmpty()
                    || !viaSwitchesOnly)) {
                    seen[l.to()] = true;
                    via[l.to()] = l;
                    queue.add(l.to());
                }
            }
        }
        if (!seen[to]) {
            if (viaSwitchesOnly) {
                return null;
            }
            throw new IllegalStateException("no path from " + name(from) + " to " + name(to));
        }
        List<DirectedLink> out = new ArrayList<>();
        for (int at = to; at != from; at = via[at].from()) {
            out.add(0, via[at]);
        }
        return List.copyOf(out);
    }

    /**
     * Whether every link joins one device to the one switch (a single-switch fabric): then each link carries only its
     * device's traffic, so devices that each take part in one communication at a time never share a link.
     */
    public boolean linksServeOneDeviceEach() {
        if (spec.switches().size() != 1) {
            return false;
        }
        for (DirectedLink l : links) {
            if (isSwitch(l.from()) == isSwitch(l.to())) {
                return false;
            }
        }
        return true;
    }

    /** The slowest link on the path, in bytes/s. */
    public double bottleneckBytesPerS(int from, int to) {
        return path(from, to).stream().mapToDouble(l -> l.parameters().bytesPerSecond()).min().orElseThrow();
    }

    /** The wires' and switches' latency along the path, in ps. */
    public long latencyPs(int from, int to) {
        return path(from, to).stream().mapToLong(this::wirePs).sum();
    }

    /** The largest message the switches hold (store and forward): the smallest switch buffer. */
    public long largestMessageBytes() {
        return spec.switches().stream().mapToLong(SystemSpec.Switch::bufferBytes).min().orElse(Long.MAX_VALUE);
    }

    /** The switch every device is wired to directly, if there is one and it reduces (NVLink SHARP); else -1. */
    public int reducingSwitch() {
        for (SystemSpec.Switch s : spec.switches()) {
            int sw = byName.get(s.name());
            long devicesWired = outgoing.get(sw).stream().filter(l -> !isSwitch(l.to())).count();
            if (s.inSwitchReduction() && devicesWired == devices()) {
                return sw;
            }
        }
        return -1;
    }
}

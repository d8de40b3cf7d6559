package dev.rafter.hw;

import dev.rafter.config.InputException;
import dev.rafter.config.Section;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads {@code models/systems/*.yaml} strictly. {@code fabric.kind} picks how the wires are laid out:
 * <ul>
 *   <li>{@code switch}: every device on one switch ({@code switch}, {@code link});</li>
 *   <li>{@code two_level}: nodes of {@code devices_per_node} on a node switch each ({@code switch}, {@code link}),
 *       joined through a {@code top_switch} by {@code uplink}s from every device (a NIC per GPU) or from every
 *       node switch (a PCIe switch's link to the root complex): {@code uplink.from: device | switch};</li>
 *   <li>{@code torus}: {@code dims} (e.g. [4, 4]), a {@code link} to each neighbour, wrapping round;</li>
 *   <li>{@code point_to_point}: the {@code links} listed ({@code from}, {@code to}, and the link's numbers), through
 *       optional {@code switches}.</li>
 * </ul>
 * The wiring is then checked: every wire names a known endpoint, no switch has more wires than ports, and every
 * device reaches every other.
 */
public final class SystemLoader {
    private SystemLoader() {}

    private enum Kind { SWITCH, TWO_LEVEL, TORUS, POINT_TO_POINT }

    private enum UplinkFrom { DEVICE, SWITCH }

    public static SystemSpec load(Path file, List<String> overrides) {
        return load(file, overrides, List.of());
    }

    /**
     * As {@link #load(Path, List)}, with {@code deviceOverrides} (hardware keys, e.g. {@code host.framework=eager})
     * applied to every device's hardware file.
     */
    public static SystemSpec load(Path file, List<String> overrides, List<String> deviceOverrides) {
        Section s = Section.load(file).override(overrides);
        SystemSpec spec = read(s, deviceOverrides);
        s.finish();
        return spec;
    }

    public static SystemSpec read(Section s) {
        return read(s, List.of());
    }

    private static SystemSpec read(Section s, List<String> deviceOverrides) {
        String name = s.string("name");
        List<SystemSpec.Device> devices = new ArrayList<>();
        for (Section group : s.list("devices")) {
            String prefix = group.string("name");
            HardwareSpec hardware = HardwareLoader.load(group.file("hardware"), deviceOverrides);
            int count = group.int32("count");
            if (count < 1 || count > 4096) {
                throw InputException.located(group.where("count") + ": expected 1 to 4096 devices, got " + count);
            }
            for (int i = 0; i < count; i++) {
                devices.add(new SystemSpec.Device(prefix + devices.size(), hardware));
            }
        }
        Section f = s.section("fabric");
        Kind kind = f.choice("kind", Kind.class);
        Wiring w = new Wiring(devices);
        List<Integer> dimensions = List.of();
        List<Integer> ring = identity(devices.size());
        switch (kind) {
            case SWITCH -> {
                Section sw = f.section("switch");
                SystemSpec.Switch one = w.addSwitch(sw, "");
                SystemSpec.LinkParameters link = link(f.section("link"));
                for (SystemSpec.Device d : devices) {
                    w.wire(d.name(), one.name(), link, f.where("link"));
                }
            }
            case TWO_LEVEL -> {
                int perNode = f.int32("devices_per_node");
                if (perNode < 1 || devices.size() % perNode != 0 || devices.size() == perNode) {
                    throw InputException.located(f.where("devices_per_node") + ": expected a divisor of the "
                        + devices.size() + " devices that makes at least 2 nodes, got " + perNode);
                }
                int nodes = devices.size() / perNode;
                Section sw = f.section("switch");
                SystemSpec.LinkParameters link = link(f.section("link"));
                Section up = f.section("uplink");
                UplinkFrom from = up.choice("from", UplinkFrom.class);
                SystemSpec.LinkParameters uplink = link(up);
                SystemSpec.Switch top = w.addSwitch(f.section("top_switch"), "");
                for (int n = 0; n < nodes; n++) {
                    SystemSpec.Switch node = w.addSwitch(sw, String.valueOf(n));
                    for (int i = n * perNode; i < (n + 1) * perNode; i++) {
                        String device = devices.get(i).name();
                        w.wire(device, node.name(), link, f.where("link"));
                        if (from == UplinkFrom.DEVICE) {
                            w.wire(device, top.name(), uplink, f.where("uplink"));
                        }
                    }
                    if (from == UplinkFrom.SWITCH) {
                        w.wire(node.name(), top.name(), uplink, f.where("uplink"));
                    }
                }
                dimensions = List.of(perNode, nodes);
            }
            case TORUS -> {
                List<Integer> dims = new ArrayList<>();
                long product = 1;
                for (double d : f.numberList("dims")) {
                    if (d != Math.rint(d) || d < 2 || d > 4096) {
                        throw InputException.located(f.where("dims") + ": expected integers from 2 to 4096, got "
                            + dev.rafter.config.Check.fmt(d));
                    }
                    dims.add((int) d);
                    // Six dims of 4096 overflow a long: a product past the system's size is wrong whatever it is.
                    product = Math.min(product * (int) d, 1L << 48);
                }
                if (product != devices.size()) {
                    throw InputException.located(f.where("dims") + ": " + dims + " holds " + (product == 1L << 48
                        ? "2^48 or more" : Long.toString(product)) + " devices, but the system has "
                        + devices.size());
                }
                SystemSpec.LinkParameters link = link(f.section("link"));
                torus(w, devices, dims, link, f.where("link"));
                dimensions = List.copyOf(dims);
                ring = snake(dims);
            }
            case POINT_TO_POINT -> {
                if (f.has("switches")) {
                    for (Section sw : f.list("switches")) {
                        w.addSwitch(sw, "");
                    }
                }
                for (Section l : f.list("links")) {
                    String a = l.string("from");
                    String b = l.string("to");
                    for (String key : List.of("from", "to")) {
                        String end = l.string(key);
                        if (!w.known(end)) {
                            throw InputException.located(l.where(key) + ": unknown device or switch '" + end
                                + "'; expected one of " + w.endpointSummary());
                        }
                    }
                    if (a.equals(b)) {
                        throw InputException.located(l.where("to") + ": a link joins two different endpoints, got '"
                            + a + "' twice");
                    }
                    w.wire(a, b, link(l), l.where("from").replaceAll("\\.from$", ""));
                }
            }
        }
        w.checkPorts();
        w.checkConnected(f.where(kind == Kind.POINT_TO_POINT ? "links" : "kind"));
        List<Integer> dims = dimensions;
        List<Integer> order = ring;
        return s.build(() -> new SystemSpec(name, devices, w.switches, w.wires, dims, order));
    }

    private static SystemSpec.LinkParameters link(Section l) {
        return l.build(() -> new SystemSpec.LinkParameters(l.number("bandwidth_gb_per_s"), l.number("latency_ns"),
            l.number("pj_per_bit")));
    }

    private static List<Integer> identity(int n) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(i);
        }
        return out;
    }

    /** Device index of torus coordinates, dimension 0 fastest. */
    private static int index(int[] at, List<Integer> dims) {
        int i = 0;
        for (int d = dims.size() - 1; d >= 0; d--) {
            i = i * dims.get(d) + at[d];
        }
        return i;
    }

    private static void torus(Wiring w, List<SystemSpec.Device> devices, List<Integer> dims,
                              SystemSpec.LinkParameters link, String key) {
        for (int i = 0; i < devices.size(); i++) {
            int[] at = coordinates(i, dims);
            for (int d = 0; d < dims.size(); d++) {
                // A dimension of 2 has one neighbour, not two: wire it once.
                if (dims.get(d) == 2 && at[d] == 1) {
                    continue;
                }
                int[] next = at.clone();
                next[d] = (at[d] + 1) % dims.get(d);
                w.wire(devices.get(i).name(), devices.get(index(next, dims)).name(), link, key);
            }
        }
    }

    private static int[] coordinates(int i, List<Integer> dims) {
        int[] at = new int[dims.size()];
        for (int d = 0; d < dims.size(); d++) {
            at[d] = i % dims.get(d);
            i /= dims.get(d);
        }
        return at;
    }

    /**
     * The order a ring visits a torus: boustrophedon (each row walked in the direction opposite to the one before),
     * so every step is one wire, and with an even count of rows the last device neighbours the first round the wrap.
     */
    static List<Integer> snake(List<Integer> dims) {
        int total = dims.stream().reduce(1, (a, b) -> a * b);
        List<Integer> out = new ArrayList<>();
        for (int step = 0; step < total; step++) {
            int[] digits = coordinates(step, dims);
            int[] at = new int[dims.size()];
            // Reflected mixed-radix order: a digit runs backwards when the digits above it sum to an odd number.
            int above = 0;
            for (int d = dims.size() - 1; d >= 0; d--) {
                at[d] = above % 2 == 0 ? digits[d] : dims.get(d) - 1 - digits[d];
                above += at[d];
            }
            out.add(index(at, dims));
        }
        return out;
    }

    /** Endpoints and wires as they are declared, with the checks that need all of them. */
    private static final class Wiring {
        final List<SystemSpec.Device> devices;
        final List<SystemSpec.Switch> switches = new ArrayList<>();
        final Map<String, String> switchPortsKey = new HashMap<>();
        final List<SystemSpec.Wire> wires = new ArrayList<>();
        final Map<String, Integer> index = new LinkedHashMap<>();

        Wiring(List<SystemSpec.Device> devices) {
            this.devices = devices;
            for (SystemSpec.Device d : devices) {
                index.put(d.name(), index.size());
            }
        }

        SystemSpec.Switch addSwitch(Section sw, String suffix) {
            SystemSpec.Switch made = sw.build(() -> new SystemSpec.Switch(sw.string("name") + suffix,
                sw.int32("ports"), sw.number("latency_ns"), sw.integer("buffer_bytes"),
                sw.bool("in_switch_reduction", false)));
            if (index.containsKey(made.name())) {
                throw InputException.located(sw.where("name") + ": '" + made.name()
                    + "' is already the name of a device or switch");
            }
            index.put(made.name(), index.size());
            switches.add(made);
            switchPortsKey.put(made.name(), sw.where("ports"));
            return made;
        }

        boolean known(String endpoint) {
            return index.containsKey(endpoint);
        }

        String endpointSummary() {
            List<String> names = new ArrayList<>(index.keySet());
            return names.size() <= 12 ? String.join(", ", names)
                : String.join(", ", names.subList(0, 6)) + ", ..., " + names.get(names.size() - 1);
        }

        void wire(String a, String b, SystemSpec.LinkParameters parameters, String key) {
            wires.add(new SystemSpec.Wire(a, b, parameters, key));
        }

        void checkPorts() {
            Map<String, Integer> used = new HashMap<>();
            for (SystemSpec.Wire wire : wires) {
                used.merge(wire.from(), 1, Integer::sum);
                used.merge(wire.to(), 1, Integer::sum);
            }
            for (SystemSpec.Switch sw : switches) {
                int n = used.getOrDefault(sw.name(), 0);
                if (n > sw.ports()) {
                    throw InputException.located(switchPortsKey.get(sw.name()) + ": switch '" + sw.name() + "' has "
                        + sw.ports() + " ports but " + n + " links attach to it; expected ports >= " + n);
                }
            }
        }

        void checkConnected(String key) {
            List<List<Integer>> adjacent = new ArrayList<>();
            for (int i = 0; i < index.size(); i++) {
                adjacent.add(new ArrayList<>());
            }
            for (SystemSpec.Wire wire : wires) {
                int a = index.get(wire.from());
                int b = index.get(wire.to());
                adjacent.get(a).add(b);
                adjacent.get(b).add(a);
            }
            boolean[] seen = new boolean[index.size()];
            ArrayDeque<Integer> queue = new ArrayDeque<>(List.of(0));
            seen[0] = true;
            while (!queue.isEmpty()) {
                for (int next : adjacent.get(queue.poll())) {
                    if (!seen[next]) {
                        seen[next] = true;
                        queue.add(next);
                    }
                }
            }
            for (int i = 0; i < devices.size(); i++) {
                if (!seen[i]) {
                    throw InputException.located(key + ": the fabric is disconnected: " + devices.get(i).name()
                        + " has no path to " + devices.get(0).name() + "; expected every device to reach every other");
                }
            }
        }
    }
}

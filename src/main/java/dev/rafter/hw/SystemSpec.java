package dev.rafter.hw;

import static dev.rafter.config.Check.intIn;
import static dev.rafter.config.Check.numberIn;

import dev.rafter.config.Check;
import dev.rafter.config.InputException;
import java.util.List;

/**
 * A system: devices (each a hardware model) and the fabric that joins them, as a graph of named endpoints —
 * devices and switches — and bidirectional wires. {@code dimensions} are the levels a hierarchical collective
 * runs one after another (devices numbered level 0 fastest: [8, 2] is two nodes of 8; a 4x4 torus is [4, 4]);
 * empty for a flat fabric. {@code ringOrder} is the order a ring visits the devices (a torus snakes so each step
 * is one wire). Built by {@link SystemLoader}, which checks the wiring; the records check their own numbers.
 */
public record SystemSpec(String name, List<Device> devices, List<Switch> switches, List<Wire> wires,
                         List<Integer> dimensions, List<Integer> ringOrder) {
    public SystemSpec {
        Check.nonBlank("name", name);
        devices = List.copyOf(devices);
        switches = List.copyOf(switches);
        wires = List.copyOf(wires);
        dimensions = List.copyOf(dimensions);
        ringOrder = List.copyOf(ringOrder);
        if (devices.size() < 2) {
            throw new InputException("devices: a system needs at least 2 devices, got " + devices.size());
        }
    }

    /** One device: its endpoint name (e.g. gpu3) and hardware model. */
    public record Device(String name, HardwareSpec hardware) {}

    /**
     * A switch: ports, the latency a message spends inside it, its buffer, and whether it can reduce (NVLink SHARP,
     * InfiniBand SHARP).
     */
    public record Switch(String name, int ports, double latencyNs, long bufferBytes, boolean inSwitchReduction) {
        public Switch {
            Check.nonBlank("name", name);
            intIn("ports", ports, 1, 1 << 16);
            numberIn("latency_ns", latencyNs, 0, 1e9, false);
            if (bufferBytes < 1) {
                throw new InputException("buffer_bytes: expected a positive integer, got " + bufferBytes);
            }
        }
    }

    /** Per direction of a wire or port: bandwidth, latency and energy. */
    public record LinkParameters(double bandwidthGbPerS, double latencyNs, double pjPerBit) {
        public LinkParameters {
            numberIn("bandwidth_gb_per_s", bandwidthGbPerS, 1e-3, 1e6, false);
            numberIn("latency_ns", latencyNs, 0, 1e9, false);
            numberIn("pj_per_bit", pjPerBit, 0, 1e6, false);
        }

        public double bytesPerSecond() {
            return bandwidthGbPerS * 1e9;
        }
    }

    /** A full-duplex wire between two endpoints; {@code key} is where the file declares it, for messages. */
    public record Wire(String from, String to, LinkParameters parameters, String key) {
        // `key` names the file it was read from: two wires are the same when their ends and parameters are (a
        // sweep point's resume key must not depend on the folder).
        @Override
        public boolean equals(Object o) {
            return o instanceof Wire w && from.equals(w.from) && to.equals(w.to) && parameters.equals(w.parameters);
        }

        @Override
        public int hashCode() {
            return java.util.Objects.hash(from, to, parameters);
        }

        @Override
        public String toString() {
            return "Wire[from=" + from + ", to=" + to + ", parameters=" + parameters + "]";
        }
    }

    public int deviceCount() {
        return devices.size();
    }

    /** The cost table the collective library uses: the first device's (all devices of a system share a library). */
    public HardwareSpec.DeviceLink library() {
        return devices.get(0).hardware().deviceLink();
    }
}

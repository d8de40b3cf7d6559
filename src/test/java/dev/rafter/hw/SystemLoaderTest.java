package dev.rafter.hw;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.rafter.config.InputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SystemLoaderTest {
    @TempDir
    Path dir;

    static SystemSpec bundled(String name) {
        return SystemLoader.load(Path.of("models/systems/" + name + ".yaml"), List.of());
    }

    @Test
    void theBundledSystemsLoadWithTheirWiring() {
        SystemSpec h100 = bundled("dgx-h100-8");
        assertEquals(8, h100.deviceCount());
        assertEquals(8, h100.wires().size());
        assertEquals(true, h100.switches().get(0).inSwitchReduction());
        assertEquals(List.of(), h100.dimensions());

        SystemSpec two = bundled("two-node-h100");
        // 16 NVLink wires, 16 NICs; switches: the InfiniBand switch, then a node switch per node.
        assertEquals(32, two.wires().size());
        assertEquals(List.of("ib_switch", "nvswitch0", "nvswitch1"),
            two.switches().stream().map(SystemSpec.Switch::name).toList());
        assertEquals(List.of(8, 2), two.dimensions());

        SystemSpec pcie = bundled("pcie-4gpu");
        assertEquals(4 + 2, pcie.wires().size());
        assertEquals("l40s", pcie.devices().get(0).hardware().name());

        SystemSpec torus = bundled("tpu-v4-torus-16");
        assertEquals(32, torus.wires().size(), "4x4 torus: 2 wires per chip");
        assertEquals(List.of(0, 1, 2, 3, 7, 6, 5, 4, 8, 9, 10, 11, 15, 14, 13, 12), torus.ringOrder());
        assertEquals(1, bundled("dgx-a100-8").switches().size());
    }

    @Test
    void aTorusOfTwoWiresEachPairOnce() {
        assertEquals(List.of(0, 1, 3, 2), SystemLoader.snake(List.of(2, 2)));
    }

    private String hardware() {
        return Path.of("models/hardware/h100.yaml").toAbsolutePath().toString();
    }

    private String error(String text) throws IOException {
        Path file = dir.resolve("bad.yaml");
        Files.writeString(file, text);
        InputException e = assertThrows(InputException.class, () -> SystemLoader.load(file, List.of()));
        assertEquals(1, e.getMessage().lines().count());
        return e.getMessage().replace(file.toString(), "bad.yaml");
    }

    private String pointToPoint(String links) {
        return "name: x\ndevices:\n  - {name: gpu, hardware: " + hardware() + ", count: 3}\n"
            + "fabric:\n  kind: point_to_point\n"
            + "  switches:\n    - {name: sw, ports: 2, latency_ns: 0, buffer_bytes: 1024}\n"
            + "  links:\n" + links;
    }

    private static String link(String from, String to) {
        return "    - {from: " + from + ", to: " + to + ", bandwidth_gb_per_s: 1, latency_ns: 0, pj_per_bit: 1}\n";
    }

    @Test
    void aLinkToAnUnknownDeviceNamesItsKey() throws IOException {
        assertEquals("bad.yaml: fabric.links[1].to: unknown device or switch 'gpu7'; expected one of gpu0, gpu1, "
            + "gpu2, sw", error(pointToPoint(link("gpu0", "gpu1") + link("gpu1", "gpu7"))));
    }

    @Test
    void aDisconnectedFabricNamesTheDeviceLeftOut() throws IOException {
        assertEquals("bad.yaml: fabric.links: the fabric is disconnected: gpu2 has no path to gpu0; expected every "
            + "device to reach every other", error(pointToPoint(link("gpu0", "sw") + link("gpu1", "sw"))));
    }

    @Test
    void aSwitchWithTooFewPortsNamesItsPortsKey() throws IOException {
        assertEquals("bad.yaml: fabric.switches[0].ports: switch 'sw' has 2 ports but 3 links attach to it; "
            + "expected ports >= 3",
            error(pointToPoint(link("gpu0", "sw") + link("gpu1", "sw") + link("gpu2", "sw"))));
        String oneSwitch = "name: x\ndevices:\n  - {name: gpu, hardware: " + hardware() + ", count: 4}\n"
            + "fabric:\n  kind: switch\n  switch: {name: nv, ports: 3, latency_ns: 0, buffer_bytes: 1024}\n"
            + "  link: {bandwidth_gb_per_s: 1, latency_ns: 0, pj_per_bit: 1}\n";
        assertEquals("bad.yaml: fabric.switch.ports: switch 'nv' has 3 ports but 4 links attach to it; expected "
            + "ports >= 4", error(oneSwitch));
    }

    @Test
    void numbersAndShapesAreChecked() throws IOException {
        String torus = "name: x\ndevices:\n  - {name: t, hardware: " + hardware() + ", count: 8}\n"
            + "fabric:\n  kind: torus\n  dims: [4, 4]\n  link: {bandwidth_gb_per_s: 1, latency_ns: 0, pj_per_bit: 1}\n";
        assertEquals("bad.yaml: fabric.dims: [4, 4] holds 16 devices, but the system has 8", error(torus));
        assertEquals("bad.yaml: fabric.link.bandwidth_gb_per_s: expected a number >= 0.001 and <= 1000000, got -1",
            error(torus.replace("dims: [4, 4]", "dims: [4, 2]").replace("bandwidth_gb_per_s: 1",
                "bandwidth_gb_per_s: -1")));
        assertEquals("bad.yaml: fabric.link.pj_per_bit: required key is missing "
            + "(found 'fabric.link.pj_per_bitt': misspelt?)",
            error(torus.replace("dims: [4, 4]", "dims: [4, 2]").replace("pj_per_bit", "pj_per_bitt")));
    }
}

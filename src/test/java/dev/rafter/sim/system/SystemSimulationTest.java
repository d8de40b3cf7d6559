package dev.rafter.sim.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.hw.SystemLoader;
import dev.rafter.hw.SystemSpec;
import dev.rafter.report.SimulationReport;
import dev.rafter.report.SystemReport;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Workload;
import java.io.StringWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SystemSimulationTest {
    @TempDir
    Path tmp;

    /** summary.json without its simulator block, and ops.csv, of a run. */
    private record Outputs(String summary, String ops, SystemSimulation.Result result) {}

    private static Outputs run(SystemSpec spec, int tensorParallel, boolean reuse, boolean mirror) {
        return run(spec, tensorParallel, 1, 1, reuse, mirror);
    }

    private static Outputs run(SystemSpec spec, int tensorParallel, int stages, int replicas, boolean reuse,
                               boolean mirror) {
        Workload w = Workload.load(Path.of("models/workloads/tiny.yaml"),
            List.of("run.tensor_parallel=" + tensorParallel));
        StringWriter ops = new StringWriter();
        List<SimulationReport> reports = new ArrayList<>();
        SystemSimulation.Result result = new SystemSimulation(spec, tensorParallel).pipeline(stages, 1, 2)
            .replicas(replicas).reuse(reuse).mirror(mirror).run(OperatorSource.of(w, OperatorSource.phases("all")), null, rank -> {
                SimulationReport r = new SimulationReport(spec.devices().get(rank).hardware(),
                    rank == 0 ? ops : null, null).sequences(w.run().batch()).promptTokens(w.run().promptTokens());
                reports.add(r);
                return r;
            });
        Map<String, Object> summary = SystemReport.summary(spec, result, reports, tensorParallel,
            new Workload.Parallelism(stages, 1, replicas));
        summary.remove("simulator");
        return new Outputs(SimulationReport.json(summary), ops.toString(), result);
    }

    @Test
    void mirroringIdenticalDevicesAndReusingEqualsSimulatingEveryDeviceByteForByte() {
        // A two-level PCIe fabric (hierarchical collectives, a shared root complex) and one switch.
        for (String system : List.of("pcie-4gpu", "dgx-a100-8")) {
            SystemSpec spec = SystemLoader.load(Path.of("models/systems/" + system + ".yaml"), List.of());
            int tp = spec.deviceCount();
            Outputs everything = run(spec, tp, false, false);
            Outputs mirrored = run(spec, tp, false, true);
            Outputs shortcuts = run(spec, tp, true, true);
            assertEquals(tp, everything.result().simulatedDevices());
            assertEquals(1, shortcuts.result().simulatedDevices());
            assertTrue(shortcuts.result().reusedCollectives() > 0, system);
            assertEquals(everything.summary(), mirrored.summary(), system);
            assertEquals(everything.ops(), mirrored.ops(), system);
            assertEquals(everything.summary(), shortcuts.summary(), system);
            assertEquals(everything.ops(), shortcuts.ops(), system);
        }
    }

    @Test
    void withAHostPerDeviceTheShortcutsStillEqualSimulatingEveryDevice() {
        for (String system : List.of("pcie-4gpu", "dgx-a100-8")) {
            SystemSpec spec = SystemLoader.load(Path.of("models/systems/" + system + ".yaml"), List.of(),
                List.of("host.framework=eager"));
            int tp = spec.deviceCount();
            Outputs everything = run(spec, tp, false, false);
            Outputs shortcuts = run(spec, tp, true, true);
            assertEquals(1, shortcuts.result().simulatedDevices());
            assertEquals(everything.summary(), shortcuts.summary(), system);
            assertEquals(everything.ops(), shortcuts.ops(), system);
            assertEquals("eager", SystemReport.section(parse(everything.summary()).get("host")).get("framework"));
        }
    }

    @Test
    void oneDeviceOfASystemWithAHostTimesAsTheSameDeviceAlone() {
        // No collective on one device: the system's device and its host must keep the single device's timeline.
        for (String framework : List.of("none", "eager", "graph")) {
            SystemSpec spec = SystemLoader.load(Path.of("models/systems/dgx-a100-8.yaml"), List.of(),
                List.of("host.framework=" + framework));
            Workload w = Workload.load(Path.of("models/workloads/tiny.yaml"), List.of("run.tensor_parallel=1"));
            OperatorSource ops = OperatorSource.of(w, OperatorSource.phases("all"));
            SystemSimulation.Result system = new SystemSimulation(spec, 1).sequences(w.run().batch())
                .run(ops, null, null);
            dev.rafter.sim.Simulation.Result alone = new dev.rafter.sim.Simulation(spec.devices().get(0).hardware())
                .sequences(w.run().batch()).run(ops, null, r -> { });
            assertEquals(alone.endPs(), system.endPs(), framework);
            assertEquals(alone.stats().total().get(dev.rafter.sim.component.Host.KIND, "busy_ps"),
                system.devices().get(0).stats().total().get(dev.rafter.sim.component.Host.KIND, "busy_ps"),
                framework);
            assertEquals(alone.stats().total().get(dev.rafter.sim.component.Host.KIND, "launch_wait_ps"),
                system.devices().get(0).stats().total().get(dev.rafter.sim.component.Host.KIND, "launch_wait_ps"),
                framework);
        }
    }

    @Test
    void replayingCollectivesOnASingleSwitchEqualsSimulatingThemWithPipelinesAndReplicas() {
        SystemSpec spec = SystemLoader.load(Path.of("models/systems/dgx-a100-8.yaml"), List.of());
        Outputs everything = run(spec, 2, 2, 2, false, false);
        Outputs reused = run(spec, 2, 2, 2, true, true);
        assertEquals(8, reused.result().simulatedDevices());
        assertTrue(reused.result().reusedCollectives() > 0);
        assertEquals(everything.summary(), reused.summary());
        assertEquals(everything.ops(), reused.ops());
        // On two PCIe switches the replicas' collectives share the root complex: none is replayed.
        SystemSpec pcie = SystemLoader.load(Path.of("models/systems/pcie-4gpu.yaml"), List.of());
        Outputs shared = run(pcie, 1, 2, 2, true, true);
        assertEquals(0, shared.result().reusedCollectives());
        assertEquals(run(pcie, 1, 2, 2, false, false).summary(), shared.summary());
    }

    @Test
    void eightDevicesSpendEightDevicesWorthOfEnergy() {
        SystemSpec spec = SystemLoader.load(Path.of("models/systems/dgx-a100-8.yaml"), List.of());
        Outputs eight = run(spec, 8, true, true);
        Map<String, Object> s = parse(eight.summary());
        double total = (double) SystemReport.section(s.get("energy_j")).get("total");
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> devices = (List<Map<String, Object>>) s.get("devices");
        assertEquals(8, devices.size());
        double one = (double) devices.get(0).get("energy_j");
        double fabric = (double) SystemReport.section(s.get("fabric")).get("energy_j");
        assertTrue(fabric > 0);
        assertEquals(8 * one + fabric, total, 1e-9 * total);
    }

    /** Two A100 models on one switch, the second at a third of the clock: system file mixed.yaml in {@code dir}. */
    static SystemSpec fastAndSlow(Path dir) throws IOException {
        String hardware = Path.of("models/hardware").toAbsolutePath() + "/";
        String a100 = Files.readString(Path.of("models/hardware/a100.yaml")).replace("../", hardware + "../");
        Files.writeString(dir.resolve("fast.yaml"), a100);
        Files.writeString(dir.resolve("slow.yaml"), a100.replaceFirst("(?m)^clock_mhz: *[0-9.]+", "clock_mhz: 470")
            .replaceFirst("(?m)^name: .*", "name: a100-slow"));
        Files.writeString(dir.resolve("mixed.yaml"), """
            name: mixed
            devices:
              - {name: fast, hardware: fast.yaml, count: 1}
              - {name: slow, hardware: slow.yaml, count: 1}
            fabric:
              kind: switch
              switch: {name: sw, ports: 2, latency_ns: 0, buffer_bytes: 4194304, in_switch_reduction: false}
              link: {bandwidth_gb_per_s: 240, latency_ns: 0, pj_per_bit: 1.3}
            """);
        return SystemLoader.load(dir.resolve("mixed.yaml"), List.of());
    }

    @Test
    void aCollectiveWaitsForItsSlowestDevice() throws Exception {
        // Two A100 models, the second at a third of the clock: the fast one waits at every collective.
        SystemSpec spec = fastAndSlow(tmp);
        SystemSimulation.Result r = run(spec, 2, true, true).result();
        assertEquals(2, r.simulatedDevices());
        SystemSimulation.DeviceResult fast = r.devices().get(0);
        SystemSimulation.DeviceResult slow = r.devices().get(1);
        assertTrue(slow.computePs() > fast.computePs(), slow.computePs() + " vs " + fast.computePs());
        // Both leave every collective together: up to the last one, the fast device spent the difference waiting.
        assertTrue(fast.collectivePs() > slow.collectivePs(), fast.collectivePs() + " vs " + slow.collectivePs());
        assertTrue(fast.endPs() < slow.endPs());
        // Neither idles outside its operators.
        assertEquals(fast.endPs(), fast.computePs() + fast.collectivePs());
        assertEquals(slow.endPs(), slow.computePs() + slow.collectivePs());
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> parse(String json) {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().readValue(json, Map.class);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}

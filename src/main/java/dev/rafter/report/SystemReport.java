package dev.rafter.report;

import dev.rafter.hw.SystemSpec;
import dev.rafter.sim.Simulation;
import dev.rafter.sim.component.MemoryController;
import dev.rafter.sim.system.SystemSimulation;
import dev.rafter.workload.OperatorOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * summary.json of a system run: the first device's summary as the frame (its operators, phases, utilisation and
 * stalls, as a single device's), with the system's figures in place of the device's where they differ: the latency
 * is the last device's end, energy sums every device's and the fabric's links (static, dynamic, by component, per
 * phase), and three blocks: {@code system} (devices, parallelism, what binds), {@code devices} (per device: latency,
 * busy, bytes, energy; with {@code --order dependencies} the communication time exposed and hidden behind
 * compute) and {@code fabric} (bytes and utilisation per link and switch, collective time by algorithm,
 * energy). A device's board power figures would describe one device only, so the system summary has none.
 */
public final class SystemReport {
    private SystemReport() {}

    /**
     * The summary; {@code reports} holds a report per simulated device (one when the devices were mirrored: it
     * stands for all).
     */
    public static Map<String, Object> summary(SystemSpec spec, SystemSimulation.Result result,
                                              List<SimulationReport> reports, int tensorParallel,
                                              dev.rafter.workload.Workload.Parallelism parallelism) {
        List<Map<String, Object>> perDevice = new ArrayList<>();
        for (int i = 0; i < result.devices().size(); i++) {
            SystemSimulation.DeviceResult d = result.devices().get(i);
            if (i < reports.size()) {
                perDevice.add(reports.get(i).summary(new Simulation.Result(result.endPs(), result.events(),
                    result.wallS(), d.stats(), d.operators(), null, d.reusedOperators(), 0, 0, d.l2DirtyBytesLeft())));
            } else {
                perDevice.add(perDevice.get(0)); // mirrored: the same timeline, the same figures
            }
        }
        Map<String, Object> m = new LinkedHashMap<>(perDevice.get(0));
        m.remove("power");
        m.remove("cost");
        double fabricJ = result.fabricEnergyJ();
        double latency = result.endPs() * 1e-12;
        if (m.get("energy_j") instanceof Map<?, ?>) {
            double total = fabricJ;
            double statik = 0;
            double dynamic = fabricJ;
            Map<String, Object> byComponent = new LinkedHashMap<>();
            for (Map<String, Object> s : perDevice) {
                Map<String, Object> e = section(s.get("energy_j"));
                total += (double) e.get("total");
                statik += (double) e.get("static");
                dynamic += (double) e.get("dynamic");
                section(e.get("by_component")).forEach((k, v) -> byComponent.merge(k, v,
                    (a, b) -> (double) a + (double) b));
            }
            byComponent.put("fabric", fabricJ);
            Map<String, Object> en = new LinkedHashMap<>();
            en.put("total", total);
            en.put("static", statik);
            en.put("dynamic", dynamic);
            en.put("by_component", byComponent);
            m.put("energy_j", en);
            m.put("edp_j_s", total * latency);
            Map<String, Object> phases = new LinkedHashMap<>();
            for (Map.Entry<String, Object> p : section(m.get("phases")).entrySet()) {
                Map<String, Object> phase = new LinkedHashMap<>(section(p.getValue()));
                double sum = result.fabricEnergyByPhaseJ().getOrDefault(p.getKey(), 0.0);
                for (Map<String, Object> s : perDevice) {
                    Object j = section(section(s.get("phases")).get(p.getKey())).get("energy_j");
                    sum += j == null ? 0 : (double) j;
                }
                phase.put("energy_j", sum);
                phases.put(p.getKey(), phase);
            }
            m.put("phases", phases);
            if (m.get("serving") instanceof Map<?, ?> sv && sv.get("energy_per_output_token_j") != null) {
                Map<String, Object> serving = new LinkedHashMap<>(section(sv));
                double perDeviceToken = (double) serving.get("energy_per_output_token_j");
                double deviceJ = (double) section(perDevice.get(0).get("energy_j")).get("total");
                // The tokens of every replica, the whole system's energy.
                serving.put("energy_per_output_token_j", perDeviceToken * total / deviceJ / parallelism.replicas());
                m.put("serving", serving);
            }
        }
        if (parallelism.replicas() > 1 && m.get("serving") instanceof Map<?, ?> sv) {
            // Each replica serves its own batch: the system serves them all at once.
            Map<String, Object> serving = new LinkedHashMap<>(section(sv));
            if (serving.get("sequences") instanceof Number n) {
                serving.put("sequences", n.longValue() * parallelism.replicas());
            }
            if (serving.get("tokens_per_s") instanceof Double rate) {
                serving.put("tokens_per_s", rate * parallelism.replicas());
            }
            m.put("serving", serving);
        }
        m.put("system", system(spec, result, tensorParallel, parallelism, perDevice));
        m.put("devices", devices(result, perDevice));
        m.put("fabric", fabric(spec, result));
        Map<String, Object> sim = new LinkedHashMap<>(section(m.remove("simulator")));
        sim.put("devices_simulated", result.simulatedDevices());
        sim.put("collectives", result.collectives());
        sim.put("collectives_reused", result.reusedCollectives());
        m.put("simulator", sim);
        return m;
    }

    private static Map<String, Object> system(SystemSpec spec, SystemSimulation.Result result, int tensorParallel,
                                              dev.rafter.workload.Workload.Parallelism parallelism,
                                              List<Map<String, Object>> perDevice) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("name", spec.name());
        s.put("devices", result.devices().size());
        s.put("devices_in_system", spec.deviceCount());
        s.put("tensor_parallel", tensorParallel);
        s.put("pipeline_parallel", parallelism.stages());
        s.put("micro_batches", parallelism.microBatches());
        s.put("data_parallel", parallelism.replicas());
        s.put("expert_parallel", parallelism.experts());
        s.put("binding", binding(result, perDevice.get(0)));
        return s;
    }

    /**
     * What binds the run: the fabric when the devices spend most of their time waiting for communication (for their
     * peers or for the wires, not hidden behind compute), else what binds the device in its longest phase.
     */
    static String binding(SystemSimulation.Result result, Map<String, Object> firstDevice) {
        SystemSimulation.DeviceResult d = result.devices().get(0);
        if (d.exposedPs() > d.computePs()) {
            SystemSimulation.LinkResult busiest = busiest(result);
            return "fabric" + (busiest == null ? "" : " (busiest link " + busiest.name() + ")");
        }
        String binding = null;
        double longest = -1;
        for (Object p : section(firstDevice.get("phases")).values()) {
            Map<String, Object> phase = section(p);
            if ((double) phase.get("latency_s") > longest) {
                longest = (double) phase.get("latency_s");
                binding = (String) phase.get("binding");
            }
        }
        return "device " + binding;
    }

    private static SystemSimulation.LinkResult busiest(SystemSimulation.Result result) {
        SystemSimulation.LinkResult best = null;
        for (SystemSimulation.LinkResult l : result.links()) {
            if (best == null || l.busyPs() > best.busyPs()) {
                best = l;
            }
        }
        return best;
    }

    private static List<Map<String, Object>> devices(SystemSimulation.Result result,
                                                     List<Map<String, Object>> perDevice) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < result.devices().size(); i++) {
            SystemSimulation.DeviceResult d = result.devices().get(i);
            Map<String, Object> s = perDevice.get(i);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", d.name());
            m.put("hardware", d.hardware().name());
            m.put("operators", d.operators());
            m.put("latency_s", d.endPs() * 1e-12);
            m.put("busy_s", d.computePs() * 1e-12);
            m.put("collective_s", d.collectivePs() * 1e-12);
            if (result.order() == OperatorOrder.DEPENDENCIES) {
                // Communication beside compute: the part the cores waited for, and the part hidden behind compute.
                m.put("communication_exposed_s", d.exposedPs() * 1e-12);
                m.put("communication_hidden_s", (d.collectivePs() - d.exposedPs()) * 1e-12);
            }
            Map<String, Object> bytes = new LinkedHashMap<>();
            bytes.put("hbm_read", d.stats().total().get(MemoryController.KIND, "read_bytes"));
            bytes.put("hbm_write", d.stats().total().get(MemoryController.KIND, "write_bytes"));
            m.put("bytes", bytes);
            m.put("utilisation", s.get("utilisation"));
            m.put("energy_j", s.get("energy_j") instanceof Map<?, ?> e ? e.get("total") : null);
            out.add(m);
        }
        return out;
    }

    private static Map<String, Object> fabric(SystemSpec spec, SystemSimulation.Result result) {
        Map<String, Object> f = new LinkedHashMap<>();
        double seconds = result.endPs() == 0 ? 1 : result.endPs() * 1e-12;
        long total = 0;
        Map<String, Object> links = new LinkedHashMap<>();
        Map<String, long[]> switches = new LinkedHashMap<>();
        for (SystemSpec.Switch s : spec.switches()) {
            switches.put(s.name(), new long[2]);
        }
        for (SystemSimulation.LinkResult l : result.links()) {
            total += l.bytes();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("bytes", l.bytes());
            m.put("busy_s", l.busyPs() * 1e-12);
            m.put("utilisation", l.busyPs() * 1e-12 / seconds);
            links.put(l.name(), m);
            String to = l.name().substring(l.name().indexOf("->") + 2);
            long[] sw = switches.get(to);
            if (sw != null) {
                sw[0] += l.bytes();
                sw[1] += l.busyPs();
            }
        }
        f.put("bytes", total);
        f.put("energy_j", result.fabricEnergyJ());
        SystemSimulation.LinkResult busiest = busiest(result);
        f.put("busiest_link", busiest == null ? null : busiest.name());
        f.put("links", links);
        Map<String, Object> sw = new LinkedHashMap<>();
        for (SystemSpec.Switch s : spec.switches()) {
            long[] in = switches.get(s.name());
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("bytes_in", in[0]);
            // Busy time of its input ports together, per port.
            m.put("port_utilisation", in[1] * 1e-12 / seconds / s.ports());
            sw.put(s.name(), m);
        }
        f.put("switches", sw);
        Map<String, Object> algorithms = new LinkedHashMap<>();
        for (SystemSimulation.AlgorithmTotals a : result.algorithms()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("collectives", a.collectives());
            m.put("time_s", a.timePs() * 1e-12);
            algorithms.put(a.algorithm(), m);
        }
        f.put("collectives", algorithms);
        return f;
    }

    @SuppressWarnings("unchecked")
    public static Map<String, Object> section(Object value) {
        return (Map<String, Object>) value;
    }
}

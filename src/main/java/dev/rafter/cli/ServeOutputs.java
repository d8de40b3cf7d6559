package dev.rafter.cli;

import dev.rafter.hw.HardwareSpec;
import dev.rafter.hw.HostModel;
import dev.rafter.serving.Disaggregated;
import dev.rafter.serving.ServingEngine;
import dev.rafter.serving.ServingReport;
import dev.rafter.serving.StepTimer;
import dev.rafter.workload.Workload;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code rafter serve} writes beside the engine's own results: serving.json's blocks for the host, swapping,
 * replicas and disaggregation, and requests.csv's replica cells.
 */
final class ServeOutputs {
    private ServeOutputs() {
    }

    /** KV-cache bytes one token takes on one device (keys and values of every layer). */
    static long kvBytesPerToken(Workload w) {
        return 2L * w.run().layers() * w.kvHeadsPerDevice() * w.model().headDim() * w.run().kvDataType().bytes();
    }

    /** The serving host's cost per step, from its cost table, and whether the engine's own work was measured. */
    static Map<String, Object> hostSummary(HostModel host, ServingEngine.Limits limits) {
        HostModel.Costs c = host.costs();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("framework", host.framework().key());
        m.put("costs", c.name());
        m.put("sync_s", c.syncNs() * 1e-9);
        m.put("scheduling_and_sampling_s", c.servingStepNs() * 1e-9);
        m.put("per_sequence_s", c.servingSequenceNs() * 1e-9);
        m.put("graph_launch_s", c.graphLaunchNs() * 1e-9);
        m.put("graph_first_node_s", host.perKernelNs() * 1e-9);
        m.put("per_step_s", limits.hostStepPs() * 1e-12);
        m.put("per_sequence_in_step_s", limits.hostSequencePs() * 1e-12);
        if (c.servingStepNs() == 0 && c.servingSequenceNs() == 0) {
            m.put("scheduling_and_sampling", "not measured: serving.step_ns and serving.sequence_ns are 0 in "
                + c.name() + " (no primitive measurement published); the synchronisation and graph replay count");
        }
        return m;
    }

    static Map<String, Object> swapSummary(HardwareSpec hw, ServingEngine.Swap swap,
                                           List<ServingEngine.Result> results) {
        Map<String, Object> m = new LinkedHashMap<>();
        HardwareSpec.MemoryTier host = hw.tier("host");
        m.put("link_bandwidth_gb_per_s", host.memory().bandwidthGbPerS());
        m.put("link_latency_s", swap.linkLatencyPs() * 1e-12);
        m.put("block_bytes", swap.blockBytes());
        m.put("host_blocks", swap.hostBlocks());
        long out = 0;
        long in = 0;
        for (ServingEngine.Result r : results) {
            out += r.swapped().get("swapped_out_blocks");
            in += r.swapped().get("swapped_in_blocks");
        }
        m.put("swapped_out_blocks", out);
        m.put("swapped_in_blocks", in);
        return m;
    }

    /** Each replica's summary; with energy tables ({@code staticW} of a group, else NaN) its energy over the span. */
    static List<Map<String, Object>> replicaSummaries(List<ServingEngine.Result> results, int first,
                                                      ServeLayout layout, long kvBlocks, double spanS,
                                                      double staticW) {
        List<Map<String, Object>> each = new ArrayList<>();
        for (int k = 0; k < results.size(); k++) {
            Map<String, Object> m = ServingReport.replicaSummary(k, results.get(k), kvBlocks, spanS);
            if (!Double.isNaN(staticW)) {
                m.put("energy_j", staticW * spanS + results.get(k).steps().dynamicJ.sum());
            }
            if (layout != null) {
                List<Object> devices = new ArrayList<>();
                layout.groups().get(first + k).forEach(d -> devices.add((long) d));
                m.put("devices", devices);
            }
            each.add(m);
        }
        return each;
    }

    /** serving.json's disaggregation block: each side's replicas and utilisation, and the KV-cache transfers. */
    static Map<String, Object> disaggregation(Disaggregated.Result split, ServeLayout layout, long kvBlocks,
                                              double spanS, Workload w, double staticW) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("prefill", side(split.prefill().replicas(), 0, layout, kvBlocks, spanS, staticW));
        m.put("decode", side(split.decode(), layout.prefill(), layout, kvBlocks, spanS, staticW));
        Map<String, Object> kv = new LinkedHashMap<>();
        List<Double> times = new ArrayList<>();
        for (long t : split.transferPs()) {
            if (t >= 0) {
                times.add(t * 1e-12);
            }
        }
        kv.put("transfers", (long) times.size());
        kv.put("bytes", split.transferBytes());
        kv.put("bytes_per_token", kvBytesPerToken(w) * layout.tensorParallel());
        kv.put("time_s", ServingReport.distribution(times));
        List<Double> waits = new ArrayList<>();
        for (long t : split.waitPs()) {
            if (t >= 0) {
                waits.add(t * 1e-12);
            }
        }
        // From the end of a prefill to the start of its transfer: the decode side had no room for it yet.
        kv.put("wait_for_decode_s", ServingReport.distribution(waits));
        Map<String, Object> links = new LinkedHashMap<>();
        for (var l : split.links()) {
            if (l.bytes() > 0) {
                Map<String, Object> use = new LinkedHashMap<>();
                use.put("bytes", l.bytes());
                use.put("utilisation", l.busyPs() * 1e-12 / spanS);
                links.put(l.name(), use);
            }
        }
        kv.put("links", links);
        m.put("kv_transfer", kv);
        return m;
    }

    private static Map<String, Object> side(List<ServingEngine.Result> results, int first, ServeLayout layout,
                                            long kvBlocks, double spanS, double staticW) {
        Map<String, Object> m = new LinkedHashMap<>();
        List<Map<String, Object>> each = replicaSummaries(results, first, layout, kvBlocks, spanS, staticW);
        double busy = 0;
        for (Map<String, Object> r : each) {
            busy += (double) r.get("busy_share");
        }
        m.put("replicas", (long) results.size());
        m.put("devices", (long) results.size() * layout.tensorParallel());
        m.put("busy_share", busy / results.size());
        m.put("per_replica", each);
        return m;
    }

    /** The step memos of several timers, summed. */
    static Map<String, Object> memoOfAll(List<StepTimer> timers) {
        Map<String, Object> sum = new LinkedHashMap<>();
        for (StepTimer t : timers) {
            t.memo().forEach((k, v) -> sum.merge(k, v, (a, b) -> (long) a + (long) b));
        }
        return sum;
    }

    static <T> List<T> concat(List<T> a, List<T> b) {
        List<T> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    static Object[] boxed(int[] values) {
        Object[] cells = new Object[values.length];
        for (int i = 0; i < values.length; i++) {
            cells[i] = values[i];
        }
        return cells;
    }

    /** Values, with -1 (none) as an empty cell. */
    static Object[] orEmpty(int[] values) {
        Object[] cells = new Object[values.length];
        for (int i = 0; i < values.length; i++) {
            cells[i] = values[i] < 0 ? "" : values[i];
        }
        return cells;
    }

    /** Picoseconds as seconds, with -1 (none) as an empty cell. */
    static Object[] seconds(long[] ps) {
        Object[] cells = new Object[ps.length];
        for (int i = 0; i < ps.length; i++) {
            cells[i] = ps[i] < 0 ? "" : ps[i] * 1e-12;
        }
        return cells;
    }
}

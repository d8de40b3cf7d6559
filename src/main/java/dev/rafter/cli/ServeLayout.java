package dev.rafter.cli;

import dev.rafter.config.InputException;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.hw.SystemSpec;
import dev.rafter.serving.FabricGroup;
import dev.rafter.serving.StepTimer;
import dev.rafter.sim.fabric.FabricGraph;
import dev.rafter.workload.Workload;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The replicas of a system: device groups of {@code run.tensor_parallel} devices, in the system's order (the
 * first {@code prefill} of them prefill when {@code decode} is above 0), on the system's fabric.
 */
record ServeLayout(FabricGraph graph, int tensorParallel, List<List<Integer>> groups, int prefill, int decode) {
    /**
     * One step timer per group whose collectives cross the fabric; with one device per group there are none,
     * and the devices are identical, so {@code shared} serves them all.
     */
    List<StepTimer> timers(HardwareSpec hw, Workload w, StepTimer shared) {
        if (tensorParallel == 1) {
            return List.of(shared);
        }
        List<StepTimer> timers = new ArrayList<>();
        for (List<Integer> g : groups) {
            timers.add(new StepTimer(hw, w, new FabricGroup(graph, g), shared.timing()));
        }
        return timers;
    }

    Map<String, Object> describe(SystemSpec spec) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", spec.name());
        m.put("devices_in_system", (long) spec.deviceCount());
        m.put("devices", (long) groups.size() * tensorParallel);
        m.put("tensor_parallel", (long) tensorParallel);
        m.put("groups", (long) groups.size());
        return m;
    }

    /**
     * The groups {@code --system}, {@code --replicas} and {@code --disaggregate} ask for on {@code spec}, each of
     * the workload's {@code run.tensor_parallel} devices; refused where the system lacks them or they differ.
     */
    static ServeLayout of(SystemSpec spec, Workload w, String disaggregate, Integer replicas, Path workload,
                          Path system) {
        int tp = w.run().tensorParallel();
        int available = spec.deviceCount() / tp;
        int prefill = 0;
        int decode = 0;
        int count;
        if (disaggregate != null) {
            int[] pd = parseDisaggregate(disaggregate);
            prefill = pd[0];
            decode = pd[1];
            count = prefill + decode;
        } else {
            count = replicas != null ? replicas : available;
        }
        if (count < 1 || count > available) {
            throw new InputException(String.format(Locale.ROOT, "%s: %d group(s) of run.tensor_parallel %d devices "
                + "asked for, the %d devices of system %s hold %d", disaggregate != null ? "--disaggregate"
                : replicas != null ? "--replicas" : workload + ": run.tensor_parallel", count, tp,
                spec.deviceCount(), spec.name(), available));
        }
        HardwareSpec first = spec.devices().get(0).hardware();
        List<List<Integer>> groups = new ArrayList<>();
        for (int g = 0; g < count; g++) {
            List<Integer> devices = new ArrayList<>();
            for (int t = 0; t < tp; t++) {
                int d = g * tp + t;
                if (!spec.devices().get(d).hardware().equals(first)) {
                    throw new InputException("--system: device " + spec.devices().get(d).name() + " of " + system
                        + " is not the first device's hardware; replicas of different devices are not modelled");
                }
                devices.add(d);
            }
            groups.add(List.copyOf(devices));
        }
        return new ServeLayout(new FabricGraph(spec), tp, List.copyOf(groups), prefill, decode);
    }

    /** {@code --disaggregate prefill=P,decode=D}: the device groups of each side. */
    private static int[] parseDisaggregate(String disaggregate) {
        int[] pd = {-1, -1};
        for (String part : disaggregate.split(",", -1)) {
            String[] kv = part.split("=", -1);
            int side = kv.length != 2 ? -1 : kv[0].trim().equals("prefill") ? 0 : kv[0].trim().equals("decode") ? 1
                : -1;
            try {
                if (side >= 0 && pd[side] < 0) {
                    pd[side] = Integer.parseInt(kv[1].trim());
                    if (pd[side] >= 1 && pd[side] <= 4096) {
                        continue;
                    }
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            pd[0] = -2;
            break;
        }
        if (pd[0] < 1 || pd[1] < 1) {
            throw new InputException("--disaggregate: expected prefill=P,decode=D (device groups of "
                + "run.tensor_parallel devices, 1 to 4096 each), got '" + disaggregate + "'");
        }
        return pd;
    }
}

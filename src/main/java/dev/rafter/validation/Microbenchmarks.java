package dev.rafter.validation;

import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.sim.Device;
import dev.rafter.sim.Kernel;
import dev.rafter.sim.Simulation;
import dev.rafter.sim.message.CoreTransfer;
import dev.rafter.sim.message.MemoryAccess;
import dev.rafter.sim.trace.RunStats;
import dev.rafter.sim.trace.Track;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Phase;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Published primitive microbenchmarks (gpu-benches, BabelStream, NCCL; each row names its source) run on Rafter's
 * device models ({@code validation/microbenchmarks.csv}), so that the constants in models/ can never drift from their sources
 * unnoticed. Each probe drives the simulated device as the benchmark drives the real one:
 * <ul>
 *   <li>{@code stream_read}: 512 MiB read in 4 MiB requests, 8 in flight (gpu-stream read-only); the value is the
 *       achieved fraction of the memory's peak bandwidth;</li>
 *   <li>{@code stream_copy}: the same with half the requests writes to another region (BabelStream copy);</li>
 *   <li>{@code launch_gap}: 100 back-to-back tiny kernels under the dispatch mode in {@code param}; the value is
 *       the fixed cost per kernel in seconds (gpu-small-kernels' fitted start-up constant);</li>
 *   <li>{@code l2_bandwidth}: every core reads 2 MiB from the global buffer in 32 KiB pieces; bytes per second
 *       (gpu-l2-cache);</li>
 *   <li>{@code memory_latency}: one 64 B load that misses the global buffer: memory path, then global buffer to
 *       core; seconds (gpu-latency pointer chase);</li>
 *   <li>{@code all_reduce_latency}: an all-reduce of 8 B over {@code param} devices; seconds (nccl-tests).</li>
 *   <li>{@code host_op_wall}: one empty (one-element) operator under host framework {@code param}, timed from the
 *       host around a synchronisation ({@code --timing wall}); seconds;</li>
 *   <li>{@code host_issue}: 100 empty operators under framework {@code param}; the host's CPU time per operator;</li>
 *   <li>{@code host_step}: one forward step of N empty kernels under framework {@code param} ({@code graph:8}); the
 *       host's CPU time for the step;</li>
 *   <li>{@code host_decode_bound}: the bundled tiny model's decode steps under framework {@code param}; the share of
 *       the run the host's CPU is busy (1: host-bound, the device waits for launches).</li>
 * </ul>
 */
final class Microbenchmarks {
    private static final long MIB = 1 << 20;

    private final Path dir;

    Microbenchmarks(Path dir) {
        this.dir = dir;
    }

    void run(List<Validation.Check> out) {
        for (String[] row : Validation.rows(dir.resolve("microbenchmarks.csv"), 8)) {
            Path hwFile = dir.resolveSibling("models").resolve("hardware").resolve(row[1] + ".yaml");
            String probe = row[2];
            String param = row[3].trim();
            double expected = dev.rafter.config.Numbers.parseDouble(row[4]);
            double min = dev.rafter.config.Numbers.parseDouble(row[5]);
            double max = dev.rafter.config.Numbers.parseDouble(row[6]);
            String[] hostParam = param.split(":");
            List<String> sets = probe.equals("launch_gap") ? List.of("dispatch.mode=" + param)
                : probe.startsWith("host_") ? List.of("host.framework=" + hostParam[0]) : List.of();
            HardwareSpec hw = HardwareLoader.load(hwFile, sets);
            double value = switch (probe) {
                case "stream_read" -> stream(hw, false);
                case "stream_copy" -> stream(hw, true);
                case "launch_gap" -> launchGap(hw);
                case "l2_bandwidth" -> globalBufferBandwidth(hw);
                case "memory_latency" -> memoryLatency(hw);
                case "all_reduce_latency" -> allReduce(hw, Integer.parseInt(param));
                case "host_op_wall" -> emptyOps(hw, 1, dev.rafter.workload.Timing.WALL).ops().get(0).latencyS();
                case "host_issue" -> emptyOps(hw, 100, dev.rafter.workload.Timing.KERNEL).hostBusyS() / 100;
                case "host_step" -> emptyOps(hw, Integer.parseInt(hostParam[1]), dev.rafter.workload.Timing.KERNEL)
                    .hostBusyS();
                case "host_decode_bound" -> decodeHostShare(hw);
                default -> throw new dev.rafter.config.InputException(dir.resolve("microbenchmarks.csv")
                    + ": unknown probe '" + probe + "'");
            };
            out.add(new Validation.Check("microbenchmark", row[0] + "@" + row[1], expected, value,
                String.format(Locale.ROOT, "%s <= %s <= %s (%s)", fmt(min), fmt(value), fmt(max), row[7].trim()),
                value >= min && value <= max));
        }
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.4g", v);
    }

    /** Runs {@code body} on a fresh device; returns the time the last event ran. */
    private static long onDevice(HardwareSpec hw, java.util.function.Consumer<Device> body) {
        List<Track> tracks = Device.tracks(hw);
        return new Kernel().run(s -> body.accept(new Device(hw, s, new RunStats(tracks), tracks)));
    }

    private static double stream(HardwareSpec hw, boolean copy) {
        long request = 4 * MIB;
        int requests = 128;
        int inFlight = 8;
        long[] issued = {0};
        long end = onDevice(hw, d -> {
            Runnable[] next = new Runnable[1];
            next[0] = () -> {
                if (issued[0] == requests) {
                    return;
                }
                long i = issued[0]++;
                MemoryAccess a = copy && i % 2 == 1
                    ? new MemoryAccess.ResultWrite(0, dev.rafter.mapping.TensorRole.SCRATCH, dev.rafter.mapping.Region.FIRST_TIER, (1L << 36) + i / 2 * request, request)
                    : new MemoryAccess.StageFill(0, dev.rafter.mapping.TensorRole.SCRATCH, dev.rafter.mapping.Region.FIRST_TIER, (copy ? i / 2 : i) * request, request);
                d.memory().transfer(a, next[0]);
            };
            for (int i = 0; i < inFlight; i++) {
                next[0].run();
            }
        });
        return (double) request * requests / (end * 1e-12) / hw.memoryBytesPerS();
    }

    /**
     * The fixed cost per kernel: 100 back-to-back tiny kernels with the device's dispatch cost, minus the same
     * without it, per kernel. (The benchmark's own interval also holds the kernel body at L2 speed, which its fit
     * separates out as the start-up constant; here the body, whatever it finds in the L2, is compared away.)
     */
    private static double launchGap(HardwareSpec hw) {
        HardwareSpec ideal = new HardwareSpec(hw.name(), hw.clockMhz(), hw.cores(), hw.core(), hw.globalBuffer(),
            hw.memory(), hw.interconnect(), hw.deviceLink(), dev.rafter.hw.Dispatch.NONE, hw.dataType(), null,
            hw.components());
        return (kernels(hw) - kernels(ideal)) / 100;
    }

    private static double kernels(HardwareSpec hw) {
        List<Operator> ops = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            ops.add(Operator.vector(i, "scale", OpKind.ELEMENTWISE, Phase.DECODE, 0, 1, 16 * 1024, DataType.FP16));
        }
        long[] end = {0};
        new Simulation(hw).run(OperatorSource.of(ops.toArray(new Operator[0])), null, r -> end[0] = r.endPs());
        return end[0] * 1e-12;
    }

    private record HostRun(List<Simulation.OpResult> ops, Simulation.Result result) {
        double hostBusyS() {
            return result.stats().total().get(dev.rafter.sim.component.Host.KIND, "busy_ps") * 1e-12;
        }
    }

    /** {@code n} one-element elementwise operators in one forward step (an empty op: launch and framework only). */
    private static HostRun emptyOps(HardwareSpec hw, int n, dev.rafter.workload.Timing timing) {
        Operator[] ops = new Operator[n];
        for (int i = 0; i < n; i++) {
            ops[i] = Operator.vector(i, "empty", OpKind.ELEMENTWISE, Phase.DECODE, 0, 1, 1, DataType.FP16);
        }
        List<Simulation.OpResult> out = new ArrayList<>();
        Simulation.Result r = new Simulation(hw).timing(timing).run(OperatorSource.of(ops), null, out::add);
        return new HostRun(out, r);
    }

    /** The host's busy share of the tiny model's decode steps (models/workloads/tiny.yaml, one device's share). */
    private double decodeHostShare(HardwareSpec hw) {
        dev.rafter.workload.Workload w = dev.rafter.workload.Workload.load(dir.resolveSibling("models")
            .resolve("workloads").resolve("tiny.yaml"));
        List<Operator> ops = new ArrayList<>();
        dev.rafter.workload.Lowering.lower(w, java.util.Set.of(Phase.DECODE), ops::add);
        Simulation.Result r = new Simulation(hw).sequences(w.run().batch())
            .run(OperatorSource.of(ops.toArray(new Operator[0])), null, x -> { });
        return r.stats().total().get(dev.rafter.sim.component.Host.KIND, "busy_ps") / (double) r.endPs();
    }

    private static double globalBufferBandwidth(HardwareSpec hw) {
        long piece = 32 * 1024;
        int pieces = 64;
        long[] last = {0};
        onDevice(hw, d -> {
            for (int i = 0; i < pieces; i++) {
                for (int c = 0; c < hw.cores(); c++) {
                    last[0] = Math.max(last[0], d.interconnect().reserve(new CoreTransfer.TileLoad(0, c, piece)));
                }
            }
        });
        return (double) piece * pieces * hw.cores() / (last[0] * 1e-12);
    }

    private static double memoryLatency(HardwareSpec hw) {
        long[] arrival = {0};
        onDevice(hw, d -> d.memory().transfer(new MemoryAccess.StageFill(0, dev.rafter.mapping.TensorRole.SCRATCH, dev.rafter.mapping.Region.FIRST_TIER, 0, 64),
            () -> arrival[0] = d.interconnect().reserve(new CoreTransfer.TileLoad(0, 0, 64))));
        return arrival[0] * 1e-12;
    }

    private static double allReduce(HardwareSpec hw, int devices) {
        Operator ar = Operator.allReduce(0, "ar", Phase.DECODE, 0, 1, 4, devices, DataType.FP16);
        double[] latency = {0};
        new Simulation(hw).run(OperatorSource.of(ar), null, r -> latency[0] = r.latencyS());
        return latency[0];
    }
}

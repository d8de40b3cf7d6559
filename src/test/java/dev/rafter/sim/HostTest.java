package dev.rafter.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.config.Section;
import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.sim.component.Catalogue;
import dev.rafter.sim.component.Host;
import dev.rafter.sim.trace.RunStats;
import dev.rafter.sim.trace.Track;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Phase;
import dev.rafter.workload.Timing;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The host that launches kernels: its timeline against the device's, to the picosecond. */
class HostTest {
    @TempDir
    Path tmp;

    /** A cost table; every figure in ns. */
    private Path costs(double launch, double sync, double op, double call, double graphLaunch, double node,
                       double step) throws Exception {
        return costs(tmp, launch, sync, op, call, graphLaunch, node, step);
    }

    /** A cost table in {@code dir}; every figure in ns (also HostStreamsTest's). */
    static Path costs(Path dir, double launch, double sync, double op, double call, double graphLaunch, double node,
                      double step) throws Exception {
        Path f = dir.resolve("costs-" + System.nanoTime() + ".yaml");
        Files.writeString(f, "name: test\nlaunch_ns: " + launch + "\nsync_ns: " + sync + "\neager:\n  op_ns: " + op
            + "\ncompiled:\n  call_ns: " + call + "\n  kernel_ns: 0\ngraph:\n  launch_ns: " + graphLaunch
            + "\n  node_ns: " + node + "\nserving:\n  step_ns: " + step + "\n  sequence_ns: 0\n");
        return f;
    }

    /**
     * The A100 model on simple memory with no device-side dispatch cost, an L2 that keeps nothing between kernels (so
     * each kernel takes the same time), and the given host.
     */
    static HardwareSpec a100(String framework, Path costs, String... more) {
        List<String> sets = new ArrayList<>(List.of("memory.model=simple", "dispatch.eager_ns=0",
            "dispatch.graph_ns=0", "global_buffer.keeps_contents=false", "host.framework=" + framework));
        if (costs != null) {
            sets.add("host.costs=" + costs.toAbsolutePath());
        }
        sets.addAll(List.of(more));
        return HardwareLoader.load(Path.of("models/hardware/a100.yaml"), sets);
    }

    private static Operator norm(long id, int step) {
        return Operator.vector(id, "n" + id, OpKind.RMSNORM, Phase.DECODE, 0, step, 4 * 4096, DataType.FP16);
    }

    private record Run(List<Simulation.OpResult> ops, Simulation.Result result) {
        long hostStat(String statistic) {
            return result.stats().total().get(Host.KIND, statistic);
        }
    }

    private static Run run(HardwareSpec hw, Timing timing, boolean reuse, Operator... ops) {
        List<Simulation.OpResult> out = new ArrayList<>();
        Simulation.Result r = new Simulation(hw).reuse(reuse).timing(timing).run(OperatorSource.of(ops), null,
            out::add);
        return new Run(out, r);
    }

    private static Operator[] norms(int n) {
        Operator[] ops = new Operator[n];
        for (int i = 0; i < n; i++) {
            ops[i] = norm(i, 0);
        }
        return ops;
    }

    /** One kernel's time on the device alone (no host). */
    private static long kernelPs(HardwareSpec hw) {
        Simulation.OpResult r = run(hw, Timing.KERNEL, true, norm(0, 0)).ops().get(0);
        return r.endPs() - r.startPs();
    }

    @Test
    void aHostSlowerThanTheKernelsLeavesTheDeviceIdleByExactlyTheDifference() throws Exception {
        long kernel = kernelPs(a100("none", null));
        long launch = 50_000_000; // 50 us per eager op, far above the kernel's few microseconds
        assertTrue(launch > kernel);
        HardwareSpec hw = a100("eager", costs(0, 0, 50_000, 0, 0, 0, 0));
        int n = 10;
        Run r = run(hw, Timing.KERNEL, true, norms(n));
        for (int i = 0; i < n; i++) {
            Simulation.OpResult op = r.ops().get(i);
            assertEquals((i + 1) * launch, op.startPs(), "op " + i + " starts when the host has launched it");
            assertEquals(kernel, op.endPs() - op.startPs(), "and then takes its kernel time");
        }
        assertEquals(launch + (n - 1) * (launch - kernel), r.hostStat("launch_wait_ps"), "the device idles by the "
            + "host's excess over each kernel");
        assertEquals(n * launch, r.hostStat("busy_ps"));
        assertEquals(n, r.hostStat("kernels"));
    }

    @Test
    void aFastHostNeverDelaysTheDeviceEvenWithAShortQueue() throws Exception {
        long kernel = kernelPs(a100("none", null));
        long launch = 100_000; // 0.1 us per launch
        assertTrue(launch < kernel);
        HardwareSpec hw = a100("eager", costs(0, 0, 100, 0, 0, 0, 0), "host.queue_depth=2");
        int n = 10;
        Run r = run(hw, Timing.KERNEL, true, norms(n));
        for (int i = 0; i < n; i++) {
            assertEquals(launch + i * kernel, r.ops().get(i).startPs(), "only the first launch is exposed");
        }
        assertEquals(launch, r.hostStat("launch_wait_ps"));
    }

    @Test
    void theQueueHoldsTheHostUntilTheKernelQueueDepthLaunchesBackHasFinished() throws Exception {
        HardwareSpec hw = a100("eager", costs(1, 0, 0, 0, 0, 0, 0), "host.queue_depth=2");
        List<Track> tracks = Catalogue.tracks(hw);
        RunStats stats = new RunStats(tracks);
        Host host = new Host(hw.host(), stats, Catalogue.tracksOf(tracks, Host.KIND), 0);
        assertEquals(1_000, host.launch(norm(0, 0), true, 0));
        host.finished(5_000);
        assertEquals(2_000, host.launch(norm(1, 0), true, 5_000), "ahead of the device: one kernel is queued");
        host.finished(9_000);
        assertEquals(6_000, host.launch(norm(2, 0), true, 9_000), "two launches pending: waits for kernel 0's end");
    }

    @Test
    void stepCostsAreChargedOncePerForwardStepAndServingSynchronisesBetweenSteps() throws Exception {
        HardwareSpec compiled = a100("compiled", costs(1, 3, 0, 10, 0, 0, 0));
        List<Track> tracks = Catalogue.tracks(compiled);
        Host host = new Host(compiled.host(), new RunStats(tracks), Catalogue.tracksOf(tracks, Host.KIND), 0);
        assertEquals(11_000, host.launch(norm(0, 0), true, 0), "guards, then the launch");
        host.finished(12_000);
        assertEquals(12_000, host.launch(norm(1, 0), true, 12_000), "same step: the launch alone");
        host.finished(13_000);
        assertEquals(23_000, host.launch(norm(2, 1), true, 13_000), "a new step: guards again");

        HardwareSpec serving = a100("serving", costs(1, 3, 0, 0, 0, 1, 10));
        Host s = new Host(serving.host(), new RunStats(tracks), Catalogue.tracksOf(Catalogue.tracks(serving),
            Host.KIND), 0);
        assertEquals(11_000, s.launch(norm(0, 0), true, 0), "step cost, then a graph node");
        s.finished(20_000);
        assertEquals(12_000, s.launch(norm(1, 0), true, 20_000), "the same step's next node");
        s.finished(30_000);
        assertEquals(30_000 + 3_000 + 11_000, s.launch(norm(2, 1), true, 30_000), "a new step waits for the "
            + "device to drain and the round trip, then schedules");
    }

    @Test
    void wallTimingAddsTheCallTheLaunchAndTheSynchronisationToTheKernel() throws Exception {
        Path table = costs(2_700, 3_100, 2_000, 0, 0, 0, 0);
        HardwareSpec hw = a100("eager", table);
        Simulation.OpResult kernel = run(hw, Timing.KERNEL, true, norm(0, 0)).ops().get(0);
        Simulation.OpResult wall = run(hw, Timing.WALL, true, norm(0, 0)).ops().get(0);
        assertEquals(0, wall.startPs(), "timed from the host's call");
        assertEquals(4_700_000 + (kernel.endPs() - kernel.startPs()) + 3_100_000, wall.endPs() - wall.startPs());
        // Wall timing synchronises after each operator: the host never runs ahead, so every launch is exposed.
        Run two = run(hw, Timing.WALL, true, norm(0, 0), norm(1, 0));
        assertEquals(two.ops().get(0).endPs(), two.ops().get(1).startPs());
        assertEquals(2 * 4_700_000L, two.hostStat("launch_wait_ps"));
    }

    @Test
    void reuseAndRerunsGiveTheSameResultsWithAHost() throws Exception {
        HardwareSpec hw = a100("eager", costs(2_700, 3_100, 2_000, 0, 0, 0, 0));
        Operator[] ops = new Operator[12];
        for (int i = 0; i < ops.length; i++) {
            ops[i] = i % 3 == 2 ? Operator.gemm(i, "g" + i, Phase.DECODE, 0, i / 6, 1, 8, 1024, 1024,
                DataType.FP16) : norm(i, i / 6);
        }
        for (Timing timing : Timing.values()) {
            Run a = run(hw, timing, true, ops);
            Run b = run(hw, timing, true, ops);
            Run simulated = run(hw, timing, false, ops);
            for (int i = 0; i < ops.length; i++) {
                for (Run other : List.of(b, simulated)) {
                    assertEquals(a.ops().get(i).startPs(), other.ops().get(i).startPs(), timing + " op " + i);
                    assertEquals(a.ops().get(i).endPs(), other.ops().get(i).endPs(), timing + " op " + i);
                }
            }
            for (String stat : List.of("busy_ps", "sync_ps", "launch_wait_ps", "kernels")) {
                assertEquals(a.hostStat(stat), simulated.hostStat(stat), stat);
            }
        }
    }

    @Test
    void hostNoneIsTheDeviceAsItWasWithoutAHostSection() throws Exception {
        Path file = Path.of("models/hardware/a100.yaml");
        String text = Files.readString(file);
        assertTrue(text.contains("\nhost:\n"), "the bundled model names its host");
        HardwareSpec without = HardwareLoader.read(Section.parse(file.toString(),
            text.substring(0, text.indexOf("\nhost:\n") + 1)));
        HardwareSpec with = HardwareLoader.load(file, List.of());
        assertEquals(without.withEnergy(null).toString(), with.withEnergy(null).toString(), "sweep keys hash this");
        Operator[] ops = {norm(0, 0), Operator.gemm(1, "g", Phase.DECODE, 0, 0, 1, 8, 1024, 1024, DataType.FP16)};
        Run a = run(without, Timing.KERNEL, true, ops);
        Run b = run(with, Timing.KERNEL, true, ops);
        assertEquals(a.result().endPs(), b.result().endPs());
        assertEquals(Catalogue.tracks(without).size(), Catalogue.tracks(with).size(), "no host tracks");
    }
}

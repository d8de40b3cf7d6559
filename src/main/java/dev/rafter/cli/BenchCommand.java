package dev.rafter.cli;

import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.sim.Kernel;
import dev.rafter.sim.Scheduler;
import dev.rafter.sim.Simulation;
import dev.rafter.workload.Operator;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Phase;
import java.util.Arrays;
import java.util.PriorityQueue;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Measures the simulator's speed in one run: the kernel (DSOL's simulator loop polling Rafter's event list) against a
 * bare {@link PriorityQueue} loop doing the same event pattern (~1000 pending events, each schedules one follow-up,
 * as in the DSOL measurements), then wall time of large GEMMs. Prints ratios measured side by side, not absolute
 * claims.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Benchmark: kernel events/s vs a bare priority-queue loop, and wall time of large GEMMs.")
public final class BenchCommand extends CommandBase implements Callable<Integer> {
    @Mixin
    HardwareOptions hardware;

    @Option(names = "--events", defaultValue = "5000000", description = "events per kernel run (default: ${DEFAULT-VALUE})")
    long events;

    @Option(names = "--repeats", defaultValue = "5", description = "timed repetitions; the median is reported")
    int repeats;

    @Option(names = "--skip-gemms", description = "only the kernel comparison")
    boolean skipGemms;

    private static final int PENDING = 1000;

    @Override
    public Integer call() {
        if (repeats < 1 || repeats > 1000) {
            throw new dev.rafter.config.InputException("--repeats: expected 1..1000, got " + repeats);
        }
        if (events < 10L * PENDING || events > 10_000_000_000L) {
            throw new dev.rafter.config.InputException("--events: expected " + 10 * PENDING + "..10000000000, got "
                + events);
        }
        HardwareSpec hw = hardware.load();
        // Warm-up both loops once (JIT), then alternate timed runs so both see the same machine state.
        runQueue(events / 5);
        runKernel(events / 5);
        double[] queue = new double[repeats];
        double[] kernel = new double[repeats];
        for (int i = 0; i < repeats; i++) {
            queue[i] = runQueue(events);
            kernel[i] = runKernel(events);
        }
        double q = median(queue);
        double k = median(kernel);
        out().printf("event pattern: %d events, %d pending, each schedules one follow-up%n", events, PENDING);
        out().printf("  bare PriorityQueue loop  %6.2f M events/s%n", q / 1e6);
        out().printf("  Rafter kernel (DSOL)     %6.2f M events/s%n", k / 1e6);
        out().printf("  kernel / bare loop       %6.2f%n", k / q);
        if (!skipGemms) {
            long[][] shapes = {{8192, 8192, 8192}, {8, 12288, 12288}, {16384, 9216, 12288}};
            out().printf("%nlarge GEMMs on %s:%n", hw.name());
            for (long[] s : shapes) {
                Operator op = Operator.gemm(0, "bench", Phase.PREFILL, 0, 0, 1, s[0], s[1], s[2], DataType.FP16);
                long t0 = System.nanoTime();
                Simulation.Result r = new Simulation(hw).run(OperatorSource.of(op), null, x -> { });
                double wall = (System.nanoTime() - t0) * 1e-9;
                out().printf("  %5d x %5d x %5d: %9d events, wall %.2f s (%.2f M events/s), simulated %.3f ms%n",
                    s[0], s[1], s[2], r.events(), wall, r.events() / wall / 1e6, r.endPs() * 1e-9);
            }
        }
        return Main.OK;
    }

    /** Deterministic delays (an LCG), the same sequence for both loops. */
    private static long delay(long[] seed) {
        seed[0] = seed[0] * 6364136223846793005L + 1442695040888963407L;
        return 1 + ((seed[0] >>> 33) % 1000);
    }

    private record Ev(long time, long seq) {}

    private double runQueue(long n) {
        PriorityQueue<Ev> q = new PriorityQueue<>((a, b) -> a.time != b.time ? Long.compare(a.time, b.time)
            : Long.compare(a.seq, b.seq));
        long[] seed = {42};
        long seq = 0;
        for (int i = 0; i < PENDING; i++) {
            q.add(new Ev(delay(seed), seq++));
        }
        long t0 = System.nanoTime();
        long done = 0;
        long checksum = 0;
        while (done < n) {
            Ev e = q.poll();
            done++;
            checksum += e.time;
            q.add(new Ev(e.time + delay(seed), seq++));
        }
        double s = (System.nanoTime() - t0) * 1e-9;
        if (checksum == 42) {
            out().print("");
        }
        return n / s;
    }

    private double runKernel(long n) {
        Kernel kernel = new Kernel();
        long[] seed = {42};
        long[] done = {0};
        long[] t0 = new long[1];
        kernel.run(s -> {
            for (int i = 0; i < PENDING; i++) {
                s.schedule(delay(seed), new Step(s, seed, done, n));
            }
            t0[0] = System.nanoTime();
        });
        double s = (System.nanoTime() - t0[0]) * 1e-9;
        return kernel.events() / s;
    }

    /** One event: counts itself and schedules its follow-up until n events ran. */
    private record Step(Scheduler s, long[] seed, long[] done, long n) implements Runnable {
        @Override
        public void run() {
            if (++done[0] + PENDING <= n) {
                s.schedule(delay(seed), this);
            }
        }
    }

    private static double median(double[] v) {
        double[] c = v.clone();
        Arrays.sort(c);
        return c[c.length / 2];
    }
}

package dev.rafter.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rafter.config.InputException;
import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.report.AtomicFile;
import dev.rafter.report.SimulationReport;
import dev.rafter.sim.Simulation;
import dev.rafter.workload.OperatorSource;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;

/**
 * Runs every point of a sweep (each a full simulation with its own kernel), in parallel when asked, and keeps one
 * summary per point under {@code points/}: with {@code --resume}, points whose summary exists are not run again.
 * Every hardware point is loaded (and so validated) before any simulation starts.
 */
public final class Sweep {
    private final Path hardware;
    private final List<String> fixed;
    private final SweepPlan plan;
    private final Supplier<OperatorSource> source;
    private final String settings;
    private final Path out;
    private final boolean resume;
    private final PrintWriter log;

    /** One finished point: its axis values and its summary. */
    public record Point(int index, Map<String, String> values, JsonNode summary, boolean reused) {}

    /** {@code fixed}: {@code --set} overrides applied to every point before its own values. */
    public Sweep(Path hardware, List<String> fixed, SweepPlan plan, Supplier<OperatorSource> source,
                 String sourceDescription, Path out, boolean resume, PrintWriter log) {
        this.settings = "hardware " + hardware + " " + fixed + ", " + sourceDescription;
        this.hardware = hardware;
        this.fixed = fixed;
        this.plan = plan;
        this.source = source;
        this.out = out;
        this.resume = resume;
        this.log = log;
    }

    public List<Point> run(int jobs) {
        List<HardwareSpec> specs = new ArrayList<>();
        for (int i = 0; i < plan.size(); i++) {
            List<String> sets = new ArrayList<>(fixed);
            sets.addAll(plan.assignments(i));
            specs.add(HardwareLoader.load(hardware, sets));
        }
        ObjectMapper json = new ObjectMapper();
        long start = System.nanoTime();
        int[] done = {0};
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, jobs), r -> {
            Thread t = new Thread(r, "rafter-sweep");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<Point>> futures = new ArrayList<>();
            for (int i = 0; i < plan.size(); i++) {
                int index = i;
                futures.add(pool.submit(() -> {
                    Point p = runPoint(index, specs.get(index), json);
                    synchronized (done) {
                        done[0]++;
                        double elapsed = (System.nanoTime() - start) * 1e-9;
                        double eta = elapsed / done[0] * (plan.size() - done[0]);
                        log.printf("[%d/%d] %s: latency %.6g s%s%s%n", done[0], plan.size(), plan.name(index),
                            p.summary().get("latency_s").asDouble(), p.reused() ? " (resumed)" : "",
                            done[0] < plan.size() ? String.format(", about %.0f s left", eta) : "");
                        log.flush();
                    }
                    return p;
                }));
            }
            List<Point> points = new ArrayList<>();
            for (Future<Point> f : futures) {
                try {
                    points.add(f.get());
                } catch (java.util.concurrent.ExecutionException e) {
                    if (e.getCause() instanceof RuntimeException re) {
                        throw re;
                    }
                    throw new IllegalStateException(e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("sweep interrupted", e);
                }
            }
            return points;
        } finally {
            pool.shutdownNow();
        }
    }

    private Point runPoint(int index, HardwareSpec hw, ObjectMapper json) {
        Path file = out.resolve("points").resolve(plan.name(index) + ".json");
        if (resume && Files.exists(file)) {
            JsonNode saved;
            try {
                saved = json.readTree(file.toFile());
            } catch (IOException e) {
                throw new InputException(file + ": cannot read the saved point (" + e.getMessage()
                    + "); delete it to run the point again");
            }
            if (!saved.path("sweep").asText().equals(settings)) {
                throw new InputException(file + ": saved by a sweep of '" + saved.path("sweep").asText()
                    + "', not '" + settings + "'; use another --out or drop --resume");
            }
            return new Point(index, plan.point(index), saved, true);
        }
        SimulationReport report = new SimulationReport(hw, null);
        Simulation.Result result = new Simulation(hw).run(source.get(), null, report);
        Map<String, Object> summary = report.summary(result);
        summary.put("point", plan.point(index));
        summary.put("sweep", settings);
        String text = SimulationReport.json(summary);
        AtomicFile.write(file, w -> w.write(text));
        try {
            return new Point(index, plan.point(index), json.readTree(text), false);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

package dev.rafter.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.report.AtomicFile;
import dev.rafter.report.OutputFolder;
import dev.rafter.report.SimulationReport;
import dev.rafter.sim.RunLimits;
import dev.rafter.sim.Simulation;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Workload;
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

/**
 * Runs every point of a sweep (each a full simulation with its own kernel), in parallel when asked, and keeps one
 * summary per point under {@code points/}: with {@code --resume}, points whose summary exists are not run again.
 * Every hardware point is loaded (and so validated) before any simulation starts.
 */
public final class Sweep {
    private final Path hardware;
    private final List<String> fixed;
    private final SweepPlan plan;
    private final Operators source;
    private final String settings;
    private final String rafterVersion;
    private final Path out;
    private final boolean resume;
    private final PrintWriter log;
    private final Map<String, Integer> rerun = new java.util.TreeMap<>();

    /**
     * Where a point's operators come from, given the workload paths ({@code run.*}, {@code model.*}) of its
     * {@code --set} and {@code --vary} values (a trace takes none).
     */
    public interface Operators {
        /** The operators of a point on {@code hw}; a workload that does not fit the device is bad input here. */
        OperatorSource source(HardwareSpec hw, List<String> workloadSets);

        /** The content hash of the operators (trace bytes or workload as loaded with these values, and phases). */
        String contentHash(List<String> workloadSets);

        /** Sequences per batch for the serving metrics; 0 when not known (a trace). */
        int sequences(List<String> workloadSets);
    }

    /** What one point runs: its device and the workload paths of its assignments. */
    private record Prepared(HardwareSpec hw, List<String> workloadSets, String sourceHash, int sequences) {}

    /** One finished point: its axis values and its summary. */
    public record Point(int index, Map<String, String> values, JsonNode summary, boolean reused) {}

    /**
     * {@code fixed}: {@code --set} overrides applied to every point before its own values, hardware and workload
     * paths mixed (a path's first segment, {@code run} or {@code model}, sends it to the workload);
     * {@code rafterVersion}: version and build.
     */
    public Sweep(Path hardware, List<String> fixed, SweepPlan plan, Operators source, String sourceDescription,
                 String rafterVersion, Path out, boolean resume, PrintWriter log) {
        this.settings = "hardware " + hardware + " " + fixed + ", " + sourceDescription;
        this.hardware = hardware;
        this.fixed = fixed;
        this.plan = plan;
        this.source = source;
        this.rafterVersion = rafterVersion;
        this.out = out;
        this.resume = resume;
        this.log = log;
    }

    public List<Point> run(int jobs) {
        List<Prepared> specs = new ArrayList<>();
        for (int i = 0; i < plan.size(); i++) {
            List<String> sets = new ArrayList<>(fixed);
            sets.addAll(plan.assignments(i));
            List<String> workloadSets = sets.stream().filter(Workload::isWorkloadPath).toList();
            HardwareSpec spec = HardwareLoader.load(hardware, sets.stream().filter(x -> !Workload.isWorkloadPath(x))
                .toList());
            RunLimits.check(spec, source.source(spec, workloadSets));
            specs.add(new Prepared(spec, workloadSets, source.contentHash(workloadSets),
                source.sequences(workloadSets)));
        }
        Path pointsDir = out.resolve("points");
        OutputFolder.requireDirectory(pointsDir, "--out");
        OutputFolder.removeStale(pointsDir);
        if (!resume) {
            removePoints(pointsDir);
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
            if (resume) {
                long reused = points.stream().filter(Point::reused).count();
                StringBuilder why = new StringBuilder();
                rerun.forEach((k, v) -> why.append(why.length() == 0 ? "" : ", ").append(v).append(' ').append(k));
                log.printf("resume: reused %d of %d points%s%n", reused, points.size(), why.length() == 0 ? ""
                    : "; re-ran " + why);
            }
            return points;
        } finally {
            pool.shutdownNow();
        }
    }

    /** Without --resume, the previous sweep's point summaries go: they may belong to other inputs. */
    private static void removePoints(Path points) {
        try (var files = Files.newDirectoryStream(points, "*.json")) {
            for (Path f : files) {
                if (Files.isRegularFile(f, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    Files.delete(f);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + points + ": " + e.getMessage(), e);
        }
    }

    private synchronized void rerun(String reason) {
        rerun.merge(reason, 1, Integer::sum);
    }

    private Point runPoint(int index, Prepared point, ObjectMapper json) {
        HardwareSpec hw = point.hw();
        Path file = out.resolve("points").resolve(plan.name(index) + ".json");
        SweepKey key = SweepKey.of(rafterVersion, hw, point.sourceHash());
        if (resume && Files.exists(file)) {
            String why;
            try {
                JsonNode saved = json.readTree(file.toFile());
                Map<String, String> inputs = new java.util.HashMap<>();
                saved.path("inputs").fields().forEachRemaining(e -> inputs.put(e.getKey(), e.getValue().asText()));
                String changed = key.difference(inputs);
                if (inputs.isEmpty()) {
                    why = "saved without input hashes";
                } else if (!changed.isEmpty()) {
                    why = changed + " changed";
                } else if (!saved.path("point").equals(json.valueToTree(plan.point(index)))
                    || !saved.has("latency_s")) {
                    why = "saved for other values";
                } else {
                    return new Point(index, plan.point(index), saved, true);
                }
            } catch (IOException e) {
                why = "unreadable";
            }
            rerun(why);
        }
        SimulationReport report = new SimulationReport(hw, null).sequences(point.sequences());
        Simulation.Result result = new Simulation(hw).run(source.source(hw, point.workloadSets()), null, report);
        Map<String, Object> summary = report.summary(result);
        summary.put("point", plan.point(index));
        summary.put("sweep", settings);
        summary.put("inputs", key.toMap());
        String text = SimulationReport.json(summary);
        AtomicFile.write(file, w -> w.write(text));
        try {
            return new Point(index, plan.point(index), json.readTree(text), false);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

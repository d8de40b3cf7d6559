package dev.rafter.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rafter.config.InputException;
import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.report.AtomicFile;
import dev.rafter.report.OutputFolder;
import dev.rafter.report.SimulationReport;
import dev.rafter.sim.RunLimits;
import dev.rafter.sim.Simulation;
import dev.rafter.workload.OperatorOrder;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Workload;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The points of a sweep (each a full simulation with its own kernel) and the bookkeeping around them: one summary per
 * point under {@code points/}, written as soon as the point is back; with {@code --resume}, points whose summary
 * exists (for the same inputs) are not run again. Every hardware point of the run is loaded (and so validated) before
 * any simulation starts. Which process runs a point is the {@link SweepEngine}'s business.
 */
public final class Sweep {
    private final Path hardware;
    private final List<String> fixed;
    private final SweepPlan plan;
    private final Operators source;
    private final String settings;
    private final String rafterVersion;
    private boolean reuse = true;
    /** {@code --cost}: the model, its file as named in messages and the hash of its bytes; null without one. */
    private dev.rafter.energy.CostModel cost;
    private String costFile;
    private String costHash;
    private final Map<String, Integer> rerun = new java.util.TreeMap<>();
    /** Null for a one-device sweep ({@code hardware} is then its hardware file). */
    private SystemPoints system;

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

        /** When the operators of a point start ({@code --order}, else the workload's {@code run.order}). */
        default OperatorOrder order(List<String> workloadSets) {
            return OperatorOrder.STRICT;
        }

        /** Where a point's tensors lie on {@code hw}'s memory tiers; null: everything on the first tier. */
        default dev.rafter.mapping.TierPlacement placement(HardwareSpec hw, List<String> workloadSets) {
            return null;
        }
    }

    /**
     * A sweep over a system of devices ({@code --system}): how a point's system is loaded from its hardware paths,
     * checked against its workload, and run.
     */
    public interface SystemPoints {
        /** The system with a point's hardware paths ({@code system.*}, {@code host.*}). */
        dev.rafter.hw.SystemSpec load(List<String> hardwareSets);

        /** Bad input (parallel degrees beyond the devices, a workload too big) before any point runs. */
        void check(dev.rafter.hw.SystemSpec system, List<String> workloadSets);

        /** The point's summary, as {@code simulate --system} writes it. */
        Map<String, Object> summary(dev.rafter.hw.SystemSpec system, List<String> workloadSets);
    }

    /**
     * What one point runs: its device (a system's first device for a system point) and the workload paths of its
     * assignments; {@code system} is null for a one-device sweep.
     */
    private record Prepared(HardwareSpec hw, List<String> workloadSets, String sourceHash, int sequences,
                            dev.rafter.energy.CostModel.Device costDevice, dev.rafter.hw.SystemSpec system) {}

    /** One finished point: its axis values and its summary. */
    public record Point(int index, Map<String, String> values, JsonNode summary, boolean reused) {}

    /** Where and how a sweep runs: its folder, resume, shard and engine. */
    public record Run(Path out, boolean resume, SweepShard shard, SweepEngine engine,
                      Supplier<SweepDescription> description, PrintWriter log, String announcement) {}

    /**
     * {@code fixed}: {@code --set} overrides applied to every point before its own values, hardware and workload
     * paths mixed (a path's first segment, {@code run} or {@code model}, sends it to the workload);
     * {@code settings}: what the sweep is, recorded in every point (see {@link #settings});
     * {@code rafterVersion}: version and build.
     */
    public Sweep(Path hardware, List<String> fixed, SweepPlan plan, Operators source, String settings,
                 String rafterVersion) {
        this.settings = settings;
        this.hardware = hardware;
        this.fixed = List.copyOf(fixed);
        this.plan = plan;
        this.source = source;
        this.rafterVersion = rafterVersion;
    }

    /**
     * Makes this a sweep over a system ({@code hardware} is then the system file): every point loads, checks and runs
     * through {@code points}.
     */
    public Sweep system(SystemPoints points) {
        this.system = points;
        return this;
    }

    /** Whether points reuse identical operators (default; {@code --no-reuse} turns it off: the same results). */
    public Sweep reuse(boolean on) {
        this.reuse = on;
        return this;
    }

    /**
     * Adds {@code model}'s cost and carbon to every point's summary (as {@code simulate --cost}); {@code file} names
     * it in messages, {@code hash} (of its bytes) joins the points' resume keys.
     */
    public Sweep cost(dev.rafter.energy.CostModel model, String file, String hash) {
        this.cost = model;
        this.costFile = file;
        this.costHash = hash;
        return this;
    }

    /** The sweep's settings as recorded in every point: hardware file, fixed {@code --set} values, operators. */
    public static String settings(Path hardware, List<String> fixed, String sourceDescription) {
        return "hardware " + hardware + " " + fixed + ", " + sourceDescription;
    }

    /** As {@link #settings}, for a sweep over a system file. */
    public static String systemSettings(Path system, List<String> fixed, String sourceDescription) {
        return "system " + system + " " + fixed + ", " + sourceDescription;
    }

    public String settings() {
        return settings;
    }

    public String rafterVersion() {
        return rafterVersion;
    }

    private Prepared prepare(int index) {
        List<String> sets = new ArrayList<>(fixed);
        sets.addAll(plan.assignments(index));
        List<String> workloadSets = sets.stream().filter(Workload::isWorkloadPath).toList();
        HardwareSpec spec;
        dev.rafter.hw.SystemSpec systemSpec = null;
        try {
            List<String> hardwareSets = sets.stream().filter(x -> !Workload.isWorkloadPath(x)).toList();
            if (system != null) {
                systemSpec = system.load(hardwareSets);
                spec = systemSpec.devices().get(0).hardware();
            } else {
                spec = HardwareLoader.load(hardware, hardwareSets);
            }
        } catch (InputException e) {
            // The loader names every override "--set"; a point's own values came from --vary.
            for (String a : plan.assignments(index)) {
                if (e.getMessage().contains("(--set " + a + ")")) {
                    throw new InputException(e.getMessage().replace("(--set " + a + ")", "(--vary " + a + ")"));
                }
                if (e.getMessage().startsWith("--set " + a + ":")) {
                    throw new InputException("--vary " + e.getMessage().substring("--set ".length()));
                }
                // A system file names its own keys without the system. prefix.
                String own = a.startsWith("system.") ? a.substring("system.".length()) : null;
                if (own != null && e.getMessage().contains("(--set " + own + ")")) {
                    throw new InputException(e.getMessage().replace("(--set " + own + ")", "(--vary " + a + ")"));
                }
            }
            throw e;
        }
        if (systemSpec != null) {
            system.check(systemSpec, workloadSets);
        } else {
            RunLimits.check(spec, source.source(spec, workloadSets));
        }
        dev.rafter.energy.CostModel.Device costDevice = null;
        if (cost != null) {
            if (spec.energy() == null) {
                throw new InputException("--cost " + costFile + ": point " + plan.name(index) + " has no energy tables"
                    + " (energy:), so it has no energy to cost");
            }
            costDevice = cost.device(spec.name(), costFile);
        }
        return new Prepared(spec, workloadSets, source.contentHash(workloadSets), source.sequences(workloadSets),
            costDevice, systemSpec);
    }

    /** Point {@code index} from its inputs alone: the summary as saved under {@code points/} (what executors run). */
    public String runPoint(int index) {
        return simulate(index, prepare(index));
    }

    /** Runs the points of {@code how.shard()}, reusing saved ones with {@code how.resume()}; returns them by index. */
    public List<Point> run(Run how) {
        int[] indices = how.shard().indices(plan.size());
        Prepared[] specs = new Prepared[plan.size()];
        for (int i : indices) {
            specs[i] = prepare(i);
        }
        // Announced once every point is known to load: a bad value is reported before any line of the sweep.
        how.log().println(how.announcement());
        Path pointsDir = how.out().resolve("points");
        OutputFolder.requireDirectory(pointsDir, "--out");
        OutputFolder.removeStale(pointsDir);
        if (!how.resume()) {
            removePoints(pointsDir);
        } else {
            setAsideOthers(pointsDir, how.out(), how.log());
        }
        ObjectMapper json = new ObjectMapper();
        Point[] done = new Point[plan.size()];
        Progress progress = new Progress(indices.length, how.log());
        List<Integer> toRun = new ArrayList<>();
        for (int i : indices) {
            Point saved = how.resume() ? reuse(i, specs[i], pointsDir, json) : null;
            if (saved != null) {
                done[i] = saved;
                progress.finished(saved);
            } else {
                toRun.add(i);
            }
        }
        SweepEngine.Work work = new SweepEngine.Work() {
            @Override
            public String runPoint(int index) {
                return simulate(index, specs[index]);
            }

            @Override
            public SweepDescription description() {
                return how.description().get();
            }
        };
        if (!toRun.isEmpty()) {
            how.engine().run(work, toRun.stream().mapToInt(Integer::intValue).toArray(), (index, summary) -> {
                if (done[index] != null || !how.shard().contains(index)) {
                    throw new IllegalStateException("the engine returned point " + index + " twice or unasked");
                }
                String sealed = PointFile.seal(summary);
                AtomicFile.write(pointsDir.resolve(plan.name(index) + ".json"), w -> w.write(sealed));
                try {
                    done[index] = new Point(index, plan.point(index), json.readTree(sealed), false);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                progress.finished(done[index]);
            });
        }
        List<Point> points = new ArrayList<>();
        for (int i : indices) {
            if (done[i] == null) {
                throw new IllegalStateException("the engine did not return point " + plan.name(i));
            }
            points.add(done[i]);
        }
        if (how.resume()) {
            long reused = points.stream().filter(Point::reused).count();
            StringBuilder why = new StringBuilder();
            rerun.forEach((k, v) -> why.append(why.length() == 0 ? "" : ", ").append(v).append(' ').append(k));
            how.log().printf("resume: reused %d of %d points%s%n", reused, points.size(), why.length() == 0 ? ""
                : "; re-ran " + why);
        }
        return points;
    }

    /**
     * Progress: on a terminal, one bar redrawn in place with the points done and the time left; otherwise (a log,
     * a batch job) one line per finished point with the same estimate.
     */
    private final class Progress {
        private static final int BAR = 30;
        private final int total;
        private final PrintWriter log;
        private final boolean terminal = System.console() != null;
        private final long start = System.nanoTime();
        private int count;

        Progress(int total, PrintWriter log) {
            this.total = total;
            this.log = log;
        }

        synchronized void finished(Point p) {
            count++;
            double elapsed = (System.nanoTime() - start) * 1e-9;
            double eta = elapsed / count * (total - count);
            if (terminal) {
                int filled = (int) ((long) BAR * count / total);
                System.err.printf("\r[%s%s] %d/%d points, %s%s   ", "#".repeat(filled), ".".repeat(BAR - filled),
                    count, total, count < total ? "about " + duration(eta) + " left" : "done in "
                        + duration(elapsed), count < total ? "" : "\n");
                System.err.flush();
                return;
            }
            log.printf("[%d/%d] %s: latency %.6g s%s%s%n", count, total, plan.name(p.index()),
                p.summary().get("latency_s").asDouble(), p.reused() ? " (resumed)" : "",
                count < total ? String.format(Locale.ROOT, ", about %.0f s left", eta) : "");
            log.flush();
        }

        private static String duration(double s) {
            long t = Math.round(s);
            return t >= 3600 ? String.format(Locale.ROOT, "%d h %02d min", t / 3600, t / 60 % 60)
                : t >= 60 ? String.format(Locale.ROOT, "%d min %02d s", t / 60, t % 60) : t + " s";
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

    /**
     * With --resume, point summaries in {@code points/} that are no point of this sweep (another sweep's values) are
     * moved to {@code points-previous/}, and the log says so: {@code points/} then holds this sweep's points only.
     */
    private void setAsideOthers(Path points, Path out, PrintWriter log) {
        java.util.Set<String> mine = new java.util.HashSet<>();
        for (int i = 0; i < plan.size(); i++) {
            mine.add(plan.name(i) + ".json");
        }
        List<Path> others = new ArrayList<>();
        try (var files = Files.newDirectoryStream(points, "*.json")) {
            for (Path f : files) {
                if (!mine.contains(f.getFileName().toString())
                    && Files.isRegularFile(f, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    others.add(f);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + points + ": " + e.getMessage(), e);
        }
        if (others.isEmpty()) {
            return;
        }
        Path aside = out.resolve("points-previous");
        OutputFolder.requireDirectory(aside, "--out");
        try {
            for (Path f : others) {
                Files.move(f, aside.resolve(f.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot move old points to " + aside + ": " + e.getMessage(), e);
        }
        log.printf("resume: moved %d point%s of other values from %s to %s%n", others.size(),
            others.size() == 1 ? "" : "s", points, aside);
    }

    /** The saved point {@code index} when it can be reused; null (and the reason counted) when it must run. */
    private Point reuse(int index, Prepared point, Path pointsDir, ObjectMapper json) {
        Path file = pointsDir.resolve(plan.name(index) + ".json");
        if (!Files.exists(file)) {
            return null;
        }
        SweepKey key = key(point);
        String why;
        try {
            JsonNode saved = json.readTree(dev.rafter.config.InputFiles.readBytes(file, PointFile.MAX_BYTES));
            Map<String, String> inputs = new java.util.HashMap<>();
            saved.path("inputs").fields().forEachRemaining(e -> inputs.put(e.getKey(), e.getValue().asText()));
            String changed = key.difference(inputs);
            PointFile.Verdict sealed = PointFile.check(saved);
            if (sealed == PointFile.Verdict.EDITED) {
                why = "edited since they were written";
            } else if (sealed == PointFile.Verdict.UNSEALED) {
                why = "saved without a digest";
            } else if (inputs.isEmpty()) {
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
        rerun.merge(why, 1, Integer::sum);
        return null;
    }

    private SweepKey key(Prepared point) {
        return point.system() != null ? SweepKey.of(rafterVersion, point.system(), point.sourceHash(), costHash)
            : SweepKey.of(rafterVersion, point.hw(), point.sourceHash(), costHash);
    }

    private String simulate(int index, Prepared point) {
        HardwareSpec hw = point.hw();
        SweepKey key = key(point);
        if (point.system() != null) {
            Map<String, Object> summary = new java.util.LinkedHashMap<>(system.summary(point.system(),
                point.workloadSets()));
            summary.put("point", plan.point(index));
            summary.put("sweep", settings);
            summary.put("inputs", key.toMap());
            return SimulationReport.json(summary);
        }
        dev.rafter.mapping.TierPlacement placement = source.placement(hw, point.workloadSets());
        SimulationReport report = new SimulationReport(hw, null).sequences(point.sequences()).placement(placement);
        Simulation.Result result = new Simulation(hw).reuse(reuse).order(source.order(point.workloadSets()))
            .placement(placement == null ? dev.rafter.mapping.TensorPlacement.FIRST_TIER : placement)
            .run(source.source(hw, point.workloadSets()), null,
            report);
        Map<String, Object> summary = report.summary(result);
        if (cost != null) {
            summary.put("cost", cost.ofSummary(point.costDevice(), summary, report.flops(), point.sequences()));
        }
        summary.put("point", plan.point(index));
        summary.put("sweep", settings);
        summary.put("inputs", key.toMap());
        return SimulationReport.json(summary);
    }
}

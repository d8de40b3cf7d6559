package dev.rafter.cli;

import dev.rafter.config.InputException;
import dev.rafter.config.InputFiles;
import dev.rafter.config.Section;
import dev.rafter.report.AtomicFile;
import dev.rafter.report.OutputFolder;
import dev.rafter.sweep.Sweep;
import dev.rafter.sweep.SweepDescription;
import dev.rafter.sweep.SweepEngine;
import dev.rafter.sweep.SweepEngines;
import dev.rafter.sweep.SweepManifest;
import dev.rafter.sweep.SweepMerge;
import dev.rafter.sweep.SweepPlan;
import dev.rafter.sweep.SweepReport;
import dev.rafter.sweep.SweepShard;
import dev.rafter.workload.Workload;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.IntFunction;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "sweep", mixinStandardHelpOptions = true,
    description = "Simulate every combination of hardware and workload values: sweep.csv, sweep.png, one summary per point.",
    subcommands = SweepCommand.Merge.class)
public final class SweepCommand extends CommandBase implements Callable<Integer> {
    @Mixin
    HardwareOptions hardware;

    @Mixin
    SourceOptions source;

    @Option(names = "--vary", required = true, paramLabel = "K=v1,v2,...",
        description = "a path and its values, e.g. core.local_buffer.capacity_kib=16,32,64 or run.batch=1,8,64;"
            + " run.* and model.* vary the workload, the rest the hardware (repeatable)")
    List<String> vary = new ArrayList<>();

    @Option(names = "--jobs", paramLabel = "N",
        description = "points run in parallel by the local engine (default: the number of processors)")
    int jobs = Runtime.getRuntime().availableProcessors();

    @Option(names = "--engine", paramLabel = "E", defaultValue = "local",
        description = "local (threads in this process, --jobs) or spark (Apache Spark, --master; needs the"
            + " rafter-spark jar, which ./rafter adds) (default: ${DEFAULT-VALUE})")
    String engine;

    @Option(names = "--master", paramLabel = "URL",
        description = "Spark master for --engine spark: local[*], local[N], spark://HOST:PORT, k8s://https://HOST:PORT"
            + " or yarn (default: spark-submit's, else local[*])")
    String master;

    @Option(names = "--shard", paramLabel = "k/N",
        description = "run only the points i with i %% N == k-1 (one of N independent runs; join them with"
            + " 'rafter sweep merge')")
    String shard;

    @Option(names = "--out", defaultValue = "out/sweep", paramLabel = "DIR", description = "output directory")
    Path out;

    @Option(names = "--resume", description = "reuse the points already in DIR/points")
    boolean resume;

    @Option(names = "--cost", paramLabel = "FILE",
        description = "cost and carbon model (models/cost/*.yaml): every point's summary gets its cost block (as"
            + " simulate --cost) and sweep.csv the columns usd_per_million_tokens and g_co2e_per_thousand_tokens;"
            + " default: the file the hardware names (cost:), for a device it prices; none: no cost")
    Path costFile;

    @Option(names = "--metric", paramLabel = "M", defaultValue = "edp",
        description = "what the best point minimises: latency, energy, edp, cost (USD per million tokens, needs"
            + " a cost model) or carbon (g CO2e per thousand tokens, needs a cost model) (default: ${DEFAULT-VALUE})")
    String metric;

    @Mixin
    RunOptions running;

    @Option(names = "--system", paramLabel = "S",
        description = "sweep a system of devices on a fabric (models/systems/*.yaml) instead of --hardware, as "
            + "simulate --system runs it; --vary system.KEY (a key of the system file), host.KEY (every device's "
            + "host) and run.* (e.g. run.tensor_parallel=1,2,4,8)")
    Path system;

    /** The outputs of a sweep folder besides points/, in the order they are moved in. */
    static final List<String> OUTPUTS = List.of("sweep.png", "sweep.csv", SweepManifest.FILE);

    @Override
    public Integer call() {
        if (jobs < 1 || jobs > 1024) {
            throw new InputException("--jobs: expected 1..1024, got " + jobs);
        }
        running.order(null);
        if (system != null) {
            if (hardware.hardware != null) {
                throw new InputException("--system: give --hardware or --system, not both");
            }
            if (!engine.equals("local")) {
                throw new InputException("--engine " + engine + ": a sweep over --system runs on the local engine "
                    + "only for now");
            }
            if (source.from.trace != null) {
                throw new InputException("--trace: not available with --system yet (use --hardware)");
            }
        } else if (hardware.hardware == null) {
            throw new InputException("missing --hardware H or --system S (see 'rafter sweep --help')");
        }
        SweepShard part = shard == null ? SweepShard.ALL : SweepShard.parse(shard);
        SweepPlan plan = SweepPlan.parse(vary);
        for (String set : hardware.overrides) {
            int eq = set.indexOf('=');
            String key = (eq < 0 ? set : set.substring(0, eq)).trim();
            if (plan.paths().contains(key)) {
                throw new InputException("--set " + InputFiles.shorten(set) + ": '" + key + "' is also varied by --vary;"
                    + " give a key with one of the two");
            }
        }
        source.phases();
        SweepReport.Metric best = SweepReport.Metric.parse(metric, "--metric");
        // Bad input before an engine starts.
        if (best.needsCost() && costChoice().none()) {
            throw new InputException("--metric " + metric + ": needs --cost FILE (a cost and carbon model), or a "
                + "hardware whose cost: file prices it");
        }
        try (SweepEngine runner = SweepEngines.open(engine, master, jobs);
             OutputFolder folder = OutputFolder.open(out, "--out", OUTPUTS)) {
            String points = OutputFolder.kind(out.resolve("points"));
            if (points != null && !points.equals("a directory")) {
                throw new InputException("--out " + out + ": " + out.resolve("points") + " is "
                    + points + ", expected the directory of point summaries");
            }
            {
                String announcement = String.format(Locale.ROOT, "sweep of %d point%s over %s%s", plan.size(),
                    plan.size() == 1 ? "" : "s", String.join(" x ", plan.paths()), part.equals(SweepShard.ALL) ? ""
                        : ", shard " + part + ": " + part.indices(plan.size()).length + " points");
                Sweep sweep = sweep(plan, (system != null ? Sweep.systemSettings(system, hardware.overrides,
                    source.describe()) : Sweep.settings(hardware.hardware, hardware.overrides, source.describe()))
                    + (costChoice().none() ? "" : ", cost " + (costChoice().byDefault()
                    ? CostChoice.shown(costChoice().file()) : costFile)), Main.build());
                List<Sweep.Point> done = sweep.run(new Sweep.Run(out, resume, part, runner,
                    () -> description(plan, sweep), out(), announcement));
                SweepReport.write(plan, done, folder.staging(), out, out(), best);
                String manifest = SweepManifest.of(sweep, plan, part).json();
                AtomicFile.write(folder.staging().resolve(SweepManifest.FILE), w -> w.write(manifest));
            }
            folder.commit();
        }
        return Main.OK;
    }

    /** The sweep of these options; {@code settings} and {@code rafterVersion} as recorded in every point. */
    Sweep sweep(SweepPlan plan, String settings, String rafterVersion) {
        Sweep.Operators operators = new Sweep.Operators() {
            private final java.util.Map<List<String>, String> hashes = new java.util.HashMap<>();

            @Override
            public dev.rafter.workload.OperatorSource source(dev.rafter.hw.HardwareSpec hw, List<String> sets) {
                return SweepCommand.this.source.run(hw, sets, running.allowOvercommit).operators();
            }

            @Override
            public synchronized String contentHash(List<String> sets) {
                // --order is part of what runs (run.order is in the workload's hash already).
                return hashes.computeIfAbsent(sets, s -> running.order == null ? SweepCommand.this.source.contentHash(s)
                    : dev.rafter.sweep.SweepKey.sha256(SweepCommand.this.source.contentHash(s) + ", --order "
                    + running.order(null).key()));
            }

            @Override
            public dev.rafter.workload.OperatorOrder order(List<String> sets) {
                return running.order(SweepCommand.this.source.workload(sets));
            }

            @Override
            public dev.rafter.mapping.TierPlacement placement(dev.rafter.hw.HardwareSpec hw, List<String> sets) {
                return SweepCommand.this.source.run(hw, sets, running.allowOvercommit).placement();
            }

            @Override
            public int sequences(List<String> sets) {
                var w = SweepCommand.this.source.workload(sets);
                return w == null ? 0 : w.run().batch();
            }
        };
        Sweep sweep = new Sweep(system != null ? system : hardware.hardware, hardware.overrides, plan, operators,
            settings, rafterVersion).reuse(running.reuse());
        if (system != null) {
            sweep.system(new Sweep.SystemPoints() {
                @Override
                public dev.rafter.hw.SystemSpec load(List<String> hardwareSets) {
                    return SystemRun.load(system, hardwareSets);
                }

                @Override
                public void check(dev.rafter.hw.SystemSpec spec, List<String> workloadSets) {
                    SystemRun.prepare(spec, system, source, workloadSets, running);
                    costChoice().devices(spec);
                }

                @Override
                public java.util.Map<String, Object> summary(dev.rafter.hw.SystemSpec spec, List<String> workloadSets) {
                    SystemRun.Outcome outcome = SystemRun.simulate(spec, system, source, workloadSets, running, null,
                        null);
                    List<dev.rafter.energy.CostModel.Device> billed = costChoice().devices(spec);
                    if (billed != null) {
                        outcome.summary().put("cost", SystemRun.cost(costChoice().model(), billed, outcome));
                    }
                    return outcome.summary();
                }
            });
        }
        CostChoice billing = costChoice();
        return billing.none() ? sweep : sweep.cost(billing.model(), billing.file().toString(),
            dev.rafter.sweep.SweepKey.sha256(billing.file()));
    }

    private CostChoice cost;

    /**
     * What the points are billed by, read once: {@code --cost}, else the file the hardware names when it prices the
     * swept device (on a system: every device of it).
     */
    private CostChoice costChoice() {
        if (cost == null) {
            List<String> fixed = hardware.hardwareSets();
            CostChoice chosen = system != null ? CostChoice.forSystem(costFile, system, SystemRun.systemSets(fixed),
                SystemRun.deviceSets(fixed))
                : CostChoice.forHardware(costFile, hardware.hardware, fixed);
            boolean unpriced = chosen.byDefault() && (system != null
                ? chosen.devices(SystemRun.load(system, fixed)) == null
                : chosen.device(dev.rafter.hw.HardwareLoader.load(hardware.hardware, fixed)) == null);
            cost = unpriced ? CostChoice.NONE : chosen;
        }
        return cost;
    }

    /**
     * The sweep as another process rebuilds it ({@link #pointRunner}): the options that define the points and the
     * bytes of the input files, with those the hardware file includes (energy, memory timing, host tables) for every
     * value that {@code --set} and {@code --vary} give them.
     */
    SweepDescription description(SweepPlan plan, Sweep sweep) {
        List<String> args = new ArrayList<>(List.of("--hardware", hardware.hardware.toString()));
        for (String s : hardware.overrides) {
            args.addAll(List.of("--set", s));
        }
        for (String v : vary) {
            args.addAll(List.of("--vary", v));
        }
        Path input = source.from.workload != null ? source.from.workload : source.from.trace;
        args.addAll(List.of(source.from.workload != null ? "--workload" : "--trace", input.toString(),
            "--phase", source.phase));
        if (source.layers != null) {
            args.addAll(List.of("--layers", source.layers.toString()));
        }
        if (source.decodeSteps != null) {
            args.addAll(List.of("--decode-steps", source.decodeSteps.toString()));
        }
        args.addAll(running.arguments());
        List<Path> inputs = new ArrayList<>(List.of(hardware.hardware, input));
        if (costFile != null) {
            args.addAll(List.of("--cost", costFile.toString()));
            if (!costChoice().none()) {
                inputs.add(costFile);
            }
        }
        return SweepDescription.of(args, inputs, includedFiles(plan), sweep.settings(), sweep.rafterVersion());
    }

    /**
     * The files the hardware file extends and names (energy tables and the off-chip file they include, memory timing
     * tables of every tier, component presets, the host's cost table), for each value the sweep gives the energy and memory timing keys.
     */
    private Set<Path> includedFiles(SweepPlan plan) {
        List<String> fixedHardware = hardware.overrides.stream().filter(s -> !Workload.isWorkloadPath(s)).toList();
        List<List<String>> combinations = new ArrayList<>();
        combinations.add(List.of());
        for (int a = 0; a < plan.paths().size(); a++) {
            String path = plan.paths().get(a);
            if (!path.equals("energy") && !path.equals("memory.timing")) {
                continue;
            }
            List<List<String>> next = new ArrayList<>();
            for (List<String> c : combinations) {
                for (String v : plan.values().get(a)) {
                    List<String> more = new ArrayList<>(c);
                    more.add(path + "=" + v);
                    next.add(more);
                }
            }
            combinations = next;
        }
        Set<Path> files = new LinkedHashSet<>();
        for (List<String> c : combinations) {
            List<String> sets = new ArrayList<>(fixedHardware);
            sets.addAll(c);
            Section s = Section.loadExtending(hardware.hardware).override(sets);
            files.addAll(s.bases());
            if (s.has("energy")) {
                Path table = s.file("energy");
                files.add(table);
                // A node table takes its DRAM and link energies from a shared off-chip file beside it.
                Section t = Section.load(table);
                if (t.has("off_chip")) {
                    files.add(t.file("off_chip"));
                }
            }
            if (s.has("memory") && s.section("memory").has("timing")) {
                Section memory = s.section("memory");
                files.add(memory.directory("timing").resolve(memory.string("timing")).normalize());
            }
            if (s.has("memory_tiers")) {
                for (Section tier : s.list("memory_tiers")) {
                    if (tier.has("timing")) {
                        files.add(tier.directory("timing").resolve(tier.string("timing")).normalize());
                    }
                }
            }
            if (s.has("components")) {
                for (Section unit : s.list("components")) {
                    if (unit.has("preset") && !unit.string("preset").equals("none")) {
                        files.add(unit.directory("preset").resolve(unit.string("preset")).normalize());
                    }
                }
            }
            if (s.has(dev.rafter.hw.HardwareLoader.COST_KEY)) {
                files.add(s.file(dev.rafter.hw.HardwareLoader.COST_KEY)); // the default --cost
            }
            if (s.has("host") && s.section("host").has("costs")) {
                Section host = s.section("host");
                Path costs = host.directory("costs").resolve(host.string("costs")).normalize();
                // Read only when a framework is modelled; a table that is not there is reported by that run.
                if (java.nio.file.Files.isRegularFile(costs)) {
                    files.add(costs);
                }
            }
        }
        return files;
    }

    /**
     * Runs points of the sweep that {@code d} describes, in this process: its input files are written to a
     * temporary folder (removed when the JVM exits) and the sweep rebuilt from them. What a Spark executor calls.
     */
    public static IntFunction<String> pointRunner(SweepDescription d) {
        Path dir;
        try {
            dir = Files.createTempDirectory("rafter-sweep-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary folder: " + e.getMessage(), e);
        }
        List<String> args = d.materialise(dir);
        deleteOnExit(dir);
        SweepCommand c = new SweepCommand();
        new CommandLine(c).parseArgs(args.toArray(String[]::new));
        Sweep sweep = c.sweep(SweepPlan.parse(c.vary), d.settings(), d.rafterVersion());
        return sweep::runPoint;
    }

    private static void deleteOnExit(Path dir) {
        try (var all = Files.walk(dir)) {
            all.forEach(p -> p.toFile().deleteOnExit()); // parents first: deleted last
        } catch (IOException e) {
            // a temporary folder left behind
        }
    }

    @Command(name = "merge", mixinStandardHelpOptions = true,
        description = "Join the outputs of sweep shards (--shard k/N) into one sweep: sweep.csv, sweep.png, sweep.json"
            + " and points/, equal to the unsharded sweep's.")
    public static final class Merge extends CommandBase implements Callable<Integer> {
        @CommandLine.Parameters(arity = "1..*", paramLabel = "DIR", description = "the shards' output folders")
        List<Path> dirs = new ArrayList<>();

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory")
        Path out;

        @Option(names = "--metric", paramLabel = "M", defaultValue = "edp",
            description = "what the best point minimises: latency, energy, edp, cost or carbon (default:"
                + " ${DEFAULT-VALUE})")
        String metric;

        @Override
        public Integer call() {
            SweepReport.Metric best = SweepReport.Metric.parse(metric, "--metric");
            SweepMerge.Merged merged = SweepMerge.merge(dirs);
            try (OutputFolder folder = OutputFolder.open(out, "--out", OUTPUTS)) {
                Path points = out.resolve("points");
                OutputFolder.requireDirectory(points, "--out");
                for (int i = 0; i < merged.points().size(); i++) {
                    Path from = merged.files().get(i);
                    Path to = points.resolve(from.getFileName());
                    try {
                        if (!Files.exists(to) || !Files.isSameFile(from, to)) {
                            byte[] bytes = InputFiles.readBytes(from, dev.rafter.sweep.PointFile.MAX_BYTES);
                            AtomicFile.writeBytes(to, bytes);
                        }
                    } catch (IOException e) {
                        throw new UncheckedIOException("cannot copy " + from + " to " + to + ": " + e.getMessage(), e);
                    }
                }
                out().printf("merged %d points from %d folders%n", merged.points().size(), dirs.size());
                SweepReport.write(merged.plan(), merged.points(), folder.staging(), out, out(), best);
                String manifest = merged.manifest().json();
                AtomicFile.write(folder.staging().resolve(SweepManifest.FILE), w -> w.write(manifest));
                folder.commit();
            }
            return Main.OK;
        }
    }
}

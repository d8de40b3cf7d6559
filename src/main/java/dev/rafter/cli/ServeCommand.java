package dev.rafter.cli;

import dev.rafter.config.InputException;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.hw.HostModel;
import dev.rafter.hw.SystemLoader;
import dev.rafter.hw.SystemSpec;
import dev.rafter.plot.XyChart;
import dev.rafter.report.AtomicFile;
import dev.rafter.report.OutputFolder;
import dev.rafter.report.SimulationReport;
import dev.rafter.serving.Disaggregated;
import dev.rafter.serving.Policy;
import dev.rafter.serving.Replicas;
import dev.rafter.serving.Request;
import dev.rafter.serving.RequestFile;
import dev.rafter.serving.ServingEngine;
import dev.rafter.serving.ServingReport;
import dev.rafter.serving.StepTimer;
import dev.rafter.serving.StepTiming;
import dev.rafter.serving.Traffic;
import dev.rafter.workload.Capacity;
import dev.rafter.workload.Phase;
import dev.rafter.workload.Workload;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.function.IntFunction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "serve", mixinStandardHelpOptions = true,
    description = "Serve requests arriving over time on one device (or tensor-parallel group), on replicas of it"
        + " behind a router, or on a system's device groups (prefill and decode apart with --disaggregate), with "
        + "continuous batching, chunked prefill and a paged KV cache: requests.csv, serving.json, occupancy.png, "
        + "latency.png.")
public class ServeCommand extends CommandBase implements Callable<Integer> {
    @Mixin
    HardwareOptions hardware;

    @Mixin
    ServeTraffic traffic;

    @Option(names = "--workload", required = true, paramLabel = "W", description = "workload model YAML (its "
        + "run.prompt_tokens and run.output_tokens are the default request lengths; run.batch is not used)")
    Path workload;

    @Option(names = "--step-timing", paramLabel = "T", defaultValue = "exact",
        description = "exact (every distinct operator shape simulated) or interpolated (an approximation: steps timed "
        + "from exact simulations at grid points of token count and KV length, interpolated between them; for long "
        + "runs; its error is in the README) (default: ${DEFAULT-VALUE})")
    String stepTiming;

    @Option(names = "--policy", paramLabel = "P", defaultValue = "fcfs",
        description = "fcfs or priority (lower priority value first) (default: ${DEFAULT-VALUE})")
    String policy;

    @Option(names = "--max-batched-tokens", paramLabel = "N", defaultValue = "8192",
        description = "token budget of one step (default: ${DEFAULT-VALUE})")
    int maxBatchedTokens;

    @Option(names = "--max-sequences", paramLabel = "N", defaultValue = "256",
        description = "running sequences at most (default: ${DEFAULT-VALUE}, vLLM's max_num_seqs)")
    int maxSequences;

    @Option(names = "--block-tokens", paramLabel = "N", defaultValue = "16",
        description = "tokens per KV-cache block (default: ${DEFAULT-VALUE}, vLLM's block_size)")
    int blockTokens;

    @Option(names = "--step-overhead-us", paramLabel = "US", defaultValue = "0",
        description = "host time per step (scheduling, sampling), until the host model gives it; default 0: none")
    double stepOverheadUs;

    @Option(names = "--prefix-caching", description = "cache full KV blocks by content, so requests sharing a "
        + "prefix (prefix_id in a request file, or --prefixes) skip its prefill (vLLM's automatic prefix caching)")
    boolean prefixCaching;

    @Option(names = "--speculative-tokens", paramLabel = "K", description = "speculative decoding: K draft tokens "
        + "per decoding sequence, verified by the target in one pass (needs --acceptance-rate)")
    Integer speculativeTokens;

    @Option(names = "--acceptance-rate", paramLabel = "A", description = "probability that a draft token is "
        + "accepted, each independently up to the first rejection (0 to 1)")
    Double acceptanceRate;

    @Option(names = "--draft-workload", paramLabel = "W", description = "the draft model's workload YAML, run before"
        + " each step (its weights and KV cache share the device); without it drafts cost nothing on the device "
        + "(n-gram prompt lookup)")
    Path draftWorkload;

    @Option(names = "--replicas", paramLabel = "N", description = "N identical replicas (each a device, or the "
        + "tensor-parallel group of run.tensor_parallel) behind a router, sharing one step memo; requests.csv gets a "
        + "replica column and serving.json per-replica figures")
    Integer replicas;

    @Option(names = "--router", paramLabel = "R", description = "with --replicas or --system, how each arriving "
        + "request is assigned: round_robin (in turn, in arrival order), least_loaded (the replica with the fewest "
        + "outstanding tokens: prompt + output of its requests not finished yet; ties to the lowest index) or prefix "
        + "(the replica whose prefix cache holds the most of its prompt, else least loaded; needs --prefix-caching) "
        + "(default: round_robin)")
    String router;

    @Option(names = "--system", paramLabel = "S", description = "a system of devices on a fabric (models/systems/"
        + "*.yaml) instead of --hardware: its devices, in groups of run.tensor_parallel, are the replicas (all of "
        + "them, or the first --replicas N), and tensor-parallel collectives cross its fabric")
    Path system;

    @Option(names = "--disaggregate", paramLabel = "prefill=P,decode=D", description = "with --system: prefill on "
        + "the first P device groups (of run.tensor_parallel devices each), decode on the next D; each request's KV "
        + "cache crosses the fabric between them")
    String disaggregate;

    @Option(names = "--preemption", paramLabel = "P", defaultValue = "recompute", description = "how a sequence "
        + "that must give up its KV blocks resumes: recompute (its prompt and tokens again) or swap (its blocks to "
        + "the host memory tier over its link and back; needs a memory tier named host) (default: ${DEFAULT-VALUE})")
    String preemption;

    @Option(names = "--slo", paramLabel = "ttft=S,tpot=S", description = "latency targets in seconds for goodput")
    String slo;

    @Option(names = "--vary", paramLabel = "K=V1,V2,...", description = "with several rates in --arrivals: the "
        + "knee at each value of one hardware, system or workload key (e.g. memory.bandwidth_gb_per_s=1000,2000), "
        + "the same traffic for each; knee.csv gains the key's column, knee.png and goodput.png a curve per value")
    String vary;

    /** While --vary runs: the key and value being served, and each value's knee (null otherwise). */
    private String varyKey;
    private String varyValue;
    private List<KneeRun> kneeRuns;

    /** One value's knee under --vary: its rate points (the key first in each), serving.json's summary, the title. */
    private record KneeRun(String value, List<Map<String, Object>> points, Map<String, Object> summary,
                           String title) {}

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "out/serve",
        description = "output directory (default: ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--cost", paramLabel = "FILE", description = "cost and carbon model (models/cost/*.yaml): adds "
        + "cost per million output tokens and g CO2e per thousand tokens for the devices held over the serving span "
        + "and the energy they used (electricity, operational and embodied carbon); default: the file the hardware "
        + "names (cost:), for a device it prices; none: no cost")
    Path costFile;

    /** What the run is billed by. */
    private CostChoice cost = CostChoice.NONE;

    static final List<String> OUTPUTS = List.of("requests.csv", "occupancy.png", "latency.png", "serving.json");
    /** With several rates in --arrivals. */
    static final List<String> KNEE_OUTPUTS = List.of("knee.csv", "knee.png", "goodput.png", "serving.json");

    private static final double GIB = 1024.0 * 1024 * 1024;

    @Override
    public Integer call() {
        long wallStart = System.nanoTime();
        if (vary != null && kneeRuns == null) {
            return kneeOverValues(wallStart);
        }
        checkOptions();
        ServingReport.Slo targets = parseSlo();
        SystemSpec systemSpec = null;
        HardwareSpec hw;
        if (system != null) {
            if (hardware.hardware != null) {
                throw new InputException("--system: give --hardware or --system, not both");
            }
            // system.fabric.link.latency_ns=... names a key of the system file, as fabric.link.latency_ns=... does.
            systemSpec = SystemLoader.load(system, hardware.hardwareSets().stream()
                .map(set -> set.startsWith("system.") ? set.substring("system.".length()) : set).toList());
            hw = systemSpec.devices().get(0).hardware();
        } else if (hardware.hardware == null) {
            throw new InputException("missing --hardware H or --system S (see 'rafter serve --help')");
        } else {
            hw = hardware.loadBesideWorkload();
        }
        Workload w = Workload.load(workload, hardware.workloadSets());
        ServeLayout layout = systemSpec == null ? null : ServeLayout.of(systemSpec, w, disaggregate, replicas, workload,
            system);
        cost = system != null ? CostChoice.forSystem(costFile, system, hardware.hardwareSets().stream()
                .map(set -> set.startsWith("system.") ? set.substring("system.".length()) : set).toList(), List.of())
            : CostChoice.forHardware(costFile, hardware.hardware, hardware.hardwareSets());
        // --cost FILE lacking the device: exit 2 before the run. Replicas are all the first device's hardware.
        dev.rafter.energy.CostModel.Device billed = systemSpec != null ? (cost.devices(systemSpec) == null ? null
            : cost.device(hw)) : cost.device(hw);
        Policy chosen = Policy.of(policy);
        StepTiming timing = StepTiming.of(stepTiming);
        Workload draft = draftWorkload == null ? null : Workload.load(draftWorkload);
        long weights = Capacity.of(w, EnumSet.allOf(Phase.class)).weightBytes()
            + (draft == null ? 0 : Capacity.of(draft, EnumSet.allOf(Phase.class)).weightBytes());
        double memory = hw.memory().capacityGib() * GIB;
        long bytesPerToken = ServeOutputs.kvBytesPerToken(w)
            + (draft == null ? 0 : ServeOutputs.kvBytesPerToken(draft));
        long kvBlocks = (long) Math.floor((memory - weights) / ((double) bytesPerToken * blockTokens));
        if (kvBlocks < 1) {
            throw new InputException(String.format(Locale.ROOT, "memory.capacity_gib: %.1f GiB per device leaves no"
                + " room for a KV cache beside %.1f GiB of weights", memory / GIB, weights / GIB));
        }
        HostModel host = hw.host();
        if (host.on() && !host.syncsEachStep()) {
            throw new InputException("host.framework: serve models a serving engine's host (serving) or none, got "
                + host.framework().key() + " (eager, compiled and graph time single forward passes: use simulate)");
        }
        ServingEngine.Limits limits = new ServingEngine.Limits(maxBatchedTokens, maxSequences, blockTokens, kvBlocks,
            Math.round(stepOverheadUs * 1e6)).withHost(host).withPrefixCaching(prefixCaching);
        ServingEngine.Speculation speculation = speculativeTokens == null ? null : new ServingEngine.Speculation(
            speculativeTokens, acceptanceRate, draft == null ? null : new StepTimer(hw, draft, null, timing),
            traffic.seed ^ 0x7370656375726174L); // "speculat" in ASCII: draws of their own
        ServingEngine.Swap swap = preemption.equals("swap") ? swap(hw, bytesPerToken) : null;
        Engines engines = (timer, l) -> {
            ServingEngine e = new ServingEngine(timer, l, chosen, speculation);
            return swap == null ? e : e.swapping(swap);
        };
        StepTimer timer = new StepTimer(hw, w, null, timing);
        List<StepTimer> timers = layout == null ? List.of(timer) : layout.timers(hw, w, timer);
        if (traffic.arrivals != null && Traffic.Arrivals.parseAll(traffic.arrivals).size() > 1) {
            if (costFile != null && !cost.none()) {
                throw new InputException("--cost: not with several --arrivals rates (a knee) yet; serve one rate");
            }
            return knee(hw, w, chosen, limits, engines, targets, r -> checkFits(r, w, kvBlocks, bytesPerToken,
                weights, memory), layout, systemSpec, timers, wallStart);
        }
        SplittableRandom random = new SplittableRandom(traffic.seed);
        IntFunction<Request> sizes = traffic.sizes(w, workload, random);
        Traffic requests;
        List<Request> known = null;
        if (traffic.requestFile != null) {
            known = RequestFile.read(traffic.requestFile);
            requests = Traffic.of(known);
        } else if (traffic.arrivals != null) {
            known = Traffic.open(Traffic.Arrivals.parse(traffic.arrivals), traffic.count(), traffic.durationPs(),
                random, sizes);
            requests = Traffic.of(known);
        } else {
            requests = Traffic.closed(traffic.concurrency, traffic.count(), traffic.durationPs(), sizes);
        }
        if (known != null) {
            for (Request r : known) {
                checkFits(r, w, kvBlocks, bytesPerToken, weights, memory);
            }
        }
        Traffic checked = known != null ? requests : checking(requests, w, kvBlocks, bytesPerToken, weights, memory);
        Served served = serveOnce(layout, timers, engines, limits, checked, w);
        ServingEngine.Result result = served.result();
        Replicas.Result routed = served.routed();
        Disaggregated.Result split = served.split();
        Map<String, Object> summary = describeRun(hw, w, chosen, limits);
        if (layout != null) {
            summary.put("system", layout.describe(systemSpec));
        }
        summary.putAll(ServingReport.summary(result, targets, kvBlocks));
        if (slo == null) {
            summary.remove("goodput");
        }
        if (result.prefixCache() != null) {
            summary.put("prefix_cache", result.prefixCache());
        }
        if (speculation != null) {
            Map<String, Object> spec = new LinkedHashMap<>();
            spec.put("draft_tokens", (long) speculation.tokens());
            spec.put("acceptance_rate", speculation.acceptance());
            spec.put("draft", draft == null ? "none: drafts cost nothing on the device (n-gram prompt lookup)"
                : draft.model().name());
            if (result.speculative() != null) {
                spec.putAll(result.speculative()); // with replicas: each replica's, under replicas
            }
            if (speculation.draft() != null) {
                spec.put("draft_step_memo", speculation.draft().memo());
            }
            summary.put("speculative", spec);
        }
        if (swap != null) {
            summary.put("swap", ServeOutputs.swapSummary(hw, swap, routed != null ? routed.replicas() : split != null
                ? ServeOutputs.concat(split.prefill().replicas(), split.decode()) : List.of(result)));
        }
        double spanS = (double) summary.get("span_s");
        if (routed != null) {
            Map<String, Object> pool = new LinkedHashMap<>();
            pool.put("count", (long) routed.replicas().size());
            pool.put("router", routing().key());
            pool.put("per_replica", ServeOutputs.replicaSummaries(routed.replicas(), 0, layout, kvBlocks, spanS,
                timer.staticW()));
            summary.put("replicas", pool);
        }
        if (split != null) {
            summary.put("disaggregation", ServeOutputs.disaggregation(split, layout, kvBlocks, spanS, w,
                timer.staticW()));
        }
        summary.put("step_timing", timing.key());
        summary.put("step_memo", timers.size() == 1 ? timer.memo() : ServeOutputs.memoOfAll(timers));
        int devices = groups(layout) * w.run().tensorParallel();
        if (timer.hasEnergy()) {
            summary.put("energy", energy(served, spanS, timer, layout, w));
        }
        if (billed != null) {
            long tokens = result.outcomes().stream().filter(ServingEngine.Outcome::finished)
                .mapToLong(o -> o.request().outputTokens()).sum();
            double[] flops = new double[devices];
            java.util.Arrays.fill(flops, result.steps().flops.sum() / devices);
            summary.put("cost", cost.model().ofServing(java.util.Collections.nCopies(devices, billed), spanS,
                (double) ((Map<?, ?>) summary.get("energy")).get("joules"), flops, tokens));
        }
        String[] replicaColumns = routed != null ? new String[] {"replica"} : split != null
            ? new String[] {"prefill_replica", "decode_replica", "kv_transfer_s"} : new String[0];
        Object[][] replicaCells = routed != null ? new Object[][] {ServeOutputs.boxed(routed.replicaOf())}
            : split != null ? new Object[][] {ServeOutputs.boxed(split.prefillOf()),
                ServeOutputs.orEmpty(split.decodeOf()), ServeOutputs.seconds(split.transferPs())}
            : new Object[0][];
        List<ServingEngine.Result> perReplica = routed != null ? routed.replicas() : split != null
            ? ServeOutputs.concat(split.prefill().replicas(), split.decode()) : null;
        try (OutputFolder folder = OutputFolder.open(out, "--out", OUTPUTS)) {
            AtomicFile.write(folder.path("requests.csv"), wr -> ServingReport.writeRequests(wr, result, replicaColumns,
                replicaCells));
            String title = w.model().name() + " on " + (systemSpec == null ? hw.name() : systemSpec.name());
            if (perReplica == null) {
                ServingReport.writeOccupancyChart(folder.path("occupancy.png"), result, kvBlocks, maxSequences, title);
            } else {
                ServingReport.writeReplicaOccupancyChart(folder.path("occupancy.png"), perReplica, kvBlocks,
                    title + (split != null ? ", prefill " + layout.prefill() + " + decode " + layout.decode()
                        : ", " + perReplica.size() + " replicas"));
            }
            ServingReport.writeLatencyChart(folder.path("latency.png"), result, title);
            AtomicFile.write(folder.path("serving.json"), wr -> wr.write(SimulationReport.json(summary)));
            folder.commit();
        }
        new ServeConsole(out()).summary(summary, (System.nanoTime() - wallStart) * 1e-9, draftWorkload != null,
            routing().key(), cost.source(), out);
        return Main.OK;
    }

    /** Device groups the run uses: a system's, --replicas, or one. */
    private int groups(ServeLayout layout) {
        return layout != null ? layout.groups().size() : replicas == null ? 1 : replicas;
    }

    /** serving.json's energy block of a run over {@code spanS} (its KV transfers' links too, disaggregated). */
    private Map<String, Object> energy(Served served, double spanS, StepTimer timer, ServeLayout layout, Workload w) {
        double transferJ = served.split() == null ? 0 : served.split().links().stream()
            .mapToDouble(dev.rafter.serving.KvTransfers.LinkUse::energyJ).sum();
        int groups = groups(layout);
        dev.rafter.energy.DevicePower board = timer.hardware().energy().device();
        return ServingReport.energy(served.result(), spanS, groups * timer.staticW(),
            (long) groups * w.run().tensorParallel(), transferJ, w.run().tensorParallel(),
            board == null ? Double.NaN : board.capW());
    }

    /** A run: on one engine, on replicas behind the router ({@code routed}), or disaggregated ({@code split}). */
    private record Served(ServingEngine.Result result, Replicas.Result routed, Disaggregated.Result split) {}

    /**
     * Serves {@code traffic} (a list of requests, or closed-loop clients) on one engine, on --replicas or a system's groups behind the router, or on a system's prefill and decode groups.
     */
    private Served serveOnce(ServeLayout layout, List<StepTimer> timers, Engines engines, ServingEngine.Limits limits,
                             Traffic traffic, Workload w) {
        if (layout != null && layout.decode() > 0) {
            List<ServingEngine> prefillEngines = new ArrayList<>();
            List<ServingEngine> decodeEngines = new ArrayList<>();
            for (int k = 0; k < layout.groups().size(); k++) {
                StepTimer own = timers.get(Math.min(k, timers.size() - 1));
                if (k < layout.prefill()) {
                    prefillEngines.add(engines.make(own, limits));
                } else {
                    decodeEngines.add(engines.make(own, limits.withPrefixCaching(false)).arrivingPrefilled());
                }
            }
            Disaggregated.Result split = Disaggregated.serve(prefillEngines, decodeEngines, traffic, routing(),
                layout.graph(), layout.groups().subList(0, layout.prefill()), layout.groups().subList(
                    layout.prefill(), layout.groups().size()), ServeOutputs.kvBytesPerToken(w));
            return new Served(split.merged(), null, split);
        }
        if (replicas != null || layout != null) {
            // Identical replicas time identical steps alike: one step timer (and memo) serves them all, unless
            // each group's collectives cross its own links of a system.
            int replicaCount = layout == null ? replicas : layout.groups().size();
            List<ServingEngine> pool = new ArrayList<>();
            for (int k = 0; k < replicaCount; k++) {
                pool.add(engines.make(timers.get(Math.min(k, timers.size() - 1)), limits));
            }
            Replicas.Result routed = Replicas.serve(pool, traffic, routing());
            return new Served(routed.merged(), routed, null);
        }
        return new Served(engines.make(timers.get(0), limits).run(traffic), null, null);
    }

    /**
     * The knee: the same traffic at each rate of --arrivals (the same seed, so the same draws, spaced by the
     * rate), one step timer for all (its memo carries over); knee.csv, knee.png, goodput.png and serving.json.
     */
    private int knee(HardwareSpec hw, Workload w, Policy chosen, ServingEngine.Limits limits,
                     Engines engines, ServingReport.Slo targets,
                     java.util.function.Consumer<Request> fits, ServeLayout layout, SystemSpec systemSpec,
                     List<StepTimer> timers, long wallStart) {
        List<Map<String, Object>> points = new java.util.ArrayList<>();
        for (Traffic.Arrivals rate : Traffic.Arrivals.parseAll(traffic.arrivals)) {
            SplittableRandom random = new SplittableRandom(traffic.seed);
            IntFunction<Request> sizes = traffic.sizes(w, workload, random);
            List<Request> known = Traffic.open(rate, traffic.count(), traffic.durationPs(), random, sizes);
            known.forEach(fits);
            Served served = serveOnce(layout, timers, engines, limits, Traffic.of(known), w);
            ServingEngine.Result result = served.result();
            Map<String, Object> point = new LinkedHashMap<>();
            point.put("rate_per_s", rate.ratePerS());
            point.putAll(ServingReport.summary(result, targets, limits.kvBlocks()));
            if (slo == null) {
                point.remove("goodput");
            }
            if (timers.get(0).hasEnergy()) {
                point.put("energy", energy(served, (double) point.get("span_s"), timers.get(0), layout, w));
            }
            if (result.prefixCache() != null) {
                point.put("prefix_cache", result.prefixCache());
            }
            if (result.speculative() != null) {
                point.put("speculative", result.speculative());
            }
            points.add(point);
        }
        Map<String, Object> summary = describeRun(hw, w, chosen, limits);
        if (layout != null) {
            summary.put("system", layout.describe(systemSpec));
        }
        if (layout != null && layout.decode() > 0) {
            Map<String, Object> sides = new LinkedHashMap<>();
            sides.put("prefill_replicas", (long) layout.prefill());
            sides.put("decode_replicas", (long) layout.decode());
            summary.put("disaggregation", sides);
        } else if (replicas != null || layout != null) {
            Map<String, Object> pool = new LinkedHashMap<>();
            pool.put("count", (long) (layout == null ? replicas : layout.groups().size()));
            pool.put("router", routing().key());
            summary.put("replicas", pool);
        }
        summary.put("rates", points);
        summary.put("step_timing", timers.get(0).timing().key());
        summary.put("step_memo", timers.size() == 1 ? timers.get(0).memo() : ServeOutputs.memoOfAll(timers));
        String title = w.model().name() + " on " + (systemSpec == null ? hw.name() : systemSpec.name())
            + (layout != null && layout.decode() > 0 ? ", prefill " + layout.prefill() + " + decode "
            + layout.decode() : replicas != null || layout != null ? ", " + (layout == null ? replicas
            : layout.groups().size()) + " replicas" : "");
        if (kneeRuns != null) {
            List<Map<String, Object>> keyed = new ArrayList<>(points.size());
            for (Map<String, Object> p : points) {
                Map<String, Object> k = new LinkedHashMap<>();
                k.put(varyKey, varyValue);
                k.putAll(p);
                keyed.add(k);
            }
            summary.put("rates", keyed);
            kneeRuns.add(new KneeRun(varyValue, keyed, summary, title));
            return Main.OK;
        }
        try (OutputFolder folder = OutputFolder.open(out, "--out", KNEE_OUTPUTS)) {
            AtomicFile.write(folder.path("knee.csv"), wr -> ServingReport.writeKnee(wr, points));
            ServingReport.writeKneeChart(folder.path("knee.png"), points, title);
            ServingReport.writeGoodputChart(folder.path("goodput.png"), points, title);
            AtomicFile.write(folder.path("serving.json"), wr -> wr.write(SimulationReport.json(summary)));
            folder.commit();
        }
        new ServeConsole(out()).kneeTable(points, null, 0, slo != null);
        Map<?, ?> memo = (Map<?, ?>) summary.get("step_memo");
        out().printf(Locale.ROOT, "simulator: %s of %s steps from the step memo; wall %.1f s; wrote %s%n",
            memo.get("step_hits"), memo.get("steps"), (System.nanoTime() - wallStart) * 1e-9, out);
        return Main.OK;
    }

    /**
     * --vary K=V1,V2,...: the knee at each value, each served as {@code --set K=V} would be (the same seed, so the
     * same traffic), then one knee.csv (the key's column first), knee.png (TTFT and TPOT p99 per value), goodput.png
     * and serving.json (each value's summary under {@code values}).
     */
    private int kneeOverValues(long wallStart) {
        int eq = vary.indexOf('=');
        if (eq <= 0 || eq == vary.length() - 1) {
            throw new InputException("--vary: expected KEY=V1,V2,..., got '" + vary + "'");
        }
        String key = vary.substring(0, eq).strip();
        List<String> values = java.util.Arrays.stream(vary.substring(eq + 1).split(",", -1)).map(String::strip)
            .toList();
        if (values.stream().anyMatch(String::isEmpty) || values.size() != new java.util.HashSet<>(values).size()) {
            throw new InputException("--vary " + key + ": expected distinct, non-empty values separated by commas, "
                + "got '" + vary.substring(eq + 1) + "'");
        }
        if (values.size() > XyChart.PALETTE.length) {
            throw new InputException("--vary " + key + ": at most " + XyChart.PALETTE.length + " values (one colour "
                + "each in knee.png), got " + values.size());
        }
        if (traffic.arrivals == null || Traffic.Arrivals.parseAll(traffic.arrivals).size() < 2) {
            throw new InputException("--vary: sweeps the knee, so it needs several rates in --arrivals "
                + "(poisson:R1,R2,...)");
        }
        if (hardware.overrides.stream().anyMatch(set -> set.startsWith(key + "="))) {
            throw new InputException("--vary " + key + ": the key is also given by --set");
        }
        kneeRuns = new ArrayList<>();
        varyKey = key;
        try {
            for (String value : values) {
                varyValue = value;
                hardware.overrides.add(key + "=" + value);
                try {
                    call();
                } catch (InputException e) {
                    // The value reaches the models as a --set would; the message names the option the user gave.
                    throw new InputException(e.getMessage().replace("--set " + key + "=" + value,
                        "--vary " + key + "=" + value));
                } finally {
                    hardware.overrides.remove(hardware.overrides.size() - 1);
                }
            }
        } finally {
            varyKey = null;
            varyValue = null;
        }
        List<KneeRun> runs = kneeRuns;
        kneeRuns = null;
        List<Map<String, Object>> all = new ArrayList<>();
        Map<String, List<Map<String, Object>>> byValue = new LinkedHashMap<>();
        List<Object> summaries = new ArrayList<>();
        for (KneeRun r : runs) {
            all.addAll(r.points());
            byValue.put(r.value(), r.points());
            Map<String, Object> one = new LinkedHashMap<>();
            one.put(key, r.value());
            one.putAll(r.summary());
            summaries.add(one);
        }
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("vary", key);
        summary.put("values", summaries);
        String title = runs.get(0).title() + ", knee over " + key;
        try (OutputFolder folder = OutputFolder.open(out, "--out", KNEE_OUTPUTS)) {
            AtomicFile.write(folder.path("knee.csv"), wr -> ServingReport.writeKnee(wr, all, key));
            ServingReport.writeKneeChart(folder.path("knee.png"), byValue, title);
            ServingReport.writeGoodputChart(folder.path("goodput.png"), byValue, title);
            AtomicFile.write(folder.path("serving.json"), wr -> wr.write(SimulationReport.json(summary)));
            folder.commit();
        }
        int width = Math.max(key.length(), values.stream().mapToInt(String::length).max().orElse(0));
        new ServeConsole(out()).kneeTable(all, key, width, slo != null);
        out().printf(Locale.ROOT, "simulator: %d values x %d rates; wall %.1f s; wrote %s%n", runs.size(),
            runs.get(0).points().size(), (System.nanoTime() - wallStart) * 1e-9, out);
        return Main.OK;
    }

    /** What serving.json says first: the hardware, workload, traffic, scheduler and host. */
    private Map<String, Object> describeRun(HardwareSpec hw, Workload w, Policy chosen, ServingEngine.Limits limits) {
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("hardware", hw.name());
        summary.put("workload", w.model().name());
        summary.put("traffic", traffic.describe());
        Map<String, Object> scheduler = new LinkedHashMap<>();
        scheduler.put("policy", chosen.key());
        scheduler.put("max_batched_tokens", (long) maxBatchedTokens);
        scheduler.put("max_sequences", (long) maxSequences);
        scheduler.put("block_tokens", (long) blockTokens);
        scheduler.put("step_overhead_s", stepOverheadUs * 1e-6);
        if (prefixCaching) {
            scheduler.put("prefix_caching", true);
        }
        if (preemption.equals("swap")) {
            scheduler.put("preemption", "swap");
        }
        if (speculativeTokens != null) {
            scheduler.put("speculative_tokens", (long) speculativeTokens);
        }
        summary.put("scheduler", scheduler);
        if (hw.host().on()) {
            summary.put("host", ServeOutputs.hostSummary(hw.host(), limits));
        }
        return summary;
    }

    /** Makes an engine of the run's policy, speculation and preemption on a step timer. */
    private interface Engines {
        ServingEngine make(StepTimer timer, ServingEngine.Limits limits);
    }

    /** Swapping to the device's host memory tier over its link; refused where the device has none. */
    private ServingEngine.Swap swap(HardwareSpec hw, long bytesPerToken) {
        HardwareSpec.MemoryTier host = hw.tier("host");
        if (host == null) {
            throw new InputException("--preemption swap: " + hw.name() + " has no memory_tiers.host (the host's "
                + "memory behind its link, as in models/hardware/h100-hbf.yaml) to swap KV blocks to");
        }
        long blockBytes = bytesPerToken * blockTokens;
        long hostBlocks = (long) Math.floor(host.memory().capacityGib() * GIB / blockBytes);
        return new ServingEngine.Swap(blockBytes, host.memory().bytesPerSecond(),
            Math.round(host.memory().latencyNs() * 1000), hostBlocks);
    }

    private Replicas.Router routing() {
        return Replicas.Router.of(router == null ? "round_robin" : router);
    }

    private void checkOptions() {
        traffic.check();
        if ((speculativeTokens == null) != (acceptanceRate == null)) {
            throw new InputException("--speculative-tokens: give both --speculative-tokens K and --acceptance-rate A");
        }
        if (speculativeTokens != null && (speculativeTokens < 1 || speculativeTokens > 64)) {
            throw new InputException("--speculative-tokens: expected 1 to 64 draft tokens, got " + speculativeTokens);
        }
        if (acceptanceRate != null && !(acceptanceRate >= 0 && acceptanceRate <= 1)) {
            throw new InputException("--acceptance-rate: expected a probability from 0 to 1, got " + acceptanceRate);
        }
        if (draftWorkload != null && speculativeTokens == null) {
            throw new InputException("--draft-workload: needs --speculative-tokens K and --acceptance-rate A");
        }
        traffic.checkLengths();
        if (router != null && replicas == null && system == null) {
            throw new InputException("--router: routes requests among --replicas N; give --replicas");
        }
        if (!preemption.equals("recompute") && !preemption.equals("swap")) {
            throw new InputException("--preemption: expected recompute or swap, got '" + preemption + "'");
        }
        if (router != null && routing() == Replicas.Router.PREFIX && !prefixCaching) {
            throw new InputException("--router prefix: routes by the blocks replicas cache; give --prefix-caching");
        }
        if (disaggregate != null) {
            if (system == null) {
                throw new InputException("--disaggregate: prefill and decode run on device groups of a system; "
                    + "give --system S");
            }
            if (replicas != null) {
                throw new InputException("--disaggregate: sets the replicas of each side; leave out --replicas");
            }
            if (speculativeTokens != null) {
                throw new InputException("--disaggregate: speculative decoding on the decode side is not modelled "
                    + "(its draft would need the prompt's KV too); leave out --speculative-tokens");
            }
        }
        if (replicas != null) {
            within("--replicas", replicas, 4096);
            routing();
        }
        // Bounds that keep a step's operators within what one operator may hold (TraceCsv's limits).
        within("--max-batched-tokens", maxBatchedTokens, 1 << 20);
        within("--max-sequences", maxSequences, 1 << 16);
        within("--block-tokens", blockTokens, 1 << 16);
        if (!(stepOverheadUs >= 0 && stepOverheadUs <= 1e6)) {
            throw new InputException("--step-overhead-us: expected 0 to 1e6 microseconds, got " + stepOverheadUs);
        }
    }

    private static void within(String option, int value, int most) {
        if (value < 1 || value > most) {
            throw new InputException(option + ": expected 1 to " + most + ", got " + value);
        }
    }


    private ServingReport.Slo parseSlo() {
        if (slo == null) {
            return new ServingReport.Slo(Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY);
        }
        Double ttft = null;
        Double tpot = null;
        for (String part : slo.split(",", -1)) {
            String[] kv = part.split("=", -1);
            try {
                double v = kv.length == 2 ? dev.rafter.config.Numbers.parseDouble(kv[1]) : Double.NaN;
                if (kv.length == 2 && v > 0 && v < 1e6 && kv[0].trim().equals("ttft") && ttft == null) {
                    ttft = v;
                    continue;
                }
                if (kv.length == 2 && v > 0 && v < 1e6 && kv[0].trim().equals("tpot") && tpot == null) {
                    tpot = v;
                    continue;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new InputException("--slo: expected ttft=SECONDS,tpot=SECONDS (positive), got '" + slo + "'");
        }
        if (ttft == null || tpot == null) {
            throw new InputException("--slo: expected both ttft=SECONDS and tpot=SECONDS, got '" + slo + "'");
        }
        return new ServingReport.Slo(ttft, tpot);
    }



    /** Closed-loop requests are made as clients finish: each is checked as it is handed out. */
    private Traffic checking(Traffic inner, Workload w, long kvBlocks, long bytesPerToken, long weights,
                             double memory) {
        return new Traffic() {
            @Override
            public Request peek() {
                return inner.peek();
            }

            @Override
            public Request poll() {
                Request r = inner.poll();
                checkFits(r, w, kvBlocks, bytesPerToken, weights, memory);
                return r;
            }

            @Override
            public void finished(Request request, long ps) {
                inner.finished(request, ps);
            }
        };
    }

    private void checkFits(Request r, Workload w, long kvBlocks, long bytesPerToken, long weights, double memory) {
        long total = (long) r.promptTokens() + r.outputTokens();
        if (total > w.model().contextLength()) {
            throw InputException.located(r.source() + ": prompt " + r.promptTokens() + " + output "
                + r.outputTokens() + " tokens exceed the context length " + w.model().contextLength() + " of "
                + w.model().name());
        }
        long needed = (total - 1 + blockTokens - 1) / blockTokens;
        if (needed > kvBlocks) {
            throw InputException.located(String.format(Locale.ROOT, "%s: a request of %d tokens needs %d KV-cache "
                + "blocks of %d tokens, the cache holds %d (memory.capacity_gib %.1f GiB less %.1f GiB of weights,"
                + " %d bytes per token)", r.source(), total, needed, blockTokens, kvBlocks, memory / GIB,
                weights / GIB, bytesPerToken));
        }
    }

}

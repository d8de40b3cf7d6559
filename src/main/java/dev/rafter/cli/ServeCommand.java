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
import dev.rafter.roofline.RooflineReport;
import dev.rafter.serving.Disaggregated;
import dev.rafter.serving.FabricGroup;
import dev.rafter.serving.Policy;
import dev.rafter.serving.Replicas;
import dev.rafter.serving.Request;
import dev.rafter.serving.RequestFile;
import dev.rafter.serving.ServingEngine;
import dev.rafter.serving.ServingReport;
import dev.rafter.serving.StepTimer;
import dev.rafter.serving.StepTiming;
import dev.rafter.serving.Traffic;
import dev.rafter.sim.fabric.FabricGraph;
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

    @Option(names = "--workload", required = true, paramLabel = "W", description = "workload model YAML (its "
        + "run.prompt_tokens and run.output_tokens are the default request lengths; run.batch is not used)")
    Path workload;

    @Option(names = "--request-file", paramLabel = "F", description = "requests to replay: CSV arrival_s,"
        + "prompt_tokens,output_tokens[,priority], JSON lines with those keys, or the Azure LLM inference trace "
        + "(TIMESTAMP,ContextTokens,GeneratedTokens)")
    Path requestFile;

    @Option(names = "--arrivals", paramLabel = "SPEC", description = "open-loop arrivals: poisson:RATE or "
        + "gamma:RATE:CV (requests per second); several rates (poisson:R1,R2,...) sweep the rate: knee.csv, "
        + "knee.png, goodput.png")
    String arrivals;

    @Option(names = "--concurrency", paramLabel = "N", description = "closed-loop clients: each sends its next "
        + "request when its last one finishes")
    Integer concurrency;

    @Option(names = "--requests", paramLabel = "N", description = "how many requests to generate")
    Long requests;

    @Option(names = "--duration", paramLabel = "S", description = "generate requests arriving in the first S "
        + "seconds (the run goes on until every one has finished)")
    Double durationS;

    @Option(names = "--prompt-tokens", paramLabel = "N", description = "prompt length of generated requests "
        + "(default: the workload's run.prompt_tokens)")
    Integer promptTokens;

    @Option(names = "--output-tokens", paramLabel = "N", description = "output length of generated requests "
        + "(default: the workload's run.output_tokens)")
    Integer outputTokens;

    @Option(names = "--lengths", paramLabel = "F", description = "draw each generated request's prompt and output "
        + "lengths (and priority) from a random row of this request file")
    Path lengths;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "seed of the arrivals and the "
        + "length draws (default: ${DEFAULT-VALUE}); the same seed gives the same outputs")
    long seed;

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

    @Option(names = "--prefixes", paramLabel = "K", description = "generated requests begin with one of K shared "
        + "prefixes, drawn at random (needs --prefix-tokens)")
    Integer prefixes;

    @Option(names = "--prefix-tokens", paramLabel = "N", description = "length of the shared prefixes of --prefixes"
        + " (a shorter prompt is all prefix)")
    Integer prefixTokens;

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
        Layout layout = systemSpec == null ? null : layout(systemSpec, w);
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
        long bytesPerToken = kvBytesPerToken(w) + (draft == null ? 0 : kvBytesPerToken(draft));
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
            seed ^ 0x7370656375726174L); // "speculat" in ASCII: draws of their own
        ServingEngine.Swap swap = preemption.equals("swap") ? swap(hw, bytesPerToken) : null;
        Engines engines = (timer, l) -> {
            ServingEngine e = new ServingEngine(timer, l, chosen, speculation);
            return swap == null ? e : e.swapping(swap);
        };
        StepTimer timer = new StepTimer(hw, w, null, timing);
        List<StepTimer> timers = layout == null ? List.of(timer) : layout.timers(hw, w, timer);
        if (arrivals != null && Traffic.Arrivals.parseAll(arrivals).size() > 1) {
            if (costFile != null && !cost.none()) {
                throw new InputException("--cost: not with several --arrivals rates (a knee) yet; serve one rate");
            }
            return knee(hw, w, chosen, limits, engines, targets, r -> checkFits(r, w, kvBlocks, bytesPerToken,
                weights, memory), layout, systemSpec, timers, wallStart);
        }
        SplittableRandom random = new SplittableRandom(seed);
        IntFunction<Request> sizes = withPrefixes(lengthSource(w, random.split()));
        Traffic traffic;
        List<Request> known = null;
        long durationPs = durationS == null ? 0 : Math.round(durationS * 1e12);
        long count = requests == null ? 0 : requests;
        if (requestFile != null) {
            known = RequestFile.read(requestFile);
            traffic = Traffic.of(known);
        } else if (arrivals != null) {
            known = Traffic.open(Traffic.Arrivals.parse(arrivals), count, durationPs, random, sizes);
            traffic = Traffic.of(known);
        } else {
            traffic = Traffic.closed(concurrency, count, durationPs, sizes);
        }
        if (known != null) {
            for (Request r : known) {
                checkFits(r, w, kvBlocks, bytesPerToken, weights, memory);
            }
        }
        Traffic checked = known != null ? traffic : checking(traffic, w, kvBlocks, bytesPerToken, weights, memory);
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
            summary.put("swap", swapSummary(hw, swap, routed != null ? routed.replicas() : split != null
                ? concat(split.prefill().replicas(), split.decode()) : List.of(result)));
        }
        double spanS = (double) summary.get("span_s");
        if (routed != null) {
            Map<String, Object> pool = new LinkedHashMap<>();
            pool.put("count", (long) routed.replicas().size());
            pool.put("router", routing().key());
            pool.put("per_replica", replicaSummaries(routed.replicas(), 0, layout, kvBlocks, spanS,
                timer.staticW()));
            summary.put("replicas", pool);
        }
        if (split != null) {
            summary.put("disaggregation", disaggregation(split, layout, kvBlocks, spanS, w, timer.staticW()));
        }
        summary.put("step_timing", timing.key());
        summary.put("step_memo", timers.size() == 1 ? timer.memo() : memoOfAll(timers));
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
        Object[][] replicaCells = routed != null ? new Object[][] {boxed(routed.replicaOf())} : split != null
            ? new Object[][] {boxed(split.prefillOf()), orEmpty(split.decodeOf()), seconds(split.transferPs())}
            : new Object[0][];
        List<ServingEngine.Result> perReplica = routed != null ? routed.replicas() : split != null
            ? concat(split.prefill().replicas(), split.decode()) : null;
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
        print(summary, (System.nanoTime() - wallStart) * 1e-9);
        return Main.OK;
    }

    /** Device groups the run uses: a system's, --replicas, or one. */
    private int groups(Layout layout) {
        return layout != null ? layout.groups().size() : replicas == null ? 1 : replicas;
    }

    /** serving.json's energy block of a run over {@code spanS} (its KV transfers' links too, disaggregated). */
    private Map<String, Object> energy(Served served, double spanS, StepTimer timer, Layout layout, Workload w) {
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
    private Served serveOnce(Layout layout, List<StepTimer> timers, Engines engines, ServingEngine.Limits limits,
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
                    layout.prefill(), layout.groups().size()), kvBytesPerToken(w));
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
                     java.util.function.Consumer<Request> fits, Layout layout, SystemSpec systemSpec,
                     List<StepTimer> timers, long wallStart) {
        long durationPs = durationS == null ? 0 : Math.round(durationS * 1e12);
        long count = requests == null ? 0 : requests;
        List<Map<String, Object>> points = new java.util.ArrayList<>();
        for (Traffic.Arrivals rate : Traffic.Arrivals.parseAll(arrivals)) {
            SplittableRandom random = new SplittableRandom(seed);
            IntFunction<Request> sizes = withPrefixes(lengthSource(w, random.split()));
            List<Request> known = Traffic.open(rate, count, durationPs, random, sizes);
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
        summary.put("step_memo", timers.size() == 1 ? timers.get(0).memo() : memoOfAll(timers));
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
        out().println("rate/s  TTFT p50   TTFT p99   TPOT p50   TPOT p99   requests/s"
            + (slo == null ? "" : "  goodput/s"));
        for (Map<String, Object> p : points) {
            double rate = (double) p.get("rate_per_s");
            out().printf(Locale.ROOT, "%6s  %-9s  %-9s  %-9s  %-9s  %10.4g%s%n", rate == Math.rint(rate)
                ? Long.toString((long) rate) : Double.toString(rate),
                stat(p, "ttft_s", "p50"), stat(p, "ttft_s", "p99"), stat(p, "tpot_s", "p50"),
                stat(p, "tpot_s", "p99"), ((Map<?, ?>) p.get("throughput")).get("requests_per_s"),
                p.get("goodput") instanceof Map<?, ?> g ? String.format(Locale.ROOT, "  %9.4g",
                    g.get("requests_per_s")) : "");
        }
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
        if (arrivals == null || Traffic.Arrivals.parseAll(arrivals).size() < 2) {
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
        out().println(String.format(Locale.ROOT, "%-" + width + "s", key) + "  rate/s  TTFT p50   TTFT p99   "
            + "TPOT p50   TPOT p99   requests/s" + (slo == null ? "" : "  goodput/s"));
        for (Map<String, Object> p : all) {
            double rate = (double) p.get("rate_per_s");
            out().printf(Locale.ROOT, "%-" + width + "s  %6s  %-9s  %-9s  %-9s  %-9s  %10.4g%s%n", p.get(key),
                rate == Math.rint(rate) ? Long.toString((long) rate) : Double.toString(rate),
                stat(p, "ttft_s", "p50"), stat(p, "ttft_s", "p99"), stat(p, "tpot_s", "p50"),
                stat(p, "tpot_s", "p99"), ((Map<?, ?>) p.get("throughput")).get("requests_per_s"),
                p.get("goodput") instanceof Map<?, ?> g ? String.format(Locale.ROOT, "  %9.4g",
                    g.get("requests_per_s")) : "");
        }
        out().printf(Locale.ROOT, "simulator: %d values x %d rates; wall %.1f s; wrote %s%n", runs.size(),
            runs.get(0).points().size(), (System.nanoTime() - wallStart) * 1e-9, out);
        return Main.OK;
    }

    private static String stat(Map<String, Object> point, String metric, String which) {
        Object v = ((Map<?, ?>) point.get(metric)).get(which);
        return v == null ? "-" : RooflineReport.time((double) v).replace(" ", "");
    }

    /** What serving.json says first: the hardware, workload, traffic, scheduler and host. */
    private Map<String, Object> describeRun(HardwareSpec hw, Workload w, Policy chosen, ServingEngine.Limits limits) {
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("hardware", hw.name());
        summary.put("workload", w.model().name());
        summary.put("traffic", describeTraffic());
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
            summary.put("host", hostSummary(hw.host(), limits));
        }
        return summary;
    }

    private static long kvBytesPerToken(Workload w) {
        return 2L * w.run().layers() * w.kvHeadsPerDevice() * w.model().headDim() * w.run().kvDataType().bytes();
    }

    /** The serving host's cost per step, from its cost table, and whether the engine's own work was measured. */
    private static Map<String, Object> hostSummary(HostModel host, ServingEngine.Limits limits) {
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

    /** Makes an engine of the run's policy, speculation and preemption on a step timer. */
    private interface Engines {
        ServingEngine make(StepTimer timer, ServingEngine.Limits limits);
    }

    /**
     * The replicas of a system: device groups of {@code run.tensor_parallel} devices, in the system's order (the
     * first {@code prefill} of them prefill when {@code decode} is above 0), on the system's fabric.
     */
    private record Layout(FabricGraph graph, int tensorParallel, List<List<Integer>> groups, int prefill,
                          int decode) {
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
    }

    private Layout layout(SystemSpec spec, Workload w) {
        int tp = w.run().tensorParallel();
        int available = spec.deviceCount() / tp;
        int prefill = 0;
        int decode = 0;
        int count;
        if (disaggregate != null) {
            int[] pd = parseDisaggregate();
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
        return new Layout(new FabricGraph(spec), tp, List.copyOf(groups), prefill, decode);
    }

    /** {@code --disaggregate prefill=P,decode=D}: the device groups of each side. */
    private int[] parseDisaggregate() {
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

    private static Map<String, Object> swapSummary(HardwareSpec hw, ServingEngine.Swap swap,
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
    private static List<Map<String, Object>> replicaSummaries(List<ServingEngine.Result> results, int first,
                                                              Layout layout, long kvBlocks, double spanS,
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

    /** A quantile of a distribution in serving.json, as a time, or "-" for none. */
    private static String timeOf(Map<?, ?> distribution, String quantile) {
        return distribution.containsKey(quantile) ? RooflineReport.time((double) distribution.get(quantile)) : "-";
    }

    /** serving.json's disaggregation block: each side's replicas and utilisation, and the KV-cache transfers. */
    private Map<String, Object> disaggregation(Disaggregated.Result split, Layout layout, long kvBlocks, double spanS,
                                               Workload w, double staticW) {
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

    private static Map<String, Object> side(List<ServingEngine.Result> results, int first, Layout layout,
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
    private static Map<String, Object> memoOfAll(List<StepTimer> timers) {
        Map<String, Object> sum = new LinkedHashMap<>();
        for (StepTimer t : timers) {
            t.memo().forEach((k, v) -> sum.merge(k, v, (a, b) -> (long) a + (long) b));
        }
        return sum;
    }

    private static <T> List<T> concat(List<T> a, List<T> b) {
        List<T> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    private static Object[] boxed(int[] values) {
        Object[] cells = new Object[values.length];
        for (int i = 0; i < values.length; i++) {
            cells[i] = values[i];
        }
        return cells;
    }

    /** Values, with -1 (none) as an empty cell. */
    private static Object[] orEmpty(int[] values) {
        Object[] cells = new Object[values.length];
        for (int i = 0; i < values.length; i++) {
            cells[i] = values[i] < 0 ? "" : values[i];
        }
        return cells;
    }

    /** Picoseconds as seconds, with -1 (none) as an empty cell. */
    private static Object[] seconds(long[] ps) {
        Object[] cells = new Object[ps.length];
        for (int i = 0; i < ps.length; i++) {
            cells[i] = ps[i] < 0 ? "" : ps[i] * 1e-12;
        }
        return cells;
    }

    private Replicas.Router routing() {
        return Replicas.Router.of(router == null ? "round_robin" : router);
    }

    private void checkOptions() {
        int sources = (requestFile != null ? 1 : 0) + (arrivals != null ? 1 : 0) + (concurrency != null ? 1 : 0);
        if (sources != 1) {
            throw new InputException("serve: give exactly one of --request-file, --arrivals and --concurrency");
        }
        if (requestFile != null && (requests != null || durationS != null || lengths != null || promptTokens != null
            || outputTokens != null)) {
            throw new InputException("--request-file: replays the file as it is; --requests, --duration, --lengths, "
                + "--prompt-tokens and --output-tokens are for generated requests");
        }
        if (requestFile == null && (requests == null) == (durationS == null)) {
            throw new InputException("serve: generated requests need exactly one of --requests N and --duration S");
        }
        if (requests != null && (requests < 1 || requests > 100_000_000L)) {
            throw new InputException("--requests: expected 1 to 100000000, got " + requests);
        }
        if (durationS != null && !(durationS > 0 && durationS <= 1e6)) {
            throw new InputException("--duration: expected seconds in (0, 1e6], got " + durationS);
        }
        if (concurrency != null && (concurrency < 1 || concurrency > 1_000_000)) {
            throw new InputException("--concurrency: expected 1 to 1000000 clients, got " + concurrency);
        }
        if (lengths != null && (promptTokens != null || outputTokens != null)) {
            throw new InputException("--lengths: draws both lengths; leave out --prompt-tokens and --output-tokens");
        }
        if (requestFile != null && (prefixes != null || prefixTokens != null)) {
            throw new InputException("--request-file: prefixes come from its prefix_id and prefix_tokens columns; "
                + "--prefixes and --prefix-tokens are for generated requests");
        }
        if ((prefixes == null) != (prefixTokens == null)) {
            throw new InputException("--prefixes: give both --prefixes K and --prefix-tokens N");
        }
        if (prefixes != null && (prefixes < 1 || prefixes > 1_000_000)) {
            throw new InputException("--prefixes: expected 1 to 1000000 prefixes, got " + prefixes);
        }
        positive("--prefix-tokens", prefixTokens);
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
        positive("--prompt-tokens", promptTokens);
        positive("--output-tokens", outputTokens);
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

    private static void positive(String option, Integer value) {
        if (value != null && (value < 1 || value > (1 << 24))) {
            throw new InputException(option + ": expected 1 to " + (1 << 24) + ", got " + value);
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
                double v = kv.length == 2 ? Double.parseDouble(kv[1].trim()) : Double.NaN;
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

    /** Lengths of generated request i: fixed, or a random row of --lengths. */
    private IntFunction<Request> lengthSource(Workload w, SplittableRandom random) {
        if (lengths != null) {
            List<Request> rows = RequestFile.read(lengths);
            if (rows.isEmpty()) {
                throw new InputException("--lengths: " + lengths + " has no rows");
            }
            return i -> rows.get(random.nextInt(rows.size()));
        }
        int prompt = promptTokens != null ? promptTokens : w.run().promptTokens();
        int output = outputTokens != null ? outputTokens : w.run().outputTokens();
        String source = promptTokens != null || outputTokens != null ? "--prompt-tokens/--output-tokens"
            : workload + ": run.prompt_tokens/run.output_tokens";
        Request fixed = new Request(0, 0, prompt, output, 0, source);
        return i -> fixed;
    }

    /**
     * Generated requests with one of --prefixes shared prefixes each, drawn from a stream of their own (so the
     * arrivals and lengths are those of the same seed without prefixes).
     */
    private IntFunction<Request> withPrefixes(IntFunction<Request> lengths) {
        if (prefixes == null) {
            return lengths;
        }
        SplittableRandom draws = new SplittableRandom(seed ^ 0x7072656669786573L); // "prefixes" in ASCII
        return i -> {
            Request r = lengths.apply(i);
            return new Request(r.id(), r.arrivalPs(), r.promptTokens(), r.outputTokens(), r.priority(), r.source(),
                "prefix-" + draws.nextInt(prefixes), Math.min(prefixTokens, r.promptTokens()));
        };
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

    private String describeTraffic() {
        String lengthsText = lengths != null ? "lengths from " + lengths
            : "prompt " + (promptTokens != null ? promptTokens : "run.prompt_tokens") + ", output "
            + (outputTokens != null ? outputTokens : "run.output_tokens");
        String amount = requests != null ? requests + " requests" : durationS + " s";
        if (requestFile != null) {
            return "request file " + requestFile;
        }
        if (arrivals != null) {
            return arrivals + ", " + amount + ", " + lengthsText + ", seed " + seed;
        }
        return concurrency + " closed-loop clients, " + amount + ", " + lengthsText + ", seed " + seed;
    }

    private void printReplica(String kind, Map<?, ?> r, String router) {
        out().printf(Locale.ROOT, "%s %s (%s): %s requests, mean batch %.1f, KV cache mean %.1f%%, busy %.1f%%%n",
            kind, r.get("replica"), router, r.get("requests"), r.get("mean_batch"),
            100 * (double) r.get("kv_mean_occupancy_while_busy"), 100 * (double) r.get("busy_share"));
    }

    @SuppressWarnings("unchecked")
    private void print(Map<String, Object> s, double wallS) {
        Map<String, Object> req = (Map<String, Object>) s.get("requests");
        Map<String, Object> ttft = (Map<String, Object>) s.get("ttft_s");
        Map<String, Object> tpot = (Map<String, Object>) s.get("tpot_s");
        Map<String, Object> thr = (Map<String, Object>) s.get("throughput");
        Map<String, Object> kv = (Map<String, Object>) s.get("kv_cache");
        Map<String, Object> steps = (Map<String, Object>) s.get("steps");
        Map<String, Object> memo = (Map<String, Object>) s.get("step_memo");
        out().printf("%s requests served on %s (%s unfinished) in %s simulated%n", req.get("finished"),
            s.get("hardware"), req.get("unfinished"), RooflineReport.time((double) s.get("span_s")));
        out().printf("TTFT p50 %s, p99 %s; TPOT %s%n", RooflineReport.time((double) ttft.get("p50")),
            RooflineReport.time((double) ttft.get("p99")), tpot.containsKey("p50")
                ? "p50 " + RooflineReport.time((double) tpot.get("p50")) + ", p99 "
                + RooflineReport.time((double) tpot.get("p99")) : "none (one-token outputs)");
        out().printf(Locale.ROOT, "throughput %.4g output tokens/s (%.4g requests/s)%n",
            thr.get("output_tokens_per_s"), thr.get("requests_per_s"));
        if (s.get("goodput") instanceof Map<?, ?> g) {
            out().printf(Locale.ROOT, "goodput %.4g requests/s (%.1f%% meet TTFT <= %s and TPOT <= %s)%n",
                g.get("requests_per_s"), 100 * (double) g.get("fraction"), RooflineReport.time((double)
                g.get("slo_ttft_s")), RooflineReport.time((double) g.get("slo_tpot_s")));
        }
        if (s.get("speculative") instanceof Map<?, ?> sp) {
            out().printf(Locale.ROOT, "speculative decoding: %s draft tokens (%s), %.1f%% accepted, %.3f tokens per "
                + "verification%n", sp.get("draft_tokens"), draftWorkload == null ? "no draft model" : "draft "
                + sp.get("draft"), 100 * (double) sp.get("acceptance"), sp.get("tokens_per_verification"));
        }
        if (s.get("prefix_cache") instanceof Map<?, ?> p) {
            out().printf(Locale.ROOT, "prefix cache: %.1f%% of prompt tokens hit (%s of %s), %s evictions%n",
                100 * (double) p.get("hit_rate"), p.get("hit_tokens"), p.get("queried_tokens"), p.get("evictions"));
        }
        out().printf(Locale.ROOT, "%s steps, mean batch %.1f, KV cache peak %.1f%% of %s blocks, %s preemptions%n",
            steps.get("count"), steps.get("mean_batch"), 100 * (double) kv.get("peak_occupancy"), kv.get("blocks"),
            s.get("preemptions"));
        if (s.get("host") instanceof Map<?, ?> h) {
            out().printf("host (%s, %s): %s per step%s%n", h.get("framework"), h.get("costs"),
                RooflineReport.time((double) h.get("per_step_s")), h.containsKey("scheduling_and_sampling")
                    ? " (synchronisation and graph replay; scheduling and sampling not measured, counted 0)"
                    : " + " + RooflineReport.time((double) h.get("per_sequence_in_step_s")) + " per sequence");
        }
        if (s.get("system") instanceof Map<?, ?> sys) {
            out().printf("system %s: %s device group(s) of %s (tensor parallel), %s of its %s devices%n",
                sys.get("name"), sys.get("groups"), sys.get("tensor_parallel"), sys.get("devices"),
                sys.get("devices_in_system"));
        }
        if (s.get("swap") instanceof Map<?, ?> sw) {
            out().printf(Locale.ROOT, "swap: %s KV blocks to host memory and %s back over %.4g GB/s%n",
                sw.get("swapped_out_blocks"), sw.get("swapped_in_blocks"), sw.get("link_bandwidth_gb_per_s"));
        }
        if (s.get("replicas") instanceof Map<?, ?> pool) {
            long queried = 0;
            long hit = 0;
            for (Object o : (List<?>) pool.get("per_replica")) {
                printReplica("replica", (Map<?, ?>) o, (String) pool.get("router"));
                if (((Map<?, ?>) o).get("prefix_cache") instanceof Map<?, ?> p) {
                    queried += (long) p.get("queried_tokens");
                    hit += (long) p.get("hit_tokens");
                }
            }
            if (queried > 0) {
                out().printf(Locale.ROOT, "prefix cache over the replicas: %.1f%% of prompt tokens hit (%d of %d)%n",
                    100.0 * hit / queried, hit, queried);
            }
        }
        if (s.get("disaggregation") instanceof Map<?, ?> d) {
            for (String side : List.of("prefill", "decode")) {
                for (Object o : (List<?>) ((Map<?, ?>) d.get(side)).get("per_replica")) {
                    printReplica(side, (Map<?, ?>) o, routing().key());
                }
            }
            Map<?, ?> moved = (Map<?, ?>) d.get("kv_transfer");
            Map<?, ?> t = (Map<?, ?>) moved.get("time_s");
            Map<?, ?> wait = (Map<?, ?>) moved.get("wait_for_decode_s");
            out().printf(Locale.ROOT, "KV transfers: %s, %.4g GB; time p50 %s, p99 %s; wait for decode room p50 %s, "
                + "p99 %s%n", moved.get("transfers"), (long) moved.get("bytes") / 1e9, timeOf(t, "p50"),
                timeOf(t, "p99"), timeOf(wait, "p50"), timeOf(wait, "p99"));
        }
        if (s.get("energy") instanceof Map<?, ?> e) {
            out().printf(Locale.ROOT, "energy %.4g J (static %.4g J, dynamic %.4g J%s) on %s device(s): average power "
                + "%.4g W (%.4g W per device), %.4g J per output token, per request p50 %.4g J%n", e.get("joules"),
                e.get("static_j"), e.get("dynamic_j"), e.get("kv_transfer_j") instanceof Double moved
                    ? String.format(Locale.ROOT, ", KV transfers %.4g J", moved) : "", e.get("devices"),
                e.get("average_power_w"), e.get("average_power_per_device_w"), e.get("energy_per_output_token_j"),
                ((Map<?, ?>) e.get("per_request_j")).get("p50"));
        }
        if (s.get("cost") instanceof Map<?, ?> c) {
            String perTokens = c.get("usd_per_million_tokens") instanceof Double usd
                ? String.format(Locale.ROOT, "; $%.4g per million output tokens", usd) : "";
            String carbon = c.get("g_co2e_per_thousand_tokens") instanceof Double g
                ? String.format(Locale.ROOT, ", %.4g g CO2e per thousand tokens%s", g,
                    ((Map<?, ?>) c.get("g_co2e")).get("embodied") == null ? " (operational; embodied not given)" : "")
                : "";
            out().printf(Locale.ROOT, "cost (%s, %s%s): $%.4g for %s device(s) over %s (electricity $%.4g)%s%s%n",
                c.get("model"), c.get("date"), cost.source(), c.get("usd"), c.get("devices"),
                RooflineReport.time((double) s.get("span_s")), c.get("usd_electricity"), perTokens, carbon);
        }
        Runtime rt = Runtime.getRuntime();
        out().printf(Locale.ROOT, "simulator: %s of %s steps from the step memo, %s operator shapes simulated%s; wall "
            + "%.1f s, heap %.0f MiB in use; wrote %s%n", memo.get("step_hits"), memo.get("steps"),
            memo.get("operator_shapes_simulated"), "interpolated".equals(s.get("step_timing"))
                ? " (steps interpolated between them: an approximation)" : "", wallS,
            (rt.totalMemory() - rt.freeMemory()) / 1048576.0, out);
    }
}

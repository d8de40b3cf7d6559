package dev.rafter.serving;

import dev.rafter.hw.HostModel;
import dev.rafter.workload.StepLowering;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Continuous (iteration-level) batching on one device, in vLLM's order: each step first gives every running
 * sequence that decodes its next token, then running prompts their next chunk, then admits waiting requests in
 * the {@link Policy}'s order, all within a token budget ({@code maxBatchedTokens}) and a limit of running
 * sequences ({@code maxSequences}). The KV cache is paged ({@code blockTokens} per block, {@code kvBlocks} blocks):
 * a sequence holds the blocks for the tokens it has computed; a request is admitted only when the blocks for its
 * first chunk are free, and a running sequence that needs a block when none is free preempts the last running
 * sequence in the policy's order (itself, if it is that one) by recomputation: its blocks are freed and it waits
 * again, to prefill its prompt and the tokens it has generated before it resumes. No request is admitted in a step
 * that preempted. With prefix caching ({@link KvCache}) a request starts from the cached blocks of its prefix (and
 * a recomputed one from its own blocks still cached): its prefill skips their tokens, which the token budget then
 * does not count, and its admission needs only the blocks it adds. Time advances by each step's time
 * ({@link StepTimer}) plus the host's {@code stepOverheadPs}
 * and, with a serving host modelled, its cost per step and per sequence in the step ({@link Limits#hostStepPs()},
 * {@link Limits#hostSequencePs()}).
 *
 * <p>Each step also keeps the dynamic energy and FLOPs of its operators ({@link StepTimer#step}, the draft model's
 * passes included); a request is given a share of each step it is in, by its tokens in the step, of the step's
 * dynamic energy and of the static power over the step ({@link StepTimer#staticW}).
 *
 * <p>Prefill yields the first output token; a request of {@code output} tokens then decodes {@code output - 1}
 * steps, so its KV cache peaks at {@code prompt + output - 1} tokens.
 */
public final class ServingEngine {
    /**
     * The scheduler's limits, and the host's time per step: {@code stepOverheadPs} (given by hand), plus
     * {@code hostStepPs} and {@code hostSequencePs} per sequence in the step (from the host model); and whether
     * full KV blocks are cached by content for requests that share a prefix ({@link KvCache}).
     */
    public record Limits(int maxBatchedTokens, int maxSequences, int blockTokens, long kvBlocks, long stepOverheadPs,
                         long hostStepPs, long hostSequencePs, boolean prefixCaching) {
        public Limits(int maxBatchedTokens, int maxSequences, int blockTokens, long kvBlocks, long stepOverheadPs) {
            this(maxBatchedTokens, maxSequences, blockTokens, kvBlocks, stepOverheadPs, 0, 0, false);
        }

        /** These limits with prefix caching on or off. */
        public Limits withPrefixCaching(boolean on) {
            return new Limits(maxBatchedTokens, maxSequences, blockTokens, kvBlocks, stepOverheadPs, hostStepPs,
                hostSequencePs, on);
        }

        /**
         * These limits with the host model's costs: a serving host ends each step with a synchronisation that
         * returns the sampled tokens, schedules and samples (per step and per sequence), then replays the step's
         * graph, and the device starts on the graph's first node. The later nodes are issued faster than the device
         * runs kernels (each takes at least the GPU-side kernel boundary), so they hide behind the kernels the
         * {@link StepTimer} counts. No host: no cost.
         */
        public Limits withHost(HostModel host) {
            if (!host.on()) {
                return this;
            }
            return new Limits(maxBatchedTokens, maxSequences, blockTokens, kvBlocks, stepOverheadPs,
                ps(host.costs().syncNs() + host.perStepNs(0) + host.perKernelNs()),
                ps(host.costs().servingSequenceNs()), prefixCaching);
        }

        private static long ps(double ns) {
            return Math.round(ns * 1000);
        }

        /** Host time of a step of {@code sequences} sequences. */
        public long hostPs(long sequences) {
            return stepOverheadPs + hostStepPs + sequences * hostSequencePs;
        }
    }

    /**
     * What happened to one request; times in picoseconds, -1 where it did not get that far; {@code energyJ} its
     * share of the energy of the steps it was in (NaN without energy tables).
     */
    public record Outcome(Request request, long firstScheduledPs, long firstTokenPs, long finishPs, int preemptions,
                          int generated, double energyJ) {
        public boolean finished() {
            return finishPs >= 0;
        }
    }

    /**
     * Per step: start, end, sequences and tokens in it, KV blocks held, preemptions so far, requests in system, and
     * the dynamic energy (J) and FLOPs of its devices.
     */
    public static final class Steps {
        public final DoubleList dynamicJ = new DoubleList();
        public final DoubleList flops = new DoubleList();
        public final LongList startPs = new LongList();
        public final LongList endPs = new LongList();
        public final LongList sequences = new LongList();
        public final LongList tokens = new LongList();
        public final LongList kvBlocks = new LongList();
        public final LongList preemptions = new LongList();

        public int count() {
            return startPs.size();
        }
    }

    /** A growable array of longs (a step series of an hour's run holds hundreds of thousands). */
    public static final class LongList {
        private long[] values = new long[1024];
        private int size;

        void add(long v) {
            if (size == values.length) {
                values = java.util.Arrays.copyOf(values, size * 2);
            }
            values[size++] = v;
        }

        public long get(int i) {
            return values[i];
        }

        public int size() {
            return size;
        }
    }

    /** A growable array of doubles. */
    public static final class DoubleList {
        private double[] values = new double[1024];
        private int size;

        void add(double v) {
            if (size == values.length) {
                values = java.util.Arrays.copyOf(values, size * 2);
            }
            values[size++] = v;
        }

        public double get(int i) {
            return values[i];
        }

        public int size() {
            return size;
        }

        /** The sum, in order. */
        public double sum() {
            double total = 0;
            for (int i = 0; i < size; i++) {
                total += values[i];
            }
            return total;
        }
    }

    /** The requests (by id) and the steps of a run. */
    public record Result(List<Outcome> outcomes, Steps steps, long preemptions, Map<String, Object> prefixCache,
                         Map<String, Object> speculative, Map<String, Long> swapped) {
        public Result(List<Outcome> outcomes, Steps steps, long preemptions) {
            this(outcomes, steps, preemptions, null, null, null);
        }
    }

    private static final class Sequence {
        final Request request;
        int computed;
        int target;
        int generated;
        final KvCache.Held held = new KvCache.Held();
        int stepTokens;
        /** Draft tokens this step verifies (speculative decoding). */
        int drafts;
        long firstScheduledPs = -1;
        long firstTokenPs = -1;
        long finishPs = -1;
        int preemptions;
        /** KV blocks it holds in host memory, swapped out at its preemption (0: none). */
        long swappedBlocks;
        /** Its share of its steps' energy, J. */
        double energyJ;

        Sequence(Request request) {
            this.request = request;
            this.target = request.promptTokens();
        }

        boolean decoding() {
            return generated > 0 && computed == target - 1;
        }

        Outcome outcome() {
            return new Outcome(request, firstScheduledPs, firstTokenPs, finishPs, preemptions, generated, energyJ);
        }
    }

    private final StepTimer timer;
    /** The group's static power, W (NaN without energy tables). */
    private final double staticW;
    private final Limits limits;
    private final Policy policy;
    private final Speculation speculation;
    private Swap swap;
    private boolean arrivesPrefilled;
    private boolean handsOver;

    public ServingEngine(StepTimer timer, Limits limits, Policy policy) {
        this(timer, limits, policy, null);
    }

    /** With {@code speculation} (null: none). */
    public ServingEngine(StepTimer timer, Limits limits, Policy policy, Speculation speculation) {
        this.timer = timer;
        this.staticW = timer.staticW();
        this.limits = limits;
        this.policy = policy;
        this.speculation = speculation;
    }

    /**
     * Speculative decoding: each decoding sequence gets {@code tokens} draft tokens, proposed by a draft model
     * ({@code draft}, its own step timer: a pass over the step's prompt chunks and one token of each drafting
     * sequence, then one pass per further draft token) or, with {@code draft} null, at no device cost (n-gram
     * prompt lookup); the target verifies them with the sequence's last token in one pass of {@code tokens + 1}
     * tokens, whose every position goes through the LM head. Each draft token is accepted with probability
     * {@code acceptance} independently, as far as the first rejection (the model of Leviathan et al., 2023, whose
     * expected tokens per pass are (1 - a^(k+1)) / (1 - a)); the target's token at the first rejection (or after
     * the last draft) comes with them. A sequence never drafts past its output: one with r tokens to go drafts at
     * most r - 1. Draws come from {@code seed}, in the step's order.
     */
    public record Speculation(int tokens, double acceptance, StepTimer draft, long seed) {}

    /**
     * Preemption by swapping to host memory: a victim's KV blocks ({@code blockBytes} each on a device) go to the
     * host over its link ({@code linkBytesPerS}, {@code linkLatencyPs} per transfer) and come back when it is
     * admitted again, so it resumes where it stopped instead of recomputing; the host holds {@code hostBlocks}
     * blocks, and a victim that would not fit there is recomputed. As vLLM's cache engine copies a step's blocks
     * before its forward pass, a step waits for the blocks it swaps out, then for those it swaps in: each
     * direction one transfer of the step's blocks, its latency plus its bytes over the bandwidth.
     */
    public record Swap(long blockBytes, double linkBytesPerS, long linkLatencyPs, long hostBlocks) {
        /** Picoseconds one transfer of {@code blocks} blocks takes on the link (0 for none). */
        public long transferPs(long blocks) {
            return blocks == 0 ? 0 : linkLatencyPs + Math.round(blocks * blockBytes / linkBytesPerS * 1e12);
        }
    }

    /** Preempts by swapping to host memory ({@code swap}) instead of recomputation; returns this engine. */
    public ServingEngine swapping(Swap swap) {
        this.swap = swap;
        return this;
    }

    /**
     * Every request arrives with its prompt's KV cache computed and its first token generated elsewhere (the
     * decode side of disaggregated serving): it needs blocks for its prompt (set aside before it arrives with
     * {@link Replay#reserve}, which admits it on arrival) and decodes from its second token; its
     * first token counts at its arrival here. Returns this engine.
     */
    public ServingEngine arrivingPrefilled() {
        this.arrivesPrefilled = true;
        return this;
    }

    /**
     * The prefill side of disaggregated serving: a finished request keeps its KV blocks until {@link
     * Replay#release} (its cache has crossed the fabric), so a full cache holds back admissions here. Returns this
     * engine.
     */
    public ServingEngine handingOver() {
        this.handsOver = true;
        return this;
    }

    public StepTimer timer() {
        return timer;
    }

    /** Blocks a sequence of {@code tokens} tokens holds. */
    public long blocksFor(long tokens) {
        return (tokens + limits.blockTokens() - 1) / limits.blockTokens();
    }

    public Result run(Traffic traffic) {
        Replay replay = new Replay(traffic);
        while (replay.iterate()) {
            // each iteration takes the arrivals due and runs one step
        }
        return replay.result();
    }

    /** A run on {@code traffic}. */
    public Replay replay(Traffic traffic) {
        return new Replay(traffic);
    }

    /**
     * A run taken one iteration at a time, so that replicas behind a router advance together in time; run to
     * the end it is {@link #run}.
     */
    public final class Replay {
        private final Traffic traffic;
        private final Comparator<Sequence> order = Comparator.comparing(s -> s.request, policy.order());
        private final TreeSet<Sequence> waiting = new TreeSet<>(order);
        private final List<Sequence> running = new ArrayList<>();
        private final List<Sequence> all = new ArrayList<>();
        private final Steps steps = new Steps();
        private final java.util.SplittableRandom draws = speculation == null ? null
            : new java.util.SplittableRandom(speculation.seed());
        private long proposed = 0;
        private long acceptedTokens = 0;
        private long verifications = 0;
        private final KvCache cache = new KvCache(limits.blockTokens(), limits.kvBlocks(), limits.prefixCaching());
        private long preemptions = 0;
        private long swappedOut = 0;
        private long swappedIn = 0;
        private long hostBlocksHeld = 0;
        private long now = 0;
        private int stepNumber = 0;
        private final List<Sequence> scheduled = new ArrayList<>();
        /** Finished requests whose KV blocks wait for their hand-over to end (the prefill side). */
        private final Map<Long, Sequence> handedOver = new java.util.HashMap<>();
        /** Blocks set aside for requests whose KV is on its way here (the decode side), by request id. */
        private final Map<Long, Long> inTransit = new java.util.HashMap<>();
        /** Nothing could run for want of blocks held for hand-overs: waits for a release or an arrival. */
        private boolean blocked;
        /** Of the last step: blocks its finishes free and sequences that finish at its end. */
        private long blocksFreedAtEnd;
        private int finishedAtEnd;

        private Replay(Traffic traffic) {
            this.traffic = traffic;
        }

        /**
         * When the next iteration acts: now if a request is waiting, running or due, else at the next known
         * arrival; {@link Long#MAX_VALUE} when nothing is left to do.
         */
        public long nextActionPs() {
            if (blocked) {
                Request next = traffic.peek();
                return next == null ? Long.MAX_VALUE : Math.max(now, next.arrivalPs());
            }
            if (!waiting.isEmpty() || !running.isEmpty()) {
                return now;
            }
            Request next = traffic.peek();
            return next == null ? Long.MAX_VALUE : Math.max(now, next.arrivalPs());
        }

        /** Tokens of {@code r}'s prompt whose blocks this replica's prefix cache holds now (0 without caching). */
        public long cachedPromptTokens(Request r) {
            return (long) cache.lookUp(r, r.promptTokens()).size() * limits.blockTokens();
        }

        /** When the last step ends (or the last iteration acted): the state here is the state then. */
        public long nowPs() {
            return now;
        }

        /**
         * The prefill side: the KV blocks of finished request {@code id} are freed at {@code ps} (its hand-over
         * ended), no earlier than the last step began.
         */
        public void release(long id, long ps) {
            Sequence s = handedOver.remove(id);
            cache.release(s.held, ps, true);
            if (blocked) {
                blocked = false;
                now = Math.max(now, ps);
            }
        }

        /**
         * The decode side: sets aside, at {@code ps} (no earlier than the last step began), the blocks for {@code
         * r}'s prompt and its next token, and a place among the running sequences, if both are free then and no
         * preempted sequence waits (those go first); false if not. The request joins the running sequences when it
         * arrives, with its KV in those blocks.
         */
        public boolean reserve(Request r, long ps) {
            long blocks = blocksFor(r.promptTokens() + 1L);
            // During a step, its finishes have not freed their blocks and places yet.
            boolean during = ps < now;
            long free = cache.free() - (during ? blocksFreedAtEnd : 0);
            int taken = running.size() + inTransit.size() + (during ? finishedAtEnd : 0);
            if (!waiting.isEmpty() || taken >= limits.maxSequences() || blocks > free) {
                return false;
            }
            KvCache.Held held = new KvCache.Held();
            cache.allocate(held, blocks);
            inTransit.put(r.id(), blocks);
            return true;
        }

        /** One iteration: the arrivals due, then one step or a wait for the next arrival; false: none left. */
        public boolean iterate() {
            if (blocked) {
                blocked = false;
                now = Math.max(now, traffic.peek().arrivalPs());
            }
            for (Request r = traffic.peek(); r != null && r.arrivalPs() <= now; r = traffic.peek()) {
                Sequence s = new Sequence(traffic.poll());
                Long reserved = inTransit.remove(s.request.id());
                if (reserved != null) {
                    s.held.count = reserved;
                }
                if (arrivesPrefilled) {
                    s.computed = s.request.promptTokens();
                    s.generated = 1;
                    s.target = s.computed + 1;
                    s.firstTokenPs = s.request.arrivalPs();
                }
                all.add(s);
                if (reserved != null) {
                    running.add(s); // admitted when its blocks were set aside
                } else {
                    waiting.add(s);
                }
            }
            if (waiting.isEmpty() && running.isEmpty()) {
                Request next = traffic.peek();
                if (next == null) {
                    return false;
                }
                now = next.arrivalPs();
                return true;
            }
            scheduled.clear();
            int budget = limits.maxBatchedTokens();
            boolean preempted = false;
            long stepSwapOut = 0;
            long stepSwapIn = 0;
            for (int pass = 0; pass < 2; pass++) {
                for (int i = 0; i < running.size() && budget > 0; i++) {
                    Sequence s = running.get(i);
                    if (s.stepTokens > 0 || s.decoding() != (pass == 0)) {
                        continue;
                    }
                    int n = Math.min(s.target - s.computed, budget);
                    if (pass == 0 && speculation != null) {
                        s.drafts = Math.max(0, Math.min(Math.min(speculation.tokens(),
                            s.request.outputTokens() - s.generated - 1), budget - 1));
                        n += s.drafts;
                    }
                    // Blocks held beyond the tokens computed (slots of rejected drafts) are used first.
                    long more = Math.max(0, blocksFor(s.computed + n) - s.held.count);
                    boolean self = false;
                    while (more > cache.free()) {
                        Sequence victim = null;
                        for (Sequence r : running) {
                            if (r.stepTokens == 0 && (victim == null || order.compare(r, victim) > 0)) {
                                victim = r;
                            }
                        }
                        long kept = blocksFor(victim.computed);
                        cache.release(victim.held, now, false);
                        victim.drafts = 0;
                        if (swap != null && hostBlocksHeld + kept <= swap.hostBlocks()) {
                            victim.swappedBlocks = kept;
                            hostBlocksHeld += kept;
                            stepSwapOut += kept;
                        } else {
                            victim.computed = 0;
                            victim.target = victim.request.promptTokens() + victim.generated;
                        }
                        victim.preemptions++;
                        preemptions++;
                        preempted = true;
                        int at = running.indexOf(victim);
                        running.remove(at);
                        waiting.add(victim);
                        if (at <= i) {
                            i--;
                        }
                        if (victim == s) {
                            self = true;
                            break;
                        }
                    }
                    if (self) {
                        continue;
                    }
                    cache.allocate(s.held, more);
                    schedule(s, n, now, scheduled);
                    budget -= n;
                }
            }
            while (!preempted && !waiting.isEmpty() && running.size() + inTransit.size() < limits.maxSequences()
                && budget > 0) {
                Sequence s = waiting.first();
                // A sequence that arrives with its KV (prefilled elsewhere, or swapped out) starts from it.
                boolean resumes = s.computed > 0;
                List<KvCache.Block> hits = resumes ? List.of() : cache.lookUp(s.request, s.target);
                int cachedTokens = resumes ? s.computed : hits.size() * limits.blockTokens();
                int n = Math.min(s.target - cachedTokens, budget);
                long needed = blocksFor(cachedTokens + n) - hits.size();
                if (needed + KvCache.unreferenced(hits) > cache.free()) {
                    break; // admission control: the head of the queue waits for blocks
                }
                waiting.pollFirst();
                running.add(s);
                if (!resumes) {
                    cache.admit(s.held, hits, s.target);
                }
                cache.allocate(s.held, needed);
                if (s.swappedBlocks > 0) {
                    stepSwapIn += s.swappedBlocks;
                    hostBlocksHeld -= s.swappedBlocks;
                    s.swappedBlocks = 0;
                }
                s.computed = cachedTokens;
                schedule(s, n, now, scheduled);
                budget -= n;
            }
            if (scheduled.isEmpty() && (!handedOver.isEmpty() || !inTransit.isEmpty())) {
                blocked = true; // the blocks held for hand-overs come free when they end
                return true;
            }
            if (scheduled.isEmpty()) {
                throw new IllegalStateException("no sequence could be scheduled at " + now + " ps: " + running.size()
                    + " running, " + waiting.size() + " waiting, " + cache.free() + " KV blocks free");
            }
            StepTimer.Cost draft = speculation != null && speculation.draft() != null
                ? drafting(stepNumber, scheduled) : StepTimer.Cost.NONE;
            long swapPs = swap == null ? 0 : swap.transferPs(stepSwapOut) + swap.transferPs(stepSwapIn);
            swappedOut += stepSwapOut;
            swappedIn += stepSwapIn;
            StepTimer.Cost step = timer.step(stepNumber++, groups(scheduled), emitting(scheduled));
            long end = now + swapPs + draft.ps() + step.ps() + limits.hostPs(scheduled.size());
            double stepJ = (draft.femtojoules() + step.femtojoules()) / StepTimer.Cost.FJ_PER_J;
            steps.dynamicJ.add(stepJ);
            steps.flops.add(draft.flops() + step.flops());
            // Each sequence's share by its tokens in the step (speculative drafts included, as the budget counts).
            double perToken = (stepJ + staticW * (end - now) * 1e-12)
                / Math.max(1, limits.maxBatchedTokens() - budget);
            for (Sequence s : scheduled) {
                s.energyJ += perToken * s.stepTokens;
            }
            steps.startPs.add(now);
            steps.endPs.add(end);
            steps.sequences.add(scheduled.size());
            steps.tokens.add(limits.maxBatchedTokens() - budget);
            steps.kvBlocks.add(cache.held());
            long freeBefore = cache.free();
            finishedAtEnd = 0;
            for (Sequence s : scheduled) {
                if (s.drafts > 0) {
                    // The last token's and the accepted drafts' KV stand; the target's own token comes next.
                    int accepted = accepted(s.drafts, draws);
                    proposed += s.drafts;
                    acceptedTokens += accepted;
                    verifications++;
                    s.computed += 1 + accepted;
                    s.generated += accepted;
                    s.target += accepted;
                    s.drafts = 0;
                } else {
                    s.computed += s.stepTokens;
                }
                s.stepTokens = 0;
                cache.computed(s.request, s.held, s.computed);
                if (s.computed < s.target) {
                    continue;
                }
                s.generated++;
                if (s.firstTokenPs < 0) {
                    s.firstTokenPs = end;
                }
                if (s.generated == s.request.outputTokens()) {
                    s.finishPs = end;
                    if (handsOver) {
                        handedOver.put(s.request.id(), s);
                    } else {
                        cache.release(s.held, end, true);
                        finishedAtEnd++;
                    }
                    running.remove(s);
                    traffic.finished(s.request, end);
                } else {
                    s.target++;
                }
            }
            blocksFreedAtEnd = cache.free() - freeBefore;
            steps.preemptions.add(preemptions);
            now = end;
            return true;
        }

        /** The outcomes so far, in id order, and the steps. */
        public Result result() {
            all.sort(Comparator.comparingLong(s -> s.request.id()));
            List<Outcome> outcomes = new ArrayList<>(all.size());
            for (Sequence s : all) {
                outcomes.add(s.outcome());
            }
            Map<String, Object> speculative = null;
            if (speculation != null) {
                speculative = new java.util.LinkedHashMap<>();
                speculative.put("verifications", verifications);
                speculative.put("draft_tokens_proposed", proposed);
                speculative.put("draft_tokens_accepted", acceptedTokens);
                speculative.put("acceptance", proposed == 0 ? 0.0 : (double) acceptedTokens / proposed);
                speculative.put("tokens_per_verification", verifications == 0 ? 0.0
                    : (double) (acceptedTokens + verifications) / verifications);
            }
            return new Result(outcomes, steps, preemptions, cache.caching() ? cache.summary() : null, speculative,
                swap == null ? null : swapSummary());
        }

        private Map<String, Long> swapSummary() {
            Map<String, Long> m = new java.util.LinkedHashMap<>();
            m.put("swapped_out_blocks", swappedOut);
            m.put("swapped_in_blocks", swappedIn);
            return m;
        }
    }

    private static void schedule(Sequence s, int tokens, long now, List<Sequence> scheduled) {
        s.stepTokens = tokens;
        if (s.firstScheduledPs < 0) {
            s.firstScheduledPs = now;
        }
        scheduled.add(s);
    }

    /** The step's attention groups in a canonical order (by new tokens, then KV length). */
    private static List<StepLowering.Group> groups(List<Sequence> scheduled) {
        TreeMap<Long, long[]> byShape = new TreeMap<>();
        for (Sequence s : scheduled) {
            long q = s.stepTokens;
            long kv = s.computed + (long) s.stepTokens;
            long key = q << 32 | kv;
            byShape.computeIfAbsent(key, k -> new long[] {0, q, kv})[0]++;
        }
        List<StepLowering.Group> groups = new ArrayList<>(byShape.size());
        for (long[] g : byShape.values()) {
            groups.add(new StepLowering.Group(g[0], g[1], g[2]));
        }
        return groups;
    }

    /** Rows through the LM head: one per sequence that yields a token, and one per draft verified. */
    private static long emitting(List<Sequence> scheduled) {
        long n = 0;
        for (Sequence s : scheduled) {
            if (s.drafts > 0) {
                n += 1 + s.drafts;
            } else if (s.computed + s.stepTokens == s.target) {
                n++;
            }
        }
        return n;
    }

    /** Leading successes of {@code drafts} trials at the acceptance rate. */
    private int accepted(int drafts, java.util.SplittableRandom draws) {
        int a = 0;
        while (a < drafts && draws.nextDouble() < speculation.acceptance()) {
            a++;
        }
        return a;
    }

    /**
     * The draft model's passes before the step: the first over the step's prompt chunks and one token of each
     * drafting sequence, then one more token of each sequence that drafts that far; only drafted tokens go
     * through the draft's LM head.
     */
    private StepTimer.Cost drafting(int stepNumber, List<Sequence> scheduled) {
        int most = 0;
        for (Sequence s : scheduled) {
            most = Math.max(most, s.drafts > 0 ? s.drafts : s.decoding() ? 0 : 1);
        }
        StepTimer.Cost cost = StepTimer.Cost.NONE;
        for (int pass = 0; pass < most; pass++) {
            TreeMap<Long, long[]> byShape = new TreeMap<>();
            long emitting = 0;
            for (Sequence s : scheduled) {
                long q;
                if (s.drafts > pass) {
                    q = 1;
                    emitting++;
                } else if (pass == 0 && s.drafts == 0 && !s.decoding()) {
                    q = s.stepTokens; // the draft keeps its own KV of the prompt; it drafts from the next step
                } else {
                    continue;
                }
                long kv = s.computed + (s.drafts > pass ? pass + 1 : s.stepTokens);
                byShape.computeIfAbsent(q << 32 | kv, k -> new long[] {0, q, kv})[0]++;
            }
            List<StepLowering.Group> groups = new ArrayList<>(byShape.size());
            for (long[] g : byShape.values()) {
                groups.add(new StepLowering.Group(g[0], g[1], g[2]));
            }
            cost = cost.plus(speculation.draft().step(stepNumber, groups, emitting));
        }
        return cost;
    }
}

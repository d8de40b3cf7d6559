package dev.rafter.sim;

import dev.rafter.config.InputException;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.mapping.L2Residency;
import dev.rafter.mapping.NearMemoryOffload;
import dev.rafter.mapping.OperatorMapper;
import dev.rafter.mapping.TensorPlacement;
import dev.rafter.mapping.TileProgram;
import dev.rafter.roofline.Roofline;
import dev.rafter.sim.component.Catalogue;
import dev.rafter.sim.component.Core;
import dev.rafter.sim.component.Host;
import dev.rafter.sim.schedule.OperatorScheduler;
import dev.rafter.sim.schedule.OperatorSchedulers;
import dev.rafter.sim.trace.RunStats;
import dev.rafter.sim.trace.SliceRecorder;
import dev.rafter.sim.trace.TeeSink;
import dev.rafter.sim.trace.TraceSink;
import dev.rafter.sim.trace.Track;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;
import dev.rafter.workload.OperatorOrder;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.OperatorStream;
import dev.rafter.workload.Timing;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a stream of operators on one device, on the discrete-event kernel, in the order an {@link OperatorScheduler}
 * gives: one after another (each starts when the previous one's results are in memory; {@code strict}, the
 * default) or by their dependencies ({@link #order}). Checks on every run: no work left when the events drain
 * (else a {@link DeadlockException} naming the waiting components), every operator at least its roofline bound,
 * and bytes conserved on every link.
 */
public final class Simulation {
    /** One finished operator. */
    public record OpResult(Operator op, long startPs, long endPs, RunStats.Sums sums, Roofline.Bound bound,
                           String mapping) {
        public double latencyS() {
            return (endPs - startPs) * 1e-12;
        }
    }

    /** Receives each operator as it finishes (for ops.csv and phase totals). */
    public interface OpListener {
        void finished(OpResult result);
    }

    /**
     * What a run produced; {@code events} counts the events simulated, {@code reusedOperators} the operators
     * taken from an identical one instead of being simulated, {@code fastForwardedStages} the global-buffer stages
     * advanced at once where a schedule repeated ({@link FastForward}), {@code aheadOperators} the operators whose
     * shape was simulated ahead on another thread ({@link #threads}).
     */
    public record Result(long endPs, long events, double wallS, RunStats stats, long operators, Device device,
                         long reusedOperators, long fastForwardedStages, long aheadOperators, long l2DirtyBytesLeft) {
        public Result(long endPs, long events, double wallS, RunStats stats, long operators, Device device,
                      long reusedOperators, long fastForwardedStages, long aheadOperators) {
            this(endPs, events, wallS, stats, operators, device, reusedOperators, fastForwardedStages, aheadOperators,
                0);
        }
    }

    /**
     * What a simulated operator left for its twins: its duration, what it added to the run's sums, its own sums,
     * its mapping and, when events are written, its slices (null when they were too many to keep).
     */
    record Replay(long durationPs, RunStats.Sums totalDelta, RunStats.Sums own, Roofline.Bound bound,
                          String mapping, SliceRecorder.Recording slices) {}

    /**
     * What an operator's simulation depends on: its shape, the bytes of its activations it finds resident in the
     * global buffer, the bytes of evicted results it writes back ({@link L2Residency}; both 0 on a device whose
     * global buffer keeps nothing) and the clock it runs at ({@link #clocks}; 0: the device's own).
     */
    public static final class ReuseKey {
        private final Operator.Shape shape;
        private final long residentBytes;
        private final long writtenBackBytes;
        private final double clockMhz;
        /** Kept: every operator is looked up by its key, and a shape's hash visits all its fields. */
        private final int hash;

        public ReuseKey(Operator.Shape shape, long residentBytes, long writtenBackBytes, double clockMhz) {
            this.shape = shape;
            this.residentBytes = residentBytes;
            this.writtenBackBytes = writtenBackBytes;
            this.clockMhz = clockMhz;
            int h = 31 * (31 * shape.hashCode() + Long.hashCode(residentBytes)) + Long.hashCode(writtenBackBytes);
            this.hash = clockMhz == 0 ? h : 31 * h + Double.hashCode(clockMhz);
        }

        public ReuseKey(Operator.Shape shape, long residentBytes, long writtenBackBytes) {
            this(shape, residentBytes, writtenBackBytes, 0);
        }

        public ReuseKey(Operator.Shape shape, long residentBytes) {
            this(shape, residentBytes, 0);
        }

        public Operator.Shape shape() {
            return shape;
        }

        public long residentBytes() {
            return residentBytes;
        }

        public long writtenBackBytes() {
            return writtenBackBytes;
        }

        public double clockMhz() {
            return clockMhz;
        }

        @Override
        public boolean equals(Object o) {
            return o == this || o instanceof ReuseKey k && hash == k.hash && residentBytes == k.residentBytes
                && writtenBackBytes == k.writtenBackBytes && clockMhz == k.clockMhz && shape.equals(k.shape);
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public String toString() {
            return "ReuseKey[shape=" + shape + ", residentBytes=" + residentBytes + ", writtenBackBytes="
                + writtenBackBytes + ", clockMhz=" + clockMhz + "]";
        }
    }

    /** Tile programs mapped for an operating point other than the device's clock ({@link #clocks}). */
    private record ClockedShape(Operator.Shape shape, double clockMhz) {}

    /** Operators kept for reuse (a few hundred bytes each without slices). */
    static final int REPLAY_ENTRIES = 100_000;
    /** Slices one operator's recording may hold, and all recordings together (about 40 bytes each). */
    private static final int RECORDING_SLICES = 1_000_000;
    private int recordingSlices = RECORDING_SLICES;
    private static final long RECORDED_SLICES = 4_000_000;

    /**
     * Programs kept for reuse, counted in tiles plus stages (about 50 bytes each), so memory stays bounded. Kept
     * programs outlive young collections: Llama-3-8B's decode maps a new attention shape each step, never mapped
     * again, and at 2 M items its young collections copied 35 and 71 MB of them (0.48 s of pauses on a loaded 2-core
     * machine; 0.29 s at 100 k items). 200 k items still hold a step's shapes (about 500 items a program there).
     */
    private static final long PLAN_CACHE_ITEMS = 200_000;

    private final HardwareSpec hw;
    private Roofline roofline;
    /** Keyed by {@link Operator.Shape} at the device's clock, by {@link ClockedShape} at another. */
    private final Map<Object, List<TileProgram>> plans = new LinkedHashMap<>(16, 0.75f, true);
    /** Each operator's clock, MHz, or null: every operator at the device's ({@link #clocks}). */
    private java.util.function.ToDoubleFunction<Operator> clocks;
    /** The device at each other clock an operator ran at (for its mapping). */
    private final Map<Double, HardwareSpec> clocked = new java.util.HashMap<>();
    private long cachedItems;
    private long planHbmReadBytes;
    /** Write-back bytes of the programs simulated (not reused): what the global buffer must have written. */
    private long planWriteBackBytes;
    private boolean reuse = true;
    private boolean fastForward = true;
    private int threads = 1;
    private OperatorOrder order = OperatorOrder.STRICT;
    private Timing timing = Timing.KERNEL;
    private int sequences;
    private TensorPlacement.Policy placement = TensorPlacement.FIRST_TIER;
    private Ahead ahead;
    /**
     * Whether the stream takes what each operator finds, and its key, from {@link #ahead}, which read the operators in
     * the order they start (strict order): then the stream's own L2 residency never runs.
     */
    private boolean scannedAhead;
    private long simulatedAhead;
    private FastForward forward;
    private final Map<ReuseKey, Replay> replays = new LinkedHashMap<>(16, 0.75f, true);
    private long recordedSlices;
    private long reused;
    /** What the global buffer holds between operators where it keeps its contents, else null. */
    private L2Residency l2;
    private boolean l2Residency = true;
    /** What the first operator finds resident ({@link #firstResident}); -1: what the buffer holds. */
    private long firstResident = -1;
    /** What the first operator writes back ({@link #firstResident}). */
    private long firstWrittenBack;
    /** Evicted results the last operator that looked at the buffer writes back ({@link #residentInputs}). */
    private long writtenBack;

    public Simulation(HardwareSpec hw) {
        this.hw = hw;
        this.roofline = new Roofline(hw);
    }

    /**
     * Whether an operator whose shape ({@link Operator#shape}) already ran is taken from that run instead of
     * being simulated again (default). Exact: every kernel finds the device in the same state ({@link
     * Device#settle}), so its timing, sums and slices depend on its shape alone; slices are re-emitted shifted.
     */
    public Simulation reuse(boolean on) {
        this.reuse = on;
        return this;
    }

    /**
     * Whether repeating stretches inside an operator are advanced at once ({@link FastForward}; default on, and off
     * with {@link #reuse reuse} off: {@code --no-reuse} simulates everything).
     */
    Simulation fastForward(boolean on) {
        this.fastForward = on;
        return this;
    }

    /**
     * Threads that simulate: the stream's, and {@code n - 1} that simulate the distinct shapes ahead of the running
     * operator, each alone ({@link Ahead}); 1 (default): the stream's alone. Needs reuse; exact for the same reason.
     */
    public Simulation threads(int n) {
        this.threads = Math.max(1, n);
        return this;
    }

    /**
     * When operators start: {@code strict} (default) one after another, {@code dependencies} as their deps allow,
     * overlapping where they use different engines. Reuse, fast-forward and simulation ahead then serve only an
     * operator that starts alone on the device (see {@link OperatorScheduler.Launcher#launch}).
     */
    public Simulation order(OperatorOrder order) {
        this.order = order;
        return this;
    }

    /**
     * What an operator's time means ({@link Timing}): {@code kernel} (default) or {@code wall}, which needs a host
     * model ({@code host.framework}) and makes the host synchronise after each operator (so nothing overlaps: it
     * is refused with {@code --order dependencies}).
     */
    public Simulation timing(Timing timing) {
        this.timing = timing;
        return this;
    }

    /**
     * Whether operators find what the ones before them left in a global buffer that keeps its contents
     * ({@code global_buffer.keeps_contents}; default on). Off, each operator runs as it runs alone, whatever ran
     * before it: how the serving loop's step timer prices operators by shape alone.
     */
    public Simulation l2Residency(boolean on) {
        this.l2Residency = on;
        return this;
    }

    /**
     * The clock each operator runs at, MHz (its operating point, e.g. a throttled operator's; default: every one
     * at the device's {@code clock_mhz}). The clock belongs to the operator's execution: the cores and the
     * interconnect take it when the operator starts, its tiles are mapped for it, and a reused operator is one
     * that ran at the same clock. Operators then run one after another ({@code --order strict}), none ahead.
     */
    public Simulation clocks(java.util.function.ToDoubleFunction<Operator> clockOfOperator) {
        this.clocks = clockOfOperator;
        return this;
    }

    /** Sequences per batch (a workload's {@code run.batch}; 0 for a trace), for the host's per-sequence cost. */
    public Simulation sequences(int batch) {
        this.sequences = batch;
        return this;
    }

    /** Where tensors lie, by role (default: everything on the first tier). */
    public Simulation placement(TensorPlacement.Policy placement) {
        this.placement = placement;
        this.roofline = new Roofline(hw, placement);
        return this;
    }

    /** The kept result of a shape that ran finding nothing resident (null if none). */
    Replay replayOf(Operator.Shape shape) {
        return replayOf(new ReuseKey(shape, 0));
    }

    /** The kept result of a shape that ran finding {@code key}'s bytes resident (null if none). */
    Replay replayOf(ReuseKey key) {
        return replays.get(key);
    }

    /** The most slices one operator's recording keeps (tests lower it). */
    Simulation recordingLimit(int slices) {
        this.recordingSlices = slices;
        return this;
    }

    /** The tile programs of an operator ({@link OperatorMapper}), cached by shape: decode repeats shapes. */
    public List<TileProgram> programs(Operator op) {
        return programs(op, hw.clockMhz());
    }

    /** The tile programs of an operator mapped for a device running at {@code clockMhz}. */
    private List<TileProgram> programs(Operator op, double clockMhz) {
        boolean own = clockMhz == hw.clockMhz();
        Object key = own ? op.shape() : new ClockedShape(op.shape(), clockMhz);
        List<TileProgram> p = plans.get(key);
        if (p == null) {
            p = OperatorMapper.programs(own ? hw : clocked.computeIfAbsent(clockMhz, hw::withClockMhz), op,
                placement);
            plans.put(key, p);
            cachedItems += size(p);
            var eldest = plans.entrySet().iterator();
            while (cachedItems > PLAN_CACHE_ITEMS && plans.size() > 1) {
                cachedItems -= size(eldest.next().getValue());
                eldest.remove();
            }
        }
        return p;
    }

    private static long size(List<TileProgram> programs) {
        long n = 0;
        for (TileProgram p : programs) {
            n += p.size();
        }
        return n;
    }

    private boolean hostFeedsStreams() {
        return hw.host().on() && order != OperatorOrder.STRICT;
    }

    public Result run(OperatorSource source, TraceSink events, OpListener listener) {
        if (clocks != null && order != OperatorOrder.STRICT) {
            throw new InputException("--order " + order.name().toLowerCase(java.util.Locale.ROOT) + ": operators at "
                + "their own clocks (power.cap_policy: throttle) run in --order strict only");
        }
        if (timing == Timing.WALL && !hw.host().on()) {
            throw new InputException("--timing wall: needs a host model (host.framework eager, compiled, graph or "
                + "serving in the hardware file or by --set; it is none)");
        }
        if (timing == Timing.WALL && order != OperatorOrder.STRICT) {
            throw new InputException("--order dependencies: --timing wall synchronises the host after every "
                + "operator, so nothing can overlap (expected --order strict with --timing wall, the same schedule, or "
                + "--timing kernel with --order dependencies)");
        }
        List<Track> tracks = Device.tracks(hw);
        RunStats stats = new RunStats(tracks);
        SliceRecorder recorder = events == null ? null : new SliceRecorder(events, recordingSlices);
        TraceSink sink = events == null ? stats : new TeeSink(List.of(stats, recorder));
        Kernel kernel = new Kernel();
        OperatorScheduler scheduler = OperatorSchedulers.of(order);
        Device[] device = new Device[1];
        long[] count = {0};
        long wallStart = System.nanoTime();
        long end;
        try (OperatorStream stream = new OperatorStream(source);
             // A host feeding streams reuses nothing (see DependencyOrder): nothing simulated ahead would be taken.
             Ahead lookahead = threads > 1 && reuse && clocks == null && !hostFeedsStreams()
                 ? new Ahead(hw, placement, l2Residency, stream, threads - 1, replays::containsKey,
                 opId -> recorder != null && recorder.wants(opId), recorder != null) : null) {
            ahead = lookahead;
            scannedAhead = lookahead != null && !scheduler.overlaps();
            Iterator<Operator> ops = lookahead != null ? lookahead : stream;
            end = kernel.run(clock -> {
                Running running = assemble(kernel, clock, tracks, stats, sink, recorder, listener, count,
                    scheduler.overlaps());
                device[0] = running.device;
                // The first operator starts from the event loop, once the kernel is set up.
                clock.schedule(0, () -> scheduler.start(ops, running));
            });
            if (ops.hasNext() || scheduler.unfinished() > 0 || !device[0].waiting().isEmpty()) {
                List<String> waiting = new ArrayList<>(device[0].waiting());
                if (ops.hasNext() || scheduler.unfinished() > 0) {
                    waiting.add("operator stream: operators left to run");
                }
                throw new DeadlockException(end, waiting);
            }
        }
        double wall = (System.nanoTime() - wallStart) * 1e-9;
        if (count[0] == 0) {
            throw new InputException("no operators to simulate (check --phase)");
        }
        checkConservation(device[0]);
        long simulated = kernel.events() + (ahead == null ? 0 : ahead.events());
        long skipped = forward.skippedStages() + (ahead == null ? 0 : ahead.skippedStages());
        long dirty = scannedAhead ? ahead.l2Dirty() : l2 == null ? 0 : l2.dirty();
        return new Result(end, simulated, wall, stats, count[0], device[0], reused, skipped, simulatedAhead, dirty);
    }

    /**
     * Builds the device on {@code kernel}'s clock and what runs operators on it (their slices to {@code sink}, each
     * finished one to {@code listener}), with the global buffer's contents, fast-forwarding and the host as this
     * simulation is set.
     */
    private Running assemble(Kernel kernel, Scheduler clock, List<Track> tracks, RunStats stats, TraceSink sink,
                             SliceRecorder recorder, OpListener listener, long[] count, boolean overlaps) {
        Device device = new Device(hw, clock, sink, tracks, placement).overlapping(overlaps);
        l2 = l2Residency && hw.globalBuffer().keepsContents()
            ? new L2Residency(hw.globalBuffer().capacityBytes()) : null;
        device.keepResults(l2 != null);
        forward = new FastForward(kernel, device, stats);
        Host host = hw.host().on() ? new Host(hw.host(), sink, Catalogue.tracksOf(tracks, Host.KIND), sequences)
            : null;
        if (host != null && overlaps) {
            host.streams(clock);
        }
        return new Running(device, clock, stats, sink, recorder, listener, count, overlaps, host);
    }

    /**
     * Simulates operators one at a time, each alone, as {@link #run} of that one operator would ({@link
     * #firstResident}), but on one device and one kernel run for them all, the clock going on from one to the next:
     * each operator finds the device settled ({@link Device#settle}), as in the stream, and nothing is built again
     * for the next (a fresh simulation cost more than the operator it simulated ahead: {@link Ahead}). Slices are
     * recorded only with {@code recording}. A model error closes it.
     */
    final class Solo implements AutoCloseable {
        private final Kernel kernel = new Kernel();
        private final Kernel.Continuing run;
        private final Running running;
        /** Whether the operator running now has its slices recorded. */
        private boolean recordNow;
        private long events;
        private long skippedStages;

        Solo(boolean recording) {
            List<Track> tracks = Device.tracks(hw);
            RunStats stats = new RunStats(tracks);
            SliceRecorder recorder = !recording ? null : new SliceRecorder(new TraceSink() {
                @Override
                public void slice(Track track, dev.rafter.sim.trace.SliceKind kind, long opId, long startPs,
                                  long endPs, long amount) {
                }

                @Override
                public boolean wants(long opId) {
                    return recordNow;
                }
            }, recordingSlices);
            TraceSink sink = recorder == null ? stats : new TeeSink(List.of(stats, recorder));
            Running[] built = new Running[1];
            run = kernel.continuing(clock -> built[0] = assemble(kernel, clock, tracks, stats, sink, recorder,
                result -> { }, new long[1], false));
            running = built[0];
        }

        /**
         * Simulates {@code op} finding in the global buffer and writing back what {@code key} says, its slices recorded
         * when {@code record}; the result the stream takes for it (null where it would not keep one).
         */
        Replay simulate(Operator op, ReuseKey key, boolean record) {
            firstResident(key.residentBytes(), key.writtenBackBytes());
            recordNow = record;
            long eventsBefore = kernel.events();
            long skippedBefore = forward.skippedStages();
            run.runFrom(() -> running.launch(op, true, () -> { }));
            checkConservation(running.device);
            events += kernel.events() - eventsBefore;
            skippedStages += forward.skippedStages() - skippedBefore;
            return replayOf(key);
        }

        /** Events simulated, and stages fast-forwarded, by the operators simulated so far. */
        long events() {
            return events;
        }

        long skippedStages() {
            return skippedStages;
        }

        @Override
        public void close() {
            run.close();
        }
    }

    /**
     * Runs the operators the scheduler starts: from a twin's result when the operator is alone on the device and its
     * shape ran before (or ran ahead), else simulated on the device. With {@code overlapping} operators, each one's
     * slices are counted apart ({@link RunStats#start}) and the cores' idle time between programs is not a stall.
     */
    private final class Running implements OperatorScheduler.Launcher {
        private final Device device;
        private final Scheduler clock;
        private final RunStats stats;
        private final TraceSink sink;
        private final SliceRecorder recorder;
        private final OpListener listener;
        private final long[] count;
        private final boolean overlapping;
        /** The host that launches the kernels, or null (none modelled: a kernel starts when the device is free). */
        private final Host host;

        Running(Device device, Scheduler clock, RunStats stats, TraceSink sink, SliceRecorder recorder,
                OpListener listener, long[] count, boolean overlapping, Host host) {
            this.host = host;
            this.device = device;
            this.clock = clock;
            this.stats = stats;
            this.sink = sink;
            this.recorder = recorder;
            this.listener = listener;
            this.count = count;
            this.overlapping = overlapping;
        }

        @Override
        public void settle() {
            device.settle();
        }

        /** By dependencies the host issues as a thread of its own ({@link Host#streams}). */
        @Override
        public boolean hosted() {
            return host != null && overlapping;
        }

        @Override
        public void issue(Operator op, Runnable launched) {
            if (hosted()) {
                host.call(op, kernels(op, hw.clockMhz()), launched);
            } else {
                launched.run();
            }
        }

        /**
         * Starts {@code op} once the host has launched its first kernel (at once without a host, and by dependencies,
         * where the scheduler starts only launched operators); the device idles until then.
         */
        @Override
        public void launch(Operator op, boolean alone, Runnable ended) {
            if (host == null) {
                start(op, alone, ended, -1);
                return;
            }
            if (overlapping) {
                host.running(op.id());
                start(op, alone, ended, clock.now());
                return;
            }
            long now = clock.now();
            host.afterLaunch(clock, op, true, () -> start(op, alone, ended, now));
        }

        /**
         * Reports an operator whose kernels ran from {@code start} to {@code end}: with wall timing, from when the host
         * began the call ({@code called}) to when its synchronisation returned.
         */
        private void report(Operator op, long start, long end, long called, RunStats.Sums sums, Roofline.Bound bound,
                            String mapping, Runnable ended) {
            if (host != null && overlapping) {
                host.stopped();
            }
            if (timing != Timing.WALL) {
                sink.operator(op, start, end);
                listener.finished(new OpResult(op, start, end, sums, bound, mapping));
                ended.run();
                return;
            }
            long back = host.synchronise(op.id(), host.freeAt(), end);
            clock.at(back, () -> {
                sink.operator(op, called, back);
                listener.finished(new OpResult(op, called, back, sums, bound, mapping));
                ended.run();
            });
        }

        /** Kernels of an operator: one for a collective, else its tile programs. */
        private int kernels(Operator op, double clockMhz) {
            return op.kind().isCollective() || roofline.of(op).nearMemory() ? 1 : programs(op, clockMhz).size();
        }

        /**
         * Starts {@code op}: from a twin's result where it may ({@link #replay}), else simulated ({@link #simulate}).
         * Kept small, apart from the simulation: it runs for every operator, the simulation for a few.
         */
        private void start(Operator op, boolean alone, Runnable ended, long called) {
            long start = clock.now();
            count[0]++;
            // What each operator finds, and its key, were found as it was read ahead (clocks unset): not again here.
            StreamScan.Scanned scanned = scannedAhead ? ahead.taken(op) : null;
            long found = scanned != null ? scanned.resident() : residentInputs(op);
            long resident = firstResident >= 0 ? firstResident : found;
            long evicted = firstResident >= 0 ? firstWrittenBack : scanned != null ? scanned.writtenBack() : writtenBack;
            firstResident = -1;
            double mhz = clocks == null ? hw.clockMhz() : clocks.applyAsDouble(op);
            ReuseKey shape = scanned != null ? scanned.key()
                : keys.next(op, resident, evicted, mhz == hw.clockMhz() ? 0 : mhz);
            // Only an operator alone on the device runs as its twins did: one beside others is simulated in full.
            // With a host, only a one-kernel operator starts as its twins did: later kernels may wait for launches.
            boolean reusable = reuse && alone && (host == null || kernels(op, mhz) == 1);
            boolean onCores = !op.kind().isCollective();
            if (overlapping && onCores) {
                // The cores idled since their last program (not a stall: nothing asked them to wait).
                device.skipTo(op.id());
            }
            Replay kept = reusable ? replays.get(shape) : null;
            if (kept != null && ahead != null) {
                ahead.drop(shape);
            }
            Replay fromAhead = reusable && kept == null && ahead != null ? ahead.take(shape) : null;
            if (fromAhead != null) {
                keep(shape, fromAhead);
            }
            boolean simulatedAlone = fromAhead != null;
            Replay twin = simulatedAlone ? fromAhead : kept;
            // A twin whose slices were too many to keep serves only where no slice of this operator is wanted.
            boolean slicesWanted = recorder != null && recorder.wants(op.id());
            if (twin != null && (!slicesWanted || twin.slices() != null)) {
                if (simulatedAlone) {
                    simulatedAhead++;
                } else {
                    reused++;
                }
                replay(op, twin, slicesWanted, onCores, start, called, ended);
                return;
            }
            simulate(op, alone, reusable, slicesWanted, shape, mhz, resident, evicted, start, called, ended);
        }

        /** The keys of the operators started, each found by its predecessor's (the stream's own, without Ahead). */
        private final ReuseKeys keys = new ReuseKeys(REPLAY_ENTRIES);

        /** Runs {@code op} as its twin ran: its sums and slices now, its end after the twin's duration. */
        private void replay(Operator op, Replay twin, boolean slicesWanted, boolean onCores, long start, long called,
                            Runnable ended) {
            stats.replay(op.id(), twin.totalDelta(), twin.own());
            if (slicesWanted) {
                recorder.replay(twin.slices(), op.id(), start);
            }
            clock.schedule(twin.durationPs(), () -> replayed(op, twin, onCores, start, called, ended));
        }

        /**
         * The end of a replayed operator. The cores take it ({@link Device#skipTo}) at once where something may
         * look at them before the next operator starts (a host's launch gap, operators that overlap); otherwise when
         * the next operator that is simulated starts, at this same time ({@link #catchUpCores}), so a stretch of
         * replayed operators does not visit every core for each of them.
         */
        private void replayed(Operator op, Replay twin, boolean onCores, long start, long called, Runnable ended) {
            if (overlapping || host != null) {
                if (!overlapping || onCores) {
                    device.skipTo(op.id());
                }
            } else {
                coresBehind = op.id();
            }
            long end = clock.now();
            if (host != null) {
                host.finished(end);
            }
            long started = count[0];
            report(op, start, end, called, twin.own(), twin.bound(), twin.mapping(), ended);
            if (count[0] == started) {
                catchUpCores(); // no operator followed at once
            }
        }

        /** The replayed operator whose end the cores have not taken yet ({@link #replayed}); -1: none. */
        private long coresBehind = -1;

        private void catchUpCores() {
            if (coresBehind >= 0) {
                device.skipTo(coresBehind);
                coresBehind = -1;
            }
        }

        /** Simulates {@code op} on the device, keeping its result for its twins where it is {@code reusable}. */
        private void simulate(Operator op, boolean alone, boolean reusable, boolean slicesWanted, ReuseKey shape,
                              double mhz, long resident, long evicted, long start, long called, Runnable ended) {
            catchUpCores();
            if (alone) {
                device.settle();
            }
            if (clocks != null) {
                device.clock(mhz);
            }
            if (overlapping) {
                stats.start(op.id());
            } else {
                stats.beginOperator(op.id());
            }
            // Skipped repetitions leave no slices: only an operator none of whose slices are wanted is fast-forwarded.
            forward.allow(reusable && fastForward && !slicesWanted);
            long skippedBefore = forward.skippedStages();
            RunStats.Sums before = reusable ? stats.total().copy() : null;
            if (reusable && recorder != null) {
                recorder.arm(op.id(), start);
            }
            StringBuilder mapping = new StringBuilder();
            Runnable finished = () -> {
                RunStats.Sums sums = overlapping ? stats.finish(op.id()) : stats.current();
                long end = clock.now();
                Roofline.Bound bound = OperatorKernels.checkedBound(roofline, device, op, resident, evicted, start,
                    end);
                String described = mapping.toString();
                if (reusable) {
                    SliceRecorder.Recording slices = recorder == null ? null : recorder.finish();
                    Replay kept = new Replay(end - start, stats.total().since(before), sums.copy(), bound, described,
                        forward.skippedStages() == skippedBefore ? slices : null);
                    keep(shape, kept);
                    // Reported with the sums and mapping its twins report (equal values): listeners that keep what
                    // they derived from an operator's sums by their identity find it for the first twin already.
                    report(op, start, end, called, kept.own(), bound, described, ended);
                    return;
                }
                report(op, start, end, called, sums, bound, described, ended);
            };
            int e = op.dataType().bytes();
            if (op.kind().isCollective()) {
                long bytes = op.elements() * e;
                dev.rafter.hw.Collective c = op.kind().collective();
                planHbmReadBytes += c.readBytes(bytes, (int) op.n());
                mapping.append(dev.rafter.hw.CollectivePlan.choose(hw.deviceLink(), c, bytes, (int) op.n())
                    .describe());
                device.runCollective(op.id(), c, bytes, (int) op.n(), host == null ? finished : () -> {
                    host.finished(clock.now());
                    finished.run();
                });
                return;
            }
            if (roofline.of(op).nearMemory()) {
                // Offloaded to the near-memory units: one kernel, its operand and result over the ordinary path.
                NearMemoryOffload.Work work = roofline.nearMemory().work(op);
                mapping.append("near-memory units beside ").append(roofline.nearMemory().spec().tier());
                device.dispatch(op.id(), () -> device.runNearMemory(op.id(), op.kind().isAttention()
                    ? dev.rafter.mapping.TensorRole.KV_CACHE : dev.rafter.mapping.TensorRole.WEIGHTS, work,
                    host == null ? finished : () -> {
                        host.finished(clock.now());
                        finished.run();
                    }));
                return;
            }
            List<TileProgram> programs = L2Residency.writingBack(L2Residency.readingResident(programs(op, mhz), resident,
                op.activationInputBytes()), evicted);
            mapping.append(OperatorKernels.mapping(op, resident, evicted, programs));
            for (TileProgram p : programs) {
                planHbmReadBytes += p.hbmReadBytes();
                planWriteBackBytes += writeBackBytes(p);
            }
            OperatorKernels.runInOrder(device, clock, host, overlapping, op, programs, 0, p -> forward.begin(p),
                finished);
        }
    }

    /**
     * Bytes of {@code op}'s activations it finds in the global buffer ({@link L2Residency#run}; 0 where the buffer
     * keeps nothing, and for an operator that does not run on the cores, which leaves it as it was).
     */
    private long residentInputs(Operator op) {
        // Only a device with near-memory units offloads (its bound, costly per operator, says where).
        if (l2 == null || op.kind().isCollective() || roofline.nearMemory() != null && roofline.of(op).nearMemory()) {
            writtenBack = 0;
            return 0;
        }
        long resident = l2.run(op);
        writtenBack = l2.lastWrittenBack();
        return resident;
    }

    /**
     * The first operator of the next run finds {@code bytes} of its activations resident and writes {@code
     * writtenBackBytes} of evicted results back, whatever ran before it: how an operator is simulated alone ahead of
     * the stream ({@link Ahead}) as the stream will run it.
     */
    Simulation firstResident(long bytes, long writtenBackBytes) {
        this.firstResident = bytes;
        this.firstWrittenBack = writtenBackBytes;
        return this;
    }

    static long writeBackBytes(TileProgram p) {
        long n = 0;
        for (dev.rafter.mapping.Stage s : p.stages()) {
            n += s.writeBackBytes();
        }
        return n;
    }

    /** Keeps a simulated operator for its twins, the least recently used going first beyond the bounds. */
    private void keep(ReuseKey shape, Replay replay) {
        replays.put(shape, replay);
        recordedSlices += replay.slices() == null ? 0 : replay.slices().size();
        var eldest = replays.entrySet().iterator();
        while ((replays.size() > REPLAY_ENTRIES || recordedSlices > RECORDED_SLICES) && replays.size() > 1) {
            Replay gone = eldest.next().getValue();
            recordedSlices -= gone.slices() == null ? 0 : gone.slices().size();
            eldest.remove();
        }
    }

    /** Bytes sent equal bytes received on every link and channel. */
    private void checkConservation(Device d) {
        long channelBytes = d.memorySystem().bytesMoved();
        long loads = 0;
        long stores = 0;
        for (Core c : d.cores()) {
            loads += c.loadBytes();
            stores += c.storeBytes();
        }
        long hbmReads = d.globalBuffer().bytesLoaded();
        long collectiveReads = d.collectiveReadBytes();
        long collectiveWrites = d.collectiveWriteBytes();
        long nearMemory = d.nearMemoryChannelBytes();
        // With a write-back global buffer the stores stay in it; what memory gets is what the stages wrote back.
        long resultWrites = d.keepsResults() ? d.globalBuffer().bytesWrittenBack() : stores;
        check(channelBytes == hbmReads + resultWrites + collectiveReads + collectiveWrites + nearMemory, "HBM "
            + "channels moved " + channelBytes + " bytes, requested " + (hbmReads + resultWrites + collectiveReads
            + collectiveWrites + nearMemory));
        check(d.globalBuffer().bytesWrittenBack() == planWriteBackBytes, "write-backs were "
            + d.globalBuffer().bytesWrittenBack() + " bytes, the plans say " + planWriteBackBytes);
        check(hbmReads + collectiveReads == planHbmReadBytes, "memory reads were " + (hbmReads + collectiveReads)
            + " bytes, the plans say " + planHbmReadBytes);
        check(d.interconnect().portBytes() == loads + stores, "interconnect ports moved "
            + d.interconnect().portBytes() + " bytes, cores sent and received " + (loads + stores));
        check(d.interconnect().globalBytes() == loads + stores, "global buffer port moved "
            + d.interconnect().globalBytes() + " bytes, cores sent and received " + (loads + stores));
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalStateException("bytes not conserved: " + message);
        }
    }
}

package dev.rafter.sim;

import dev.rafter.mapping.Stage;
import dev.rafter.mapping.TileProgram;
import dev.rafter.mapping.Work;
import dev.rafter.sim.component.Core;
import dev.rafter.sim.component.MemorySystem;
import dev.rafter.sim.steady.Counters;
import dev.rafter.sim.steady.Digest;
import dev.rafter.sim.steady.Frame;
import dev.rafter.sim.steady.Jump;
import dev.rafter.sim.steady.Periodic;
import dev.rafter.sim.trace.RunStats;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Fast-forwarding inside a tile program, exactly: where the device's schedule repeats, many repetitions are
 * advanced at once instead of simulated.
 *
 * <p>Each time the global buffer starts loading a stage, a checkpoint takes a {@link Digest} of everything that
 * decides the future (every pending event with its time from now, the global buffer's window, every port's and
 * channel's queue, every core's place in its work, loads in flight, buffer use and state), relative to a
 * {@link Frame}: stage and work indices from the stage about to load, times from now, result addresses modulo the
 * address period of the results' tier's controller. When a digest's hash equals that of a checkpoint P stages earlier, the digest is kept and
 * compared value for value P stages later: equal means state X(b) is X(a) moved one repetition on. If the program
 * itself repeats with period P over the stages and works that the next N repetitions touch (same stage sizes,
 * users and split over their tier's channels; same tiles, P stages later), the state after N more repetitions is X(b) moved N
 * repetitions on: the clock and every pending event move N x (t(b) - t(a)) later, indices and result addresses
 * N repetitions on, and every running total (statistics, bytes moved, writes pending) grows N times its growth
 * from a to b. Nothing is estimated: a state that repeats, run through a program that repeats, repeats.
 *
 * <p>Used only where every part can digest itself: the {@code simple} memory model on every tier (the banked one's
 * refresh schedule runs at absolute times and never repeats exactly), and no event slices wanted for the operator (the
 * statistics are sums; the slices of skipped repetitions would be missing).
 */
final class FastForward {
    /** How far back (in stages) a repeating digest is looked for. */
    private static final int HISTORY_STAGES = 8192;
    /** Candidates awaiting their second look at once (a short repetition inside a long one). */
    private static final int CANDIDATES = 4;
    /** Stages and works beyond those a checkpoint refers to that must repeat too (safety margin). */
    private static final int MARGIN = 3;

    /** Checkpoints without a sighting before they are looked at half as often. */
    private static final int MISSES = 128;
    /** At most every this many stages, however long nothing is seen twice. */
    private static final int MAX_STRIDE = 16;

    private static final boolean DEBUG = Boolean.getBoolean("rafter.ff.debug");
    private final Kernel kernel;
    private final Device device;
    private final RunStats stats;
    private final MemorySystem memory;
    private final List<Periodic> parts = new ArrayList<>();
    private final boolean capable;

    private boolean allowed;
    private boolean active;
    private List<Stage> stages;
    private List<List<Work>> works;
    private int[][] firstStages;
    private boolean checkpointPending;
    private int stride = 1;
    private int misses;
    private final Digest digest = new Digest();
    private final Map<Long, int[]> history = new HashMap<>();
    private final ArrayDeque<long[]> historyOrder = new ArrayDeque<>();
    private final List<Candidate> candidates = new ArrayList<>();
    private long skippedStages;
    private long jumps;

    /** A state seen once, kept to be compared with the state one presumed repetition later. */
    private record Candidate(int stage, int verifyAt, long timePs, Digest digest, long[] counters, int[] works,
                             long[] storeAddresses, int lowStage, int[] lowWorks) {}

    FastForward(Kernel kernel, Device device, RunStats stats) {
        this.kernel = kernel;
        this.device = device;
        this.stats = stats;
        this.memory = device.memorySystem();
        parts.add(device.globalBuffer());
        parts.add(device.interconnect());
        boolean periodic = true;
        for (int t = 0; t < memory.tierCount(); t++) {
            // Each tier's controller digests and moves its own channels; a stage's loads repeat where they split
            // over their own tier's channels alike (repeats), results where they do on the results' tier (Frame).
            parts.add(memory.tier(t));
            periodic &= memory.tier(t).periodic();
        }
        for (Core c : device.cores()) {
            parts.add(c);
        }
        this.capable = periodic;
        device.globalBuffer().onLoad(this::stageLoading);
    }

    /** Whether the coming operators may be fast-forwarded (no slices of theirs wanted, option on). */
    void allow(boolean on) {
        this.allowed = on;
    }

    /** Stages advanced without being simulated, over the run. */
    long skippedStages() {
        return skippedStages;
    }

    /** Starts watching a program that is about to run. */
    void begin(TileProgram program) {
        active = false;
        stride = 1;
        misses = 0;
        candidates.clear();
        history.clear();
        historyOrder.clear();
        if (!allowed || !capable) {
            return;
        }
        stages = program.stages();
        works = program.cores();
        firstStages = new int[device.cores().length][];
        for (int c = 0; c < firstStages.length; c++) {
            List<Work> w = c < works.size() ? works.get(c) : List.of();
            int[] f = new int[w.size()];
            for (int i = 0; i < f.length; i++) {
                f[i] = w.get(i).stage(0);
                if (i > 0 && f[i] < f[i - 1]) {
                    return; // works not in stage order: the frame's work bases would mean nothing
                }
            }
            firstStages[c] = f;
        }
        active = true;
    }

    private void stageLoading() {
        if (active && !checkpointPending) {
            checkpointPending = true;
            kernel.schedule(0, this::checkpoint);
        }
    }

    /** Runs between events, just after a stage started loading. */
    private void checkpoint() {
        checkpointPending = false;
        if (!active) {
            return;
        }
        int stage = device.globalBuffer().nextLoad();
        if (stage % stride != 0) {
            return;
        }
        Frame frame = new Frame(kernel.now(), stage, workBases(stage),
            memory.tier(memory.results().tier()).addressPeriod());
        digest.clear();
        kernel.digestPending(frame, digest);
        for (Periodic p : parts) {
            if (!digest.complete()) {
                break;
            }
            p.digest(frame, digest);
        }
        if (!digest.complete()) {
            if (DEBUG) {
                System.err.println("ff: opaque at stage " + stage);
            }
            candidates.clear();
            return;
        }
        // A state seen before (its digest's hash) suggests a repetition: keep the state, and look again one
        // presumed repetition later. Jumps are exact, so states on either side of one compare as well as any.
        for (int i = 0; i < candidates.size(); i++) {
            Candidate c = candidates.get(i);
            if (stage < c.verifyAt()) {
                continue;
            }
            candidates.remove(i--);
            boolean same = stage == c.verifyAt() && digest.sameAs(c.digest());
            if (DEBUG) {
                System.err.printf("ff: verify stage %d period %d: %s%n", stage, stage - c.stage(), same);
            }
            if (same && jump(c, frame)) {
                return;
            }
        }
        long hash = digest.hash();
        int[] earlier = history.get(hash);
        backOff(earlier != null || !candidates.isEmpty());
        if (earlier != null) {
            // The most recent earlier sighting whose program repeats over the next repetition at that period.
            for (int i = earlier.length - 1; i >= 0; i--) {
                int period = stage - earlier[i];
                if (earlier[i] >= 0 && period > 0 && !pending(period) && stageBreak(
                    device.globalBuffer().oldestInUse(), period, stage + period + MARGIN) >= stage + period + MARGIN) {
                    propose(stage, period, frame);
                    break;
                }
            }
        } else {
            earlier = new int[] {-1, -1, -1, -1};
            history.put(hash, earlier);
        }
        System.arraycopy(earlier, 1, earlier, 0, earlier.length - 1);
        earlier[earlier.length - 1] = stage;
        historyOrder.add(new long[] {hash, stage});
        while (historyOrder.peekFirst()[1] < stage - HISTORY_STAGES) {
            long[] old = historyOrder.removeFirst();
            int[] seen = history.get(old[0]);
            if (seen != null && seen[seen.length - 1] == old[1]) {
                history.remove(old[0]);
            }
        }
    }

    /**
     * Where no state is seen twice, checkpoints are looked at ever more sparsely (every 2nd stage, 4th, ... 16th
     * after {@link #MISSES} misses each), since a digest costs about as much as simulating a stage; any sighting
     * brings every stage back. A repetition of period P is still seen, at a multiple of P; skipping checkpoints
     * only delays a jump, never changes one.
     */
    private void backOff(boolean seen) {
        if (DEBUG) {
            System.err.println("ff: checkpoint seen=" + seen + " stride=" + stride);
        }
        if (seen) {
            misses = 0;
            stride = 1;
        } else if (++misses >= MISSES) {
            misses = 0;
            stride = Math.min(2 * stride, MAX_STRIDE);
        }
    }

    private void propose(int stage, int period, Frame frame) {
        int[] lowWorks = new int[device.cores().length];
        for (int c = 0; c < lowWorks.length; c++) {
            lowWorks[c] = device.cores()[c].computeTile();
        }
        if (candidates.size() == CANDIDATES) {
            candidates.remove(0);
        }
        candidates.add(new Candidate(stage, stage + period, frame.nowPs(), digest.copy(), counters(), frame.works(),
            storeAddresses(), device.globalBuffer().oldestInUse(), lowWorks));
    }

    private boolean pending(int period) {
        for (Candidate c : candidates) {
            if (c.verifyAt() - c.stage() == period) {
                return true;
            }
        }
        return false;
    }

    /**
     * State at {@code now} is the candidate's moved one repetition on: jumps as many further repetitions as the
     * program repeats for. Returns whether it jumped.
     */
    private boolean jump(Candidate a, Frame b) {
        int period = b.stage() - a.stage();
        long dt = b.nowPs() - a.timePs();
        if (period <= 0 || dt <= 0) {
            return false;
        }
        int cores = device.cores().length;
        int[] workPeriod = new int[cores];
        long[] addressStep = new long[cores];
        long[] addresses = storeAddresses();
        long n = (stageBreak(a.lowStage(), period, Integer.MAX_VALUE) - b.stage() - MARGIN + period) / period;
        for (int c = 0; c < cores && n >= 1; c++) {
            workPeriod[c] = b.works()[c] - a.works()[c];
            addressStep[c] = addresses[c] - a.storeAddresses()[c];
            int wp = workPeriod[c];
            if (wp < 0) {
                return false;
            }
            // Looking past what the repetitions allowed so far would need cannot lower n: stop there.
            int limit = (int) Math.min(Integer.MAX_VALUE, b.works()[c] + n * wp + MARGIN);
            int end = workBreak(c, a.lowWorks()[c], wp, period, limit);
            if (wp == 0) {
                if (b.works()[c] + MARGIN > end) {
                    return false;
                }
            } else {
                n = Math.min(n, Math.floorDiv(end - b.works()[c] - MARGIN + wp, wp));
            }
        }
        if (n < 1) {
            return false;
        }
        long[] now = counters();
        long[] growth = new long[now.length];
        for (int i = 0; i < now.length; i++) {
            growth[i] = Math.multiplyExact(now[i] - a.counters()[i], n);
        }
        int[] moveWorks = new int[cores];
        long[] moveAddresses = new long[cores];
        for (int c = 0; c < cores; c++) {
            moveWorks[c] = Math.toIntExact(workPeriod[c] * n);
            moveAddresses[c] = addressStep[c] * n;
        }
        Jump jump = new Jump(Math.multiplyExact(dt, n), Math.toIntExact(period * n), moveWorks, moveAddresses);
        kernel.shift(jump);
        for (Periodic p : parts) {
            p.shift(jump);
        }
        int[] i = {0};
        visitCounters(v -> v + growth[i[0]++]);
        skippedStages += jump.stages();
        jumps++;
        if (DEBUG) {
            System.err.printf("ff: stage %d period %d (%d ps) x %d%n", b.stage(), period, dt, n);
        }
        return true;
    }

    /**
     * The first stage from {@code low} on whose stage {@code period} later differs from it (or does not exist),
     * looking no further than {@code limit}.
     */
    private int stageBreak(int low, int period, int limit) {
        int x = low;
        while (x < limit && x + period < stages.size() && repeats(stages.get(x), stages.get(x + period))) {
            x++;
        }
        return x;
    }

    /** Same size, pins, users, tensor, write-back and split over the channels. */
    private boolean repeats(Stage a, Stage b) {
        if (a.loadBytes() != b.loadBytes() || a.pinnedBytes() != b.pinnedBytes() || a.unpinBytes() != b.unpinBytes()
            || a.users() != b.users()) {
            return false;
        }
        if (a.role() != b.role() || !a.region().equals(b.region()) || a.otherBytes() != b.otherBytes()
            || a.otherRole() != b.otherRole() || !a.otherRegion().equals(b.otherRegion())
            || a.residentBytes() != b.residentBytes() || a.writeBackBytes() != b.writeBackBytes()) {
            return false;
        }
        // A stage's write-back, issued as it loads, split alike over the results' tier's channels.
        if (a.writeBackBytes() > 0 && !splitAlike(memory.results(),
                dev.rafter.sim.component.GlobalBuffer.writeBackAddress(memory, a),
                dev.rafter.sim.component.GlobalBuffer.writeBackAddress(memory, b), a.writeBackBytes())) {
            return false;
        }
        if (a.residentBytes() > 0) {
            return readsAroundResidentSplitAlike(a, b);
        }
        // The reads the global buffer issues (one, or the two operands' from two regions), each split alike over
        // its own tier's channels.
        if (a.otherBytes() == 0 || a.region().equals(a.otherRegion())) {
            return splitAlike(a.region(), a.tierAddress(), b.tierAddress(), a.loadBytes());
        }
        return (a.streamedBytes() == 0 || splitAlike(a.region(), a.tierAddress(), b.tierAddress(), a.streamedBytes()))
            && splitAlike(a.otherRegion(), a.otherTierAddress(), b.otherTierAddress(), a.otherBytes());
    }

    /** The reads of two stages with resident bytes (as the global buffer issues them) split alike. */
    private boolean readsAroundResidentSplitAlike(Stage a, Stage b) {
        long streamed = a.memoryStreamedBytes();
        long other = a.memoryOtherBytes();
        if (streamed + other == 0) {
            return true;
        }
        if (other == 0 || streamed > 0 && a.region().equals(a.otherRegion())) {
            return splitAlike(a.region(), a.tierAddress(), b.tierAddress(), streamed + other);
        }
        return (streamed == 0 || splitAlike(a.region(), a.tierAddress(), b.tierAddress(), streamed))
            && splitAlike(a.otherRegion(), a.otherTierAddress(), b.otherTierAddress(), other);
    }

    private boolean splitAlike(dev.rafter.mapping.Region region, long a, long b, long bytes) {
        return memory.tier(region.tier()).splitsAlike(a, b, bytes);
    }

    /**
     * The first work of core {@code c} from {@code low} on that the work {@code step} later does not repeat,
     * looking no further than {@code limit}.
     */
    private int workBreak(int c, int low, int step, int period, int limit) {
        List<Work> w = c < works.size() ? works.get(c) : List.of();
        int x = low;
        if (step == 0) {
            return w.size();
        }
        while (x < limit && x + step < w.size() && w.get(x + step).repeats(w.get(x), period)) {
            x++;
        }
        return x;
    }

    /** Each core's first work that reads {@code stage} or a later one. */
    private int[] workBases(int stage) {
        int[] out = new int[firstStages.length];
        for (int c = 0; c < out.length; c++) {
            int[] f = firstStages[c];
            int lo = 0;
            int hi = f.length;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (f[mid] < stage) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            out[c] = lo;
        }
        return out;
    }

    private long[] storeAddresses() {
        long[] out = new long[device.cores().length];
        for (int c = 0; c < out.length; c++) {
            out[c] = device.cores()[c].storeAddress();
        }
        return out;
    }

    private long[] counters() {
        Digest values = new Digest();
        visitCounters(v -> {
            values.add(v);
            return v;
        });
        return values.toArray();
    }

    private void visitCounters(Counters c) {
        stats.counters(c);
        device.counters(c);
        for (Periodic p : parts) {
            p.counters(c);
        }
    }
}

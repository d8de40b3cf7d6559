package dev.rafter.sim.component;

import dev.rafter.hw.MemoryTiming;
import dev.rafter.sim.Scheduler;
import dev.rafter.sim.trace.SliceKind;
import dev.rafter.sim.trace.TraceSink;
import dev.rafter.sim.trace.Track;
import java.util.Arrays;

/**
 * One DRAM channel with banks, the {@code banked} memory model (an HBM pseudo-channel, an LPDDR5 channel, a DDR5
 * sub-channel). Parameters: a standard's table ({@link MemoryTiming}: bank groups, banks, row and burst size,
 * command timings in tCK), the channel's data bandwidth (bytes/s: a burst occupies the data bus for
 * {@code burst_bytes / bandwidth}, so bandwidth sweeps still work) and the fixed path latency added to every
 * access. Port: {@link #access}. Statistics (via the trace): data as {@code hbm read}/{@code hbm write} slices and
 * refresh as {@code dram refresh} slices on the channel's track, never overlapping; row hits, misses and
 * conflicts and refreshes are counted here.
 *
 * <p>Address map (channel-local): consecutive bursts go to consecutive bank groups (so a stream alternates bank
 * groups and runs at tCCD_S), then columns, then banks, then rows. A "super-row" of {@code bank_groups x row_bytes}
 * is one row in the same bank of every bank group; a request is served in segments, one per super-row it touches.
 *
 * <p>Scheduler (what it does): open-page policy (a row stays open until another row of its bank, or a refresh,
 * needs the bank). Reads are scheduled on arrival, in arrival order: row commands (PRE, ACT) of a request are
 * issued as early as its banks allow, so activations of other banks overlap the data of earlier requests and
 * hide tRP + tRCD in streams; ACTs stay in arrival order (tRRD_S/L, tFAW); column commands stay in arrival order
 * (tCCD_S/L, read-to-write tRTW, write-to-read tWTR_S/L, data-bus occupancy). Writes wait in a write queue and are
 * drained in arrival order in batches, when the queued bytes reach the high watermark (down to the low one) or
 * when the work committed at the first queued write's arrival is done (a write-starvation bound), so a copy pays
 * one turnaround per batch, not per request.
 * All-bank refresh every tREFI (staggered across channels by the first due time): the refresh is issued before
 * the next segment planned at or after its due time, once every bank can be precharged (tRAS, tRTP, tWR, tRP)
 * and the data bus is quiet; it blocks all banks for tRFC and closes every row.
 *
 * <p>What it does not do: no reordering of row hits ahead of older requests (the "FR" of FR-FCFS) and no ACT
 * ahead of an older request's ACT; no command-bus contention (HBM has separate row and column buses, so this is
 * exact there and optimistic for DDR5/LPDDR5); no per-bank refresh, no refresh postponement beyond the segment in
 * flight; no read-after-write forwarding from the write queue; no power-down states; no tRAS maximum.
 *
 * <p>Cost: closed form per segment (at most {@code bank_groups} banks touched; none when a segment repeats the last
 * one on its banks, as a store stream's do: then only tCCD_L can move its start, and its marks on the banks are
 * written once, when another segment or a refresh needs them); no event of its own for a read (the controller
 * schedules one per transfer) and one per drained batch of writes; the only other events are the write queue's
 * idle checks. Refreshes during idle periods are issued lazily, when the next request is planned, with their true
 * times. No allocation per request (the write queue is a ring of primitives; one array per drained batch), the
 * derived timings are shared by the channels of a device and a channel's bank state is one array, so the state a
 * request touches stays in few cache lines.
 */
public final class BankedChannel implements MemoryChannel {
    private static final long NEVER = Long.MIN_VALUE / 4;

    // The banks' state, three longs a bank (bank k = bank * groups + group), in one array so that a train's banks
    // share cache lines; after the banks, the last column command per bank group and the tFAW window. The earliest
    // activation after a refresh is the same for every bank: one field, {@link #activateFrom}.
    private static final int OPEN_ROW = 0;
    private static final int ACT_AT = 1;
    /** Earliest precharge allowed by the column commands issued to the bank (tRTP, tWR). */
    private static final int PRE_MIN = 2;
    private static final int BANK_LONGS = 3;

    /**
     * What every channel of one standard, bandwidth and latency derives alike: address fields (the table's counts
     * are powers of two, so they are bit fields: burst, bank group, column, bank, row) and timings in ps. Immutable;
     * the channels of a device share one (see {@link #timings}), which keeps them in cache.
     */
    private static final class Timings {
        final MemoryTiming standard;
        final double bytesPerSecond;
        final long latencyPs;
        final int groups;
        final int groupMask;
        final int groupBits;
        final int banks;
        final int bankMask;
        final int bankBits;
        /** The widest shift of {@link #fold}: bankBits x the largest power of two that stays below 64. */
        final int foldTopShift;
        final int burstShift;
        final int superRowShift;
        final long burstPs;
        /** Time between consecutive column commands of a train across bank groups. */
        final long spacingPs;
        /** The earliest gap from a train's last column command to the next train's first in the same direction. */
        final long nextTrainPs;
        /**
         * The first banks of a train whose group's last column command can bind it by tCCD_L: the train starts at
         * least tCCD_S after the channel's last column command, the latest of any group, so bank j (j spacings in)
         * cannot wait for tCCD_L once j spacings cover tCCD_L - tCCD_S.
         */
        final int ccdLBanks;
        final long cl;
        final long cwl;
        final long rcdRd;
        final long rcdWr;
        final long rp;
        final long ras;
        final long rtp;
        /** A write's last column command to the earliest precharge of its bank: CWL + burst + tWR. */
        final long writeToPre;
        final long ccdS;
        final long ccdL;
        final long rrdS;
        final long rrdL;
        final long faw;
        final long rtw;
        /** Idle data-bus time a read-to-write switch needs between the read data and the write data. */
        final long rtwBusGap;
        final long wtrS;
        final long wtrL;
        final long rfc;
        final long refi;
        final long highBytes;
        final long lowBytes;

        Timings(MemoryTiming standard, double bytesPerSecond, long latencyPs) {
            this.standard = standard;
            this.bytesPerSecond = bytesPerSecond;
            this.latencyPs = latencyPs;
            MemoryTiming.Organisation org = standard.organisation();
            MemoryTiming.Timing t = standard.timing();
            this.groups = org.bankGroups();
            this.groupMask = groups - 1;
            this.groupBits = Integer.numberOfTrailingZeros(groups);
            this.banks = org.banks();
            this.bankMask = org.banksPerGroup() - 1;
            this.bankBits = Integer.numberOfTrailingZeros(org.banksPerGroup());
            this.foldTopShift = foldTopShift(bankBits);
            this.burstShift = Integer.numberOfTrailingZeros(org.burstBytes());
            this.superRowShift = groupBits + Integer.numberOfTrailingZeros(org.rowBytes() / org.burstBytes());
            this.burstPs = Math.max(1, (long) Math.ceil(org.burstBytes() * 1e12 / bytesPerSecond));
            this.cl = t.ps(t.cl());
            this.cwl = t.ps(t.cwl());
            this.rcdRd = t.ps(t.rcdRd());
            this.rcdWr = t.ps(t.rcdWr());
            this.rp = t.ps(t.rp());
            this.ras = t.ps(t.ras());
            this.rtp = t.ps(t.rtp());
            this.writeToPre = cwl + burstPs + t.ps(t.wr());
            // A channel configured faster than the table's speed bin (a bandwidth sweep) runs its interface —
            // burst, column-to-column and turnaround times, counted in tCK — at the higher data rate; the DRAM core
            // timings (tRCD, tRP, CL, tRAS, tRFC, tFAW, ...) stay in ns, as they do across real speed bins.
            double binBytesPerS = org.burstBytes() / (t.ps(t.bl()) * 1e-12);
            double speedUp = Math.max(1, bytesPerSecond / binBytesPerS);
            this.ccdS = Math.round(t.ps(t.ccdS()) / speedUp);
            this.ccdL = Math.round(t.ps(t.ccdL()) / speedUp);
            this.rrdS = t.ps(t.rrdS());
            this.rrdL = t.ps(t.rrdL());
            this.faw = t.ps(t.faw());
            this.rtw = Math.round(t.ps(t.rtw()) / speedUp);
            this.rtwBusGap = Math.max(0, rtw + cwl - cl - Math.round(t.ps(t.bl()) / speedUp));
            this.wtrS = Math.round(t.ps(t.wtrS()) / speedUp);
            this.wtrL = Math.round(t.ps(t.wtrL()) / speedUp);
            this.rfc = t.ps(t.rfc());
            this.refi = t.ps(t.refi());
            this.spacingPs = Math.max(Math.max(burstPs, ccdS), groups > 1 ? (ccdL + groups - 1) / groups : ccdL);
            this.nextTrainPs = Math.max(burstPs, ccdS);
            this.ccdLBanks = (int) Math.min(groups, Math.max(0, (ccdL - ccdS + spacingPs - 1) / spacingPs));
            this.highBytes = standard.controller().writeQueueHighBytes();
            this.lowBytes = standard.controller().writeQueueLowBytes();
        }

        boolean describes(MemoryTiming standard, double bytesPerSecond, long latencyPs) {
            return Double.compare(this.bytesPerSecond, bytesPerSecond) == 0 && this.latencyPs == latencyPs
                && this.standard.equals(standard);
        }
    }

    /** The timings built last: a device builds all its channels alike, one after another. */
    private static volatile Timings lastTimings;

    private static Timings timings(MemoryTiming standard, double bytesPerSecond, long latencyPs) {
        Timings t = lastTimings;
        if (t == null || !t.describes(standard, bytesPerSecond, latencyPs)) {
            t = new Timings(standard, bytesPerSecond, latencyPs);
            lastTimings = t;
        }
        return t;
    }

    // Hot channel state first (the JVM lays out fields by size, in declaration order).
    private long dataEnd;
    private long lastCol = NEVER;
    private long nextRefresh;
    private long lastAct = NEVER;
    private long lastReadCmd = NEVER;
    private long lastWriteDataEnd = NEVER;
    // The data slice of the request being planned.
    private long sliceStart = -1;
    private long sliceEnd;
    private long sliceBytes;
    private long bytes;
    private long queuedWriteBytes;
    private long rowHits;
    /** The last row group folded for a train's bank (rows above the lowest log2(banks) bits) and its fold. */
    private long foldOf = -1;
    private long fold;
    private long repeatSuperRow;
    /** After a refresh and before the next ACT, every bank is closed and may activate from {@link #quietFrom}. */
    private long quietFrom;
    /** The earliest activation of any bank: the end of the last refresh's tRFC once a train has followed it. */
    private long activateFrom = NEVER;
    private long rowMisses;
    private long rowConflicts;
    private long refreshes;
    private long settledAt;
    /** When the first refresh falls after a {@link #settle} (controllers stagger channels over one tREFI). */
    private final long refreshOffsetPs;

    private int lastActGroup = -1;
    private int fawNext;
    private int lastWriteGroup = -1;
    private int repeatGroup0;
    private int repeatBursts;
    private int repeatBankBase;
    private int writeHead;
    private int writeCount;
    /** Bumped by {@link #settle}: an idle check scheduled before it is stale. */
    private int generation;
    private final int lastColAt;
    private final int fawAt;

    private boolean lastColWrite;
    private boolean quiet;
    /**
     * The last train planned, while nothing but trains has changed the banks since (a refresh or a settle ends
     * it): a train that repeats it finds its rows open and its bank timings known, and skips the per-bank walk.
     */
    private boolean repeatable;
    private boolean repeatWrite;
    /** Repeats of the last train have run whose column commands are not yet marked on the banks. */
    private boolean repeatPending;
    /** A {@link #settle} at {@link #settledAt} not yet applied (no request since). */
    private boolean settlePending;
    private boolean idleCheckScheduled;

    private final Timings dram;
    /** Per bank {@link #BANK_LONGS} longs, then the last column command per bank group, then the tFAW window. */
    private final long[] state;
    private final Scheduler scheduler;
    private final TraceSink sink;
    private final Track track;

    // The write queue: a ring (capacity a power of two), oldest at writeHead; write i is writes[3i .. 3i + 2]
    // (operator, address, bytes) and writeDone[i].
    private long[] writes = new long[3 * 16];
    private Completion[] writeDone = new Completion[16];

    public BankedChannel(Scheduler scheduler, TraceSink sink, Track track, double bytesPerSecond, long latencyPs,
                         MemoryTiming standard, long firstRefreshPs) {
        this.scheduler = scheduler;
        this.sink = sink;
        this.track = track;
        this.dram = timings(standard, bytesPerSecond, latencyPs);
        this.lastColAt = dram.banks * BANK_LONGS;
        this.fawAt = lastColAt + dram.groups;
        this.state = new long[fawAt + 4];
        resetBanks();
        this.nextRefresh = firstRefreshPs;
        this.refreshOffsetPs = firstRefreshPs;
    }

    /** Every bank precharged with no timing pending, no column command and no ACT in the tFAW window. */
    private void resetBanks() {
        Arrays.fill(state, NEVER);
        activateFrom = NEVER;
        for (int k = 0; k < dram.banks; k++) {
            state[k * BANK_LONGS + OPEN_ROW] = -1;
        }
    }

    /**
     * The state a kernel finds: every bank precharged and no command timing pending (the launch gap between
     * kernels is far longer than any of them), the write queue empty, and refresh in its steady state: the channels
     * refresh every tREFI, staggered over one tREFI, so a kernel meets the same share of refreshes wherever it
     * starts; each kernel is given the phase of one that starts at a staggered channel's tREFI boundary (the next
     * refresh due this channel's stagger after the start, the previous one tREFI earlier and, when that was less
     * than tRFC ago, still blocking the banks). A kernel's timing is then independent of when it starts, which
     * exact reuse relies on, and on average it pays what an absolute refresh schedule would make it pay.
     */
    @Override
    public void settle() {
        if (writeCount > 0) {
            throw new IllegalStateException("writes queued across a kernel boundary");
        }
        settledAt = scheduler.now();
        settlePending = true;
        idleCheckScheduled = false;
        generation++;
    }

    /** Applies a {@link #settle} before the first request after it (a kernel may not touch every channel). */
    private void applySettle() {
        settlePending = false;
        repeatable = false;
        repeatPending = false;
        resetBanks();
        fawNext = 0;
        lastAct = NEVER;
        lastActGroup = -1;
        lastCol = NEVER;
        lastColWrite = false;
        lastReadCmd = NEVER;
        lastWriteDataEnd = NEVER;
        lastWriteGroup = -1;
        dataEnd = settledAt;
        // The refresh phase of a channel that has refreshed every tREFI forever: due this channel's stagger after
        // now, the previous one tREFI before that, possibly still blocking the banks.
        nextRefresh = settledAt + refreshOffsetPs;
        long previous = nextRefresh - dram.refi;
        quiet = previous + dram.rfc > settledAt;
        quietFrom = quiet ? previous + dram.rfc : 0;
    }

    /** First refresh of channel {@code index} of {@code channels}: spread over one tREFI (controllers stagger). */
    public static long firstRefreshPs(MemoryTiming standard, int index, int channels) {
        long refi = standard.timing().ps(standard.timing().refi());
        return refi * (index + 1) / channels;
    }

    @Override
    public void access(long opId, long address, long amount, boolean write, Runnable done) {
        long t = serve(opId, address, amount, write, time -> scheduler.at(time, done));
        if (t != DEFERRED) {
            scheduler.at(t, done);
        }
    }

    @Override
    public long serve(long opId, long address, long amount, boolean write, Completion done) {
        if (settlePending) {
            applySettle();
        }
        if (write) {
            enqueue(opId, address, amount, done);
            if (queuedWriteBytes >= dram.highBytes) {
                drain(dram.lowBytes);
            }
            if (writeCount > 0) {
                scheduleIdleCheck();
            }
            return DEFERRED;
        }
        return serve(opId, address, amount, false) + dram.latencyPs;
    }

    @Override
    public long bytesMoved() {
        return bytes;
    }

    private void enqueue(long opId, long address, long amount, Completion done) {
        int capacity = writeDone.length;
        if (writeCount == capacity) {
            long[] grown = new long[6 * capacity];
            Completion[] grownDone = new Completion[2 * capacity];
            for (int i = 0; i < writeCount; i++) {
                int q = (writeHead + i) & (capacity - 1);
                System.arraycopy(writes, 3 * q, grown, 3 * i, 3);
                grownDone[i] = writeDone[q];
            }
            writes = grown;
            writeDone = grownDone;
            writeHead = 0;
            capacity *= 2;
        }
        int q = (writeHead + writeCount) & (capacity - 1);
        writes[3 * q] = opId;
        writes[3 * q + 1] = address;
        writes[3 * q + 2] = amount;
        writeDone[q] = done;
        writeCount++;
        queuedWriteBytes += amount;
    }

    /**
     * Writes the oldest queued writes until at most {@code limit} bytes stay queued. The batch's writers complete
     * together, when its last burst has crossed (a writer learns at most one batch's transfer time late), and are
     * told that time now, in arrival order: the channel spends no event on them.
     */
    private void drain(long limit) {
        if (queuedWriteBytes <= limit) {
            return;
        }
        long[] writes = this.writes;
        int mask = writeDone.length - 1;
        int n = 0;
        for (long left = queuedWriteBytes; left > limit; n++) {
            left -= writes[3 * ((writeHead + n) & mask) + 2];
        }
        long end = 0;
        int first = writeHead;
        for (int i = 0; i < n; i++) {
            int q = writeHead;
            writeHead = (q + 1) & mask;
            writeCount--;
            long amount = writes[3 * q + 2];
            queuedWriteBytes -= amount;
            end = serve(writes[3 * q], writes[3 * q + 1], amount, true) + dram.latencyPs;
        }
        for (int i = 0; i < n; i++) {
            int q = (first + i) & mask;
            Completion w = writeDone[q];
            writeDone[q] = null;
            w.at(end);
        }
    }

    private void scheduleIdleCheck() {
        if (!idleCheckScheduled) {
            idleCheckScheduled = true;
            int g = generation;
            scheduler.at(Math.max(scheduler.now(), dataEnd), () -> {
                if (g == generation) {
                    idleCheck();
                }
            });
        }
    }

    /**
     * Drains the write queue when the work committed at the first queued write's arrival is done: the channel is
     * idle then, or reads arrived meanwhile and the writes have waited one busy period (a write-starvation bound,
     * as controllers keep; waiting for a gap in a steady read stream would starve them).
     */
    private void idleCheck() {
        idleCheckScheduled = false;
        drain(0);
    }

    /**
     * Plans a request's commands, one train of bursts per super-row it touches; returns the end of its last data
     * burst. A train activates the banks it touches (if their row is not open) and issues its column commands every
     * {@link Timings#spacingPs} from the earliest legal start. A continuation (a train after the first of the
     * request) starts at its data bus and column-to-column bounds: the rest held for the request's first train,
     * which the later ones follow, and a train of the next super-row never repeats the last one.
     */
    private long serve(long opId, long address, long amount, boolean write) {
        // Written for C1 (a 2-core machine runs without C2): it inlines only methods under 35 bytes, keeps a bounds
        // check on every array access and spills the locals it cannot keep in registers, so a request's trains are
        // planned in one loop, with the channel's running values (last column command, ACTs, row counts) in locals
        // written back once (and before a refresh, which reads some), the bank and issue steps inline, each bank's
        // longs read once and few running values in the bank walk.
        long now = scheduler.now();
        Timings dram = this.dram;
        long[] state = this.state;
        int groupMask = dram.groupMask;
        long spacing = dram.spacingPs;
        long lat = write ? dram.cwl : dram.cl;
        int burstShift = dram.burstShift;
        int superRowShift = dram.superRowShift;
        long b = address >>> burstShift;
        long last = (address + amount - 1) >>> burstShift;
        // The data slice: from sliceStart (-1 before the first train), its bytes from sliceFrom to the next train.
        long sliceStart = -1;
        long sliceFrom = address;
        boolean continuation = false;
        long lastCol = this.lastCol;
        long lastAct = this.lastAct;
        int lastActGroup = this.lastActGroup;
        // ACTs issued, counted from the tFAW window's next slot; hits and misses follow from it, the banks the
        // trains touched and conflicts.
        int acts = fawNext;
        int conflicts = 0;
        long touchedAll = 0;
        // What the bank walk needs that stays the same over the request's trains: a read's tWTR_L bound (no
        // write before the request ends), the timings and the earliest ACT (moved by a refresh only).
        int wtrGroup = write ? -1 : lastWriteGroup;
        long wtrReady = lastWriteDataEnd + dram.wtrL;
        long rcd = write ? dram.rcdWr : dram.rcdRd;
        long ras = dram.ras;
        long rp = dram.rp;
        long rrdS = dram.rrdS;
        long rrdL = dram.rrdL;
        long faw = dram.faw;
        long ccdL = dram.ccdL;
        int ccdBanks = dram.ccdLBanks;
        int fawAt = this.fawAt;
        int lastColAt = this.lastColAt;
        long toPrecharge = write ? dram.writeToPre : dram.rtp;
        long round = dram.groups * spacing;
        long earliestAct = Math.max(now, activateFrom);
        while (b <= last) {
            long superRow = b >>> superRowShift;
            long segEnd = Math.min(last + 1, (superRow + 1) << superRowShift);
            int n = (int) (segEnd - b);
            int group0 = (int) (b & groupMask);
            long t = Math.max(now, lastCol);
            if (t >= nextRefresh) {
                // The refresh reads the data bus's end and closes the data slice so far.
                if (sliceStart >= 0) {
                    dataEnd = lastCol + lat + dram.burstPs;
                    this.sliceStart = sliceStart;
                    sliceEnd = dataEnd;
                    sliceBytes = (b << burstShift) - sliceFrom;
                    sliceStart = -1;
                    sliceFrom = b << burstShift;
                }
                this.lastCol = lastCol;
                do {
                    refresh(opId, write);
                } while (t >= nextRefresh);
            }
            if (quiet) {
                activateFrom = quietFrom;
                quiet = false;
                earliestAct = Math.max(now, quietFrom);
            }
            long row = superRow >>> dram.bankBits;
            // The bank of the super-row: its bank bits XOR a fold of the Gray code of the row bits above the lowest
            // log2(banks) (permutation-based interleaving, Zhang, Zhu and Zhang, MICRO 2000), so two streams whose
            // addresses differ by a large power of two (a copy's source and destination) rarely share banks. Within
            // a run of banks_per_group rows the permutation is fixed (the fold is kept), and the Gray code makes
            // consecutive runs differ in one bit, so a stream never uses one bank for two consecutive super-rows.
            long q = row >>> dram.bankBits;
            if (q != foldOf) {
                foldOf = q;
                // One bank per group: nothing to fold.
                fold = dram.bankBits == 0 ? 0 : fold(q, dram.bankBits, dram.foldTopShift);
            }
            int bankBase = (int) ((superRow ^ fold) & dram.bankMask) << dram.groupBits;
            int touched = Math.min(n, dram.groups);
            touchedAll += touched;
            // s: the first column command. Data bus, column-to-column and turnaround constraints.
            long s;
            if (continuation) {
                s = lastCol + dram.nextTrainPs;
            } else {
                s = Math.max(now, Math.max(dataEnd - lat, lastCol + dram.ccdS));
                if (write) {
                    s = Math.max(s, lastReadCmd + dram.rtw);
                    if (!lastColWrite) {
                        s = Math.max(s, dataEnd + dram.rtwBusGap - dram.cwl);
                    }
                } else {
                    s = Math.max(s, lastWriteDataEnd + dram.wtrS);
                }
            }
            if (!continuation && repeatable && superRow == repeatSuperRow && group0 == repeatGroup0
                    && n == repeatBursts && write == repeatWrite) {
                // The train the last one was, on banks nothing else has touched since: every bank a row hit. Its
                // tRCD and tWTR_L terms are those the last train met (same ACTs, same last write, since a repeated
                // read means no write in between), so s, at or after the last train's last column command, meets
                // them already; only tCCD_L moves on: a group's last column command was ((n - 1 - j) mod groups)
                // spacings before the train's last (lastCol), so the binding one is that of bank
                // j = (n - 1) mod groups. Its column commands' marks on the banks (last column command per group,
                // earliest precharge) are written when something else needs the banks ({@link #writeBackRepeat}):
                // only the last repeat's count.
                s = Math.max(s, lastCol + ccdL - ((n - 1) & groupMask) * spacing);
                repeatPending = true;
            } else {
                if (repeatPending) {
                    writeBackRepeat(lastCol);
                }
                // Per bank touched (the j-th column command of the train goes to it, j spacings after s): its row
                // (ACTs in arrival order: tRRD_S/L, tFAW), tRCD, tCCD_L after the group's last column command and,
                // for a read, tWTR_L after a write to its group.
                // A conflict's ACT: max(now, max(ACT + tRAS, earliest PRE)) + tRP, its terms taken apart; the terms
                // the banks share are one.
                long conflictAct = Math.max(earliestAct, now + rp);
                // The banks are marked (markBanks) in the same walk, as if the train started at the s known before
                // it (the usual case: its banks are ready in time); a bank that delays the train has them marked
                // again.
                long s0 = s;
                // u: the next bank's column command for the s found so far (s + j spacings at bank j): a bank moves
                // it to its ready time at most, so after the walk s is u less the spacings walked.
                long u = s;
                int lastBank = (n - 1) & groupMask;
                long c = s0 + (n - 1 - lastBank) * spacing;
                for (int j = 0, g = group0; j < touched; j++, g = (g + 1) & groupMask) {
                    int k = (bankBase | g) * BANK_LONGS;
                    long open = state[k + OPEN_ROW];
                    long actAt = state[k + ACT_AT];
                    long preMin = state[k + PRE_MIN];
                    long ready;
                    if (open == row) {
                        ready = actAt + rcd;
                    } else {
                        long act;
                        if (open >= 0) {
                            conflicts++;
                            act = Math.max(conflictAct, Math.max(actAt + ras, preMin) + rp);
                        } else {
                            act = earliestAct;
                        }
                        act = Math.max(act, lastAct + (g == lastActGroup ? rrdL : rrdS));
                        int w = fawAt + (acts & 3);
                        act = Math.max(act, state[w] + faw);
                        state[w] = act;
                        acts++;
                        state[k + ACT_AT] = act;
                        state[k + OPEN_ROW] = row;
                        lastAct = act;
                        lastActGroup = g;
                        ready = act + rcd;
                    }
                    if (j < ccdBanks) {
                        ready = Math.max(ready, state[lastColAt + g] + ccdL);
                    }
                    if (g == wtrGroup) {
                        ready = Math.max(ready, wtrReady);
                    }
                    u = Math.max(u, ready) + spacing;
                    state[lastColAt + g] = c;
                    state[k + PRE_MIN] = Math.max(preMin, c + toPrecharge);
                    c += j == lastBank ? spacing - round : spacing;
                }
                s = u - touched * spacing;
                if (s != s0) {
                    // Later marks only raise the earliest precharges the walk wrote, so marking again is exact.
                    markBanks(bankBase, group0, n, touched, write, s + (n - 1) * spacing);
                }
                repeatable = true;
                repeatSuperRow = superRow;
                repeatGroup0 = group0;
                repeatBursts = n;
                repeatWrite = write;
                repeatBankBase = bankBase;
            }
            // Issues the train's column commands every spacing from s.
            lastCol = s + (n - 1) * spacing;
            if (sliceStart < 0) {
                sliceStart = s + lat;
            }
            continuation = true;
            b = segEnd;
        }
        int activated = acts - fawNext;
        fawNext = acts & 3;
        rowHits += touchedAll - activated;
        rowMisses += activated - conflicts;
        rowConflicts += conflicts;
        this.lastAct = lastAct;
        this.lastActGroup = lastActGroup;
        bytes += amount;
        if (!continuation) {
            return dataEnd;
        }
        this.lastCol = lastCol;
        lastColWrite = write;
        long end = lastCol + lat + dram.burstPs;
        dataEnd = end;
        if (write) {
            lastWriteDataEnd = end;
            lastWriteGroup = (int) (last & groupMask);
        } else {
            lastReadCmd = lastCol;
        }
        sink.slice(track, write ? SliceKind.HBM_WRITE : SliceKind.HBM_READ, opId, sliceStart, end,
            address + amount - sliceFrom);
        return end;
    }

    private void flushSlice(long opId, boolean write) {
        if (sliceStart >= 0) {
            sink.slice(track, write ? SliceKind.HBM_WRITE : SliceKind.HBM_READ, opId, sliceStart, sliceEnd,
                sliceBytes);
            sliceStart = -1;
            sliceBytes = 0;
        }
    }

    /**
     * Writes a train's column commands, the last at {@code lastCmd}, on its banks: bank j's last one is
     * ((n - 1 - j) mod groups) spacings before the train's last; it is its group's last column command and sets
     * the bank's earliest precharge (tRTP after a read, CWL + burst + tWR after a write).
     */
    private void markBanks(int bankBase, int group0, int n, int touched, boolean write, long lastCmd) {
        long[] state = this.state;
        int groupMask = dram.groupMask;
        long spacing = dram.spacingPs;
        long toPrecharge = write ? dram.writeToPre : dram.rtp;
        int lastColAt = this.lastColAt;
        // Bank j's last command, lastCmd - ((n - 1 - j) mod groups) spacings: one spacing later per bank, back by a
        // round of the groups after the bank of the train's last command.
        int lastBank = (n - 1) & groupMask;
        long c = lastCmd - lastBank * spacing;
        long round = dram.groups * spacing;
        for (int j = 0, g = group0; j < touched; j++, g = (g + 1) & groupMask) {
            state[lastColAt + g] = c;
            int k = (bankBase | g) * BANK_LONGS + PRE_MIN;
            state[k] = Math.max(state[k], c + toPrecharge);
            c += j == lastBank ? spacing - round : spacing;
        }
    }

    /**
     * Marks the banks for the repeats of the last train not yet marked. The last repeat's marks are all it takes:
     * each repeat's column commands come later than the one before, so its group marks replace theirs and its
     * earliest precharges are the largest. Called while {@link #repeatPending}, with the last repeat's last column
     * command.
     */
    private void writeBackRepeat(long lastCmd) {
        repeatPending = false;
        markBanks(repeatBankBase, repeatGroup0, repeatBursts, Math.min(repeatBursts, dram.groups), repeatWrite,
            lastCmd);
    }

    /** The widest shift of {@link #fold} for {@code bankBits}: bankBits x the largest power of two below 64. */
    static int foldTopShift(int bankBits) {
        int top = bankBits;
        while (bankBits > 0 && top * 2 < Long.SIZE) {
            top *= 2;
        }
        return top;
    }

    /**
     * The XOR of every {@code bankBits}-wide field of the Gray code of {@code q}, in its low {@code bankBits} bits
     * (bits above them are left over): folded in halves, by shifts of {@code bankBits} x 2^i from the widest
     * ({@code topShift}, {@link #foldTopShift}) down, a fixed handful of steps whatever the row.
     */
    static long fold(long q, int bankBits, int topShift) {
        long x = q ^ (q >>> 1);
        for (int shift = topShift; shift >= bankBits; shift >>>= 1) {
            x ^= x >>> shift;
        }
        return x;
    }

    /** Issues the due all-bank refresh once every bank can be precharged; closes all rows for tRFC. */
    private void refresh(long opId, boolean write) {
        if (repeatPending) {
            writeBackRepeat(lastCol);
        }
        repeatable = false;
        long r = Math.max(nextRefresh, dataEnd);
        if (quiet) {
            r = Math.max(r, quietFrom);
        } else {
            r = Math.max(r, activateFrom);
            for (int k = 0; k < lastColAt; k += BANK_LONGS) {
                if (state[k + OPEN_ROW] >= 0) {
                    r = Math.max(r, Math.max(state[k + ACT_AT] + dram.ras, state[k + PRE_MIN]) + dram.rp);
                    state[k + OPEN_ROW] = -1;
                }
            }
        }
        flushSlice(opId, write);
        sink.slice(track, SliceKind.DRAM_REFRESH, opId, r, r + dram.rfc, 0);
        quiet = true;
        quietFrom = r + dram.rfc;
        nextRefresh += dram.refi;
        refreshes++;
    }

    public long rowHits() {
        return rowHits;
    }

    public long rowMisses() {
        return rowMisses;
    }

    public long rowConflicts() {
        return rowConflicts;
    }

    public long refreshes() {
        return refreshes;
    }
}

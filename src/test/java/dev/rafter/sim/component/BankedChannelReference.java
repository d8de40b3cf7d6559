package dev.rafter.sim.component;

import dev.rafter.hw.MemoryTiming;
import dev.rafter.sim.Scheduler;
import dev.rafter.sim.trace.SliceKind;
import dev.rafter.sim.trace.TraceSink;
import dev.rafter.sim.trace.Track;
import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * The oracle of {@link BankedChannelEquivalenceTest}: {@link BankedChannel} as it was (commit cbb3235) before it
 * was made faster, unchanged but for its name. The model it describes below is the one the fast channel must
 * reproduce to the picosecond.
 *
 * <p>One DRAM channel with banks, the {@code banked} memory model (an HBM pseudo-channel, an LPDDR5 channel, a DDR5
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
 * <p>Cost: closed form per segment (at most {@code bank_groups} banks touched); no event of its own for a read
 * (the controller schedules one per transfer) and one per drained batch of writes; the only other events are the
 * write queue's idle checks. Refreshes during idle periods are issued lazily, when
 * the next request is planned, with their true times.
 */
final class BankedChannelReference implements MemoryChannel {
    private static final long NEVER = Long.MIN_VALUE / 4;

    private final Scheduler scheduler;
    private final TraceSink sink;
    private final Track track;
    private final long latencyPs;
    // Address fields as bit fields (the table's counts are powers of two): burst, bank group, column, bank, row.
    private final int groups;
    private final int groupMask;
    private final int groupBits;
    private final int bankMask;
    private final int bankBits;
    private final int burstShift;
    private final int superRowShift;
    private final long burstPs;
    /** Time between consecutive column commands of a train across bank groups. */
    private final long spacingPs;
    private final long cl;
    private final long cwl;
    private final long rcdRd;
    private final long rcdWr;
    private final long rp;
    private final long ras;
    private final long rtp;
    private final long wr;
    private final long ccdS;
    private final long ccdL;
    private final long rrdS;
    private final long rrdL;
    private final long faw;
    private final long rtw;
    /** Idle data-bus time a read-to-write switch needs between the read data and the write data. */
    private final long rtwBusGap;
    private final long wtrS;
    private final long wtrL;
    private final long rfc;
    private final long refi;
    private final long highBytes;
    private final long lowBytes;

    // Per bank (index bank * groups + group).
    private final long[] openRow;
    private final long[] actAt;
    /** Earliest precharge allowed by the column commands issued to the bank (tRTP, tWR). */
    private final long[] preMin;
    /** Earliest activation (after a precharge's tRP or a refresh's tRFC). */
    private final long[] actMin;

    // Channel.
    private long lastAct = NEVER;
    private int lastActGroup = -1;
    private final long[] fawWindow = {NEVER, NEVER, NEVER, NEVER};
    private int fawNext;
    private long lastCol = NEVER;
    private boolean lastColWrite;
    private final long[] lastColInGroup;
    private long lastReadCmd = NEVER;
    private long lastWriteDataEnd = NEVER;
    private int lastWriteGroup = -1;
    private long dataEnd;
    private long nextRefresh;
    /** When the first refresh falls after a {@link #settle} (controllers stagger channels over one tREFI). */
    private final long refreshOffsetPs;
    /** Bumped by {@link #settle}: an idle check scheduled before it is stale. */
    private int generation;
    /** A {@link #settle} at {@link #settledAt} not yet applied (no request since). */
    private boolean settlePending;
    private long settledAt;
    /** After a refresh and before the next ACT, every bank is closed and may activate from {@link #quietFrom}. */
    private boolean quiet;
    private long quietFrom;

    private record PendingWrite(long opId, long address, long bytes, Runnable done) {}

    private final ArrayDeque<PendingWrite> writes = new ArrayDeque<>();
    private long queuedWriteBytes;
    private boolean idleCheckScheduled;

    // The data slice of the request being planned.
    private long sliceStart = -1;
    private long sliceEnd;
    private long sliceBytes;

    private long bytes;
    private long rowHits;
    private long rowMisses;
    private long rowConflicts;
    private long refreshes;

    BankedChannelReference(Scheduler scheduler, TraceSink sink, Track track, double bytesPerSecond, long latencyPs,
                         MemoryTiming standard, long firstRefreshPs) {
        this.scheduler = scheduler;
        this.sink = sink;
        this.track = track;
        this.latencyPs = latencyPs;
        MemoryTiming.Organisation org = standard.organisation();
        MemoryTiming.Timing t = standard.timing();
        this.groups = org.bankGroups();
        this.groupMask = groups - 1;
        this.groupBits = Integer.numberOfTrailingZeros(groups);
        this.bankMask = org.banksPerGroup() - 1;
        this.bankBits = Integer.numberOfTrailingZeros(org.banksPerGroup());
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
        this.wr = t.ps(t.wr());
        // A channel configured faster than the table's speed bin (a bandwidth sweep) runs its interface — burst,
        // column-to-column and turnaround times, counted in tCK — at the higher data rate; the DRAM core timings
        // (tRCD, tRP, CL, tRAS, tRFC, tFAW, ...) stay in ns, as they do across real speed bins.
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
        this.highBytes = standard.controller().writeQueueHighBytes();
        this.lowBytes = standard.controller().writeQueueLowBytes();
        int banks = org.banks();
        this.openRow = new long[banks];
        this.actAt = new long[banks];
        this.preMin = new long[banks];
        this.actMin = new long[banks];
        Arrays.fill(openRow, -1);
        Arrays.fill(actAt, NEVER);
        Arrays.fill(preMin, NEVER);
        Arrays.fill(actMin, NEVER);
        this.lastColInGroup = new long[groups];
        Arrays.fill(lastColInGroup, NEVER);
        this.nextRefresh = firstRefreshPs;
        this.refreshOffsetPs = firstRefreshPs;
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
        if (!writes.isEmpty()) {
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
        Arrays.fill(openRow, -1);
        Arrays.fill(actAt, NEVER);
        Arrays.fill(preMin, NEVER);
        Arrays.fill(actMin, NEVER);
        Arrays.fill(lastColInGroup, NEVER);
        Arrays.fill(fawWindow, NEVER);
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
        long previous = nextRefresh - refi;
        quiet = previous + rfc > settledAt;
        quietFrom = quiet ? previous + rfc : 0;
    }

    /** First refresh of channel {@code index} of {@code channels}: spread over one tREFI (controllers stagger). */
    public static long firstRefreshPs(MemoryTiming standard, int index, int channels) {
        long refi = standard.timing().ps(standard.timing().refi());
        return refi * (index + 1) / channels;
    }

    @Override
    public void access(long opId, long address, long amount, boolean write, Runnable done) {
        long t = serve(opId, address, amount, write, done);
        if (t != DEFERRED) {
            scheduler.at(t, done);
        }
    }

    /** The interface's form (a completion told its time), over this copy's own (a callback run at that time). */
    @Override
    public long serve(long opId, long address, long amount, boolean write, Completion done) {
        return serve(opId, address, amount, write, () -> done.at(scheduler.now()));
    }

    private long serve(long opId, long address, long amount, boolean write, Runnable done) {
        if (settlePending) {
            applySettle();
        }
        if (write) {
            writes.add(new PendingWrite(opId, address, amount, done));
            queuedWriteBytes += amount;
            if (queuedWriteBytes >= highBytes) {
                drain(lowBytes);
            }
            if (!writes.isEmpty()) {
                scheduleIdleCheck();
            }
            return DEFERRED;
        }
        return serve(opId, address, amount, false) + latencyPs;
    }

    @Override
    public long bytesMoved() {
        return bytes;
    }

    /**
     * Writes the oldest queued writes until at most {@code limit} bytes stay queued. The batch's writers hear of
     * completion together, when its last burst has crossed (one event per batch instead of one per write; a
     * writer learns at most one batch's transfer time late).
     */
    private void drain(long limit) {
        if (queuedWriteBytes <= limit) {
            return;
        }
        long end = 0;
        Runnable[] batch = new Runnable[writes.size()];
        int n = 0;
        while (queuedWriteBytes > limit) {
            PendingWrite w = writes.poll();
            queuedWriteBytes -= w.bytes();
            end = serve(w.opId(), w.address(), w.bytes(), true) + latencyPs;
            batch[n++] = w.done();
        }
        if (n == 1) {
            scheduler.at(end, batch[0]);
            return;
        }
        int count = n;
        scheduler.at(end, () -> {
            for (int i = 0; i < count; i++) {
                batch[i].run();
            }
        });
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

    /** Plans a request's commands segment by segment; returns the end of its last data burst. */
    private long serve(long opId, long address, long amount, boolean write) {
        long now = scheduler.now();
        long b = address >>> burstShift;
        long last = (address + amount - 1) >>> burstShift;
        long endAddress = address + amount;
        while (b <= last) {
            long superRow = b >>> superRowShift;
            long segEnd = Math.min(last + 1, (superRow + 1) << superRowShift);
            long t = Math.max(now, lastCol);
            while (t >= nextRefresh) {
                refresh(opId, write);
            }
            long segBytes = Math.min(endAddress, segEnd << burstShift) - Math.max(address, b << burstShift);
            long start = planSegment(superRow, (int) (b & groupMask), (int) (segEnd - b), write, now);
            if (sliceStart < 0) {
                sliceStart = start;
            }
            sliceEnd = dataEnd;
            sliceBytes += segBytes;
            b = segEnd;
        }
        flushSlice(opId, write);
        bytes += amount;
        return dataEnd;
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
     * Plans one train of {@code n} bursts in one super-row, starting at bank group {@code group0}: activates the
     * banks it touches (if their row is not open) and issues its column commands every {@link #spacingPs} from
     * the earliest legal start. Returns the start of its data.
     */
    private long planSegment(long superRow, int group0, int n, boolean write, long now) {
        long row = superRow >>> bankBits;
        int bank = bank(superRow, row);
        int touched = Math.min(n, groups);
        long rcd = write ? rcdWr : rcdRd;
        long lat = write ? cwl : cl;
        if (quiet) {
            Arrays.fill(actMin, quietFrom);
            quiet = false;
        }
        // s: the first column command. Data bus, column-to-column and turnaround constraints.
        long s = Math.max(now, Math.max(dataEnd - lat, lastCol + ccdS));
        if (write) {
            s = Math.max(s, lastReadCmd + rtw);
            if (!lastColWrite) {
                s = Math.max(s, dataEnd + rtwBusGap - cwl);
            }
        } else {
            s = Math.max(s, lastWriteDataEnd + wtrS);
        }
        for (int j = 0; j < touched; j++) {
            int g = (group0 + j) & groupMask;
            int k = (bank << groupBits) | g;
            long offset = j * spacingPs;
            long ready;
            if (openRow[k] == row) {
                rowHits++;
                ready = actAt[k] + rcd;
            } else {
                long act = Math.max(now, actMin[k]);
                if (openRow[k] >= 0) {
                    rowConflicts++;
                    long pre = Math.max(now, Math.max(actAt[k] + ras, preMin[k]));
                    act = Math.max(act, pre + rp);
                } else {
                    rowMisses++;
                }
                act = Math.max(act, lastAct + (g == lastActGroup ? rrdL : rrdS));
                act = Math.max(act, fawWindow[fawNext] + faw);
                actAt[k] = act;
                openRow[k] = row;
                lastAct = act;
                lastActGroup = g;
                fawWindow[fawNext] = act;
                fawNext = (fawNext + 1) & 3;
                ready = act + rcd;
            }
            s = Math.max(s, ready - offset);
            s = Math.max(s, lastColInGroup[g] + ccdL - offset);
            if (!write && g == lastWriteGroup) {
                s = Math.max(s, lastWriteDataEnd + wtrL - offset);
            }
        }
        long lastCmd = s + (n - 1) * spacingPs;
        for (int j = 0; j < touched; j++) {
            int g = (group0 + j) & groupMask;
            int k = (bank << groupBits) | g;
            long c = s + (j + ((long) (n - 1 - j) >>> groupBits << groupBits)) * spacingPs;
            lastColInGroup[g] = c;
            preMin[k] = Math.max(preMin[k], write ? c + cwl + burstPs + wr : c + rtp);
        }
        lastCol = lastCmd;
        lastColWrite = write;
        dataEnd = lastCmd + lat + burstPs;
        if (write) {
            lastWriteDataEnd = dataEnd;
            lastWriteGroup = (group0 + n - 1) & groupMask;
        } else {
            lastReadCmd = lastCmd;
        }
        return s + lat;
    }

    /**
     * The bank of a super-row: its bank bits XOR a fold of the Gray code of the row bits above the lowest
     * log2(banks) (permutation-based interleaving, Zhang, Zhu and Zhang, MICRO 2000), so two streams whose
     * addresses differ by a large power of two (a copy's source and destination) rarely share banks. Within a run
     * of {@code banks_per_group} rows the permutation is fixed, and the Gray code makes consecutive runs differ in
     * one bit, so a stream never uses one bank for two consecutive super-rows.
     */
    private int bank(long superRow, long row) {
        if (bankBits == 0) {
            return 0;
        }
        long q = row >>> bankBits;
        long gray = q ^ (q >>> 1);
        long fold = 0;
        for (; gray != 0; gray >>>= bankBits) {
            fold ^= gray;
        }
        return (int) ((superRow ^ fold) & bankMask);
    }

    /** Issues the due all-bank refresh once every bank can be precharged; closes all rows for tRFC. */
    private void refresh(long opId, boolean write) {
        long r = Math.max(nextRefresh, dataEnd);
        if (quiet) {
            r = Math.max(r, quietFrom);
        } else {
            for (int k = 0; k < openRow.length; k++) {
                if (openRow[k] >= 0) {
                    r = Math.max(r, Math.max(actAt[k] + ras, preMin[k]) + rp);
                }
                r = Math.max(r, actMin[k]);
            }
            Arrays.fill(openRow, -1);
        }
        flushSlice(opId, write);
        sink.slice(track, SliceKind.DRAM_REFRESH, opId, r, r + rfc, 0);
        quiet = true;
        quietFrom = r + rfc;
        nextRefresh += refi;
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

package dev.rafter.sim.component;

import dev.rafter.sim.message.MemoryAccess;

/**
 * The memory controller: splits a transfer over the channels by address interleaving (consecutive
 * {@link #INTERLEAVE_BYTES} blocks go to consecutive channels) and reports completion when every part is done.
 * Each channel gets one contiguous range of its own (channel-local) address space: block {@code b} of the device
 * is block {@code b / channels} of channel {@code b % channels}.
 * Contention emerges from the channel queues that concurrent transfers share.
 */
public final class Hbm {
    /** 256 B interleave: a common HBM controller granularity (several 32-64 B bursts per channel hop). */
    public static final int INTERLEAVE_BYTES = 256;

    private final MemoryChannel[] channels;
    private final dev.rafter.sim.Scheduler scheduler;
    private final long[] parts;
    private final long[] localAddresses;

    public Hbm(MemoryChannel[] channels, dev.rafter.sim.Scheduler scheduler) {
        this.channels = channels;
        this.scheduler = scheduler;
        this.parts = new long[channels.length];
        this.localAddresses = new long[channels.length];
    }

    /** Serves a memory access; {@code done} runs once every channel's part has completed. */
    public void transfer(MemoryAccess access, Runnable done) {
        long address = access.address();
        long bytes = access.bytes();
        int n = channels.length;
        long blocks = bytes / INTERLEAVE_BYTES;
        long rest = bytes % INTERLEAVE_BYTES;
        long firstBlock = address / INTERLEAVE_BYTES;
        int first = (int) (firstBlock % n);
        int issued = 0;
        for (int i = 0; i < n; i++) {
            int c = (first + i) % n;
            parts[c] = (blocks / n + (i < blocks % n ? 1 : 0)) * INTERLEAVE_BYTES;
            localAddresses[c] = (firstBlock + i) / n * INTERLEAVE_BYTES + (i == 0 ? address % INTERLEAVE_BYTES : 0);
        }
        if (rest > 0) {
            parts[(int) ((first + blocks) % n)] += rest;
        }
        for (long p : parts) {
            if (p > 0) {
                issued++;
            }
        }
        if (issued == 0) {
            done.run();
            return;
        }
        // One event for the parts whose completion the channels know at once (reads), plus the callbacks of the
        // parts they complete later (posted writes): done runs when the last of them has. Where every part's time
        // is known, that one event is done itself (the caller's event object, which fast-forwarding can read).
        int[] remaining = {issued};
        Runnable part = () -> {
            if (--remaining[0] == 0) {
                done.run();
            }
        };
        long known = -1;
        int knownParts = 0;
        for (int c = 0; c < n; c++) {
            if (parts[c] > 0) {
                long t = channels[c].serve(access.opId(), localAddresses[c], parts[c], access.write(), part);
                if (t != MemoryChannel.DEFERRED) {
                    known = Math.max(known, t);
                    knownParts++;
                }
            }
        }
        if (knownParts == issued) {
            scheduler.at(known, done);
        } else if (knownParts > 0) {
            int count = knownParts;
            scheduler.at(known, () -> {
                remaining[0] -= count - 1;
                part.run();
            });
        }
    }

    public MemoryChannel[] channels() {
        return channels;
    }
}

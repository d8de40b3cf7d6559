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
    private final long[] parts;
    private final long[] localAddresses;

    public Hbm(MemoryChannel[] channels) {
        this.channels = channels;
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
        int[] remaining = {issued};
        Runnable part = () -> {
            if (--remaining[0] == 0) {
                done.run();
            }
        };
        for (int c = 0; c < n; c++) {
            if (parts[c] > 0) {
                channels[c].access(access.opId(), localAddresses[c], parts[c], access.write(), part);
            }
        }
    }

    public MemoryChannel[] channels() {
        return channels;
    }
}

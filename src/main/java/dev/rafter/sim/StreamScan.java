package dev.rafter.sim;

import dev.rafter.hw.HardwareSpec;
import dev.rafter.mapping.L2Residency;
import dev.rafter.mapping.TensorPlacement;
import dev.rafter.roofline.Roofline;
import dev.rafter.workload.Operator;

/**
 * What each operator of a stream finds in the global buffer, read in the stream's order (strict order): the bytes of
 * its activations resident there, the bytes of evicted results it writes back ({@link L2Residency#run}) and its reuse
 * key. A function of the operators alone, so whoever reads the stream finds what its simulation finds: the threads
 * that simulate ahead of it ({@link Ahead}), and a serving step timer that prices a step's operators one by one.
 * The buffer starts empty.
 */
public final class StreamScan {
    /** An operator with what it finds and writes back, and its key. */
    public record Scanned(Operator op, long resident, long writtenBack, Simulation.ReuseKey key) {}

    /** Null where the buffer keeps nothing between operators (or residency is off): every operator finds nothing. */
    private final L2Residency l2;
    private final Roofline roofline;
    /** Each operator's key, found from its predecessor's. */
    private final ReuseKeys keys = new ReuseKeys(Simulation.REPLAY_ENTRIES);

    /**
     * A stream on {@code hw} with tensors placed by {@code placement}; with {@code l2Residency} off every operator
     * finds the buffer empty, as a {@link Simulation#l2Residency} run of it does.
     */
    public StreamScan(HardwareSpec hw, TensorPlacement.Policy placement, boolean l2Residency) {
        this.l2 = l2Residency && hw.globalBuffer().keepsContents()
            ? new L2Residency(hw.globalBuffer().capacityBytes()) : null;
        this.roofline = new Roofline(hw, placement);
    }

    /** A stream as a {@link Simulation} of {@code hw} runs it by default (first tier, the buffer's contents kept). */
    public StreamScan(HardwareSpec hw) {
        this(hw, TensorPlacement.FIRST_TIER, true);
    }

    /** The next operator of the stream: what it finds, leaving the buffer as it does. */
    public Scanned next(Operator op) {
        long resident = 0;
        long writtenBack = 0;
        // Only a device with near-memory units offloads (its bound, costly per operator, says where); an operator
        // off the cores leaves the buffer as it was.
        if (l2 != null && !op.kind().isCollective()
                && (roofline.nearMemory() == null || !roofline.of(op).nearMemory())) {
            resident = l2.run(op);
            writtenBack = l2.lastWrittenBack();
        }
        return new Scanned(op, resident, writtenBack, keys.next(op, resident, writtenBack, 0));
    }

    /** What the buffer holds now, for {@link #holdsAsShifted} (empty where it keeps nothing). */
    public long[] contents() {
        return l2 == null ? new long[0] : l2.contents();
    }

    /** Whether the buffer holds what {@code earlier} says it held, each result {@code shift} operator ids later. */
    public boolean holdsAsShifted(long[] earlier, long shift) {
        return l2 == null || l2.holdsAsShifted(earlier, shift);
    }

    /** Dirty bytes the buffer holds after the operators read so far. */
    public long dirty() {
        return l2 == null ? 0 : l2.dirty();
    }
}

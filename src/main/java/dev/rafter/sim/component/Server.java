package dev.rafter.sim.component;

/**
 * A first-come-first-served bandwidth resource: each request occupies it for bytes / bandwidth after the requests
 * before it. Reservation by "free at" gives exactly the schedule of an explicit FIFO queue with known service
 * times, without an event per queue step. Counts the bytes it moves (for the conservation checks).
 */
final class Server {
    private double psPerByte;
    private long freeAt;
    // The last request's size and service time: most requests are the size of the one before.
    private long lastAmount = -1;
    private long lastDurationPs;
    long bytes;

    Server(double psPerByte) {
        this.psPerByte = psPerByte;
    }

    /** Serves at {@code psPerByte} from now on (its clock changed between operators). */
    void rate(double psPerByte) {
        if (psPerByte != this.psPerByte) {
            this.psPerByte = psPerByte;
            lastAmount = -1;
        }
    }

    /** Reserves the server for {@code bytes} from {@code now} (or when free); returns {start, end}. */
    long reserve(long now, long amount, long[] startOut) {
        long start = Math.max(now, freeAt);
        if (amount != lastAmount) {
            lastAmount = amount;
            lastDurationPs = Math.round(amount * psPerByte);
        }
        long end = start + lastDurationPs;
        freeAt = end;
        bytes += amount;
        startOut[0] = start;
        return end;
    }

    /** Fast-forwarding: how long until it is free. */
    void digest(dev.rafter.sim.steady.Frame frame, dev.rafter.sim.steady.Digest out) {
        out.add(frame.untilPs(freeAt));
    }

    void shift(long timePs) {
        freeAt += timePs;
    }

    void counters(dev.rafter.sim.steady.Counters counters) {
        bytes = counters.next(bytes);
    }

    /** Keeps the server held until {@code time} (a cut-through partner was slower). */
    void reserveUntil(long time) {
        freeAt = Math.max(freeAt, time);
    }
}

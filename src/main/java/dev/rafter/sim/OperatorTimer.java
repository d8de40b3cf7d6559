package dev.rafter.sim;

import dev.rafter.hw.HardwareSpec;
import dev.rafter.roofline.Roofline;
import dev.rafter.sim.trace.RunStats;
import dev.rafter.workload.OperatorSource;

/**
 * Times operators one at a time, each as the strict-order stream runs it: alone on a settled device, finding in the
 * global buffer and writing back what a {@link StreamScan} of its stream found for it, so its time is what its twins
 * replay under exact reuse. One device and one kernel run serve them all ({@link Simulation.Solo}); an operator the
 * stream would not replay (with a host, one of several kernels, whose launches it may wait for) runs in a fresh
 * simulation of its own instead.
 */
public final class OperatorTimer implements AutoCloseable {
    /** An operator's time, its own counts (its energy is charged from them) and its roofline bound. */
    public record Timed(long durationPs, RunStats.Sums sums, Roofline.Bound bound) {}

    private final HardwareSpec hw;
    /** The kept device; null before the first operator and after a model error. */
    private Simulation.Solo solo;

    public OperatorTimer(HardwareSpec hw) {
        this.hw = hw;
    }

    /** Simulates {@code s}'s operator finding and writing back what {@code s} says. */
    public Timed time(StreamScan.Scanned s) {
        if (solo == null) {
            solo = new Simulation(hw).new Solo(false);
        }
        Simulation.Replay replay;
        try {
            replay = solo.simulate(s.op(), s.key(), false);
        } catch (RuntimeException | Error e) {
            solo.close();
            solo = null;
            throw e;
        }
        if (replay != null) {
            return new Timed(replay.durationPs(), replay.own(), replay.bound());
        }
        Timed[] alone = new Timed[1];
        new Simulation(hw).firstResident(s.resident(), s.writtenBack()).run(OperatorSource.of(s.op()), null,
            r -> alone[0] = new Timed(r.endPs() - r.startPs(), r.sums().copy(), r.bound()));
        return alone[0];
    }

    @Override
    public void close() {
        if (solo != null) {
            solo.close();
            solo = null;
        }
    }
}

package dev.rafter.sim.schedule;

import dev.rafter.workload.Operator;
import java.util.Iterator;

/**
 * Decides when each operator of a stream starts ({@link OperatorSchedulers} picks one by {@code --order}). It sees
 * operators and their ends only; running one (simulated, reused or fast-forwarded) is the {@link Launcher}'s job.
 */
public interface OperatorScheduler {
    /** Runs operators on the device for a scheduler. */
    interface Launcher {
        /**
         * Starts {@code op} now; {@code ended} runs when its results are in memory. {@code alone}: nothing else is
         * running or starting now, so nothing else can start before it ends (the device is the operator's alone:
         * the condition under which reusing a twin's result or fast-forwarding is exact).
         */
        void launch(Operator op, boolean alone, Runnable ended);

        /** Brings the idle device to the state every kernel finds, before operators start side by side. */
        void settle();

        /**
         * Hands {@code op} to the host that launches it, after every operator handed before it (program order, one
         * CPU thread); {@code launched} runs once its first kernel is in its stream. Without a host (default) at once.
         */
        default void issue(Operator op, Runnable launched) {
            launched.run();
        }

        /** Whether a host launches the operators ({@link #issue} then calls back later, from the event loop). */
        default boolean hosted() {
            return false;
        }
    }

    /** Starts running {@code operators} (called once, from the event loop). */
    void start(Iterator<Operator> operators, Launcher launcher);

    /** Whether operators may run beside each other (then a collective leaves the cores to other work). */
    boolean overlaps();

    /** Operators taken from the stream that have not ended (none after a complete run). */
    int unfinished();
}

package dev.rafter.sim.schedule;

import dev.rafter.workload.Operator;
import java.util.Iterator;

/** {@code --order strict}: each operator starts when the previous one has ended, whatever its deps say. */
final class StrictOrder implements OperatorScheduler {
    private Iterator<Operator> operators;
    private Launcher launcher;
    private int running;
    /** What runs when an operator ends: one object for the run, not one per operator. */
    private final Runnable next = this::next;

    @Override
    public void start(Iterator<Operator> operators, Launcher launcher) {
        this.operators = operators;
        this.launcher = launcher;
        next();
    }

    private void next() {
        running = 0;
        if (operators.hasNext()) {
            running = 1;
            launcher.launch(operators.next(), true, next);
        }
    }

    @Override
    public boolean overlaps() {
        return false;
    }

    @Override
    public int unfinished() {
        return running;
    }
}

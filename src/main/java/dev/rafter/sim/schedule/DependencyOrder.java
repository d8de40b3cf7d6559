package dev.rafter.sim.schedule;

import dev.rafter.workload.Operator;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.function.Predicate;

/**
 * {@code --order dependencies}: operators run as a GPU runs streams. The host issues operators in trace order into
 * a window of at most {@link #WINDOW} issued and unfinished ones (a launch queue: the stream is read as it runs).
 * An issued operator starts once every operator in its {@code deps} has ended (empty deps: the previous operator in
 * the trace) and the engine it needs is free: the compute engine (the cores, one tile program at a time) for every
 * kind but collectives, the communication engine (the device links) for collectives. Among ready operators of an
 * engine the earliest in the trace goes first. So a collective overlaps the next independent operator, and the two
 * contend for memory where they meet, in the memory system. Deps name earlier operators only (the readers check
 * it), so the order cannot deadlock: the earliest unfinished operator always has its inputs done. Operators that
 * hold no engine ({@link #DependencyOrder(int, Predicate)}: a system's pipeline sends and receives, which have links
 * of their own) start as soon as their deps have ended.
 *
 * <p>With a host ({@link Launcher#hosted}) each operator taken is handed to it in trace order, and is ready only once
 * its launch is in the stream as well as its inputs done; an operator then never counts as alone (a launch may make
 * another ready beside it at any time), so with a host by dependencies everything is simulated.
 */
final class DependencyOrder implements OperatorScheduler {
    /** Operators issued and not yet ended, at most (a launch queue's depth). */
    static final int WINDOW = 1024;

    private static final class Issued {
        final Operator op;
        final long sequence;
        /** Holds no engine. */
        final boolean engineFree;
        int inputsLeft;
        /** Its launch is in the stream (always, without a host). */
        boolean launched;
        List<Issued> dependents;

        Issued(Operator op, long sequence, boolean engineFree) {
            this.op = op;
            this.sequence = sequence;
            this.engineFree = engineFree;
        }

        boolean communication() {
            return !engineFree && op.kind().isCollective();
        }
    }

    /** Operators that hold no engine. */
    private final Predicate<Operator> engineFree;
    private final List<Issued> readyFree = new ArrayList<>();

    private final int window;
    private final Map<Long, Issued> unfinished = new HashMap<>();
    private final Comparator<Issued> traceOrder = Comparator.comparingLong(i -> i.sequence);
    private final PriorityQueue<Issued> readyCompute = new PriorityQueue<>(traceOrder);
    private final PriorityQueue<Issued> readyCommunication = new PriorityQueue<>(traceOrder);
    private boolean computeBusy;
    private boolean communicationBusy;
    private int running;
    private long issued;
    private long previousId;
    private Iterator<Operator> operators;
    private Launcher launcher;
    /** A host launches the operators (see the class). */
    private boolean hosted;
    /** Set while operators are being started, so that one ending at once does not start others inside it. */
    private boolean starting;
    private boolean endedWhileStarting;

    DependencyOrder(int window) {
        this(window, op -> false);
    }

    /** A window of {@code window} operators, those that {@code engineFree} accepts holding no engine. */
    DependencyOrder(int window, Predicate<Operator> engineFree) {
        this.window = window;
        this.engineFree = engineFree;
    }

    @Override
    public void start(Iterator<Operator> operators, Launcher launcher) {
        this.operators = operators;
        this.launcher = launcher;
        this.hosted = launcher.hosted();
        issue();
        startReady();
    }

    /** Takes operators from the stream while the window has room. */
    private void issue() {
        while (unfinished.size() < window && operators.hasNext()) {
            Operator op = operators.next();
            Issued entry = new Issued(op, issued, engineFree.test(op));
            long[] deps = op.deps();
            if (deps.length == 0) {
                if (issued > 0) {
                    waitFor(entry, previousId);
                }
            } else {
                for (long dep : deps) {
                    waitFor(entry, dep);
                }
            }
            issued++;
            previousId = op.id();
            unfinished.put(op.id(), entry);
            launcher.issue(op, () -> launched(entry));
        }
    }

    /** {@code entry}'s launch is in the stream: it is ready if its inputs are done. */
    private void launched(Issued entry) {
        entry.launched = true;
        if (entry.inputsLeft == 0) {
            ready(entry);
            if (hosted) {
                startReady();
            }
        }
    }

    /** Makes {@code entry} wait for operator {@code dep} if that one has not ended (one that left has). */
    private void waitFor(Issued entry, long dep) {
        Issued input = unfinished.get(dep);
        if (input != null) {
            entry.inputsLeft++;
            if (input.dependents == null) {
                input.dependents = new ArrayList<>(2);
            }
            input.dependents.add(entry);
        }
    }

    private void ready(Issued entry) {
        if (entry.engineFree) {
            readyFree.add(entry);
            return;
        }
        (entry.communication() ? readyCommunication : readyCompute).add(entry);
    }

    /** Starts the first ready operator of each free engine, in trace order, until nothing more can start. */
    private void startReady() {
        if (starting) {
            endedWhileStarting = true;
            return;
        }
        starting = true;
        try {
            do {
                endedWhileStarting = false;
                while (!readyFree.isEmpty()) {
                    Issued free = readyFree.remove(0);
                    running++;
                    launcher.launch(free.op, false, () -> ended(free));
                }
                Issued compute = computeBusy ? null : readyCompute.poll();
                Issued communication = communicationBusy ? null : readyCommunication.poll();
                if (compute == null && communication == null) {
                    break;
                }
                boolean quiet = running == 0;
                boolean alone = quiet && (compute == null || communication == null) && !hosted;
                if (quiet && !alone) {
                    launcher.settle();
                }
                if (compute != null && communication != null && communication.sequence < compute.sequence) {
                    launch(communication, false);
                    launch(compute, false);
                } else {
                    if (compute != null) {
                        launch(compute, alone);
                    }
                    if (communication != null) {
                        launch(communication, alone);
                    }
                }
            } while (endedWhileStarting);
        } finally {
            starting = false;
        }
    }

    private void launch(Issued entry, boolean alone) {
        running++;
        if (entry.communication()) {
            communicationBusy = true;
        } else {
            computeBusy = true;
        }
        launcher.launch(entry.op, alone, () -> ended(entry));
    }

    private void ended(Issued entry) {
        running--;
        if (entry.communication()) {
            communicationBusy = false;
        } else if (!entry.engineFree) {
            computeBusy = false;
        }
        unfinished.remove(entry.op.id());
        if (entry.dependents != null) {
            for (Issued d : entry.dependents) {
                if (--d.inputsLeft == 0 && d.launched) {
                    ready(d);
                }
            }
        }
        issue();
        startReady();
    }

    @Override
    public boolean overlaps() {
        return true;
    }

    @Override
    public int unfinished() {
        return unfinished.size();
    }
}

package dev.rafter.sim.system;

import dev.rafter.workload.Lowering;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;

/**
 * One pipeline stage's work, from the operator stream of one micro-batch (the workload lowered at batch / micro
 * batches): step by step, the stage's layers ({@code layers} in {@code [first, end)}; the final norm and LM head on
 * the last stage) repeated for each micro-batch, each preceded by receiving the activations from the stage before
 * and followed by sending them to the stage after. Operators get fresh ids, in the order the stage runs them.
 *
 * <p>For {@code --order dependencies} ({@link #StageStream(Iterator, int, int, int, int, boolean)}) the operators
 * keep their producers, renumbered within their micro-batch, and each send and receive becomes an operator (a
 * {@code copy} named {@code send} or {@code recv}, its {@link Exchange#token}) with deps of its own: a producer on
 * another stage is the micro-batch's receive; a send follows its micro-batch's last operator. Sends follow sends and
 * receives follow receives (NCCL's point-to-point calls between two devices complete in order), so micro-batches
 * are independent: a stage sends one while it computes the next. With no producer on the stage (the first stage's
 * micro-batches of the first step) an operator waits for the stage's first operator alone, since empty deps would
 * mean the operator before it; on the first stage a micro-batch's next step follows its previous one.
 */
final class StageStream implements Iterator<StageStream.Item> {
    /** What a stage does next. */
    sealed interface Item permits Compute, Exchange {}

    /** An operator (compute or a collective of the stage's tensor-parallel group). */
    record Compute(Operator op) implements Item {}

    /**
     * Activations crossing to ({@code send}) or from the neighbouring stage's device: {@code bytes}, for the
     * operator {@code op} that follows (receive) or precedes (send) it.
     */
    record Exchange(boolean send, long bytes, Operator op, Operator token) implements Item {
        Exchange(boolean send, long bytes, Operator op) {
            this(send, bytes, op, null);
        }
    }

    private final Iterator<Operator> ops;
    private final int stage;
    private final int stages;
    private final int microBatches;
    private final int first;
    private final int end;
    private Operator lookahead;
    private final List<Item> pending = new ArrayList<>();
    private int at;
    private long nextId;
    private final boolean dependencies;
    /** The operator before the one read next, in the stream (what an empty deps cell names). */
    private long previousId = -1;
    /** Per micro-batch, its last operator on this stage so far (-1: none). */
    private final long[] lastOfMicroBatch;
    private long lastSend = -1;
    private long lastReceive = -1;

    StageStream(Iterator<Operator> ops, int stage, int stages, int microBatches, int layers) {
        this(ops, stage, stages, microBatches, layers, false);
    }

    StageStream(Iterator<Operator> ops, int stage, int stages, int microBatches, int layers, boolean dependencies) {
        this.dependencies = dependencies;
        this.lastOfMicroBatch = new long[microBatches];
        Arrays.fill(lastOfMicroBatch, -1);
        this.ops = ops;
        this.stage = stage;
        this.stages = stages;
        this.microBatches = microBatches;
        this.first = layers * stage / stages;
        this.end = layers * (stage + 1) / stages;
        this.lookahead = ops.hasNext() ? ops.next() : null;
    }

    @Override
    public boolean hasNext() {
        while (at == pending.size() && lookahead != null) {
            fill();
        }
        return at < pending.size();
    }

    @Override
    public Item next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        return pending.get(at++);
    }

    /** Reads one step (operators of one phase and step) and lays out the stage's share of it per micro-batch. */
    private void fill() {
        pending.clear();
        at = 0;
        Operator head = lookahead;
        List<Operator> mine = new ArrayList<>();
        List<long[]> producers = new ArrayList<>();
        long activationBytes = 0;
        while (lookahead != null && lookahead.phase() == head.phase() && lookahead.step() == head.step()) {
            Operator op = lookahead;
            lookahead = ops.hasNext() ? ops.next() : null;
            long[] from = op.deps().length > 0 ? op.deps() : previousId < 0 ? Operator.NO_DEPS
                : new long[] {previousId};
            previousId = op.id();
            if (activationBytes == 0 && op.layer() >= 0 && !op.kind().isMatrix() && !op.kind().isCollective()) {
                // The layer's first operator (its norm) reads the residual stream: what one stage hands the next.
                activationBytes = op.elements() * op.dataType().bytes();
            }
            boolean ours = op.layer() == Lowering.NO_LAYER ? stage == stages - 1
                : op.layer() >= first && op.layer() < end;
            if (ours) {
                mine.add(op);
                producers.add(from);
            }
        }
        if (mine.isEmpty()) {
            return;
        }
        if (dependencies) {
            layOutByDependencies(mine, producers, activationBytes);
            return;
        }
        for (int m = 0; m < microBatches; m++) {
            List<Operator> renumbered = new ArrayList<>();
            for (Operator op : mine) {
                renumbered.add(new Operator(nextId++, op.name(), op.kind(), op.phase(), op.layer(), op.step(),
                    op.batch(), op.m(), op.n(), op.k(), op.elements(), op.dataType(), new long[0], op.causal(),
                    op.operandBType(), op.segments()));
            }
            if (stage > 0) {
                pending.add(new Exchange(false, activationBytes, renumbered.get(0)));
            }
            for (Operator op : renumbered) {
                pending.add(new Compute(op));
            }
            if (stage < stages - 1) {
                pending.add(new Exchange(true, activationBytes, renumbered.get(renumbered.size() - 1)));
            }
        }
    }

    /** {@link #fill}'s lay-out for {@code --order dependencies} (see the class comment). */
    private void layOutByDependencies(List<Operator> mine, List<long[]> producers, long activationBytes) {
        Map<Long, Integer> index = new HashMap<>();
        for (int i = 0; i < mine.size(); i++) {
            index.put(mine.get(i).id(), i);
        }
        for (int m = 0; m < microBatches; m++) {
            long receive = stage > 0 ? nextId++ : -1;
            long base = nextId;
            nextId += mine.size();
            List<Operator> renumbered = new ArrayList<>();
            for (int i = 0; i < mine.size(); i++) {
                Operator op = mine.get(i);
                Set<Long> deps = new LinkedHashSet<>();
                for (long p : producers.get(i)) {
                    Integer at = index.get(p);
                    long dep = at != null && at < i ? base + at : stage > 0 ? receive : lastOfMicroBatch[m];
                    if (dep >= 0) {
                        deps.add(dep);
                    }
                }
                renumbered.add(new Operator(base + i, op.name(), op.kind(), op.phase(), op.layer(), op.step(),
                    op.batch(), op.m(), op.n(), op.k(), op.elements(), op.dataType(), atLeastTheStart(base + i, deps),
                    op.causal(), op.operandBType(), op.segments()));
            }
            if (receive >= 0) {
                Operator into = renumbered.get(0);
                pending.add(new Exchange(false, activationBytes, into, token(receive, "recv", into, activationBytes,
                    lastReceive)));
                lastReceive = receive;
            }
            for (Operator op : renumbered) {
                pending.add(new Compute(op));
            }
            Operator end = renumbered.get(renumbered.size() - 1);
            lastOfMicroBatch[m] = end.id();
            if (stage < stages - 1) {
                long send = nextId++;
                pending.add(new Exchange(true, activationBytes, end, token(send, "send", end, activationBytes,
                    lastSend, end.id())));
                lastSend = send;
            }
        }
    }

    /**
     * Deps of operator {@code id}: {@code deps}, or when none, the stage's first operator (id 0; empty deps would
     * mean the operator before it).
     */
    private static long[] atLeastTheStart(long id, Collection<Long> deps) {
        if (deps.isEmpty()) {
            return id == 0 ? Operator.NO_DEPS : new long[] {0};
        }
        return deps.stream().mapToLong(Long::longValue).toArray();
    }

    /**
     * The call a host launches for a send or receive: its token, or in order (which has none) a copy of the
     * activations named {@code send} or {@code recv}, numbered as the operator it follows or precedes.
     */
    static Operator call(Exchange e) {
        if (e.token() != null) {
            return e.token();
        }
        Operator like = e.op();
        long elements = e.bytes() / like.dataType().bytes();
        return new Operator(like.id(), e.send() ? "send" : "recv", OpKind.COPY, like.phase(), like.layer(),
            like.step(), like.batch(), 1, elements, 0, elements, like.dataType(), Operator.NO_DEPS);
    }

    /** A send's or receive's operator: a copy of the activations, after {@code after} (those not -1). */
    private Operator token(long id, String name, Operator like, long bytes, long... after) {
        long[] deps = atLeastTheStart(id, Arrays.stream(after).filter(d -> d >= 0).boxed().toList());
        return new Operator(id, name, OpKind.COPY, like.phase(), like.layer(), like.step(),
            like.batch(), 1, bytes / like.dataType().bytes(), 0, bytes / like.dataType().bytes(), like.dataType(),
            deps);
    }
}

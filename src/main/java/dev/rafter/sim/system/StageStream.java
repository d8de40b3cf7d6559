package dev.rafter.sim.system;

import dev.rafter.workload.Lowering;
import dev.rafter.workload.Operator;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * One pipeline stage's work, from the operator stream of one micro-batch (the workload lowered at batch / micro
 * batches): step by step, the stage's layers ({@code layers} in {@code [first, end)}; the final norm and LM head on
 * the last stage) repeated for each micro-batch, each preceded by receiving the activations from the stage before
 * and followed by sending them to the stage after. Operators get fresh ids, in the order the stage runs them.
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
    record Exchange(boolean send, long bytes, Operator op) implements Item {}

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

    StageStream(Iterator<Operator> ops, int stage, int stages, int microBatches, int layers) {
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
        long activationBytes = 0;
        while (lookahead != null && lookahead.phase() == head.phase() && lookahead.step() == head.step()) {
            Operator op = lookahead;
            lookahead = ops.hasNext() ? ops.next() : null;
            if (activationBytes == 0 && op.layer() >= 0 && !op.kind().isMatrix() && !op.kind().isCollective()) {
                // The layer's first operator (its norm) reads the residual stream: what one stage hands the next.
                activationBytes = op.elements() * op.dataType().bytes();
            }
            boolean ours = op.layer() == Lowering.NO_LAYER ? stage == stages - 1
                : op.layer() >= first && op.layer() < end;
            if (ours) {
                mine.add(op);
            }
        }
        if (mine.isEmpty()) {
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
}

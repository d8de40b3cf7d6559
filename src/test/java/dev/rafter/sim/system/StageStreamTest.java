package dev.rafter.sim.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.workload.Lowering;
import dev.rafter.workload.Operator;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Phase;
import dev.rafter.workload.Workload;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class StageStreamTest {
    private static List<Operator> prefill(int layers) {
        Workload w = Workload.load(Path.of("models/workloads/tiny.yaml"), List.of("run.tensor_parallel=1",
            "run.layers=" + layers));
        List<Operator> ops = new ArrayList<>();
        OperatorSource.of(w, EnumSet.of(Phase.PREFILL)).forEach(ops::add);
        return ops;
    }

    private static List<StageStream.Item> stage(List<Operator> ops, int stage, int stages, int micro, int layers) {
        List<StageStream.Item> out = new ArrayList<>();
        new StageStream(ops.iterator(), stage, stages, micro, layers).forEachRemaining(out::add);
        return out;
    }

    @Test
    void eachStageRunsItsLayersPerMicroBatchBetweenAReceiveAndASend() {
        List<Operator> ops = prefill(2);
        long perLayer = ops.stream().filter(o -> o.layer() == 0).count();
        long head = ops.stream().filter(o -> o.layer() == Lowering.NO_LAYER).count();
        List<StageStream.Item> first = stage(ops, 0, 2, 3, 2);
        List<StageStream.Item> last = stage(ops, 1, 2, 3, 2);
        // Stage 0: layer 0, then a send, three times; stage 1: a receive, layer 1 and the head, three times.
        assertEquals(3 * (perLayer + 1), first.size());
        assertEquals(3 * (1 + perLayer + head), last.size());
        for (int m = 0; m < 3; m++) {
            StageStream.Item send = first.get((int) (m * (perLayer + 1) + perLayer));
            assertTrue(send instanceof StageStream.Exchange e && e.send());
            StageStream.Item receive = last.get((int) (m * (1 + perLayer + head)));
            assertTrue(receive instanceof StageStream.Exchange e && !e.send());
        }
        // What crosses is the residual stream: tokens x d_model in the data type (tiny: 2 x 64 tokens, d 256, fp16).
        assertEquals(2L * 64 * 256 * 2, ((StageStream.Exchange) first.get((int) perLayer)).bytes());
        // Fresh ids in the order the stage runs them.
        long expected = 0;
        for (StageStream.Item i : last) {
            if (i instanceof StageStream.Compute c) {
                assertEquals(expected++, c.op().id());
                assertTrue(c.op().layer() == 1 || c.op().layer() == Lowering.NO_LAYER);
            }
        }
    }

    @Test
    void byDependenciesMicroBatchesAreIndependentAndSendsAndReceivesAreOperatorsInOrder() {
        List<Operator> ops = prefill(2);
        List<StageStream.Item> first = new ArrayList<>();
        new StageStream(ops.iterator(), 0, 2, 2, 2, true).forEachRemaining(first::add);
        List<StageStream.Item> last = new ArrayList<>();
        new StageStream(ops.iterator(), 1, 2, 2, 2, true).forEachRemaining(last::add);
        int perMicroBatch = first.size() / 2;
        StageStream.Exchange send0 = (StageStream.Exchange) first.get(perMicroBatch - 1);
        StageStream.Exchange send1 = (StageStream.Exchange) first.get(2 * perMicroBatch - 1);
        Operator head1 = ((StageStream.Compute) first.get(perMicroBatch)).op();
        // Stage 0's second micro-batch waits for nothing of the first but the stage's start (its first operator).
        assertEquals(List.of(0L), java.util.Arrays.stream(head1.deps()).boxed().toList());
        // A send follows its micro-batch's last operator and the send before it.
        assertEquals(List.of(send0.op().id()), java.util.Arrays.stream(send0.token().deps()).boxed().toList());
        assertEquals(List.of(send0.token().id(), send1.op().id()),
            java.util.Arrays.stream(send1.token().deps()).boxed().sorted().toList());
        // On stage 1 what came from stage 0 is the micro-batch's receive; receives follow receives.
        StageStream.Exchange receive1 = (StageStream.Exchange) last.get(last.size() / 2);
        StageStream.Exchange receive0 = (StageStream.Exchange) last.get(0);
        assertEquals(List.of(receive0.token().id()), java.util.Arrays.stream(receive1.token().deps()).boxed().toList());
        Operator norm1 = ((StageStream.Compute) last.get(last.size() / 2 + 1)).op();
        assertTrue(java.util.Arrays.stream(norm1.deps()).anyMatch(d -> d == receive1.token().id()));
        // Ids stay unique and every dep names an earlier operator.
        java.util.Set<Long> seen = new java.util.HashSet<>();
        for (StageStream.Item i : last) {
            Operator op = i instanceof StageStream.Compute c ? c.op() : ((StageStream.Exchange) i).token();
            for (long d : op.deps()) {
                assertTrue(seen.contains(d), op.name() + " " + op.id() + " names " + d);
            }
            assertTrue(seen.add(op.id()));
        }
    }
}

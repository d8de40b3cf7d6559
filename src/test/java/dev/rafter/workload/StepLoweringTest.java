package dev.rafter.workload;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class StepLoweringTest {
    private static final Workload TINY = Workload.load(Path.of("models/workloads/tiny.yaml"));

    private static List<Operator> step(Workload w, List<StepLowering.Group> groups, long emitting) {
        List<Operator> out = new ArrayList<>();
        StepLowering.lower(w, 0, groups, emitting, out::add);
        return out;
    }

    @Test
    void aStepOfTheRunsOwnBatchIsItsPrefillPass() {
        List<Operator> pass = new ArrayList<>();
        Lowering.lower(TINY, EnumSet.of(Phase.PREFILL), pass::add);
        List<Operator> step = step(TINY, List.of(new StepLowering.Group(2, 64, 64)), 2);
        assertEquals(pass.size(), step.size());
        for (int i = 0; i < pass.size(); i++) {
            Operator a = pass.get(i);
            Operator b = step.get(i);
            assertEquals(a.shape(), b.shape(), "op " + i);
            assertEquals(a.name(), b.name());
            assertArrayEquals(a.deps(), b.deps(), "op " + i);
        }
    }

    @Test
    void aServingStepOfAMixtureOfExpertsRunsTheGroupedKernelOverTheStepsTokens() {
        Workload mixtral = Workload.load(Path.of("models/workloads/mixtral-8x7b.yaml"), List.of("run.layers=1",
            "model.routing=random", "model.routing_seed=3"));
        // 16 prefill tokens and 3 decode tokens: 19 tokens, each routed to 2 experts.
        List<Operator> ops = step(mixtral, List.of(new StepLowering.Group(1, 16, 40),
            new StepLowering.Group(3, 1, 100)), 3);
        Operator w13 = ops.stream().filter(o -> o.name().equals("experts_w13")).findFirst().orElseThrow();
        assertEquals(OpKind.GROUPED_GEMM, w13.kind());
        assertEquals(19 * 2, w13.segments().stream().mapToLong(Operator.Segment::m).sum());
        assertArrayEquals(java.util.Arrays.stream(Lowering.route(mixtral.model(), 19, 0, 0)).filter(c -> c > 0)
            .toArray(), w13.segments().stream().mapToLong(Operator.Segment::m).toArray());
        assertEquals(2, ops.stream().filter(o -> o.kind() == OpKind.GROUPED_GEMM).count());
        assertEquals(2, ops.stream().filter(o -> o.name().equals("attention")).findFirst().orElseThrow()
            .segments().size(), "the varlen attention keeps its groups");
    }

    @Test
    void mixedStepRunsProjectionsOverAllTokensAndOneAttentionKernelOverTheGroups() {
        // A 16-token prefill chunk of a 40-token prompt (no token yet) beside three decodes at KV length 100.
        List<Operator> ops = step(TINY, List.of(new StepLowering.Group(1, 16, 40),
            new StepLowering.Group(3, 1, 100)), 3);
        List<Operator> layer0 = ops.stream().filter(o -> o.layer() == 0).toList();
        Operator qkv = layer0.stream().filter(o -> o.name().equals("qkv_proj")).findFirst().orElseThrow();
        assertEquals(19, qkv.m()); // 16 + 3 new tokens
        List<Operator> attention = layer0.stream().filter(o -> o.kind() == OpKind.FLASH_ATTENTION).toList();
        assertEquals(1, attention.size()); // one variable-length kernel over both groups
        // tiny on 2 devices: 4 heads, 1 KV head per device, so 4 query rows per token.
        assertEquals(List.of(new Operator.Segment(1, 64, 40, 16), new Operator.Segment(3, 4, 100, 1)),
            attention.get(0).segments());
        assertEquals(List.of(1L, 64L, 40L, 16L), List.of(attention.get(0).batch(), attention.get(0).m(),
            attention.get(0).n(), attention.get(0).queryTokens()), "the plain shape is the first group's");
        Operator out = layer0.stream().filter(o -> o.name().equals("out_proj")).findFirst().orElseThrow();
        assertEquals(attention.get(0).id() + 1, out.id()); // and waits for it alone (no deps: the previous op)
        assertEquals(0, out.deps().length);
        Operator head = ops.stream().filter(o -> o.name().equals("lm_head")).findFirst().orElseThrow();
        assertEquals(3, head.m());
        assertEquals(0, step(TINY, List.of(new StepLowering.Group(1, 16, 40)), 0).stream()
            .filter(o -> o.name().equals("lm_head")).count());
    }
}

package dev.rafter.mapping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.roofline.Roofline;
import dev.rafter.sim.Simulation;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Phase;
import dev.rafter.workload.StepLowering;
import dev.rafter.workload.Workload;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** One flash-attention kernel over several groups of sequences (a serving step's decode and prefill chunks). */
class VariableLengthAttentionTest {
    static final HardwareSpec H100 = HardwareLoader.load(Path.of("models/hardware/h100.yaml"), List.of());

    /** Llama-3-8B per device: 8 KV heads, 4 query heads per KV head, head dim 128. */
    static final List<Operator.Segment> DECODES = List.of(
        new Operator.Segment(3 * 8, 4, 300, 1), new Operator.Segment(2 * 8, 4, 1100, 1),
        new Operator.Segment(5 * 8, 4, 2047, 1), new Operator.Segment(8, 4, 90, 1),
        new Operator.Segment(8, 64 * 4, 512, 64));

    static long simulatedPs(Operator... ops) {
        return new Simulation(H100).reuse(false).run(OperatorSource.of(ops), null, r -> { }).endPs();
    }

    static Operator separate(long id, Operator.Segment s) {
        return Operator.flashAttention(id, "attention", Phase.PREFILL, 0, 0, s.batch(), s.m(), s.n(), 128,
            s.queryTokens(), true, DataType.FP16, DataType.FP16);
    }

    @Test
    void oneKernelOverTheGroupsBeatsOneKernelEachAndKeepsToTheRoofline() {
        Operator batched = Operator.variableLengthAttention(0, "attention", Phase.PREFILL, 0, 0, DECODES, 128, true,
            DataType.FP16, DataType.FP16);
        List<Operator> each = new ArrayList<>();
        double flops = 0;
        double bytes = 0;
        for (Operator.Segment s : DECODES) {
            Operator op = separate(each.size(), s);
            each.add(op);
            flops += op.flops();
            bytes += op.minBytes();
        }
        assertEquals(flops, batched.flops(), 1e-6 * flops, "the kernel counts every group's scores");
        assertEquals(bytes, batched.minBytes(), 1e-6 * bytes, "and reads every group's Q, K and V");
        long together = simulatedPs(batched);
        long apart = simulatedPs(each.toArray(Operator[]::new));
        long dispatchPs = Math.round(H100.deviceDispatchNs() * 1000);
        assertTrue(together < apart, together + " ps in one kernel vs " + apart + " ps in " + each.size());
        // Four dispatches saved at least; the groups' work is the same.
        assertTrue(apart - together >= (DECODES.size() - 1) * dispatchPs,
            "saved " + (apart - together) + " ps, dispatch " + dispatchPs + " ps");
        double rooflinePs = new Roofline(H100).of(batched).seconds() * 1e12;
        assertTrue(together >= rooflinePs, together + " ps under the roofline " + rooflinePs + " ps");
    }

    @Test
    void oneGroupIsThePlainOperatorAndAServingStepRunsOneAttentionKernelPerLayer() {
        Workload tiny = Workload.load(Path.of("models/workloads/tiny.yaml"));
        List<Operator> one = new ArrayList<>();
        StepLowering.lower(tiny, 0, List.of(new StepLowering.Group(4, 1, 70)), 4, one::add);
        assertTrue(one.stream().allMatch(op -> op.segments().isEmpty()));
        List<Operator> mixed = new ArrayList<>();
        StepLowering.lower(tiny, 0, List.of(new StepLowering.Group(1, 48, 48), new StepLowering.Group(2, 1, 70),
            new StepLowering.Group(1, 1, 9)), 3, mixed::add);
        List<Operator> attention = mixed.stream().filter(op -> op.kind() == OpKind.FLASH_ATTENTION).toList();
        assertEquals(tiny.run().layers(), attention.size());
        assertEquals(3, attention.get(0).segments().size());
    }
}

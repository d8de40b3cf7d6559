package dev.rafter.importer;

import dev.rafter.workload.Operator;
import java.util.List;

/**
 * One operator of an imported trace with the GPU time the trace measured for it (the sum of its kernels'
 * durations, in seconds), or NaN when the trace carries none; a collective also carries the process group it ran
 * in when the trace records one ({@code group}, else null), which a multi-rank replay joins the ranks by.
 */
public record ImportedOp(Operator op, double measuredS, ProcessGroup group) {
    public ImportedOp(Operator op, double measuredS) {
        this(op, measuredS, null);
    }

    /**
     * A collective's process group as recorded: its name ("" when the trace gives none), its members' global ranks
     * (null when the trace gives neither the list nor its start and stride), and the event that recorded the
     * collective, for messages ({@code traceEvents[12] (nccl:all_reduce)}).
     */
    public record ProcessGroup(String name, List<Integer> ranks, String event) {}
}

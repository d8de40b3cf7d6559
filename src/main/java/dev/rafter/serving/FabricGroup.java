package dev.rafter.serving;

import dev.rafter.sim.fabric.FabricAlgorithm;
import dev.rafter.sim.fabric.FabricCollectives;
import dev.rafter.sim.fabric.FabricGraph;
import dev.rafter.sim.fabric.FabricOp;
import dev.rafter.sim.fabric.FabricPlan;
import dev.rafter.workload.Operator;
import java.util.List;

/**
 * A tensor-parallel group of a system's devices serving as one replica: its collectives run as traffic on the
 * system's fabric ({@link FabricCollectives}), each alone on idle links, as {@code simulate --system} runs a lone
 * group's collectives (one at a time, every device arriving together under the strict order). Groups of disjoint
 * devices on a single-switch fabric never share a link, so there the time is exact with every replica busy; on
 * other fabrics, collectives of two replicas at once are not made to contend.
 */
public record FabricGroup(FabricGraph graph, List<Integer> devices) {
    public FabricGroup {
        devices = List.copyOf(devices);
    }

    /** Picoseconds the collective {@code op} (each device's share, as lowered) takes on the group's links. */
    public long collectivePs(Operator op) {
        return collective(op).timePs();
    }

    /** The run of the collective {@code op} on the group's links: its time and what crossed each link. */
    public FabricCollectives.Result collective(Operator op) {
        long bytes = op.elements() * op.dataType().bytes();
        FabricOp fabricOp = FabricOp.valueOf(op.kind().collective().name());
        FabricPlan plan = FabricPlan.choose(graph, fabricOp, bytes, FabricAlgorithm.AUTO, devices);
        return FabricCollectives.run(graph, plan);
    }
}

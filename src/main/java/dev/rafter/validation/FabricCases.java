package dev.rafter.validation;

import dev.rafter.config.InputException;
import dev.rafter.hw.SystemLoader;
import dev.rafter.sim.fabric.FabricAlgorithm;
import dev.rafter.sim.fabric.FabricCollectives;
import dev.rafter.sim.fabric.FabricGraph;
import dev.rafter.sim.fabric.FabricOp;
import dev.rafter.sim.fabric.FabricPlan;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Collectives on the bundled systems' fabrics ({@code validation/fabric.csv}):
 * <ul>
 *   <li>{@code closed_form}: the collective {@code auto} picks, alone on an idle fabric, must take at least its
 *       alpha-beta closed form and at most that plus its pipeline fill ({@link FabricCollectives#fillBoundS}): the
 *       closed form moves a step's bytes as if its path were one wire, while hop by hop the last slice of each
 *       step still crosses the links after the first (store and forward). Not zero, and not a fixed percentage:
 *       the fill is one slice per step and link, so it is bounded by the plan's own numbers. The run moves each
 *       message through the devices' memories too ({@link FabricCollectives}), and the closed form charges each
 *       step the longer of its link and memory times ({@link FabricPlan.Phase#closedFormS}); on every bundled
 *       system a step's memory traffic (3 chunks at most, against HBM bandwidth) takes less than its one chunk on
 *       the wire, so there the memory term is zero and the form is the alpha-beta one;</li>
 *   <li>{@code in_switch_bytes}: the payload each device sends for an in-switch (NVLS) all-reduce over the ring's,
 *       which must be (p + 1) / (2 (p - 1)) to within a slice's rounding.</li>
 * </ul>
 */
final class FabricCases {
    private final Path dir;

    FabricCases(Path dir) {
        this.dir = dir;
    }

    void run(List<Validation.Check> out) {
        for (String[] row : Validation.rows(dir.resolve("fabric.csv"), 6)) {
            Path file = dir.resolveSibling("models").resolve("systems").resolve(row[1] + ".yaml");
            FabricGraph graph = new FabricGraph(SystemLoader.load(file, List.of()));
            FabricOp op = dev.rafter.config.Section.parseChoice(row[2], FabricOp.class,
                m -> new InputException(dir.resolve("fabric.csv") + ": op: " + m));
            long bytes = Long.parseLong(row[3]);
            String name = row[0] + "@" + row[1];
            switch (row[4]) {
                case "closed_form" -> {
                    FabricPlan plan = FabricPlan.choose(graph, op, bytes, FabricAlgorithm.AUTO);
                    double sim = FabricCollectives.run(graph, plan).timeS();
                    double closed = plan.predictedS();
                    double fill = FabricCollectives.fillBoundS(graph, plan);
                    // 1 ps per event of rounding to the kernel's clock.
                    boolean passed = sim >= closed - 1e-9 && sim <= closed + fill + 1e-9;
                    out.add(new Validation.Check("fabric", name, closed, sim, String.format(Locale.ROOT,
                        "%s/%s: closed form %.2f us <= %.2f us <= + fill %.2f us (%+.1f%%)",
                        plan.algorithm().name().toLowerCase(Locale.ROOT), plan.cost().protocol(), closed * 1e6,
                        sim * 1e6, fill * 1e6, 100 * (sim - closed) / closed), passed));
                }
                case "in_switch_bytes" -> {
                    int p = graph.devices();
                    long inSwitch = FabricCollectives.run(graph,
                        FabricPlan.choose(graph, op, bytes, FabricAlgorithm.IN_SWITCH)).payloadSent()[0];
                    long ring = FabricCollectives.run(graph,
                        FabricPlan.choose(graph, op, bytes, FabricAlgorithm.RING)).payloadSent()[0];
                    double expected = (p + 1.0) / (2.0 * (p - 1));
                    double ratio = (double) inSwitch / ring;
                    out.add(new Validation.Check("fabric", name, expected, ratio, String.format(Locale.ROOT,
                        "bytes sent per GPU, in-switch / ring = %d / %d = %.4f == (p+1)/(2(p-1)) = %.4f", inSwitch,
                        ring, ratio, expected), Math.abs(ratio - expected) < 1e-3));
                }
                default -> throw new InputException(dir.resolve("fabric.csv") + ": check: expected closed_form or "
                    + "in_switch_bytes, got '" + row[4] + "'");
            }
        }
    }
}

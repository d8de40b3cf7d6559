package dev.rafter.sim.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.hw.SystemLoader;
import dev.rafter.hw.SystemSpec;
import dev.rafter.report.SimulationReport;
import dev.rafter.report.SystemReport;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Workload;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Mixtral's experts spread over the devices of a system (run.expert_parallel). */
class ExpertParallelTest {
    private static final SystemSpec DGX = SystemLoader.load(Path.of("models/systems/dgx-h100-8.yaml"), List.of());

    /** Mixtral 8x7B, one layer, prefill of 8 sequences of 256 tokens, bf16, on tp x ep devices. */
    private static Workload mixtral(int tp, int ep) {
        return Workload.load(Path.of("models/workloads/mixtral-8x7b.yaml"), List.of("run.layers=1", "run.batch=8",
            "run.prompt_tokens=256", "run.output_tokens=1", "run.tensor_parallel=" + tp,
            "run.expert_parallel=" + ep));
    }

    private static List<Operator> lowered(Workload w) {
        List<Operator> ops = new ArrayList<>();
        OperatorSource.of(w, OperatorSource.phases("prefill")).forEach(ops::add);
        return ops;
    }

    @Test
    void eachDeviceDispatchesItsTokensExpertCopiesAndRunsItsShareOfTheExperts() {
        List<Operator> ops = lowered(mixtral(1, 8));
        List<Operator> allToAll = ops.stream().filter(o -> o.kind() == OpKind.ALL_TO_ALL).toList();
        assertEquals(List.of("moe_dispatch", "moe_combine"), allToAll.stream().map(Operator::name).toList());
        // A device serves 8 / 8 = 1 sequence of 256 tokens, each sent to k = 2 experts of d_model 4096.
        for (Operator a : allToAll) {
            assertEquals(256L * 2 * 4096, a.elements());
            assertEquals(8, a.n());
        }
        // One expert per device; the group's 2048 tokens touch it (1 - (6/8)^2048 = 1): all 512 copies.
        // Each device's grouped kernel runs over its local experts: one group of 512 rows.
        List<Operator> w13 = ops.stream().filter(o -> o.name().equals("experts_w13")).toList();
        assertEquals(1, w13.size());
        assertEquals(List.of(512L), w13.get(0).segments().stream().map(Operator.Segment::m).toList());
        assertEquals(256, ops.stream().filter(o -> o.name().equals("qkv_proj")).findFirst().orElseThrow().m());
    }

    @Test
    void theAllToAllsPutEachDevicesShareForItsPeersOnItsLink() {
        Workload w = mixtral(1, 8);
        SystemSimulation.Result r = new SystemSimulation(DGX, 1).experts(8).run(
            OperatorSource.of(w, OperatorSource.phases("prefill")), null, null);
        // Two all-to-alls of 256 x 2 x 4096 bf16 = 4 MiB per device, 7/8 of it for the other 7 devices:
        // 2 x 4194304 x 7 / 8 = 7340032 bytes up each device's link (and as many down), nothing else.
        for (SystemSimulation.LinkResult l : r.links()) {
            assertEquals(7_340_032L, l.bytes(), l.name());
        }
        assertEquals(16, r.links().size());
        assertEquals(2, r.collectives());
    }

    private static String summary(int tp, int ep, boolean shortcuts) {
        Workload w = Workload.load(Path.of("models/workloads/mixtral-8x7b.yaml"), List.of("run.layers=2",
            "run.batch=8", "run.prompt_tokens=32", "run.output_tokens=3", "run.tensor_parallel=" + tp,
            "run.expert_parallel=" + ep));
        List<SimulationReport> reports = new ArrayList<>();
        StringWriter ops = new StringWriter();
        SystemSimulation.Result result = new SystemSimulation(DGX, tp).experts(ep).reuse(shortcuts)
            .mirror(shortcuts).run(OperatorSource.of(w, OperatorSource.phases("all")), null, rank -> {
                SimulationReport report = new SimulationReport(DGX.devices().get(rank).hardware(),
                    rank == 0 ? ops : null, null).sequences(w.run().batch()).promptTokens(w.run().promptTokens());
                reports.add(report);
                return report;
            });
        assertEquals(tp * ep, result.devices().size());
        Map<String, Object> s = SystemReport.summary(DGX, result, reports, tp, w.parallelism());
        s.remove("simulator");
        return SimulationReport.json(s) + ops;
    }

    @Test
    void shortcutsEqualSimulatingEveryDeviceWithExpertsAloneAndWithTensorParallelism() {
        assertEquals(summary(1, 8, false), summary(1, 8, true));
        String both = summary(2, 4, true);
        assertEquals(summary(2, 4, false), both);
        assertTrue(both.contains("\"expert_parallel\" : 4") || both.contains("\"expert_parallel\": 4"), both);
    }
}

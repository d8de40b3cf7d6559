package dev.rafter.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.sim.Simulation;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Phase;
import dev.rafter.workload.Workload;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.IdentityHashMap;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A reused operator reports its twin's sums and mapping objects, and the report and the stall chart take what they
 * derived from them (an ops.csv row, its name cells, the stall figures) by their identity. The same operators with
 * every sums object and mapping string a fresh copy, so that nothing is found by identity, write the same bytes.
 */
class ReplayedRowsTest {
    @Test
    void rowsAndStallsOfReplayedOperatorsEqualThoseComputedAfresh() throws Exception {
        HardwareSpec hw = HardwareLoader.load(Path.of("models/hardware/a100.yaml"), List.of());
        Workload llama = Workload.load(Path.of("models/workloads/llama3-8b.yaml"), List.of("run.output_tokens=4"));
        List<Simulation.OpResult> results = new ArrayList<>();
        Simulation.Result run = new Simulation(hw).run(OperatorSource.of(llama, EnumSet.allOf(Phase.class)), null,
            results::add);
        IdentityHashMap<Object, Boolean> shared = new IdentityHashMap<>();
        results.forEach(r -> shared.put(r.sums(), true));
        assertTrue(shared.size() * 10 < results.size(), "most operators replay a twin's sums: " + shared.size()
            + " distinct of " + results.size());

        List<Simulation.OpResult> fresh = new ArrayList<>();
        for (Simulation.OpResult r : results) {
            fresh.add(new Simulation.OpResult(r.op(), r.startPs(), r.endPs(), r.sums().copy(), r.bound(),
                new String(r.mapping())));
        }
        assertEquals(report(hw, results, run, "replayed"), report(hw, fresh, run, "fresh"));
        assertArrayEquals(stallsPng.get("replayed"), stallsPng.get("fresh"));
    }

    /** stalls.png of each report, by its name. */
    private final java.util.Map<String, byte[]> stallsPng = new java.util.HashMap<>();

    /** ops.csv and summary.json of {@code results}; stalls.png kept under {@code name}. */
    private String report(HardwareSpec hw, List<Simulation.OpResult> results, Simulation.Result run, String name) {
        ByteArrayOutputStream ops = new ByteArrayOutputStream();
        SimulationReport report = new SimulationReport(hw, ops, null, null).sequences(8);
        StallChart stalls = new StallChart(hw.cores() * hw.core().peArrays());
        for (Simulation.OpResult r : results) {
            report.finished(r);
            stalls.finished(r);
        }
        stallsPng.put(name, stalls.png());
        return ops + "\n" + report.summary(run);
    }
}

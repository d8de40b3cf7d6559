package dev.rafter.cli;

import static dev.rafter.cli.CliTest.assertBadInput;
import static dev.rafter.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --order} and {@code run.order} from the command line. */
class OrderCliTest {
    @TempDir
    Path tmp;

    /**
     * Two chains (gemm -> all-reduce) per block, three identical blocks: collectives overlap GEMMs, and the blocks
     * repeat, so operators are reused where they start alone.
     */
    private Path overlappingTrace() throws Exception {
        StringBuilder s = new StringBuilder("op_id,name,kind,phase,layer,step,batch,m,n,k,elements,data_type,deps\n");
        for (int b = 0; b < 3; b++) {
            int o = 5 * b;
            s.append(o).append(",norm,rmsnorm,prefill,").append(b).append(",0,0,1024,1024,0,1048576,fp16,\n");
            s.append(o + 1).append(",gemm_a,gemm,prefill,").append(b).append(",0,1,512,1024,1024,0,fp16,")
                .append(o).append('\n');
            s.append(o + 2).append(",gemm_b,gemm,prefill,").append(b).append(",0,1,512,1024,1024,0,fp16,")
                .append(o).append('\n');
            s.append(o + 3).append(",reduce_a,all_reduce,prefill,").append(b).append(",0,0,0,8,0,524288,fp16,")
                .append(o + 1).append('\n');
            s.append(o + 4).append(",reduce_b,all_reduce,prefill,").append(b).append(",0,0,0,8,0,524288,fp16,")
                .append(o + 2).append(';').append(o + 3).append('\n');
        }
        Path trace = tmp.resolve("overlap.csv");
        Files.writeString(trace, s.toString());
        return trace;
    }

    private Path simulate(Path trace, String name, String... more) {
        Path out = tmp.resolve(name);
        String[] base = {"simulate", "--hardware", "models/hardware/a100.yaml", "--trace", trace.toString(),
            "--events", "both", "--out", out.toString()};
        String[] args = java.util.Arrays.copyOf(base, base.length + more.length);
        System.arraycopy(more, 0, args, base.length, more.length);
        CliTest.Result r = run(args);
        assertEquals(0, r.code(), r.err());
        return out;
    }

    private static String summaryWithoutSimulator(Path out) throws Exception {
        ObjectNode summary = (ObjectNode) new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        summary.remove("simulator");
        return summary.toString();
    }

    @Test
    void reuseChangesNothingUnderDependencies() throws Exception {
        Path trace = overlappingTrace();
        Path reused = simulate(trace, "reused", "--order", "dependencies");
        Path simulated = simulate(trace, "simulated", "--order", "dependencies", "--no-reuse");
        for (String file : new String[] {"ops.csv", "events.csv", "trace.json"}) {
            assertEquals(Files.readString(simulated.resolve(file)), Files.readString(reused.resolve(file)), file);
        }
        assertEquals(summaryWithoutSimulator(simulated), summaryWithoutSimulator(reused));
        // Overlapping operators take separate operator tracks, so Perfetto draws them.
        assertTrue(SimulateCliTest.assertNoOverlaps(reused.resolve("trace.json")).contains("operators"));
        assertTrue(Files.readString(reused.resolve("trace.json")).contains("\"operators 2\""));
        assertTrue(new ObjectMapper().readTree(reused.resolve("summary.json").toFile()).path("simulator")
            .path("operators_reused").asLong() > 0, "some operators were reused");
        Path strict = simulate(trace, "strict");
        double strictS = new ObjectMapper().readTree(strict.resolve("summary.json").toFile()).path("latency_s")
            .asDouble();
        double overlappedS = new ObjectMapper().readTree(reused.resolve("summary.json").toFile()).path("latency_s")
            .asDouble();
        assertTrue(overlappedS < strictS, overlappedS + " s overlapped, " + strictS + " s strict");
    }

    @Test
    void aWorkloadChoosesItsOrderAndTheOptionOverridesIt() throws Exception {
        String[] base = {"simulate", "--hardware", "models/hardware/a100.yaml", "--workload",
            "models/workloads/tiny.yaml", "--phase", "prefill"};
        Path byKey = tmp.resolve("key");
        Path byOption = tmp.resolve("option");
        Path strict = tmp.resolve("strict");
        assertEquals(0, run(concat(base, "--set", "run.order=dependencies", "--out", byKey.toString())).code());
        assertEquals(0, run(concat(base, "--order", "dependencies", "--out", byOption.toString())).code());
        assertEquals(0, run(concat(base, "--set", "run.order=dependencies", "--order", "strict", "--out",
            strict.toString())).code());
        assertEquals(Files.readString(byKey.resolve("ops.csv")), Files.readString(byOption.resolve("ops.csv")));
        assertNotEquals(Files.readString(byKey.resolve("ops.csv")), Files.readString(strict.resolve("ops.csv")),
            "collectives leave the cores alone under dependencies: the stall columns differ");
    }

    @Test
    void aSweepVariesTheOrder() throws Exception {
        Path out = tmp.resolve("sweep");
        CliTest.Result r = run("sweep", "--hardware", "models/hardware/a100.yaml", "--workload",
            "models/workloads/tiny.yaml", "--phase", "prefill", "--vary", "run.order=strict,dependencies", "--out",
            out.toString());
        assertEquals(0, r.code(), r.err());
        java.util.List<String> rows = Files.readAllLines(out.resolve("sweep.csv"));
        assertEquals(3, rows.size(), rows.toString());
        assertTrue(rows.get(1).startsWith("strict,") && rows.get(2).startsWith("dependencies,"), rows.toString());
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void badOrdersAreBadInput() throws Exception {
        assertBadInput(run("simulate", "--hardware", "models/hardware/a100.yaml", "--trace",
            "traces/gemm-small.csv", "--order", "loose", "--out", tmp.resolve("x").toString()),
            "--order: expected one of strict, dependencies, got 'loose'");
        assertBadInput(run("sweep", "--hardware", "models/hardware/a100.yaml", "--trace", "traces/gemm-small.csv",
            "--vary", "clock_mhz=1000,1200", "--order", "loose", "--out", tmp.resolve("y").toString()),
            "--order: expected one of strict, dependencies");
        assertBadInput(run("simulate", "--hardware", "models/hardware/a100.yaml", "--workload",
            "models/workloads/tiny.yaml", "--set", "run.order=loose", "--out", tmp.resolve("z").toString()),
            "run.order");
    }

    @Test
    void aDepOnItselfOrALaterOpIsBadInputNamingTheLine() throws Exception {
        Path self = tmp.resolve("self.csv");
        Files.writeString(self, "op_id,name,kind,phase,layer,step,batch,m,n,k,elements,data_type,deps\n"
            + "0,a,gemm,prefill,0,0,1,64,64,64,0,fp16,\n1,b,gemm,prefill,0,0,1,64,64,64,0,fp16,1\n");
        assertBadInput(run("simulate", "--hardware", "models/hardware/a100.yaml", "--trace", self.toString(),
            "--order", "dependencies", "--out", tmp.resolve("s").toString()),
            self + ":3: deps: op 1 is not an earlier op of this trace");
        Path cycle = tmp.resolve("cycle.csv");
        Files.writeString(cycle, "op_id,name,kind,phase,layer,step,batch,m,n,k,elements,data_type,deps\n"
            + "0,a,gemm,prefill,0,0,1,64,64,64,0,fp16,1\n1,b,gemm,prefill,0,0,1,64,64,64,0,fp16,0\n");
        assertBadInput(run("simulate", "--hardware", "models/hardware/a100.yaml", "--trace", cycle.toString(),
            "--order", "dependencies", "--out", tmp.resolve("c").toString()),
            cycle + ":2: deps: op 1 is not an earlier op of this trace");
    }
}

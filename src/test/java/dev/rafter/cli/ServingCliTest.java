package dev.rafter.cli;

import static dev.rafter.cli.CliTest.assertBadInput;
import static dev.rafter.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rafter.workload.Capacity;
import dev.rafter.workload.Phase;
import dev.rafter.workload.Workload;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import org.apache.commons.math3.stat.regression.SimpleRegression;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Serving metrics, the capacity check and workload axes on simulate and sweep. */
class ServingCliTest {
    private static final String A100 = "models/hardware/a100.yaml";
    private static final String TINY = "models/workloads/tiny.yaml";
    private static final String LLAMA3 = "models/workloads/llama3-8b.yaml";

    @TempDir
    Path tmp;

    private JsonNode simulate(String name, String... args) throws Exception {
        Path out = tmp.resolve(name);
        List<String> all = new ArrayList<>(List.of("simulate", "--out", out.toString()));
        all.addAll(List.of(args));
        CliTest.Result r = run(all.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        return new ObjectMapper().readTree(out.resolve("summary.json").toFile());
    }

    /**
     * One Llama-3-8B layer's prefill at batch 1 over 256..8192 prompt tokens on the A100 model: the weights' work
     * grows linearly, causal flash attention quadratically but small beside it (about 15% of the FLOPs at 8192),
     * so a straight line explains the times (R^2 >= 0.99; 0.998 measured).
     */
    @Test
    void timeToFirstTokenGrowsLinearlyWithThePrompt() throws Exception {
        SimpleRegression fit = new SimpleRegression();
        for (int prompt = 256; prompt <= 8192; prompt *= 2) {
            JsonNode s = simulate("p" + prompt, "--hardware", A100, "--workload", LLAMA3,
                "--phase", "prefill", "--layers", "1", "--set", "run.batch=1", "--set", "run.output_tokens=1",
                "--set", "run.prompt_tokens=" + prompt, "--set", "model.context_length=16384");
            double ttft = s.get("serving").get("ttft_s").asDouble();
            assertEquals(s.get("phases").get("prefill").get("latency_s").asDouble(), ttft);
            assertTrue(s.get("serving").get("tpot_s").isNull(), "no decode, no TPOT");
            fit.addData(prompt, ttft);
        }
        assertTrue(fit.getSlope() > 0);
        assertTrue(fit.getRSquare() >= 0.99, "R^2 " + fit.getRSquare());
    }

    /** Decode reads the KV cache every step: a longer context makes each output token slower. */
    @Test
    void timePerOutputTokenGrowsWithTheKvLength() throws Exception {
        double previous = 0;
        for (int prompt : new int[] {256, 2048, 6144}) {
            JsonNode s = simulate("kv" + prompt, "--hardware", A100, "--workload", LLAMA3, "--phase", "decode",
                "--layers", "1", "--decode-steps", "3", "--set", "run.prompt_tokens=" + prompt);
            JsonNode tpot = s.get("serving").get("tpot_s");
            assertEquals(3, tpot.get("steps").asInt());
            assertTrue(tpot.get("p50").asDouble() <= tpot.get("p99").asDouble());
            assertTrue(tpot.get("min").asDouble() <= tpot.get("mean").asDouble());
            assertTrue(tpot.get("mean").asDouble() > previous, prompt + ": " + tpot);
            assertTrue(s.get("serving").get("ttft_s").isNull(), "no prefill, no TTFT");
            assertEquals(3, s.get("serving").get("output_tokens").asInt());
            previous = tpot.get("mean").asDouble();
        }
    }

    @Test
    void servingFiguresFollowFromTheRun() throws Exception {
        JsonNode s = simulate("tiny", "--hardware", A100, "--workload", TINY);
        JsonNode sv = s.get("serving");
        double latency = s.get("latency_s").asDouble();
        assertEquals(4, sv.get("output_tokens").asInt(), "1 from prefill + 3 decode steps");
        assertEquals(2, sv.get("sequences").asInt());
        assertEquals(4 * 2 / latency, sv.get("tokens_per_s").asDouble(), 1e-9 * sv.get("tokens_per_s").asDouble());
        assertEquals(s.get("energy_j").get("total").asDouble() / 8, sv.get("energy_per_output_token_j").asDouble(),
            1e-15);
        double decode = s.get("phases").get("decode").get("latency_s").asDouble();
        assertEquals(decode / 3, sv.get("tpot_s").get("mean").asDouble(), 1e-15);
        for (String phase : new String[] {"prefill", "decode"}) {
            JsonNode p = s.get("phases").get(phase);
            String binding = p.get("binding").asText();
            double most = p.get("utilisation").get(binding).asDouble();
            p.get("utilisation").fields().forEachRemaining(e -> assertTrue(e.getValue().asDouble() <= most, phase));
        }
    }

    @Test
    void setRunBatchChangesTheResult() throws Exception {
        JsonNode two = simulate("b2", "--hardware", A100, "--workload", TINY);
        JsonNode eight = simulate("b8", "--hardware", A100, "--workload", TINY, "--set", "run.batch=8",
            "--set", "clock_mhz=1000");
        assertEquals(8, eight.get("serving").get("sequences").asInt());
        assertNotEquals(two.get("latency_s").asDouble(), eight.get("latency_s").asDouble());
        assertTrue(eight.get("bytes").get("hbm_read").asLong() > two.get("bytes").get("hbm_read").asLong());
        assertBadInput(run("simulate", "--hardware", A100, "--workload", TINY, "--set", "run.bacth=8", "--out",
            tmp.resolve("x").toString()), "unknown key 'run.bacth'");
        assertBadInput(run("simulate", "--hardware", A100, "--trace", "traces/gemm-small.csv", "--set",
            "run.batch=8", "--out", tmp.resolve("y").toString()), "needs --workload");
        assertBadInput(run("describe", "--hardware", A100, "--set", "run.batch=8"), "takes no --workload");
    }

    /** --decode-steps runs exactly the first steps of the full run; --layers the first layers. */
    @Test
    void decodeStepsAndLayersNarrowTheRun() throws Exception {
        simulate("full", "--hardware", A100, "--workload", TINY);
        JsonNode one = simulate("one", "--hardware", A100, "--workload", TINY, "--decode-steps", "1");
        assertEquals(1, one.get("serving").get("tpot_s").get("steps").asInt());
        List<String> full = Files.readAllLines(tmp.resolve("full").resolve("ops.csv"));
        List<String> first = Files.readAllLines(tmp.resolve("one").resolve("ops.csv"));
        assertEquals(full.subList(0, first.size()), first, "the same operators, the same times");
        JsonNode layer = simulate("layer", "--hardware", A100, "--workload", TINY, "--layers", "1",
            "--phase", "prefill");
        assertEquals(16, layer.get("operators").asInt(), "one SwiGLU layer with rope, the KV-cache write, flash"
            + " attention and two all-reduces, no final norm and LM head");
        assertBadInput(run("simulate", "--hardware", A100, "--workload", TINY, "--layers", "3", "--out",
            tmp.resolve("z").toString()), "--layers: expected 1..2");
    }

    @Test
    void llama2On1Of80GbDeviceIsRejectedWithTheDevicesThatHoldIt() {
        CliTest.Result r = run("simulate", "--hardware", A100, "--workload", "models/workloads/llama2-70b.yaml",
            "--set", "run.tensor_parallel=1", "--out", tmp.resolve("l").toString());
        assertBadInput(r, "2 devices (run.tensor_parallel=2) would hold it");
        assertTrue(r.err().contains("memory.capacity_gib"), r.err());
        assertTrue(r.err().contains("weights 128.5 GiB"), r.err());
        Workload w = Workload.load(Path.of("models/workloads/llama2-70b.yaml"), List.of("run.tensor_parallel=1"));
        var all = EnumSet.allOf(Phase.class);
        // 68.98 B parameters (Llama-2-70B's config) x 2 bytes = 128.5 GiB on one device, half of it on two.
        assertEquals(68_976_648_192L * 2, Capacity.of(w, all).weightBytes());
        assertEquals(68_976_648_192L, Capacity.of(w, all, 2).weightBytes());
        // K and V of 80 layers x 8 sequences x 1280 tokens x 8 KV heads of 128, fp16.
        assertEquals(2L * 80 * 8 * 1280 * 8 * 128 * 2, Capacity.of(w, all).kvCacheBytes());
        assertEquals(2, Capacity.devicesThatFit(w, all, 80.0 * (1L << 30)));
    }

    @Test
    void allowOvercommitRunsWhatDoesNotFit() throws Exception {
        assertBadInput(run("simulate", "--hardware", A100, "--workload", TINY, "--set", "memory.capacity_gib=0.001",
            "--out", tmp.resolve("o").toString()), "or pass --allow-overcommit");
        simulate("over", "--hardware", A100, "--workload", TINY, "--set", "memory.capacity_gib=0.001",
            "--allow-overcommit");
    }
}

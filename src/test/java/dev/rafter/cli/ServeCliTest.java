package dev.rafter.cli;

import static dev.rafter.cli.CliTest.assertBadInput;
import static dev.rafter.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code rafter serve}: its outputs, reruns, and bad input. */
class ServeCliTest {
    private static final String H100 = "models/hardware/h100.yaml";
    private static final String TINY = "models/workloads/tiny.yaml";
    private static final String LLAMA3 = "models/workloads/llama3-8b.yaml";

    @TempDir
    Path tmp;

    private CliTest.Result serve(Path out, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("serve", "--hardware", H100, "--workload", TINY,
            "--out", out.toString()));
        args.addAll(List.of(more));
        return run(args.toArray(String[]::new));
    }

    @Test
    void writesItsOutputsAndASeedGivesTheSameBytes() throws Exception {
        String[] traffic = {"--arrivals", "gamma:400:2", "--requests", "120", "--max-sequences", "8",
            "--slo", "ttft=0.001,tpot=0.0002", "--seed", "5"};
        Path a = tmp.resolve("a");
        Path b = tmp.resolve("b");
        assertEquals(0, serve(a, traffic).code());
        assertEquals(0, serve(b, traffic).code());
        for (String f : ServeCommand.OUTPUTS) {
            assertArrayEquals(Files.readAllBytes(a.resolve(f)), Files.readAllBytes(b.resolve(f)), f);
        }
        List<String> rows = Files.readAllLines(a.resolve("requests.csv"));
        assertEquals("id,arrival_s,prompt_tokens,output_tokens,priority,queue_s,ttft_s,tpot_s,e2e_s,preemptions,"
            + "finished", rows.get(0));
        assertEquals(121, rows.size());
        JsonNode s = new ObjectMapper().readTree(a.resolve("serving.json").toFile());
        assertEquals(120, s.get("requests").get("finished").asLong());
        assertEquals(0, s.get("requests").get("unfinished").asLong());
        assertTrue(s.get("ttft_s").get("p99").asDouble() >= s.get("ttft_s").get("p50").asDouble());
        assertTrue(s.get("goodput").get("fraction").asDouble() <= 1);
        assertTrue(s.get("step_memo").get("step_hits").asLong() > 0);
        assertTrue(s.get("steps").get("peak_batch").asLong() <= 8);
        Path other = tmp.resolve("c");
        traffic[traffic.length - 1] = "6";
        assertEquals(0, serve(other, traffic).code());
        assertTrue(!Files.readString(other.resolve("requests.csv")).equals(Files.readString(a.resolve(
            "requests.csv"))), "another seed, other arrivals");
    }

    @Test
    void aRequestFileIsReplayedAndAStepOverheadAddsToEveryStep() throws Exception {
        Path file = tmp.resolve("r.csv");
        Files.writeString(file, "arrival_s,prompt_tokens,output_tokens\n0,64,3\n");
        Path plain = tmp.resolve("plain");
        Path slow = tmp.resolve("slow");
        assertEquals(0, serve(plain, "--request-file", file.toString()).code());
        assertEquals(0, serve(slow, "--request-file", file.toString(), "--step-overhead-us", "100").code());
        ObjectMapper json = new ObjectMapper();
        double e2e = json.readTree(plain.resolve("serving.json").toFile()).get("e2e_s").get("mean").asDouble();
        double slower = json.readTree(slow.resolve("serving.json").toFile()).get("e2e_s").get("mean").asDouble();
        assertEquals(3 * 100e-6, slower - e2e, 1e-12); // one prefill step and two decode steps
    }

    @Test
    void badInputIsOneLineNamingTheLineOrKey() throws Exception {
        Path file = tmp.resolve("r.csv");
        Files.writeString(file, "arrival_s,prompt_tokens,output_tokens\n0,100,10\n1,9000,10\n");
        assertBadInput(run("serve", "--hardware", H100, "--workload", LLAMA3, "--request-file", file.toString(),
            "--out", tmp.resolve("x").toString()), "r.csv:3: prompt 9000 + output 10 tokens exceed the context length"
            + " 8192");
        // Llama-3-8B's 15.0 GiB of weights leave about 40 MB of a 15 GiB device: 20 blocks, a 1280-token request
        // needs 80.
        assertBadInput(run("serve", "--hardware", H100, "--workload", LLAMA3, "--set", "memory.capacity_gib=15",
            "--concurrency", "1", "--requests", "1", "--out", tmp.resolve("y").toString()),
            "run.prompt_tokens/run.output_tokens: a request of 1280 tokens needs 80 KV-cache blocks");
        assertBadInput(serve(tmp.resolve("z"), "--arrivals", "poisson:-1", "--requests", "3"), "--arrivals:");
        assertBadInput(serve(tmp.resolve("z"), "--arrivals", "poisson:1"), "exactly one of --requests N and --duration S");
        assertBadInput(serve(tmp.resolve("z"), "--concurrency", "2", "--requests", "3", "--output-tokens", "0"),
            "--output-tokens: expected 1");
        assertBadInput(serve(tmp.resolve("z"), "--concurrency", "2", "--requests", "3", "--slo", "ttft=1"),
            "--slo:");
        assertBadInput(serve(tmp.resolve("z"), "--concurrency", "2", "--requests", "3", "--policy", "lifo"),
            "--policy: expected fcfs or priority");
        assertTrue(!Files.exists(tmp.resolve("z").resolve("serving.json")));
    }
}

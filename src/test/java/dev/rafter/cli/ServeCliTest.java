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
    void aServingHostIsReportedAndAddsToEveryStep() throws Exception {
        Path file = tmp.resolve("r.csv");
        Files.writeString(file, "arrival_s,prompt_tokens,output_tokens\n0,64,3\n");
        Path host = tmp.resolve("host");
        assertEquals(0, serve(host, "--request-file", file.toString(), "--set", "host.framework=serving").code());
        JsonNode s = new ObjectMapper().readTree(host.resolve("serving.json").toFile());
        JsonNode h = s.get("host");
        assertEquals("serving", h.get("framework").asText());
        assertEquals(18.68e-6, h.get("per_step_s").asDouble(), 1e-15); // pytorch-cuda.yaml: 3.1 + 0 + 15 + 0.58 us
        assertTrue(h.get("scheduling_and_sampling").asText().startsWith("not measured"));
        // Three steps (one prefill, two decodes) each hold the host's part.
        assertTrue(s.get("e2e_s").get("mean").asDouble() > 3 * 18.68e-6);
        Path plain = tmp.resolve("plain");
        assertEquals(0, serve(plain, "--request-file", file.toString()).code());
        assertTrue(new ObjectMapper().readTree(plain.resolve("serving.json").toFile()).get("host") == null);
        assertBadInput(serve(tmp.resolve("z"), "--request-file", file.toString(), "--set", "host.framework=eager"),
            "host.framework: serve models a serving engine's host (serving) or none, got eager");
    }

    @Test
    void severalRatesSweepTheLoadAndEachPointIsThatRatesOwnRun() throws Exception {
        String[] traffic = {"--arrivals", "poisson:1000,2000", "--requests", "100", "--max-sequences", "4",
            "--slo", "ttft=0.001,tpot=0.0002"};
        Path knee = tmp.resolve("knee");
        Path again = tmp.resolve("again");
        assertEquals(0, serve(knee, traffic).code());
        assertEquals(0, serve(again, traffic).code());
        for (String f : ServeCommand.KNEE_OUTPUTS) {
            assertArrayEquals(Files.readAllBytes(knee.resolve(f)), Files.readAllBytes(again.resolve(f)), f);
        }
        List<String> rows = Files.readAllLines(knee.resolve("knee.csv"));
        assertEquals(3, rows.size());
        // The sweep's point at 2000/s is the run at 2000/s alone (same seed; the step memo is exact).
        Path single = tmp.resolve("single");
        traffic[1] = "poisson:2000";
        assertEquals(0, serve(single, traffic).code());
        JsonNode s = new ObjectMapper().readTree(single.resolve("serving.json").toFile());
        String[] cells = rows.get(2).split(",", -1);
        assertEquals("2000.0", cells[0]);
        assertEquals(s.get("ttft_s").get("p50").asDouble(), Double.parseDouble(cells[2]));
        assertEquals(s.get("tpot_s").get("p99").asDouble(), Double.parseDouble(cells[5]));
        assertEquals(s.get("goodput").get("requests_per_s").asDouble(), Double.parseDouble(cells[10]));
        assertBadInput(serve(tmp.resolve("z"), "--arrivals", "poisson:2000,1000", "--requests", "3"),
            "--arrivals: rates must increase");
    }

    @Test
    void varyingAKeySweepsTheKneeOncePerValueEachAsThatValueAlone() throws Exception {
        String[] traffic = {"--arrivals", "poisson:1000,2000", "--requests", "60", "--max-sequences", "4"};
        Path varied = tmp.resolve("varied");
        List<String> args = new java.util.ArrayList<>(List.of(traffic));
        args.addAll(List.of("--vary", "clock_mhz=900,1980"));
        CliTest.Result r = serve(varied, args.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        List<String> rows = Files.readAllLines(varied.resolve("knee.csv"));
        assertEquals(5, rows.size());
        assertTrue(rows.get(0).startsWith("clock_mhz,rate_per_s,requests,"), rows.get(0));
        // Each value's rows are the knee of --set clock_mhz=V alone, cell for cell after the key's column.
        for (String clock : List.of("900", "1980")) {
            Path alone = tmp.resolve("alone-" + clock);
            List<String> one = new java.util.ArrayList<>(List.of(traffic));
            one.addAll(List.of("--set", "clock_mhz=" + clock));
            assertEquals(0, serve(alone, one.toArray(String[]::new)).code());
            List<String> expected = Files.readAllLines(alone.resolve("knee.csv"));
            List<String> got = rows.stream().filter(row -> row.startsWith(clock + ","))
                .map(row -> row.substring(clock.length() + 1)).toList();
            assertEquals(expected.subList(1, expected.size()), got, clock);
        }
        // A slower clock cannot serve the same load sooner.
        double slow = Double.parseDouble(rows.get(2).split(",")[4]);
        double fast = Double.parseDouble(rows.get(4).split(",")[4]);
        assertTrue(slow > fast, "TTFT p99 at 2000/s: " + slow + " s at 900 MHz, " + fast + " s at 1980 MHz");
        JsonNode summary = new ObjectMapper().readTree(varied.resolve("serving.json").toFile());
        assertEquals("clock_mhz", summary.get("vary").asText());
        assertEquals("900", summary.get("values").get(0).get("clock_mhz").asText());
        assertEquals(2, summary.get("values").get(1).get("rates").size());
        for (String png : List.of("knee.png", "goodput.png")) {
            assertTrue(Files.size(varied.resolve(png)) > 1000, png);
        }
        assertBadInput(serve(tmp.resolve("z1"), "--arrivals", "poisson:1000", "--requests", "3", "--vary",
            "clock_mhz=900,1980"), "--vary: sweeps the knee, so it needs several rates in --arrivals");
        assertBadInput(serve(tmp.resolve("z2"), "--arrivals", "poisson:1000,2000", "--requests", "3", "--vary",
            "clock_mhz"), "--vary: expected KEY=V1,V2,..., got 'clock_mhz'");
        assertBadInput(serve(tmp.resolve("z3"), "--arrivals", "poisson:1000,2000", "--requests", "3", "--vary",
            "clock_mhz=900,,1980"), "--vary clock_mhz: expected distinct, non-empty values");
        assertBadInput(serve(tmp.resolve("z4"), "--arrivals", "poisson:1000,2000", "--requests", "3", "--set",
            "clock_mhz=900", "--vary", "clock_mhz=900,1980"), "--vary clock_mhz: the key is also given by --set");
        assertBadInput(serve(tmp.resolve("z5"), "--arrivals", "poisson:1000,2000", "--requests", "3", "--vary",
            "clock_mhz=900,fast"), "(--vary clock_mhz=fast): clock_mhz: expected a number");
    }

    @Test
    void requestsSharingAPrefixHitTheCache() throws Exception {
        // Blocks of 16 tokens: the 64-token prefix is 4 full blocks; the second request finds them (64 of the
        // 100 + 90 prompt tokens); see ServingEngineTest.aSharedPrefixIsPrefilledOnce.
        Path file = tmp.resolve("p.csv");
        Files.writeString(file, "arrival_s,prompt_tokens,output_tokens,prefix_id,prefix_tokens\n0,100,2,sys,64\n"
            + "1,90,2,sys,64\n2,50,2,,\n");
        Path on = tmp.resolve("on");
        assertEquals(0, serve(on, "--request-file", file.toString(), "--prefix-caching").code());
        JsonNode cache = new ObjectMapper().readTree(on.resolve("serving.json").toFile()).get("prefix_cache");
        assertEquals(240, cache.get("queried_tokens").asLong());
        assertEquals(64, cache.get("hit_tokens").asLong());
        // Generated prefixes drawn at random: the same seed gives the same bytes.
        String[] drawn = {"--arrivals", "poisson:4000", "--requests", "80", "--prompt-tokens", "200", "--prefixes",
            "3", "--prefix-tokens", "150", "--prefix-caching", "--seed", "9"};
        assertEquals(0, serve(tmp.resolve("d1"), drawn).code());
        assertEquals(0, serve(tmp.resolve("d2"), drawn).code());
        for (String f : ServeCommand.OUTPUTS) {
            assertArrayEquals(Files.readAllBytes(tmp.resolve("d1").resolve(f)),
                Files.readAllBytes(tmp.resolve("d2").resolve(f)), f);
        }
        // Generated: one prefix of 64 tokens, one client at a time: the 2nd and 3rd requests hit 64 tokens each.
        Path generated = tmp.resolve("generated");
        assertEquals(0, serve(generated, "--concurrency", "1", "--requests", "3", "--prompt-tokens", "100",
            "--output-tokens", "2", "--prefixes", "1", "--prefix-tokens", "64", "--prefix-caching").code());
        cache = new ObjectMapper().readTree(generated.resolve("serving.json").toFile()).get("prefix_cache");
        assertEquals(300, cache.get("queried_tokens").asLong());
        assertEquals(128, cache.get("hit_tokens").asLong());
        Path jsonl = tmp.resolve("p.jsonl");
        Files.writeString(jsonl, "{\"arrival_s\": 0, \"prompt_tokens\": 10, \"output_tokens\": 2, \"prefix_id\": "
            + "\"a\", \"prefix_tokens\": 20}\n");
        assertBadInput(serve(tmp.resolve("z"), "--request-file", jsonl.toString()),
            "p.jsonl:1: prefix_tokens 20 exceeds prompt_tokens 10");
        Files.writeString(file, "arrival_s,prompt_tokens,output_tokens,prefix_id,prefix_tokens\n0,100,2,sys,\n");
        assertBadInput(serve(tmp.resolve("z"), "--request-file", file.toString()),
            "p.csv:2: prefix_id and prefix_tokens go together");
        assertBadInput(serve(tmp.resolve("z"), "--concurrency", "1", "--requests", "1", "--prefixes", "2"),
            "--prefixes: give both --prefixes K and --prefix-tokens N");
    }

    @Test
    void speculativeDecodingIsReportedAndReproducible() throws Exception {
        String[] traffic = {"--arrivals", "poisson:2000", "--requests", "60", "--output-tokens", "20",
            "--speculative-tokens", "3", "--acceptance-rate", "0.8", "--draft-workload", TINY};
        Path a = tmp.resolve("a");
        Path b = tmp.resolve("b");
        assertEquals(0, serve(a, traffic).code());
        assertEquals(0, serve(b, traffic).code());
        for (String f : ServeCommand.OUTPUTS) {
            assertArrayEquals(Files.readAllBytes(a.resolve(f)), Files.readAllBytes(b.resolve(f)), f);
        }
        JsonNode s = new ObjectMapper().readTree(a.resolve("serving.json").toFile());
        JsonNode spec = s.get("speculative");
        assertEquals("tiny", spec.get("draft").asText());
        // 19 tokens after the first per request: each verification yields its accepted drafts and one more; a
        // request's last token may come from a plain decode (no draft past the output).
        long verified = spec.get("draft_tokens_accepted").asLong() + spec.get("verifications").asLong();
        assertTrue(verified <= 60 * 19 && verified >= 60 * 18, verified + " tokens from verifications");
        Path plain = tmp.resolve("plain");
        assertEquals(0, serve(plain, "--arrivals", "poisson:2000", "--requests", "60", "--output-tokens", "20")
            .code());
        JsonNode p = new ObjectMapper().readTree(plain.resolve("serving.json").toFile());
        // The draft's weights and KV cache (the same model) take room: a tiny model's 2 x its KV per token.
        assertTrue(s.get("kv_cache").get("blocks").asLong() < p.get("kv_cache").get("blocks").asLong() / 2 + 1);
        assertBadInput(serve(tmp.resolve("z"), "--concurrency", "1", "--requests", "1", "--speculative-tokens",
            "2", "--acceptance-rate", "1.5"), "--acceptance-rate: expected a probability from 0 to 1");
        assertBadInput(serve(tmp.resolve("z"), "--concurrency", "1", "--requests", "1", "--draft-workload", TINY),
            "--draft-workload: needs --speculative-tokens K");
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
        assertBadInput(serve(tmp.resolve("z"), "--arrivals", "poisson:1"),
            "exactly one of --requests N and --duration S");
        assertBadInput(serve(tmp.resolve("z"), "--concurrency", "2", "--requests", "3", "--output-tokens", "0"),
            "--output-tokens: expected 1");
        assertBadInput(serve(tmp.resolve("z"), "--concurrency", "2", "--requests", "3", "--slo", "ttft=1"),
            "--slo:");
        assertBadInput(serve(tmp.resolve("z"), "--concurrency", "2", "--requests", "3", "--policy", "lifo"),
            "--policy: expected fcfs or priority");
        assertTrue(!Files.exists(tmp.resolve("z").resolve("serving.json")));
    }
}

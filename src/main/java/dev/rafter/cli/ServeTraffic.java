package dev.rafter.cli;

import dev.rafter.config.InputException;
import dev.rafter.serving.Request;
import dev.rafter.serving.RequestFile;
import dev.rafter.workload.Workload;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntFunction;
import picocli.CommandLine.Option;

/**
 * {@code rafter serve}'s traffic options: where requests come from (a request file, open-loop arrivals or closed-loop
 * clients), how many, and the lengths and shared prefixes of generated ones.
 */
final class ServeTraffic {
    @Option(names = "--request-file", paramLabel = "F", description = "requests to replay: CSV arrival_s,"
        + "prompt_tokens,output_tokens[,priority], JSON lines with those keys, or the Azure LLM inference trace "
        + "(TIMESTAMP,ContextTokens,GeneratedTokens)")
    Path requestFile;

    @Option(names = "--arrivals", paramLabel = "SPEC", description = "open-loop arrivals: poisson:RATE or "
        + "gamma:RATE:CV (requests per second); several rates (poisson:R1,R2,...) sweep the rate: knee.csv, "
        + "knee.png, goodput.png")
    String arrivals;

    @Option(names = "--concurrency", paramLabel = "N", description = "closed-loop clients: each sends its next "
        + "request when its last one finishes")
    Integer concurrency;

    @Option(names = "--requests", paramLabel = "N", description = "how many requests to generate")
    Long requests;

    @Option(names = "--duration", paramLabel = "S", description = "generate requests arriving in the first S "
        + "seconds (the run goes on until every one has finished)")
    Double durationS;

    @Option(names = "--prompt-tokens", paramLabel = "N", description = "prompt length of generated requests "
        + "(default: the workload's run.prompt_tokens)")
    Integer promptTokens;

    @Option(names = "--output-tokens", paramLabel = "N", description = "output length of generated requests "
        + "(default: the workload's run.output_tokens)")
    Integer outputTokens;

    @Option(names = "--lengths", paramLabel = "F", description = "draw each generated request's prompt and output "
        + "lengths (and priority) from a random row of this request file")
    Path lengths;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "seed of the arrivals and the "
        + "length draws (default: ${DEFAULT-VALUE}); the same seed gives the same outputs")
    long seed;

    @Option(names = "--prefixes", paramLabel = "K", description = "generated requests begin with one of K shared "
        + "prefixes, drawn at random (needs --prefix-tokens)")
    Integer prefixes;

    @Option(names = "--prefix-tokens", paramLabel = "N", description = "length of the shared prefixes of --prefixes"
        + " (a shorter prompt is all prefix)")
    Integer prefixTokens;

    /** Checks the sources and amounts, and the prefixes; the lengths' bounds later ({@link #checkLengths}). */
    void check() {
        int sources = (requestFile != null ? 1 : 0) + (arrivals != null ? 1 : 0) + (concurrency != null ? 1 : 0);
        if (sources != 1) {
            throw new InputException("serve: give exactly one of --request-file, --arrivals and --concurrency");
        }
        if (requestFile != null && (requests != null || durationS != null || lengths != null || promptTokens != null
            || outputTokens != null)) {
            throw new InputException("--request-file: replays the file as it is; --requests, --duration, --lengths, "
                + "--prompt-tokens and --output-tokens are for generated requests");
        }
        if (requestFile == null && (requests == null) == (durationS == null)) {
            throw new InputException("serve: generated requests need exactly one of --requests N and --duration S");
        }
        if (requests != null && (requests < 1 || requests > 100_000_000L)) {
            throw new InputException("--requests: expected 1 to 100000000, got " + requests);
        }
        if (durationS != null && !(durationS > 0 && durationS <= 1e6)) {
            throw new InputException("--duration: expected seconds in (0, 1e6], got " + durationS);
        }
        if (concurrency != null && (concurrency < 1 || concurrency > 1_000_000)) {
            throw new InputException("--concurrency: expected 1 to 1000000 clients, got " + concurrency);
        }
        if (lengths != null && (promptTokens != null || outputTokens != null)) {
            throw new InputException("--lengths: draws both lengths; leave out --prompt-tokens and --output-tokens");
        }
        if (requestFile != null && (prefixes != null || prefixTokens != null)) {
            throw new InputException("--request-file: prefixes come from its prefix_id and prefix_tokens columns; "
                + "--prefixes and --prefix-tokens are for generated requests");
        }
        if ((prefixes == null) != (prefixTokens == null)) {
            throw new InputException("--prefixes: give both --prefixes K and --prefix-tokens N");
        }
        if (prefixes != null && (prefixes < 1 || prefixes > 1_000_000)) {
            throw new InputException("--prefixes: expected 1 to 1000000 prefixes, got " + prefixes);
        }
        positive("--prefix-tokens", prefixTokens);
    }

    /** Checks the lengths given; after the speculative-decoding options, so the first error found stays the same. */
    void checkLengths() {
        positive("--prompt-tokens", promptTokens);
        positive("--output-tokens", outputTokens);
    }

    /** Generated requests arrive in the first this many ps (0: --requests counts them). */
    long durationPs() {
        return durationS == null ? 0 : Math.round(durationS * 1e12);
    }

    /** Requests to generate (0: --duration bounds them). */
    long count() {
        return requests == null ? 0 : requests;
    }

    /**
     * Each generated request's lengths and prefix, drawn from a stream split from {@code random} (the arrivals'),
     * {@code workload}'s run lengths unless options give them.
     */
    IntFunction<Request> sizes(Workload w, Path workload, SplittableRandom random) {
        return withPrefixes(lengthSource(w, workload, random.split()));
    }

    /** Lengths of generated request i: fixed, or a random row of --lengths. */
    private IntFunction<Request> lengthSource(Workload w, Path workload, SplittableRandom random) {
        if (lengths != null) {
            List<Request> rows = RequestFile.read(lengths);
            if (rows.isEmpty()) {
                throw new InputException("--lengths: " + lengths + " has no rows");
            }
            return i -> rows.get(random.nextInt(rows.size()));
        }
        int prompt = promptTokens != null ? promptTokens : w.run().promptTokens();
        int output = outputTokens != null ? outputTokens : w.run().outputTokens();
        String source = promptTokens != null || outputTokens != null ? "--prompt-tokens/--output-tokens"
            : workload + ": run.prompt_tokens/run.output_tokens";
        Request fixed = new Request(0, 0, prompt, output, 0, source);
        return i -> fixed;
    }

    /**
     * Generated requests with one of --prefixes shared prefixes each, drawn from a stream of their own (so the
     * arrivals and lengths are those of the same seed without prefixes).
     */
    private IntFunction<Request> withPrefixes(IntFunction<Request> lengths) {
        if (prefixes == null) {
            return lengths;
        }
        SplittableRandom draws = new SplittableRandom(seed ^ 0x7072656669786573L); // "prefixes" in ASCII
        return i -> {
            Request r = lengths.apply(i);
            return new Request(r.id(), r.arrivalPs(), r.promptTokens(), r.outputTokens(), r.priority(), r.source(),
                "prefix-" + draws.nextInt(prefixes), Math.min(prefixTokens, r.promptTokens()));
        };
    }

    /** serving.json's traffic line. */
    String describe() {
        String lengthsText = lengths != null ? "lengths from " + lengths
            : "prompt " + (promptTokens != null ? promptTokens : "run.prompt_tokens") + ", output "
            + (outputTokens != null ? outputTokens : "run.output_tokens");
        String amount = requests != null ? requests + " requests" : durationS + " s";
        if (requestFile != null) {
            return "request file " + requestFile;
        }
        if (arrivals != null) {
            return arrivals + ", " + amount + ", " + lengthsText + ", seed " + seed;
        }
        return concurrency + " closed-loop clients, " + amount + ", " + lengthsText + ", seed " + seed;
    }

    private static void positive(String option, Integer value) {
        if (value != null && (value < 1 || value > (1 << 24))) {
            throw new InputException(option + ": expected 1 to " + (1 << 24) + ", got " + value);
        }
    }
}

package dev.rafter.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Generated inputs (seeded): valid hardware and workload files mutated by the fault classes of issue 7, each with
 * the outcome it must have — valid-but-unusual files (BOM, CRLF, comments, trailing spaces) must run (exit 0), bad
 * ones must be refused (exit 2) in one line naming the file, with no stack trace, no hang and nothing left in
 * {@code --out}. The same holds for traces and measured times ({@link #generatedTracesMeasuredTimesAndFifos}): Kineto
 * and Chakra traces mutated (truncated, wrong types, missing fields, sizes out of range), measured-time files and
 * FIFOs in place of any input. CI runs a small sample; {@code mvn -B -o test -Dtest=GeneratedInputTest
 * -Drafter.generated.cases=2000 -Drafter.generated.trace-cases=2000} runs a large one (another
 * {@code -Drafter.generated.seed} gives a held-out corpus).
 */
class GeneratedInputTest {
    @TempDir
    Path tmp;

    /** A mutation: its class, whether the result is still valid, and the text it makes. */
    record Mutation(String name, boolean valid, BiFunction<String, Random, String> apply) {}

    static final List<Mutation> MUTATIONS = List.of(
        new Mutation("bom", true, (t, r) -> "\uFEFF" + t),
        new Mutation("crlf", true, (t, r) -> t.replace("\n", "\r\n")),
        new Mutation("comments", true, (t, r) -> "# generated\n" + t.replace("\n", "  # note\n")),
        new Mutation("trailing-spaces", true, (t, r) -> t.replace("\n", " \t \n")),
        new Mutation("duplicate-key", false, (t, r) -> {
            List<String> lines = keyLines(t);
            String line = lines.get(r.nextInt(lines.size()));
            return t.replace(line + "\n", line + "\n" + line + "\n");
        }),
        new Mutation("second-document", false, (t, r) -> t + "---\n" + t),
        new Mutation("huge-literal", false, (t, r) -> replaceNumber(t, r, "9".repeat(1000 + r.nextInt(8000)))),
        new Mutation("negative", false, (t, r) -> replaceNumber(t, r, "-" + (1 + r.nextInt(1000)))),
        new Mutation("unit-in-value", false, (t, r) -> replaceNumber(t, r, (1 + r.nextInt(100)) + " GB")),
        new Mutation("nul", false, (t, r) -> {
            int at = r.nextInt(t.length());
            return t.substring(0, at) + '\0' + t.substring(at);
        }),
        new Mutation("long-line", false, (t, r) -> t + "name2: " + "x".repeat(10_001 + r.nextInt(50_000)) + "\n"),
        new Mutation("unknown-key", false, (t, r) -> t + "frobnication_" + r.nextInt(100) + ": 1\n"),
        new Mutation("missing-key", false, (t, r) -> {
            List<String> lines = keyLines(t).stream().filter(l -> l.matches("\\s*[a-z_]+: [0-9].*")
                && !l.contains("kv_heads") && !l.contains("tensor_parallel") && !l.contains("latency_ns")
                && !l.contains("capacity_gib") && !l.contains("low_standby_leakage_factor")
                && !l.contains("link_pj_per_bit") && !l.contains("operand_overhead") && !l.contains("idle_w")
                && !l.contains("cap_w")
                && !l.contains("special_functions_per_cycle") && !l.contains("sustained_fraction")
                && !l.contains("graph_ns")).toList();
            return t.replace(lines.get(r.nextInt(lines.size())) + "\n", "");
        }),
        new Mutation("truncated", false, (t, r) -> t.substring(0, t.indexOf('\n', t.length() / 3)) + "\n  x: [1,"),
        new Mutation("tab-indent", false, (t, r) -> t.replace("\n  ", "\n\t")),
        new Mutation("not-utf8", false, (t, r) -> t + "name2: caf\u00e9\n"));

    static List<String> keyLines(String t) {
        return t.lines().filter(l -> l.matches("\\s*[a-z_]+: [^ #].*")).toList();
    }

    static String replaceNumber(String t, Random r, String value) {
        List<String> lines = t.lines().filter(l -> l.matches("\\s*[a-z_]+: [0-9][0-9.]*(\\s.*)?")).toList();
        String line = lines.get(r.nextInt(lines.size()));
        return t.replace(line, line.replaceFirst(": [0-9][0-9.]*", ": " + value));
    }

    /** One file kind: the valid file, and the command that reads it (FILE is replaced by the mutated file). */
    record Kind(String name, Path valid, List<String> command) {}

    @Test
    void generatedInputsRunOrAreRefusedInOneLineAndLeaveNothing() throws Exception {
        int cases = Integer.getInteger("rafter.generated.cases", 160);
        long seed = Long.getLong("rafter.generated.seed", 7);
        String energy = Path.of("models/energy").toAbsolutePath() + "/";
        String memory = Path.of("models/memory").toAbsolutePath() + "/";
        String hardware = Path.of("models/hardware").toAbsolutePath() + "/";
        List<Kind> kinds = List.of(
            new Kind("hardware", Path.of("models/hardware/a100.yaml"),
                List.of("roofline", "--hardware", "FILE", "--trace", "traces/gemm-small.csv", "--out", "OUT")),
            new Kind("hardware-sram", Path.of("models/hardware/sram-study-45nm.yaml"),
                List.of("describe", "--hardware", "FILE")),
            new Kind("hardware-tiers", Path.of("models/hardware/h100-hbf.yaml"),
                List.of("describe", "--hardware", "FILE")),
            new Kind("workload", Path.of("models/workloads/tiny.yaml"),
                List.of("roofline", "--hardware", "models/hardware/a100.yaml", "--workload", "FILE", "--out", "OUT")),
            new Kind("energy", Path.of("models/energy/45nm.yaml"),
                List.of("describe", "--hardware", "HW", "--json")),
            new Kind("node-table", Path.of("models/energy/7nm.yaml"),
                List.of("describe", "--hardware", "HW", "--json")),
            new Kind("flash-standard", Path.of("models/memory/hbf.yaml"),
                List.of("describe", "--hardware", "HW", "--json")),
            new Kind("dram-standard", Path.of("models/memory/stacked-dram.yaml"),
                List.of("describe", "--hardware", "HW", "--json")),
            new Kind("system", Path.of("models/systems/two-node-h100.yaml"),
                List.of("collective", "--system", "FILE", "--op", "all_reduce", "--bytes", "1MiB")),
            new Kind("system-simulate", Path.of("models/systems/pcie-4gpu.yaml"),
                List.of("simulate", "--system", "FILE", "--workload", "models/workloads/tiny.yaml", "--out", "OUT")),
            // Parallel degrees are checked against the system's devices.
            new Kind("workload-on-system", Path.of("models/workloads/tiny.yaml"),
                List.of("simulate", "--system", "models/systems/pcie-4gpu.yaml", "--workload", "FILE", "--out",
                    "OUT")));
        // The device each table kind is read through: the 45 nm study device, the A100 on its 7 nm table, the HBF
        // device on its flash standard and the 3D-stacked DRAM device on its DRAM standard.
        Map<String, String[]> tableUsers = Map.of("energy", new String[] {"sram-study-45nm", "45nm"},
            "node-table", new String[] {"a100", "7nm"}, "flash-standard", new String[] {"h100-hbf", "hbf"},
            "dram-standard", new String[] {"h100-stacked", "stacked-dram"});
        Random random = new Random(seed);
        Map<String, int[]> byClass = new TreeMap<>();
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < cases; i++) {
            Kind kind = kinds.get(i % kinds.size());
            Mutation m = MUTATIONS.get(random.nextInt(MUTATIONS.size()));
            String text = Files.readString(kind.valid()).replace("../energy/", energy)
                .replace("../memory/", memory).replace("../hardware/", hardware)
                .replace("../cost/", Path.of("models/cost").toAbsolutePath() + "/")
                .replace("extends: ", "extends: " + hardware)
                .replace("off_chip: off-chip.yaml", "off_chip: " + energy
                    + "off-chip.yaml");
            String mutated = m.apply().apply(text, random);
            Path file = tmp.resolve("case" + i + ".yaml");
            Files.write(file, m.name().equals("not-utf8") ? mutated.getBytes(StandardCharsets.ISO_8859_1)
                : mutated.getBytes(StandardCharsets.UTF_8));
            Path hw = tmp.resolve("hw" + i + ".yaml");
            String[] user = tableUsers.getOrDefault(kind.name(), tableUsers.get("energy"));
            Files.writeString(hw, Files.readString(Path.of("models/hardware/" + user[0] + ".yaml"))
                .replace("../energy/" + user[1] + ".yaml", file.toString())
                .replace("../memory/" + user[1] + ".yaml", file.toString()).replace("../memory/", memory)
                .replace("../energy/", energy).replace("../host/", Path.of("models/host").toAbsolutePath() + "/")
                .replace("../cost/", Path.of("models/cost").toAbsolutePath() + "/")
                .replace("extends: ", "extends: " + hardware));
            Path out = tmp.resolve("out" + i);
            String[] args = kind.command().stream().map(a -> a.equals("FILE") ? file.toString()
                : a.equals("OUT") ? out.toString() : a.equals("HW") ? hw.toString() : a).toArray(String[]::new);
            long t0 = System.nanoTime();
            CliTest.Result r = CliTest.run(args);
            double seconds = (System.nanoTime() - t0) * 1e-9;
            String problem = null;
            if (m.valid() && r.code() != 0) {
                problem = "valid input rejected";
            } else if (!m.valid() && r.code() != 2) {
                problem = r.code() == 0 ? "bad input accepted" : "exit " + r.code();
            } else if (r.code() == 2 && r.err().strip().lines().count() != 1) {
                problem = "message of " + r.err().strip().lines().count() + " lines";
            } else if (r.err().contains("\tat ") || r.err().contains("internal error")) {
                problem = "stack trace or internal error";
            } else if (r.code() == 2 && !r.err().contains(file.getFileName().toString())) {
                problem = "message does not name the file";
            } else if (seconds > 10) {
                problem = "took " + seconds + " s";
            } else if (r.code() == 2 && Files.isDirectory(out) && !listing(out).isEmpty()) {
                problem = "left " + listing(out) + " in --out";
            }
            byClass.computeIfAbsent(kind.name() + "/" + m.name(), k -> new int[2])[problem == null ? 0 : 1]++;
            if (problem != null) {
                failures.add(kind.name() + "/" + m.name() + " case " + i + ": " + problem + ": " + r.err().strip());
            }
        }
        StringBuilder counts = new StringBuilder();
        byClass.forEach((k, v) -> counts.append(String.format("%n  %-40s %4d ok %4d failed", k, v[0], v[1])));
        System.out.println("generated inputs, seed " + seed + ", " + cases + " cases:" + counts);
        assertTrue(failures.isEmpty(), failures.size() + " failures, e.g. " + failures.subList(0,
            Math.min(5, failures.size())) + counts);
        assertEquals(cases, byClass.values().stream().mapToInt(v -> v[0]).sum());
    }

    private static void removeAll(Path dir) throws Exception {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                if (!p.equals(dir)) {
                    Files.delete(p);
                }
            }
        }
    }

    private static List<String> listing(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).toList();
        }
    }

    /** What a generated case must do: run (exit 0), be refused (exit 2), or either, never anything else. */
    enum Expect { RUNS, REFUSED, EITHER }

    /** A generated case: its class, what it must do, the file its message must name, and the command line. */
    record Case(String name, Expect expect, Path file, Path out, List<String> args) {}

    /** A generator of one class of case: case number, random source, folder to write in. */
    interface Generator {
        Case make(int i, Random r, Path dir) throws Exception;
    }

    /** A small valid Kineto trace (CPU ops with shapes, as torch.profiler(record_shapes=True) writes them). */
    static String kineto(Random r) {
        int m = 1 + r.nextInt(512);
        int k = 1 + r.nextInt(512);
        int n = 1 + r.nextInt(512);
        return "{\"traceEvents\": [\n"
            + "{\"ph\": \"X\", \"cat\": \"cpu_op\", \"name\": \"aten::mm\", \"ts\": 0, \"dur\": 10, \"pid\": 1, \"tid\": 1,"
            + " \"args\": {\"Input Dims\": [[" + m + ", " + k + "], [" + k + ", " + n + "]], \"Input type\": [\"float\","
            + " \"float\"]}},\n"
            + "{\"ph\": \"X\", \"cat\": \"cpu_op\", \"name\": \"aten::bmm\", \"ts\": 20, \"dur\": 10, \"pid\": 1, \"tid\": 1,"
            + " \"args\": {\"Input Dims\": [[2, " + m + ", " + k + "], [2, " + k + ", " + n + "]], \"Input type\":"
            + " [\"c10::BFloat16\", \"c10::BFloat16\"]}}\n]}\n";
    }

    /** A request file for {@code serve} on the tiny workload (context 512): a few requests, then mutated. */
    static Generator requestCase(String name, Expect expect, BiFunction<String, Random, String> mutate) {
        return requestCaseOn("requests/", List.of("--hardware", "models/hardware/h100.yaml"), name, expect, mutate);
    }

    /** As {@link #requestCase}, served on {@code where} (a device, or a system's groups), in family {@code family}. */
    static Generator requestCaseOn(String family, List<String> where, String name, Expect expect,
                                   BiFunction<String, Random, String> mutate) {
        return (i, r, dir) -> {
            Path file = dir.resolve("case" + i + ".csv");
            StringBuilder valid = new StringBuilder("arrival_s,prompt_tokens,output_tokens\n");
            double t = 0;
            for (int k = 0; k < 1 + r.nextInt(4); k++) {
                t += 0.001 + r.nextInt(1000) * 1e-6;
                valid.append(String.format(java.util.Locale.ROOT, "%.6f,%d,%d%n", t, 1 + r.nextInt(200),
                    1 + r.nextInt(8)));
            }
            String mutated = mutate.apply(valid.toString(), r);
            assertTrue(expect == Expect.RUNS || !mutated.equals(valid.toString()), family + name
                + " changed nothing");
            Files.writeString(file, mutated);
            Path out = dir.resolve("out" + i);
            List<String> args = new ArrayList<>(List.of("serve", "--workload", "models/workloads/tiny.yaml",
                "--request-file", file.toString(), "--out", out.toString()));
            args.addAll(where);
            return new Case(family + name, expect, file, out, args);
        };
    }

    /** The 8-GPU system tiny.yaml (tensor parallel 2) is served on: 4 device groups. */
    static final String SERVE_SYSTEM = "models/systems/dgx-h100-8.yaml";

    /**
     * {@code serve} with generated requests (open loop at one rate unless the options draw other traffic) and the options
     * {@code options} draws (most on {@link #SERVE_SYSTEM}); a refused case's message must name {@code option}
     * (held as the case's file name, which the check looks for).
     */
    static Generator serveOptionCase(String name, Expect expect, String option,
                                     java.util.function.Function<Random, List<String>> options) {
        return (i, r, dir) -> {
            Path out = dir.resolve("out" + i);
            List<String> args = new ArrayList<>(List.of("serve", "--workload", "models/workloads/tiny.yaml",
                "--requests", Integer.toString(1 + r.nextInt(8)), "--out", out.toString()));
            List<String> drawn = options.apply(r);
            if (!drawn.contains("--concurrency") && !drawn.contains("--arrivals")) {
                args.addAll(List.of("--arrivals", "poisson:4000"));
            }
            args.addAll(drawn);
            return new Case("serve-system/" + name, expect, Path.of(option), out, args);
        };
    }

    /** {@code --system} and {@code --disaggregate prefill=P,decode=D} with the given counts. */
    static List<String> disaggregated(Object prefill, Object decode) {
        return List.of("--system", SERVE_SYSTEM, "--disaggregate", "prefill=" + prefill + ",decode=" + decode);
    }

    /** The request file with a shared prefix on every row, the last one longer than its prompt if {@code beyond}. */
    static String withPrefix(String requests, Random r, boolean beyond) {
        String[] lines = requests.split("\n");
        StringBuilder out = new StringBuilder(lines[0]).append(",prefix_id,prefix_tokens\n");
        for (int i = 1; i < lines.length; i++) {
            int prompt = Integer.parseInt(lines[i].split(",")[1]);
            int shared = beyond && i == lines.length - 1 ? prompt + 1 + r.nextInt(10) : 1 + r.nextInt(prompt);
            out.append(lines[i]).append(",p").append(r.nextInt(2)).append(',').append(shared).append('\n');
        }
        return out.toString();
    }

    static Generator kinetoCase(String name, Expect expect, BiFunction<String, Random, String> mutate) {
        return (i, r, dir) -> {
            Path file = dir.resolve("case" + i + ".json");
            String valid = kineto(r);
            String mutated = mutate.apply(valid, r);
            assertTrue(expect == Expect.RUNS || !mutated.equals(valid), "kineto/" + name + " changed nothing");
            Files.writeString(file, mutated);
            Path out = dir.resolve("out" + i + ".csv");
            return new Case("kineto/" + name, expect, file, out, List.of("import", file.toString(), "--out",
                out.toString()));
        };
    }

    static String pick(Random r, String... choices) {
        return choices[r.nextInt(choices.length)];
    }

    /** The Chakra fixture (a real PyTorch execution trace, see src/test/resources/fixtures/README.md), unzipped. */
    static byte[] chakra() throws Exception {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(
            Path.of("src/test/resources/fixtures/chakra/pytorch-feeder-test.0.et.gz")))) {
            return in.readAllBytes();
        }
    }

    /** Where each length-prefixed message of a Chakra trace starts (cutting there leaves a shorter valid trace). */
    static java.util.Set<Integer> messageStarts(byte[] et) {
        java.util.Set<Integer> starts = new java.util.HashSet<>();
        int at = 0;
        while (at < et.length) {
            starts.add(at);
            long length = 0;
            int shift = 0;
            byte b;
            do {
                b = et[at++];
                length |= (long) (b & 0x7f) << shift;
                shift += 7;
            } while ((b & 0x80) != 0);
            at += (int) length;
        }
        starts.add(et.length);
        return starts;
    }

    static Generator chakraCase(String name, Expect expect, java.util.function.BiFunction<byte[], Random, byte[]> mutate) {
        return (i, r, dir) -> {
            Path file = dir.resolve("case" + i + ".et");
            byte[] valid = chakra();
            byte[] mutated = mutate.apply(valid, r);
            assertTrue(expect == Expect.RUNS || !java.util.Arrays.equals(mutated, valid), "chakra/" + name
                + " changed nothing");
            Files.write(file, mutated);
            Path out = dir.resolve("out" + i + ".csv");
            return new Case("chakra/" + name, expect, file, out, List.of("import", file.toString(), "--out",
                out.toString()));
        };
    }

    static byte[] gzip(byte[] bytes) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(b)) {
            z.write(bytes);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return b.toByteArray();
    }

    /** The operators of traces/gemm-small.csv: ids 0..2 and their shapes (kind,batch,m,n,k,elements). */
    static final List<String> SMALL_SHAPES = List.of("gemm,1,1024,1024,1024,", "gemm,1,8,4096,4096,",
        "gemm,64,4,1025,128,");

    static Generator measuredCase(String name, Expect expect, java.util.function.Function<Random, String> text) {
        return (i, r, dir) -> {
            Path file = dir.resolve("case" + i + ".csv");
            Files.writeString(file, text.apply(r));
            Path out = dir.resolve("out" + i);
            return new Case("measured/" + name, expect, file, out, List.of("compare", "--hardware",
                "models/hardware/a100.yaml", "--trace", "traces/gemm-small.csv", "--measured", file.toString(),
                "--out", out.toString()));
        };
    }

    /**
     * A bad energy, power or cost input: {@code what} is "table" (a node table, read through an H100 file), "hardware"
     * (the H100 file), "cost" (a cost file given by --cost) or "default-cost" (the cost file the H100 file names, no
     * --cost); {@code mutate} spoils the valid one.
     */
    static Generator energyCase(String name, String what, BiFunction<String, Random, String> mutate) {
        return (i, r, dir) -> {
            String energy = Path.of("models/energy").toAbsolutePath() + "/";
            String memory = Path.of("models/memory").toAbsolutePath() + "/";
        String hardware = Path.of("models/hardware").toAbsolutePath() + "/";
            Path table = dir.resolve("table" + i + ".yaml");
            String tableText = Files.readString(Path.of("models/energy/4nm.yaml")).replace("off_chip: off-chip.yaml",
                "off_chip: " + energy + "off-chip.yaml");
            Files.writeString(table, what.equals("table") ? mutate.apply(tableText, r) : tableText);
            Path hw = dir.resolve("hw" + i + ".yaml");
            Path cost = dir.resolve("cost" + i + ".yaml");
            String hwText = Files.readString(Path.of("models/hardware/h100.yaml")).replace("../energy/4nm.yaml",
                table.toString()).replace("../memory/", memory).replace("../cost/cloud-2026.yaml", cost.toString());
            Files.writeString(hw, what.equals("hardware") ? mutate.apply(hwText, r) : hwText);
            String costText = Files.readString(Path.of("models/cost/owned-datacentre.yaml"));
            Files.writeString(cost, what.endsWith("cost") ? mutate.apply(costText, r) : costText);
            Path out = dir.resolve("out" + i);
            Path named = what.equals("table") ? table : what.equals("hardware") ? hw : cost;
            List<String> args = new ArrayList<>(List.of("simulate", "--hardware", hw.toString(), "--trace",
                "traces/gemm-small.csv", "--out", out.toString()));
            if (!what.equals("default-cost")) {
                args.addAll(List.of("--cost", cost.toString()));
            }
            return new Case("energy/" + name, Expect.REFUSED, named, out, args);
        };
    }

    /** A cost file with one of its units taken away (a bare number, or a number and a blank). */
    static String dropAUnit(String text, Random r) {
        return text.replaceFirst(pick(r, " USD/kWh", " gCO2e/kWh", " USD ", " years", " kgCO2e", " gCO2e/EFLOP"),
            pick(r, " ", ""));
    }

    /**
     * A case on the H100 with near-memory units ({@code models/hardware/h100-pim.yaml}) whose hardware file
     * {@code mutate} spoils (or keeps), simulated on a small trace: refused cases name the hardware file and the key.
     */
    static Generator nearMemoryCase(String name, Expect expect, BiFunction<String, Random, String> mutate) {
        return (i, r, dir) -> {
            String text = Files.readString(Path.of("models/hardware/h100-pim.yaml"))
                .replace("../energy/", Path.of("models/energy").toAbsolutePath() + "/")
                .replace("../memory/", Path.of("models/memory").toAbsolutePath() + "/")
                .replace("../host/", Path.of("models/host").toAbsolutePath() + "/")
                .replace("../nmp/", Path.of("models/nmp").toAbsolutePath() + "/")
                .replace("extends: ", "extends: " + Path.of("models/hardware").toAbsolutePath() + "/");
            Path hw = dir.resolve("hw" + i + ".yaml");
            Files.writeString(hw, mutate.apply(text, r));
            Path out = dir.resolve("out" + i);
            return new Case("near-memory/" + name, expect, hw, out, List.of("simulate", "--hardware", hw.toString(),
                "--trace", "traces/gemm-small.csv", "--out", out.toString()));
        };
    }

    /**
     * A change to a hardware file and the base it extends (texts[0] the base, texts[1] the file); returns which one
     * ("base" or "file") the message must name.
     */
    interface ExtendsMutation {
        String apply(String[] texts, Random r);
    }

    /**
     * A hardware file {@code hw<i>.yaml} that extends {@code base<i>.yaml} (a copy of h100.yaml) beside it and
     * overrides its clock, described; {@code mutate} spoils either (BASE and FILE in the texts become their names).
     */
    static Generator extendsCase(String name, Expect expect, ExtendsMutation mutate) {
        return (i, r, dir) -> {
            String base = Files.readString(Path.of("models/hardware/h100.yaml"))
                .replace("../energy/", Path.of("models/energy").toAbsolutePath() + "/")
                .replace("../memory/", Path.of("models/memory").toAbsolutePath() + "/")
                .replace("../host/", Path.of("models/host").toAbsolutePath() + "/")
                .replace("../cost/", Path.of("models/cost").toAbsolutePath() + "/");
            String[] texts = {base, "extends: BASE\nname: derived\nclock_mhz: 1500\n"};
            String named = mutate.apply(texts, r);
            Path basePath = dir.resolve("base" + i + ".yaml");
            Path hw = dir.resolve("hw" + i + ".yaml");
            Path[] files = {basePath, hw};
            for (int f = 0; f < 2; f++) {
                Files.writeString(files[f], texts[f].replace("BASE", basePath.getFileName().toString())
                    .replace("FILE", hw.getFileName().toString()));
            }
            return new Case("extends/" + name, expect, named.equals("base") ? basePath : hw, dir.resolve("out" + i),
                List.of("describe", "--hardware", hw.toString()));
        };
    }

    /** A multi-rank change: the two ranks' texts are changed in place; returns the file the message must name. */
    interface RankMutation {
        String apply(String[] ranks, Random r);
    }

    /**
     * The two-rank fixture (hand-written per-rank Kineto traces, src/test/resources/fixtures/kineto/two-ranks) in a
     * folder of its own, mutated, replayed on an 8-device system; {@code mutate} names the file (rank0.json,
     * rank1.json, or "" for the folder) the message must name.
     */
    static Generator rankCase(String name, Expect expect, RankMutation mutate) {
        return (i, r, dir) -> {
            Path folder = dir.resolve("ranks" + i);
            Files.createDirectories(folder);
            Path fixture = Path.of("src/test/resources/fixtures/kineto/two-ranks");
            String[] ranks = {Files.readString(fixture.resolve("rank0.json")),
                Files.readString(fixture.resolve("rank1.json"))};
            String[] valid = ranks.clone();
            String named = mutate.apply(ranks, r);
            assertTrue(expect == Expect.RUNS || !java.util.Arrays.equals(ranks, valid), "ranks/" + name
                + " changed nothing");
            for (int k = 0; k < ranks.length; k++) {
                if (ranks[k] != null) {
                    Files.writeString(folder.resolve("rank" + k + ".json"), ranks[k]);
                }
            }
            Path out = dir.resolve("out" + i);
            return new Case("ranks/" + name, expect, named.isEmpty() ? folder : folder.resolve(named), out,
                List.of("simulate", "--system", "models/systems/dgx-h100-8.yaml", "--trace", folder.toString(),
                    "--out", out.toString()));
        };
    }

    /** The lines of a trace without those of the events at times {@code prefix}... (an op and its kernels). */
    static String withoutEventsAt(String trace, String prefix) {
        return String.join("\n", trace.lines().filter(l -> !l.contains("\"ts\": " + prefix)).toList()) + "\n";
    }

    static String seconds(Random r) {
        return String.format(java.util.Locale.ROOT, "%.3e", 1e-6 + r.nextDouble() * 1e-3);
    }

    static final List<Generator> TRACE_CASES = List.of(
        kinetoCase("valid", Expect.RUNS, (t, r) -> t),
        kinetoCase("valid-crlf", Expect.RUNS, (t, r) -> t.replace("\n", "\r\n")),
        kinetoCase("truncated", Expect.REFUSED, (t, r) -> t.substring(0, 1 + r.nextInt(t.strip().length() - 1))),
        kinetoCase("wrong-type-dims", Expect.REFUSED, (t, r) -> t.replaceAll("\"Input Dims\": \\[\\[[^\"]*\\]\\],",
            "\"Input Dims\": " + pick(r, "\"8x16\"", "8", "{\"a\": 1}", "true", "[[\"a\", 2], [2, 2]]") + ",")),
        kinetoCase("wrong-type-dtype", Expect.REFUSED, (t, r) -> t.replaceAll("\"Input type\": \\[[^]]*\\]",
            "\"Input type\": " + pick(r, "[1, 2]", "[\"float7\", \"float7\"]", "[null, null]", "[[], []]"))),
        kinetoCase("no-args", Expect.REFUSED, (t, r) -> t.replaceAll(", \"args\": \\{.*\\}\\}", "}")),
        kinetoCase("args-not-an-object", Expect.REFUSED, (t, r) -> t.replaceAll("\"args\": \\{.*\\}\\}",
            "\"args\": " + pick(r, "[1, 2]", "\"x\"", "7") + "}")),
        kinetoCase("no-trace-events", Expect.REFUSED, (t, r) -> t.replace("traceEvents", pick(r, "traceEvent",
            "events", "TraceEvents"))),
        kinetoCase("sizes-out-of-range", Expect.REFUSED, (t, r) -> t.replaceAll("\\[\\[(2, )?[0-9]+, ([0-9]+)\\]",
            "[[$1" + ((1L << 40) + r.nextInt(1000)) + ", $2]").replaceAll("\\], \\[(2, )?[0-9]+, ([0-9]+)\\]\\]",
            "], [$1" + ((1L << 40) + r.nextInt(1000)) + ", $2]]")),
        kinetoCase("negative-size", Expect.REFUSED, (t, r) -> t.replaceAll("\\[\\[(2, )?[0-9]+,",
            "[[$1-" + (1 + r.nextInt(100)) + ",")),
        kinetoCase("reduction-without-shape", Expect.REFUSED, (t, r) -> {
            String reduction = pick(r, "aten::mean", "aten::sum", "aten::amax", "aten::argmax");
            return t.replace("aten::mm", reduction).replace("aten::bmm", reduction)
                .replaceAll("\"Input Dims\": \\[\\[[^\"]*\\]\\], ", "");
        }),
        kinetoCase("graph-replay-without-kernels", Expect.REFUSED, (t, r) -> "{\"traceEvents\": [\n{\"ph\": \"X\","
            + " \"cat\": \"cuda_runtime\", \"name\": \"" + pick(r, "cudaGraphLaunch", "hipGraphLaunch") + "\","
            + " \"ts\": 5, \"dur\": 3, \"pid\": 1, \"tid\": 1, \"args\": {\"correlation\": " + r.nextInt(1000)
            + "}}\n]}\n"),
        kinetoCase("known-kernel-impossible-grid", Expect.REFUSED, (t, r) -> t.replace("\n]}", ",\n{\"ph\": \"X\","
            + " \"cat\": \"kernel\", \"name\": \"" + pick(r, "Cijk_Alik_Bljk_BBS_BH_MT64x32x256_MI16x16x1_SN",
            "void paged_attention_ll4mi_QKV_mfma16_kernel<0>", "rotary_embedding_kernel") + "\", \"ts\": 40, \"dur\":"
            + " 2, \"pid\": 0, \"tid\": 7, \"args\": {\"grid\": [" + pick(r, "0", "-1") + ", 1, 1], \"block\": [256,"
            + " 1, 1]}}\n]}")),
        kinetoCase("known-gemm-impossible-tile", Expect.REFUSED, (t, r) -> t.replace("\n]}", ",\n{\"ph\": \"X\","
            + " \"cat\": \"kernel\", \"name\": \"" + pick(r, "Cijk_Alik_Bljk_BBS_BH_MT0x32x256_MI16x16x1_SN",
            "nvjet_sm90_tst_64x0_64x16_2x4_h_bz_bias_TNT", "sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize0x128x64")
            + "\", \"ts\": 40, \"dur\": 2, \"pid\": 0, \"tid\": 7, \"args\": {\"grid\": [" + (1 + r.nextInt(64))
            + ", 1, 1], \"block\": [256, 1, 1]}}\n]}")),
        chakraCase("valid", Expect.RUNS, (b, r) -> b),
        chakraCase("truncated", Expect.REFUSED, (b, r) -> {
            java.util.Set<Integer> starts = messageStarts(b);
            int cut;
            do {
                cut = 1 + r.nextInt(b.length - 1);
            } while (starts.contains(cut));
            return java.util.Arrays.copyOf(b, cut);
        }),
        chakraCase("truncated-gzip", Expect.REFUSED, (b, r) -> {
            byte[] z = gzip(b);
            return java.util.Arrays.copyOf(z, 10 + r.nextInt(z.length - 18));
        }),
        chakraCase("no-metadata", Expect.REFUSED, (b, r) -> {
            int second = messageStarts(b).stream().filter(s -> s > 0).min(Integer::compare).orElseThrow();
            return java.util.Arrays.copyOfRange(b, second, b.length);
        }),
        chakraCase("metadata-only", Expect.REFUSED, (b, r) -> {
            int second = messageStarts(b).stream().filter(s -> s > 0).min(Integer::compare).orElseThrow();
            return java.util.Arrays.copyOf(b, second);
        }),
        chakraCase("length-out-of-range", Expect.REFUSED, (b, r) -> {
            // a length prefix of 2^40 + x bytes on the first message: far beyond the file
            ByteArrayOutputStream o = new ByteArrayOutputStream();
            long v = (1L << 40) + r.nextInt(1000);
            while ((v & ~0x7fL) != 0) {
                o.write((int) ((v & 0x7f) | 0x80));
                v >>>= 7;
            }
            o.write((int) v);
            o.writeBytes(b);
            return o.toByteArray();
        }),
        chakraCase("corrupt-bytes", Expect.EITHER, (b, r) -> {
            byte[] c = b.clone();
            int at = r.nextInt(c.length - 8);
            for (int k = 0; k < 1 + r.nextInt(8); k++) {
                c[at + k] = (byte) r.nextInt(256);
            }
            return c;
        }),
        energyCase("table-lacks-data-type", "table", (t, r) -> {
            // the H100 computes in fp16: drop its MAC or its vector-FLOP energy
            List<String> lines = new ArrayList<>(t.lines().toList());
            List<String> fp16 = lines.stream().filter(l -> l.startsWith("  fp16: ")).toList();
            lines.remove(fp16.get(r.nextInt(fp16.size())));
            return String.join("\n", lines) + "\n";
        }),
        energyCase("voltage-curve-not-monotone", "hardware", (t, r) -> t.replace("  link_standard: nvlink4",
            "  link_standard: nvlink4\n  operating_points:\n    - {clock_mhz: 1000, voltage_v: 0.8}\n"
                + pick(r, "    - {clock_mhz: 1500, voltage_v: 0.7}\n", "    - {clock_mhz: 900, voltage_v: 0.9}\n",
                "    - {clock_mhz: 1000, voltage_v: 0.9}\n"))),
        energyCase("cost-without-units", "cost", GeneratedInputTest::dropAUnit),
        energyCase("default-cost-without-units", "default-cost", GeneratedInputTest::dropAUnit),
        measuredCase("valid-by-id", Expect.RUNS, r -> "op_id,measured_s\n" + r.nextInt(3) + "," + seconds(r) + "\n"),
        measuredCase("valid-by-shape", Expect.RUNS, r -> "kind,batch,m,n,k,elements,measured_s\n"
            + SMALL_SHAPES.get(r.nextInt(3)) + "," + seconds(r) + "\n"),
        measuredCase("fractional-id", Expect.REFUSED, r -> "op_id,measured_s\n" + r.nextInt(3) + "."
            + (1 + r.nextInt(9)) + "," + seconds(r) + "\n"),
        measuredCase("matches-no-operator", Expect.REFUSED, r -> "op_id,measured_s\n" + (3 + r.nextInt(1000)) + ","
            + seconds(r) + "\n"),
        measuredCase("bad-time", Expect.REFUSED, r -> "op_id,measured_s\n" + r.nextInt(3) + ","
            + pick(r, "-" + seconds(r), "0", "NaN", "Infinity", "fast", "1e999", "") + "\n"),
        measuredCase("no-measured-column", Expect.REFUSED, r -> "op_id,time_s\n0," + seconds(r) + "\n"),
        measuredCase("twice", Expect.REFUSED, r -> {
            int id = r.nextInt(3);
            return "op_id,measured_s\n" + id + "," + seconds(r) + "\n" + id + "," + seconds(r) + "\n";
        }),
        measuredCase("ragged", Expect.REFUSED, r -> "op_id,measured_s\n0," + seconds(r) + ",extra\n"),
        measuredCase("empty", Expect.REFUSED, r -> pick(r, "", "\n", "\uFEFF")),
        rankCase("valid", Expect.RUNS, (t, r) -> "rank0.json"),
        rankCase("different-collective", Expect.REFUSED, (t, r) -> {
            // rank 1's last all-reduce, another size or another collective than rank 0's at that place
            int last = t[1].lastIndexOf("\"Collective name\": \"allreduce\"");
            t[1] = t[1].substring(0, last) + (r.nextBoolean()
                ? t[1].substring(last).replaceFirst("\"In msg nelems\": 1000", "\"In msg nelems\": " + (1001
                    + r.nextInt(1000)))
                : t[1].substring(last).replaceFirst("allreduce", pick(r, "allgather", "reduce_scatter_tensor")));
            return "rank1.json";
        }),
        rankCase("collective-without-partner", Expect.REFUSED, (t, r) -> {
            t[1] = withoutEventsAt(t[1], "12"); // its last all-reduce: record_param_comms, nccl op, launch, kernel
            return "rank0.json";
        }),
        rankCase("missing-rank", Expect.REFUSED, (t, r) -> {
            t[r.nextInt(2)] = null;
            return "";
        }),
        rankCase("repeated-rank", Expect.REFUSED, (t, r) -> {
            t[1] = t[1].replace("\"rank\": 1,", "\"rank\": 0,");
            return "rank1.json";
        }),
        rankCase("rank-outside-system", Expect.REFUSED, (t, r) -> {
            t[1] = t[1].replace("\"rank\": 1,", "\"rank\": " + (8 + r.nextInt(100)) + ",");
            return "rank1.json";
        }),
        rankCase("world-larger-than-system", Expect.REFUSED, (t, r) -> {
            String world = "\"world_size\": " + (9 + r.nextInt(1000));
            t[0] = t[0].replace("\"world_size\": 2", world);
            t[1] = t[1].replace("\"world_size\": 2", world);
            return "rank0.json";
        }),
        rankCase("worlds-disagree", Expect.REFUSED, (t, r) -> {
            t[1] = t[1].replace("\"world_size\": 2", "\"world_size\": " + (3 + r.nextInt(6)));
            return "rank1.json";
        }),
        rankCase("group-outside-world", Expect.REFUSED, (t, r) -> {
            t[1] = t[1].replaceFirst("\"Process Group Ranks\": \"\\[0, 1\\]\"", "\"Process Group Ranks\": \"[0, "
                + (2 + r.nextInt(100)) + "]\"");
            return "rank1.json";
        }),
        rankCase("groups-in-opposite-orders", Expect.REFUSED, (t, r) -> {
            // Two groups over both ranks: rank 0 calls group 0's all-reduce then group 1's, rank 1 the other way.
            int second = t[0].lastIndexOf("\"Process Group Name\": \"0\"");
            t[0] = t[0].substring(0, second) + t[0].substring(second).replaceFirst("\"Process Group Name\": \"0\"",
                "\"Process Group Name\": \"1\"");
            t[1] = t[1].replaceFirst("\"Process Group Name\": \"0\"", "\"Process Group Name\": \"1\"");
            return "rank0.json";
        }),
        rankCase("no-distributed-info", Expect.REFUSED, (t, r) -> {
            t[1] = t[1].replaceFirst("\"distributedInfo\": \\{[^}]*\\}\\], [^}]*\\}, ", "");
            return "rank1.json";
        }),
        rankCase("distributed-info-wrong-type", Expect.REFUSED, (t, r) -> {
            t[1] = t[1].replace("\"rank\": 1,", "\"rank\": " + pick(r, "-1", "\"1\"", "1.5", "null", "[1]") + ",");
            return "rank1.json";
        }),
        nearMemoryCase("valid", Expect.RUNS, (t, r) -> t),
        // A near-memory unit on a device without the memory it sits beside.
        nearMemoryCase("beside-a-missing-tier", Expect.REFUSED, (t, r) -> t.replace("beside: hbm", "beside: "
            + pick(r, "hbf", "lpddr5", "HBM", "host"))),
        nearMemoryCase("beside-nothing", Expect.REFUSED, (t, r) -> t.replaceFirst("\\n *beside: hbm[^\\n]*", "")),
        nearMemoryCase("bad-rate", Expect.REFUSED, (t, r) -> t + "    " + pick(r, "internal_bandwidth_ratio",
            "macs_per_cycle", "clock_mhz") + ": " + pick(r, "-4", "0", "fast", "1e12") + "\n"),
        nearMemoryCase("unknown-offload", Expect.REFUSED, (t, r) -> t + "    offload: " + pick(r, "softmax", "gemm",
            "gemv;attention") + "\n"),
        nearMemoryCase("missing-preset", Expect.REFUSED, (t, r) -> t.replace("hbm-pim.yaml", pick(r, "hbm-pin.yaml",
            ""))),
        extendsCase("valid", Expect.RUNS, (t, r) -> "file"),
        extendsCase("nested-override", Expect.RUNS, (t, r) -> {
            t[1] += "memory:\n  channels: " + pick(r, "80", "320") + "\n";
            return "file";
        }),
        extendsCase("missing-base", Expect.REFUSED, (t, r) -> {
            t[1] = t[1].replace("extends: BASE", "extends: " + pick(r, "nowhere.yaml", "''", "../BASE", "BASE/x",
                "1", "[BASE]"));
            return "file";
        }),
        extendsCase("cycle", Expect.REFUSED, (t, r) -> {
            if (r.nextBoolean()) {
                t[1] = t[1].replace("extends: BASE", "extends: FILE");
            } else {
                t[0] = "extends: FILE\n" + t[0];
            }
            return "file";
        }),
        extendsCase("unknown-key-in-file", Expect.REFUSED, (t, r) -> {
            t[1] += pick(r, "clok_mhz: 1500\n", "memory:\n  chanels: 80\n", "extend: BASE\n");
            return "file";
        }),
        extendsCase("unknown-key-in-base", Expect.REFUSED, (t, r) -> {
            t[0] += pick(r, "clok_mhz: 1500\n", "frobnication: 1\n");
            return "base";
        }),
        extendsCase("bad-override", Expect.REFUSED, (t, r) -> {
            t[1] += pick(r, "memory: 5\n", "memory:\n  channels: -1\n", "cores: many\n", "core:\n  pe_array: []\n");
            return "file";
        }),
        requestCase("valid", Expect.RUNS, (t, r) -> t),
        requestCase("negative-time", Expect.REFUSED, (t, r) -> t.replaceFirst("\n0\\.", "\n-0.")),
        requestCase("decreasing", Expect.REFUSED, (t, r) -> t + "0.0001,8,2\n"),
        requestCase("zero-output", Expect.REFUSED, (t, r) -> t + "9,8,0\n"),
        requestCase("beyond-context", Expect.REFUSED, (t, r) -> t + "9," + (512 + r.nextInt(100)) + ",2\n"),
        requestCase("prefix", Expect.RUNS, (t, r) -> withPrefix(t, r, false)),
        requestCase("prefix-beyond-prompt", Expect.REFUSED, (t, r) -> withPrefix(t, r, true)),
        requestCase("not-a-number", Expect.REFUSED, (t, r) -> t + "9," + pick(r, "x", "1.5", "") + ",2\n"),
        // Serving on a system's device groups: the same request-file faults, and bad options of the system run.
        requestCaseOn("serve-system/requests-", List.of("--system", SERVE_SYSTEM), "valid", Expect.RUNS, (t, r) -> t),
        requestCaseOn("serve-system/requests-", disaggregated(1, 2), "valid-disaggregated",
            Expect.RUNS, (t, r) -> t),
        requestCaseOn("serve-system/requests-", disaggregated(1, 1), "decreasing", Expect.REFUSED,
            (t, r) -> t + "0.0001,8,2\n"),
        requestCaseOn("serve-system/requests-", List.of("--system", SERVE_SYSTEM), "zero-output", Expect.REFUSED,
            (t, r) -> t + "9,8,0\n"),
        requestCaseOn("serve-system/requests-", disaggregated(2, 2), "beyond-context", Expect.REFUSED,
            (t, r) -> t + "9," + (512 + r.nextInt(100)) + ",2\n"),
        requestCaseOn("serve-system/requests-", disaggregated(1, 3), "not-a-number", Expect.REFUSED,
            (t, r) -> t + "9," + pick(r, "x", "1.5", "") + ",2\n"),
        serveOptionCase("disaggregate-valid", Expect.RUNS, "--disaggregate", r -> {
            int prefill = 1 + r.nextInt(3);
            return disaggregated(prefill, 1 + r.nextInt(4 - prefill));
        }),
        serveOptionCase("disaggregate-zero", Expect.REFUSED, "--disaggregate", r -> r.nextBoolean()
            ? disaggregated(0, 1 + r.nextInt(3)) : disaggregated(1 + r.nextInt(3), 0)),
        // dgx-h100-8 holds 4 groups of tiny's 2 tensor-parallel devices
        serveOptionCase("disaggregate-more-groups-than-the-system", Expect.REFUSED, "--disaggregate", r -> {
            int prefill = 1 + r.nextInt(4);
            return disaggregated(prefill, 5 - prefill + r.nextInt(100));
        }),
        serveOptionCase("disaggregate-malformed", Expect.REFUSED, "--disaggregate", r -> List.of("--system",
            SERVE_SYSTEM, "--disaggregate", pick(r, "prefill=x,decode=1", "prefill=1", "decode=2", "prefill=1,"
                + "decode=1,prefill=2", "prefill=1;decode=1", "prefill=-1,decode=1", "prefill=1.5,decode=1", "=",
                "", "prefill=1,decode=99999"))),
        serveOptionCase("closed-loop-valid", Expect.RUNS, "--system", r -> List.of("--system", SERVE_SYSTEM,
            "--concurrency", Integer.toString(1 + r.nextInt(8)), "--router", pick(r, "round_robin", "least_loaded"))),
        serveOptionCase("rate-sweep-valid", Expect.RUNS, "--system", r -> {
            List<String> args = new ArrayList<>(r.nextBoolean() ? List.of("--system", SERVE_SYSTEM)
                : disaggregated(1, 1 + r.nextInt(3)));
            args.addAll(List.of("--arrivals", "poisson:1000," + (2000 + r.nextInt(4000))));
            return args;
        }),
        serveOptionCase("disaggregate-closed-loop-valid", Expect.RUNS, "--disaggregate", r -> {
            List<String> args = new ArrayList<>(disaggregated(1 + r.nextInt(2), 1 + r.nextInt(2)));
            args.addAll(List.of("--concurrency", Integer.toString(1 + r.nextInt(8))));
            return args;
        }),
        serveOptionCase("disaggregate-without-system", Expect.REFUSED, "--system", r -> List.of("--hardware",
            "models/hardware/h100.yaml", "--disaggregate", "prefill=1,decode=1")),
        serveOptionCase("router-unknown", Expect.REFUSED, "--router", r -> {
            List<String> args = new ArrayList<>(r.nextBoolean() ? List.of("--system", SERVE_SYSTEM)
                : disaggregated(1, 2));
            args.addAll(List.of("--router", pick(r, "fastest", "ROUND_ROBIN", "round-robin", "", "prefix,")));
            return args;
        }),
        serveOptionCase("preemption-unknown", Expect.REFUSED, "--preemption", r -> {
            List<String> args = new ArrayList<>(r.nextBoolean() ? List.of("--system", SERVE_SYSTEM)
                : disaggregated(2, 1));
            args.addAll(List.of("--preemption", pick(r, "never", "Swap", "recompute,swap", "")));
            return args;
        }),
        (i, r, dir) -> {
            // a FIFO (which blocks whoever opens it until a writer comes) where a command reads an input
            Path fifo = dir.resolve("case" + i + ".fifo");
            FifoInputTest.mkfifo(fifo);
            Path out = dir.resolve("out" + i);
            List<List<String>> commands = List.of(
                List.of("describe", "--hardware", "FILE"),
                List.of("simulate", "--hardware", "models/hardware/a100.yaml", "--trace", "FILE", "--out", "OUT"),
                List.of("compare", "--hardware", "models/hardware/a100.yaml", "--trace", "traces/gemm-small.csv",
                    "--measured", "FILE", "--out", "OUT"),
                List.of("import", "FILE", "--out", "OUT"),
                List.of("plot", "FILE", "--pareto"),
                List.of("roofline", "--hardware", "models/hardware/a100.yaml", "--workload", "FILE", "--out", "OUT"));
            List<String> args = commands.get(r.nextInt(commands.size())).stream().map(a -> a.equals("FILE")
                ? fifo.toString() : a.equals("OUT") ? out.toString() : a).toList();
            return new Case("fifo/" + args.get(0), Expect.REFUSED, fifo, out, args);
        });

    @Test
    void generatedTracesMeasuredTimesAndFifos() throws Exception {
        int cases = Integer.getInteger("rafter.generated.trace-cases", TRACE_CASES.size());
        long seed = Long.getLong("rafter.generated.seed", 7);
        Random random = new Random(seed);
        Map<String, int[]> byClass = new TreeMap<>();
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < cases; i++) {
            // every class once per round, in a seeded order within the round
            Generator g = TRACE_CASES.get(i < TRACE_CASES.size() ? i : random.nextInt(TRACE_CASES.size()));
            Case c = g.make(i, random, tmp);
            long t0 = System.nanoTime();
            CliTest.Result r = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> CliTest.run(
                c.args().toArray(String[]::new)), c.name() + " case " + i + " hangs");
            double seconds = (System.nanoTime() - t0) * 1e-9;
            String problem = null;
            if (c.expect() == Expect.RUNS && r.code() != 0) {
                problem = "valid input rejected";
            } else if (c.expect() == Expect.REFUSED && r.code() != 2) {
                problem = r.code() == 0 ? "bad input accepted" : "exit " + r.code();
            } else if (r.code() != 0 && r.code() != 2) {
                problem = "exit " + r.code();
            } else if (r.code() == 2 && r.err().strip().lines().count() != 1) {
                problem = "message of " + r.err().strip().lines().count() + " lines";
            } else if (r.err().contains("\tat ") || r.err().contains("internal error")
                || r.err().contains("Error:") || r.err().contains("StreamReadConstraints")) {
                problem = "stack trace, internal error or library internals";
            } else if (r.code() == 2 && !r.err().contains(c.file().getFileName().toString())) {
                problem = "message does not name the file";
            } else if (seconds > 20) {
                problem = "took " + seconds + " s";
            } else if (r.code() == 2 && (Files.isRegularFile(c.out())
                || Files.isDirectory(c.out()) && !listing(c.out()).isEmpty())) {
                problem = "left " + c.out().getFileName() + " behind";
            }
            byClass.computeIfAbsent(c.name(), k -> new int[2])[problem == null ? 0 : 1]++;
            if (problem != null) {
                failures.add(c.name() + " case " + i + ": " + problem + ": " + r.err().strip());
            }
            removeAll(tmp); // a few MB a case: a large run must not fill the disk
        }
        StringBuilder counts = new StringBuilder();
        byClass.forEach((k, v) -> counts.append(String.format("%n  %-40s %4d ok %4d failed", k, v[0], v[1])));
        System.out.println("generated traces, measured times and FIFOs, seed " + seed + ", " + cases + " cases:"
            + counts);
        assertTrue(failures.isEmpty(), failures.size() + " failures, e.g. " + failures.subList(0,
            Math.min(5, failures.size())) + counts);
    }
}

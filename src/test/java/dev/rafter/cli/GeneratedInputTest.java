package dev.rafter.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
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
 * {@code --out}. CI runs a small sample; {@code mvn test -Dtest=GeneratedInputTest -Drafter.generated.cases=2000}
 * runs a large one (another {@code -Drafter.generated.seed} gives a held-out corpus).
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
                && !l.contains("link_pj_per_bit")
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
        String energy = Path.of("models/energy/45nm.yaml").toAbsolutePath().toString();
        String memory = Path.of("models/memory").toAbsolutePath() + "/";
        List<Kind> kinds = List.of(
            new Kind("hardware", Path.of("models/hardware/a100.yaml"),
                List.of("roofline", "--hardware", "FILE", "--trace", "traces/gemm-small.csv", "--out", "OUT")),
            new Kind("hardware-sram", Path.of("models/hardware/sram-study-45nm.yaml"),
                List.of("describe", "--hardware", "FILE")),
            new Kind("workload", Path.of("models/workloads/tiny.yaml"),
                List.of("roofline", "--hardware", "models/hardware/a100.yaml", "--workload", "FILE", "--out", "OUT")),
            new Kind("energy", Path.of("models/energy/45nm.yaml"),
                List.of("describe", "--hardware", "HW", "--json")));
        Random random = new Random(seed);
        Map<String, int[]> byClass = new TreeMap<>();
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < cases; i++) {
            Kind kind = kinds.get(i % kinds.size());
            Mutation m = MUTATIONS.get(random.nextInt(MUTATIONS.size()));
            String text = Files.readString(kind.valid()).replace("../energy/45nm.yaml", energy)
                .replace("../memory/", memory);
            String mutated = m.apply().apply(text, random);
            Path file = tmp.resolve("case" + i + ".yaml");
            Files.write(file, m.name().equals("not-utf8") ? mutated.getBytes(StandardCharsets.ISO_8859_1)
                : mutated.getBytes(StandardCharsets.UTF_8));
            Path hw = tmp.resolve("hw" + i + ".yaml");
            Files.writeString(hw, Files.readString(Path.of("models/hardware/a100.yaml"))
                .replace("../energy/45nm.yaml", file.toString()).replace("../memory/", memory));
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

    private static List<String> listing(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).toList();
        }
    }
}

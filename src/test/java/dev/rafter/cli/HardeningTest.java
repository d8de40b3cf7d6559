package dev.rafter.cli;

import static dev.rafter.cli.CliTest.assertBadInput;
import static dev.rafter.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every fault class of issue 7 that the front door, the run limits and the output folder own, as a reproducer. */
class HardeningTest {
    static final String A100 = "models/hardware/a100.yaml";
    static final String SMALL = "traces/gemm-small.csv";

    @TempDir
    Path tmp;

    static String a100Text() throws Exception {
        return Files.readString(Path.of(A100)).replace("../energy/",
            Path.of("models/energy").toAbsolutePath() + "/")
            .replace("../memory/", Path.of("models/memory").toAbsolutePath() + "/")
            .replace("../cost/", Path.of("models/cost").toAbsolutePath() + "/");
    }

    private Path write(String name, String text) throws Exception {
        Path f = tmp.resolve(name);
        Files.writeString(f, text);
        return f;
    }

    private static List<String> listing(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    // ---- strict YAML at the door ----

    @Test
    void duplicateKeysAndSecondDocumentsAreRejectedNamingTheLine() throws Exception {
        Path dup = write("dup.yaml", a100Text().replace("cores: 108", "cores: 108\ncores: 54"));
        assertBadInput(run("describe", "--hardware", dup.toString()), "duplicate key 'cores'");
        Path nested = write("nested.yaml", a100Text().replace("    rows: 16", "    rows: 16\n    rows: 8"));
        assertBadInput(run("describe", "--hardware", nested.toString()), "duplicate key 'rows'");
        Path two = write("two.yaml", a100Text() + "---\nname: other\n");
        assertBadInput(run("describe", "--hardware", two.toString()), "a second YAML document");
        Path empty = write("empty2.yaml", a100Text() + "---\n");
        assertBadInput(run("describe", "--hardware", empty.toString()), "a second YAML document");
    }

    @Test
    void byteOrderMarkCrlfCommentsAndTrailingSpacesAreAccepted() throws Exception {
        String text = "\uFEFF# saved on Windows\r\n" + a100Text().replace("\n", "   \r\n");
        Path f = write("windows.yaml", text);
        CliTest.Result r = run("describe", "--hardware", f.toString(), "--json");
        assertEquals(0, r.code(), r.err());
    }

    @Test
    void hugeLiteralsLongLinesAndHugeFilesAreRejectedFastInOneLine() throws Exception {
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            Path literal = write("literal.yaml", a100Text().replace("cores: 108", "cores: " + "9".repeat(5000)));
            assertBadInput(run("describe", "--hardware", literal.toString()), "cores: expected an integer");
            Path line = write("line.yaml", "name: " + "x".repeat(20_000) + "\n");
            assertBadInput(run("describe", "--hardware", line.toString()), "line.yaml:1: line longer than");
            Path big = tmp.resolve("big.yaml");
            byte[] row = ("a: [" + "1,".repeat(1 << 20) + "1]").getBytes(StandardCharsets.UTF_8);
            try (var out = Files.newOutputStream(big)) {
                for (int i = 0; i < 10; i++) {
                    out.write(row);
                }
            }
            long t0 = System.nanoTime();
            assertBadInput(run("describe", "--hardware", big.toString()), "beyond the limit of 1048576 bytes");
            assertTrue(System.nanoTime() - t0 < 2_000_000_000L, "a 20 MB file is refused without parsing it");
            Path nul = write("nul.yaml", a100Text().replace("cores: 108", "cores: 1\u000008"));
            assertBadInput(run("describe", "--hardware", nul.toString()), "NUL");
            Path latin1 = tmp.resolve("latin1.yaml");
            Files.write(latin1, "name: caf\u00e9\n".getBytes(StandardCharsets.ISO_8859_1));
            assertBadInput(run("describe", "--hardware", latin1.toString()), "not UTF-8 text");
        });
    }

    @Test
    void pipesDevicesAndDirectoriesGivenAsFilesAreRefusedAtOnce() throws Exception {
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            assertBadInput(run("describe", "--hardware", "/dev/zero"), "/dev/zero: is not a regular file");
            assertBadInput(run("describe", "--hardware", tmp.toString()), "is a directory, expected a file");
            assertBadInput(run("roofline", "--hardware", A100, "--workload", "/dev/zero"), "not a regular file");
            assertBadInput(run("roofline", "--hardware", A100, "--trace", "/dev/zero"), "not a regular file");
            Path fifo = mkfifo("hw.fifo");
            assertBadInput(run("describe", "--hardware", fifo.toString()), "hw.fifo: is not a regular file");
            assertBadInput(run("simulate", "--hardware", A100, "--trace", fifo.toString(), "--out",
                tmp.resolve("o").toString()), "hw.fifo: is not a regular file");
        });
    }

    private Path mkfifo(String name) throws Exception {
        return FifoInputTest.mkfifo(tmp.resolve(name));
    }

    @Test
    void anEnergyKeyThatIsNotAPathNamesTheKey() throws Exception {
        Path f = write("e.yaml", a100Text().replaceAll("energy: .*", "energy: true"));
        assertBadInput(run("describe", "--hardware", f.toString()), "e.yaml: energy: expected a path to a file");
        Path g = write("g.yaml", a100Text().replaceAll("energy: .*", "energy: nowhere.yaml"));
        assertBadInput(run("describe", "--hardware", g.toString()), "g.yaml: energy: ");
    }

    // ---- ranges and limits of derived quantities ----

    @Test
    void tinyClocksAndBandwidthsAreRejectedByRangeNamingTheKey() {
        assertBadInput(run("describe", "--hardware", A100, "--set", "clock_mhz=0.001"), "clock_mhz: expected a number >= 1");
        assertBadInput(run("describe", "--hardware", A100, "--set", "memory.bandwidth_gb_per_s=1e-9"),
            "memory.bandwidth_gb_per_s: expected a number >= 0.001");
        assertBadInput(run("describe", "--hardware", A100, "--set", "device_link.bandwidth_gb_per_s=1e-9"),
            "device_link.bandwidth_gb_per_s");
    }

    @Test
    void aRunThatWouldOverflowSimulatedTimeIsRefusedBeforeItStarts() throws Exception {
        Path trace = write("big.csv", "op_id,name,kind,phase,layer,step,batch,m,n,k,elements,data_type,deps\n"
            + "0,g,gemm,prefill,0,0,1024,16777216,16777216,16777216,0,fp32,\n");
        Path out = tmp.resolve("o");
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> assertBadInput(run("simulate", "--hardware", A100,
            "--set", "clock_mhz=1", "--set", "memory.bandwidth_gb_per_s=0.001", "--trace", trace.toString(), "--out",
            out.toString()), "beyond the limit of"));
        assertFalse(Files.exists(out), "a refused run removes the folder it created");
        Path slow = write("slow.csv", "op_id,name,kind,phase,layer,step,batch,m,n,k,elements,data_type,deps\n"
            + "0,v,elementwise,prefill,0,0,0,0,0,0,1000000000,fp32,\n"
            + "1,v,elementwise,prefill,0,0,0,0,0,0,1000000000,fp32,\n");
        CliTest.Result r = run("simulate", "--hardware", A100, "--set", "clock_mhz=1", "--set",
            "memory.bandwidth_gb_per_s=0.001", "--set", "core.local_buffer.capacity_kib=16000000", "--trace",
            slow.toString(), "--out", out.toString());
        assertBadInput(r, "of simulated time, beyond the");
        assertTrue(r.err().contains("memory.bandwidth_gb_per_s"), r.err());
    }

    @Test
    void hugeOperatorsAndRunsAreRefusedBeforeTheyHang() throws Exception {
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            Path trace = write("elements.csv", "op_id,name,kind,phase,layer,step,batch,m,n,k,elements,data_type,deps\n"
                + "0,v,softmax,prefill,0,0,0,0,0,0,17592186044416,fp16,\n");
            assertBadInput(run("simulate", "--hardware", A100, "--trace", trace.toString(), "--out",
                tmp.resolve("o").toString()), "tiles of the 192 KiB local buffer, beyond the limit");
            String tiny = Files.readString(Path.of("models/workloads/tiny.yaml"));
            Path batch = write("batch.yaml", tiny.replace("batch: 2", "batch: 1048576").replace("prompt_tokens: 64",
                "prompt_tokens: 1000000").replace("context_length: 512", "context_length: 16777216"));
            assertBadInput(run("simulate", "--hardware", A100, "--workload", batch.toString(), "--out",
                tmp.resolve("o").toString()), "run.batch: batch 1048576 x prompt_tokens 1000000");
            Path many = write("many.yaml", tiny.replace("layers: 2", "layers: 100000").replace("output_tokens: 4",
                "output_tokens: 16000000").replace("context_length: 512", "context_length: 16777216"));
            assertBadInput(run("roofline", "--hardware", A100, "--workload", many.toString()),
                "run.output_tokens: 100000 layers x 16000000 output tokens");
            Path wide = write("wide.yaml", tiny.replace("batch: 2", "batch: 8192").replace("prompt_tokens: 64",
                "prompt_tokens: 4096").replace("context_length: 512", "context_length: 8192"));
            assertBadInput(run("simulate", "--hardware", A100, "--workload", wide.toString(), "--phase", "prefill",
                "--out", tmp.resolve("o").toString()), "beyond the supported 16777216 rows");
        });
    }

    // ---- internal errors, messages, bench ----

    @Test
    void aBrokenInvariantIsAnInternalErrorInOneLineNotAStackTrace() {
        StringWriter err = new StringWriter();
        int code = Main.internalError(new IllegalStateException("op 2 ran below its roofline\nsecond line"),
            new PrintWriter(err, true));
        assertEquals(1, code);
        assertEquals(1, err.toString().strip().lines().count(), err.toString());
        assertTrue(err.toString().startsWith("rafter: internal error (a bug in Rafter, not in your input): "
            + "IllegalStateException: op 2 ran below its roofline -- please report it"), err.toString());
    }

    @Test
    void missingOptionsAndBadBenchArgumentsAreOneClearLine() {
        assertBadInput(run("simulate", "--hardware", A100), "missing one of --workload W or --trace T");
        assertBadInput(run("describe"), "missing --hardware H");
        assertBadInput(run("bench", "--hardware", A100, "--repeats", "0"), "--repeats: expected 1..1000, got 0");
        assertBadInput(run("describe", "--hardware", A100, "--set", "clock_mhz=" + "1".repeat(5000)),
            "at most 1000 characters");
    }

    // ---- the output folder ----

    private static String[] simulate(Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("simulate", "--hardware", A100, "--trace", SMALL, "--out",
            out.toString()));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    @Test
    void outThatIsASymlinkToAFileAFifoOrADeviceIsRefusedAndTheTargetUntouched() throws Exception {
        Path target = write("precious.txt", "keep me");
        Path link = tmp.resolve("link");
        Files.createSymbolicLink(link, target);
        assertBadInput(run(simulate(link)), "is a link, expected a directory");
        assertEquals("keep me", Files.readString(target));
        assertTrue(Files.isSymbolicLink(link));
        assertBadInput(run("lower", "--workload", "models/workloads/tiny.yaml", "--out", link.toString()),
            "is a link, not a file Rafter wrote");
        assertEquals("keep me", Files.readString(target));
        assertBadInput(run(simulate(target)), "precious.txt: is a file, expected a directory");
        assertBadInput(run(simulate(Path.of("/dev/null"))), "/dev/null: is a pipe, device or socket");
        assertBadInput(run("lower", "--workload", "models/workloads/tiny.yaml", "--out", "/dev/null"),
            "/dev/null: is a pipe, device or socket");
        Path fifo = mkfifo("out.fifo");
        assertBadInput(run(simulate(fifo)), "out.fifo: is a pipe, device or socket");
        // a link where an output goes, inside the folder
        Path out = tmp.resolve("inside");
        Files.createDirectories(out);
        Files.createSymbolicLink(out.resolve("summary.json"), target);
        assertBadInput(run(simulate(out)), "summary.json is a link, not an output of Rafter");
        assertEquals("keep me", Files.readString(target));
        assertTrue(Files.isSymbolicLink(out.resolve("summary.json")));
    }

    @Test
    void aFailedRunLeavesNoStaleOutputsOfThePreviousRun() throws Exception {
        Path out = tmp.resolve("o");
        assertEquals(0, run(simulate(out, "--events", "both")).code());
        assertTrue(listing(out).containsAll(List.of("summary.json", "ops.csv", "events.csv", "trace.json")));
        Path bad = write("bad.csv", "op_id,name,kind,phase,layer,step,batch,m,n,k,elements,data_type,deps\n"
            + "0,g,gemm,prefill,0,0,1,64,64,64,0,fp16,\n1,g,gemm,prefill,0,0,1,64,64,x,0,fp16,\n");
        assertBadInput(run("simulate", "--hardware", A100, "--trace", bad.toString(), "--out", out.toString(),
            "--events", "both"), "bad.csv:3");
        assertEquals(List.of(), listing(out), "neither partial nor stale outputs");
    }

    @Test
    void aRunWithoutEventsRemovesOldEventFilesAndMovesTheSummaryInLast() throws Exception {
        Path out = tmp.resolve("o");
        assertEquals(0, run(simulate(out, "--events", "both")).code());
        Files.writeString(out.resolve("notes.txt"), "mine");
        assertEquals(0, run(simulate(out)).code());
        assertEquals(List.of("notes.txt", "ops.csv", "power.png", "stalls.png", "summary.json"), listing(out));
        assertTrue(Files.getLastModifiedTime(out.resolve("summary.json")).compareTo(
            Files.getLastModifiedTime(out.resolve("ops.csv"))) >= 0);
    }

    @Test
    void staleTemporariesOfAKilledRunAreRemovedByTheNextRun() throws Exception {
        Path out = tmp.resolve("o");
        Files.createDirectories(out.resolve(".rafter-2147483646-1.staging"));
        Files.writeString(out.resolve(".rafter-2147483646-1.staging/ops.csv"), "partial");
        Files.writeString(out.resolve(".ops.csv.2147483646-3.part"), "partial");
        Files.writeString(out.resolve(".summary.json.2147483646.part"), "partial");
        assertEquals(0, run(simulate(out)).code());
        assertEquals(List.of("ops.csv", "power.png", "stalls.png", "summary.json"), listing(out));
    }

    @Test
    void sigtermMidRunLeavesNoTemporaryFile() throws Exception {
        Path out = tmp.resolve("killed");
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(javaBin, "-cp", System.getProperty("java.class.path"), "dev.rafter.cli.Main",
            "simulate", "--hardware", A100, "--workload", "models/workloads/llama3-8b.yaml", "--phase", "prefill",
            "--events", "csv", "--out", out.toString()).redirectErrorStream(true)
            .redirectOutput(tmp.resolve("log.txt").toFile()).start();
        try {
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (System.nanoTime() < deadline && !stagedEvents(out)) {
                Thread.sleep(50);
            }
            assertTrue(stagedEvents(out), "the run got going: " + Files.readString(tmp.resolve("log.txt")));
            p.destroy(); // SIGTERM
            assertTrue(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS));
        } finally {
            p.destroyForcibly();
        }
        assertEquals(List.of(), listing(out), "no staging folder, no .part file");
    }

    private static boolean stagedEvents(Path out) throws Exception {
        if (!Files.isDirectory(out)) {
            return false;
        }
        for (String name : listing(out)) {
            if (name.endsWith(".staging")) {
                try (Stream<Path> s = Files.list(out.resolve(name))) {
                    if (s.anyMatch(f -> f.getFileName().toString().startsWith(".events.csv")
                        && f.toFile().length() > 100_000)) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    @Test
    void lowerReplacesOnlyARegularFile() throws Exception {
        Path csv = tmp.resolve("t.csv");
        Files.writeString(csv, "old");
        assertEquals(0, run("lower", "--workload", "models/workloads/tiny.yaml", "--out", csv.toString()).code());
        assertTrue(Files.readString(csv).startsWith("op_id,"));
        assertTrue(Files.isRegularFile(csv, LinkOption.NOFOLLOW_LINKS));
    }
}

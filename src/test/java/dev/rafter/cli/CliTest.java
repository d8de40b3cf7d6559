package dev.rafter.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** End-to-end command lines: exit codes, one-line errors, files written. */
public class CliTest {
    @TempDir
    Path tmp;

    public record Result(int code, String err) {}

    public static Result run(String... args) {
        StringWriter err = new StringWriter();
        int code = Main.execute(args, new PrintWriter(new StringWriter(), true), new PrintWriter(err, true));
        return new Result(code, err.toString());
    }

    public static void assertBadInput(Result r, String fragment) {
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        assertTrue(r.err().contains(fragment), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace");
    }

    @Test
    void helpListsEverySubcommandAndACommandLineGetsOnlyTheOneItNames() {
        StringWriter out = new StringWriter();
        assertEquals(0, Main.execute(new String[] {"--help"}, new PrintWriter(out, true),
            new PrintWriter(new StringWriter(), true)));
        assertEquals(13, Main.COMMANDS.size());
        for (Class<?> command : Main.COMMANDS) {
            String name = Main.name(command);
            assertTrue(out.toString().contains("  " + name + " "), name + " in: " + out);
        }
        // A command line naming one subcommand gets that one only; an unknown one is still told what exists.
        assertEquals(java.util.Set.of("simulate"), Main.commandLine("simulate").getSubcommands().keySet());
        assertBadInput(run("simulat"), "'simulat' (see 'rafter --help')");
    }

    @Test
    void rooflineWritesCsvAndPng() throws Exception {
        Path out = tmp.resolve("r");
        Result r = run("roofline", "--hardware", "models/hardware/a100.yaml", "--workload",
            "models/workloads/gpt3-175b.yaml", "--phase", "prefill", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        var lines = Files.readAllLines(out.resolve("roofline.csv"));
        assertEquals("op_id,name,kind,phase,layer,step,flops,bytes,intensity,compute_s,memory_s,roofline_s,bound",
            lines.get(0));
        assertEquals(1 + 96 * 15 + 2, lines.size(), "GPT-3 prefill: 15 operators a layer (with the KV-cache write)");
        byte[] png = Files.readAllBytes(out.resolve("roofline.png"));
        assertEquals((byte) 0x89, png[0]);
        assertEquals('P', png[1]);
    }

    @Test
    void lowerThenRooflineOfTheTrace() throws Exception {
        Path trace = tmp.resolve("tiny.csv");
        assertEquals(0, run("lower", "--workload", "models/workloads/tiny.yaml", "--out", trace.toString()).code());
        assertEquals(0, run("roofline", "--hardware", "models/hardware/a100.yaml", "--trace", trace.toString(),
            "--phase", "decode").code());
    }

    @Test
    void badInputExitsTwoWithOneLine() throws Exception {
        assertBadInput(run("describe", "--hardware", "models/hardware/nope.yaml"), "nope.yaml: file not found");
        assertBadInput(run("describe", "--hardware", "models/hardware/a100.yaml", "--set", "clock_mhz=-1"),
            "clock_mhz");
        assertBadInput(run("describe", "--hardware", "models/hardware/a100.yaml", "--set", "clok_mhz=1"),
            "did you mean 'clock_mhz'");
        assertBadInput(run("describe", "--hardware", "models/hardware/a100.yaml", "--frobnicate"),
            "Unknown option");
        assertBadInput(run("roofline", "--hardware", "models/hardware/a100.yaml", "--workload",
            "models/workloads/tiny.yaml", "--phase", "warmup"), "--phase");
        Path bad = tmp.resolve("bad.yaml");
        Files.writeString(bad, "model: {name: x, layers: 2\n");
        assertBadInput(run("lower", "--workload", bad.toString(), "--out", tmp.resolve("x.csv").toString()),
            "malformed YAML");
        assertFalse(Files.exists(tmp.resolve("x.csv")));
    }

    /** Runs a command on a trace whose third line is bad, and checks it leaves no file in {@code out}. */
    public static void assertBadTraceLeavesNothing(Path dir, String... command) throws Exception {
        Path trace = dir.resolve("t.csv");
        Files.writeString(trace, "op_id,name,kind,phase,layer,step,batch,m,n,k,elements,data_type,deps\n"
            + "0,g,gemm,prefill,0,0,1,64,64,64,0,fp16,\n1,g,gemm,prefill,0,0,1,64,64,x,0,fp16,\n");
        Path out = dir.resolve("o");
        List<String> args = new java.util.ArrayList<>(List.of(command));
        args.addAll(List.of("--hardware", "models/hardware/a100.yaml", "--trace", trace.toString(), "--out",
            out.toString()));
        assertBadInput(run(args.toArray(String[]::new)), "t.csv:3: k: expected an integer, got 'x'");
        assertFalse(Files.exists(out), "no partial output left behind, nor the folder the run created");
        // Into a folder that was there: it stays, empty.
        Files.createDirectories(out);
        assertBadInput(run(args.toArray(String[]::new)), "t.csv:3: k: expected an integer, got 'x'");
        try (var files = Files.list(out)) {
            assertEquals(0, files.count(), "no partial output left behind");
        }
    }

    @Test
    void aFailedRunLeavesNoOutputFile() throws Exception {
        assertBadTraceLeavesNothing(tmp, "roofline");
    }
}

package dev.rafter.cli;

import static dev.rafter.cli.CliTest.assertBadInput;
import static dev.rafter.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.rafter.config.Numbers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reproducers of an adversarial pass over every command's inputs: each was accepted, mislabelled or reported on the
 * wrong line before its fix.
 */
class BadInputPassTest {
    static final String A100 = HardeningTest.A100;
    static final String SMALL = HardeningTest.SMALL;
    static final String TINY = "models/workloads/tiny.yaml";
    static final String HEADER = "op_id,name,kind,phase,layer,step,batch,m,n,k,elements,data_type,deps";

    @TempDir
    Path tmp;

    private Path write(String name, String text) throws Exception {
        Path f = tmp.resolve(name);
        Files.writeString(f, text);
        return f;
    }

    private String out(String name) {
        return tmp.resolve(name).toString();
    }

    // ---- YAML values ----

    @Test
    void aKeyWrittenWithNoValueIsSaidToBeEmptyNotMissingOrMisspelt() throws Exception {
        Path f = write("empty-value.yaml", HardeningTest.a100Text().replaceFirst("cores: 108[^\n]*", "cores:"));
        assertBadInput(run("describe", "--hardware", f.toString()), "empty-value.yaml: cores: has no value (empty or"
            + " null); expected one");
        CliTest.Result r = run("describe", "--hardware", A100, "--set", "clock_mhz=null");
        assertBadInput(r, "clock_mhz: has no value");
        assertFalse(r.err().contains("misspelt"), r.err());
    }

    @Test
    void yamlsSpecialFloatsInAFileAreNotFiniteNumbersNotMalformedYaml() throws Exception {
        for (String special : new String[] {".nan", ".inf", "-.inf"}) {
            Path f = write("special.yaml", HardeningTest.a100Text().replaceFirst("cores: 108", "cores: " + special));
            CliTest.Result r = run("describe", "--hardware", f.toString());
            assertBadInput(r, "special.yaml:");
            assertBadInput(r, "'" + special + "' is not a finite number; expected a decimal such as 1.5");
        }
    }

    @Test
    void yamlWordsAreNotTakenForANumberWithAUnit() {
        CliTest.Result nan = run("describe", "--hardware", A100, "--set", "clock_mhz=.nan");
        assertBadInput(nan, "clock_mhz: expected a number, got '.nan'");
        assertFalse(nan.err().contains("unit"), nan.err());
        assertBadInput(run("describe", "--hardware", A100, "--set", "clock_mhz=1410MHz"),
            "got '1410MHz' (write the bare number; the unit is in the key name)");
    }

    @Test
    void aGemmTileBeyondAnIntIsReportedAsWritten() throws Exception {
        Path f = write("tiles.yaml", HardeningTest.a100Text().replaceFirst("gemm_tiles: [^\n]*",
            "gemm_tiles: [[1e18, 256, 64]]"));
        CliTest.Result r = run("describe", "--hardware", f.toString());
        assertBadInput(r, "core.gemm_tiles: expected [m, n, k] triples of integers, e.g. [128, 256, 64], got [1.0E18");
        assertFalse(r.err().contains("2147483647"), r.err());
    }

    @Test
    void aSectionThatOnlyASetWroteIsBlamedOnTheSetNotTheFile() {
        // a100.yaml has no memory_tiers: the --set made one, of the wrong shape
        assertBadInput(run("describe", "--hardware", A100, "--set", "memory_tiers.x.y=1"),
            "a100.yaml (--set memory_tiers.x.y=1): memory_tiers: expected a non-empty list of mappings");
    }

    @Test
    void setCannotChangeTheFileAModelExtends() {
        // It was accepted and ignored: the base is read before --set applies.
        assertBadInput(run("describe", "--hardware", A100, "--set", "extends=h100.yaml"),
            "--set extends=h100.yaml: the file a model extends is read before --set applies");
        assertBadInput(run("sweep", "--hardware", A100, "--trace", SMALL, "--vary", "extends=h100.yaml,b200.yaml",
            "--out", out("sw")), "--vary extends=h100.yaml: the file a model extends is read before --set applies");
    }

    @Test
    void torusDimsWhoseProductOverflowsAreNotSaidToHoldZeroDevices() throws Exception {
        Path tpu = Path.of("models/hardware/tpuv3.yaml").toAbsolutePath();
        Path f = write("torus.yaml", "name: t\ndevices:\n  - {name: tpu, hardware: " + tpu + ", count: 16}\n"
            + "fabric:\n  kind: torus\n  dims: [4096, 4096, 4096, 4096, 4096, 4096]\n"
            + "  link: {bandwidth_gb_per_s: 45, latency_ns: 0, pj_per_bit: 1.3}\n");
        assertBadInput(run("collective", "--system", f.toString(), "--bytes", "1KiB"),
            "fabric.dims: [4096, 4096, 4096, 4096, 4096, 4096] holds 2^48 or more devices, but the system has 16");
    }

    @Test
    void aCostFileWithALifetimeOfZeroIsRefusedNotBilledInfinitely() throws Exception {
        // It printed "Infinity g CO2e (..., embodied Infinity g)" and wrote it to summary.json.
        Path f = write("cost.yaml", Files.readString(Path.of("models/cost/cloud-2026.yaml"))
            .replaceFirst("lifetime: 5 years", "lifetime: 0 years"));
        assertBadInput(run("simulate", "--hardware", A100, "--trace", SMALL, "--cost", f.toString(), "--out",
            out("c")), "cost.yaml: devices.a100-like.lifetime: expected a service life > 0");
    }

    // ---- numbers in text: decimals only ----

    @Test
    void decimalsOnlyNotJavasTypeSuffixesOrHexadecimal() {
        assertEquals(1000, Numbers.parseDouble("1e3"));
        assertEquals(0.5, Numbers.parseDouble(" .5 "));
        assertEquals(5, Numbers.parseDouble("5."));
        assertEquals(-2.5e-3, Numbers.parseDouble("-2.5E-3"));
        assertEquals(5, Numbers.parseDouble("+5"));
        assertEquals(Double.NaN, Numbers.parseDouble("NaN"));
        assertEquals(Double.NEGATIVE_INFINITY, Numbers.parseDouble("-Infinity"));
        for (String bad : new String[] {"1d", "2f", "2D", "0x1p3", "0x10", "1e", "", ".", "1 000", "\u0665"}) {
            assertThrows(NumberFormatException.class, () -> Numbers.parseDouble(bad), bad);
        }
    }

    @Test
    void numericOptionsTakeNoTypeSuffix() {
        // --duration 1d was one second, not a day
        assertBadInput(run("serve", "--hardware", A100, "--workload", TINY, "--arrivals", "poisson:10", "--duration",
            "1d", "--out", out("s1")), "Invalid value for option '--duration': '1d' is not a decimal number");
        assertBadInput(run("serve", "--hardware", A100, "--workload", TINY, "--arrivals", "poisson:1d", "--requests",
            "5", "--out", out("s2")), "--arrivals: expected poisson:RATE or gamma:RATE:CV");
        assertBadInput(run("serve", "--hardware", A100, "--workload", TINY, "--arrivals", "poisson:10", "--requests",
            "5", "--slo", "ttft=1d,tpot=1", "--out", out("s3")), "--slo: expected ttft=SECONDS,tpot=SECONDS");
    }

    @Test
    void wholeNumberOptionsTakeAsciiDigitsOnly() {
        // '--requests ٥' (an Arabic-Indic five) served 5 requests
        assertBadInput(run("serve", "--hardware", A100, "--workload", TINY, "--arrivals", "poisson:10", "--requests",
            "\u0665", "--out", out("i1")), "Invalid value for option '--requests': '\u0665' is not a long");
        assertBadInput(run("simulate", "--hardware", A100, "--workload", TINY, "--threads", "\uff12", "--out",
            out("i2")), "Invalid value for option '--threads': '\uff12' is not an int");
        assertBadInput(run("simulate", "--hardware", A100, "--workload", TINY, "--threads", "4294967298", "--out",
            out("i3")), "Invalid value for option '--threads': '4294967298' is not an int");
    }

    @Test
    void measuredTimesAndArrivalsInFilesTakeNoTypeSuffix() throws Exception {
        Path trace = write("m.csv", HEADER + ",measured_s\n0,a,gemm,prefill,0,0,1,64,64,64,0,fp16,,2f\n");
        assertBadInput(run("simulate", "--hardware", A100, "--trace", trace.toString(), "--out", out("m")),
            "m.csv:2: measured_s: expected a time in seconds, got '2f'");
        Path measured = write("measured.csv", "op_id,measured_s\n0,0x1p-10\n");
        assertBadInput(run("simulate", "--hardware", A100, "--trace", SMALL, "--measured", measured.toString(),
            "--out", out("m2")), "measured.csv:2: measured_s: expected a number, got '0x1p-10'");
        Path requests = write("r.csv", "arrival_s,prompt_tokens,output_tokens\n0,8,2\n1d,8,2\n");
        assertBadInput(run("serve", "--hardware", A100, "--workload", TINY, "--request-file", requests.toString(),
            "--out", out("r")), "r.csv:3: arrival_s '1d' is not a number of seconds");
    }

    @Test
    void aJsonLinesRequestFileTakesOneObjectALineEachKeyOnce() throws Exception {
        String ok = "{\"arrival_s\": 0, \"prompt_tokens\": 8, \"output_tokens\": 2}";
        // both were accepted: the second object dropped, the last arrival_s kept
        Path two = write("two.jsonl", ok + ok.replace("\"arrival_s\": 0", "\"arrival_s\": 1") + "\n");
        assertBadInput(run("serve", "--hardware", A100, "--workload", TINY, "--request-file", two.toString(),
            "--out", out("j1")), "two.jsonl:1: more than one JSON value on the line; expected one object per line");
        Path dup = write("dup.jsonl", ok + "\n" + ok.replace("}", ", \"arrival_s\": 3}") + "\n");
        assertBadInput(run("serve", "--hardware", A100, "--workload", TINY, "--request-file", dup.toString(),
            "--out", out("j2")), "dup.jsonl:2: duplicate key 'arrival_s' (a key may appear once per object)");
        Path fine = write("fine.jsonl", ok + "  \n");
        assertEquals(0, run("serve", "--hardware", A100, "--workload", TINY, "--request-file", fine.toString(),
            "--out", out("j3")).code());
    }

    @Test
    void aRequestFileCountsInAsciiDigits() throws Exception {
        // '\u0665' (Arabic-Indic five) was read as 5 tokens; a trace already refused it
        Path f = write("digits.csv", "arrival_s,prompt_tokens,output_tokens\n0,\u0665,2\n");
        assertBadInput(run("serve", "--hardware", A100, "--workload", TINY, "--request-file", f.toString(),
            "--out", out("d")), "digits.csv:2: prompt_tokens '\u0665' is not a whole number of tokens");
    }

    // ---- text that is not UTF-8: the line that holds the byte ----

    @Test
    void aByteThatIsNotUtf8IsReportedOnItsOwnLineInEveryCsv() throws Exception {
        StringBuilder text = new StringBuilder(HEADER + "\n");
        for (int i = 0; i < 300; i++) {
            text.append(i).append(i == 250 ? ",a\u0001X" : ",a").append(",gemm,prefill,0,0,1,64,64,64,0,fp16,\n");
        }
        // row 250 is on line 252; the byte 0xff stands where the marker was
        byte[] bytes = text.toString().replace("\u0001X", "?").getBytes(StandardCharsets.UTF_8);
        int at = text.indexOf("\u0001X");
        bytes[at] = (byte) 0xff;
        Path trace = tmp.resolve("bad-utf8.csv");
        Files.write(trace, bytes);
        assertBadInput(run("simulate", "--hardware", A100, "--trace", trace.toString(), "--out", out("u")),
            "bad-utf8.csv:252: not UTF-8 text");
        assertBadInput(run("roofline", "--hardware", A100, "--trace", trace.toString(), "--out", out("u2")),
            "bad-utf8.csv:252: not UTF-8 text");

        Path measured = tmp.resolve("measured.csv");
        Files.write(measured, new byte[] {'o', 'p', '_', 'i', 'd', ',', 'm', 'e', 'a', 's', 'u', 'r', 'e', 'd', '_',
            's', '\n', '0', ',', '1', '\n', '1', ',', (byte) 0xc3, '\n'});
        assertBadInput(run("simulate", "--hardware", A100, "--trace", SMALL, "--measured", measured.toString(),
            "--out", out("u3")), "measured.csv:3: not UTF-8 text");

        Path requests = tmp.resolve("requests.csv");
        Files.write(requests, ("arrival_s,prompt_tokens,output_tokens\n0,8,2\n1,8," + (char) 0x80 + "\n")
            .getBytes(StandardCharsets.ISO_8859_1));
        assertBadInput(run("serve", "--hardware", A100, "--workload", TINY, "--request-file", requests.toString(),
            "--out", out("u4")), "requests.csv:3: not UTF-8 text");
    }

    @Test
    void aValidationCaseTableWithAWordForANumberIsBadInputNamingItsRow() throws Exception {
        // was exit 1: "internal error (a bug in Rafter, not in your input): NumberFormatException"
        Path cases = Files.createDirectories(tmp.resolve("cases"));
        Files.createDirectories(cases.resolve("hardware"));
        Files.copy(Path.of("validation/hardware/single-array.yaml"), cases.resolve("hardware/single-array.yaml"));
        String header = Files.readAllLines(Path.of("validation/single-array.csv")).get(0);
        Files.writeString(cases.resolve("single-array.csv"), header
            + "\nos,output_stationary,32,32,1024,1024,1024,1112064,x\nws,weight_stationary,32,32,abc,1024,1024,1,x\n");
        assertBadInput(run("validate", "--cases", cases.toString(), "--out", out("v")),
            "single-array.csv:3: expected a number, got 'abc'");
        Files.writeString(cases.resolve("single-array.csv"), header
            + "\nos,output_stationary,32,32,1024,1024,1024,1d,x\n");
        assertBadInput(run("validate", "--cases", cases.toString(), "--out", out("v")),
            "single-array.csv:2: expected a number, got '1d'");
    }

    @Test
    void aCutShortSweepJsonIsReportedWithoutJacksonsSourceNotice() throws Exception {
        Path shard = Files.createDirectories(tmp.resolve("shard"));
        Files.writeString(shard.resolve("sweep.json"), "{\"sweep\": [1, 2");
        CliTest.Result r = run("sweep", "merge", shard.toString(), "--out", out("merged"));
        assertBadInput(r, "sweep.json: unreadable (Unexpected end-of-input: expected close marker for Array)");
        assertFalse(r.err().contains("Source"), r.err());
    }

    // ---- traces and options ----

    @Test
    void aNegativeOpIdIsRefusedAsNegative() throws Exception {
        Path trace = write("neg.csv", HEADER + "\n-1,a,gemm,prefill,0,0,1,64,64,64,0,fp16,\n");
        assertBadInput(run("simulate", "--hardware", A100, "--trace", trace.toString(), "--out", out("n")),
            "neg.csv:2: op_id: expected an integer >= 0, got -1");
    }

    @Test
    void collectiveBytesThatSplitIntoNoSizesIsRefused() {
        // '--bytes ,' printed an empty table and exit 0
        assertBadInput(run("collective", "--system", "models/systems/dgx-a100-8.yaml", "--bytes", ","),
            "--bytes: expected at least one size");
    }

    @Test
    void aKinetoEventWithAListOrObjectWhereAStringBelongsIsPassedOverWhole() throws Exception {
        String mm = "{\"ph\": \"X\", \"cat\": \"cpu_op\", \"name\": \"aten::mm\", \"ts\": 0, \"dur\": 10, \"pid\": 1,"
            + " \"tid\": 1, \"args\": {\"Input Dims\": [[8, 8], [8, 8]], \"Input type\": [\"float\", \"float\"]}}";
        String[] odd = {
            "{\"ph\": [\"X\"], \"cat\": \"cpu_op\", \"name\": \"x\", \"ts\": 0, \"dur\": 1}",
            "{\"ph\": \"X\", \"cat\": {\"a\": [1, 2]}, \"name\": \"x\", \"ts\": 0, \"dur\": 1}",
            "{\"ph\": \"X\", \"cat\": \"cpu_op\", \"name\": [\"aten::mm\", 2], \"ts\": 0, \"dur\": 1}",
            mm.replace("{\"Input Dims\"", "{\"stream\": [7], \"dtype\": {\"a\": 1}, \"Collective name\": [\"x\"],"
                + " \"Input Dims\""),
        };
        for (int i = 0; i < odd.length; i++) {
            Path f = write("odd" + i + ".json", "{\"traceEvents\": [" + odd[i] + ", " + mm + "]}");
            CliTest.Result r = run("import", f.toString(), "--out", out("odd" + i + ".csv"));
            // was: "truncated: the JSON ends at byte ...; the file is cut short"
            assertEquals(0, r.code(), odd[i] + ": " + r.err());
        }
    }
}

package dev.rafter.workload;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.config.InputException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TraceCsvTest {
    @TempDir
    Path tmp;

    @Test
    void lowerThenReadGivesTheSameOperators() throws Exception {
        Workload w = Workload.load(Path.of("models/workloads/tiny.yaml"));
        List<Operator> lowered = new ArrayList<>();
        StringWriter sw = new StringWriter();
        TraceCsv.writeHeader(sw);
        Lowering.lower(w, EnumSet.allOf(Phase.class), op -> {
            lowered.add(op);
            try {
                TraceCsv.writeRow(sw, op);
            } catch (java.io.IOException e) {
                throw new RuntimeException(e);
            }
        });
        Path f = tmp.resolve("t.csv");
        Files.writeString(f, sw.toString());
        List<Operator> read = new ArrayList<>();
        TraceCsv.read(f, read::add);
        assertEquals(lowered.size(), read.size());
        for (int i = 0; i < read.size(); i++) {
            Operator a = lowered.get(i);
            Operator b = read.get(i);
            assertEquals(a.flops(), b.flops());
            assertEquals(a.minBytes(), b.minBytes());
            assertEquals(a.name(), b.name());
            assertArrayEquals(a.deps(), b.deps());
            assertEquals(a.m(), b.m());
            assertEquals(a.n(), b.n());
            assertEquals(a.elements(), b.elements());
        }
        Operator norm = read.get(0);
        assertEquals(OpKind.RMSNORM, norm.kind());
        assertTrue(norm.hasRowShape() && norm.m() * norm.n() == norm.elements(), "lower writes the row shape");
    }

    @Test
    void flashAttentionMaskAndOperandTypesRoundTripAndOldHeadersStillRead() throws Exception {
        Operator flash = Operator.flashAttention(0, "attention", Phase.PREFILL, 0, 0, 64, 4096, 1024, 128, 1024, true,
            dev.rafter.hw.DataType.BF16, dev.rafter.hw.DataType.FP8);
        Operator gemm = Operator.gemm(1, "ffn_up", Phase.PREFILL, 0, 0, 1, 8, 4096, 4096,
            dev.rafter.hw.DataType.BF16, dev.rafter.hw.DataType.INT8);
        StringWriter sw = new StringWriter();
        TraceCsv.writeHeader(sw);
        TraceCsv.writeRow(sw, flash);
        TraceCsv.writeRow(sw, gemm);
        assertTrue(sw.toString().startsWith(TraceCsv.HEADER + ",mask,b_data_type\n"), sw.toString());
        assertTrue(sw.toString().contains(",flash_attention,") && sw.toString().contains(",causal,fp8\n"));
        List<Operator> read = readText(sw.toString());
        assertEquals(OpKind.FLASH_ATTENTION, read.get(0).kind());
        assertTrue(read.get(0).causal());
        assertEquals(dev.rafter.hw.DataType.FP8, read.get(0).operandBType());
        assertEquals(flash.flops(), read.get(0).flops());
        assertEquals(flash.minBytes(), read.get(0).minBytes());
        assertEquals(dev.rafter.hw.DataType.INT8, read.get(1).operandBType());
        // A trace of the old header: no mask, B operands in data_type.
        Operator old = readText(TraceCsv.HEADER + "\n0,att,attention,prefill,0,0,64,4096,1024,128,,bf16,\n").get(0);
        assertTrue(!old.causal() && old.operandBType() == old.dataType());
        String bad = TraceCsv.WRITTEN_HEADER + "\n0,g,gemm,prefill,0,0,1,8,8,8,,bf16,,causal,\n";
        InputException e = assertThrows(InputException.class, () -> readText(bad));
        assertTrue(e.getMessage().contains("mask: causal applies to attention and flash_attention only"),
            e.getMessage());
    }

    @Test
    void anImportedGemmsKernelRoundTripsAndABadKernelCellIsNamed() throws Exception {
        // The wmma kernel of traces/kineto/bert-small-uncased-h100.json.gz: tile 32x32x128, 2 stages.
        GemmKernel wmma = GemmKernel.fromName("cutlass_80_wmma_tensorop_bf16_s161616gemm_bf16_32x32_128x2_tn_align8");
        Operator gemm = Operator.gemm(6, "aten::addmm", Phase.PREFILL, -1, 0, 1, 141, 512, 512,
            dev.rafter.hw.DataType.BF16).withKernel(wmma);
        StringWriter sw = new StringWriter();
        TraceCsv.writeHeaderWithMeasured(sw);
        TraceCsv.writeRow(sw, gemm, 5.824e-6);
        assertTrue(sw.toString().startsWith(TraceCsv.WRITTEN_HEADER + ",kernel,measured_s\n"), sw.toString());
        Operator back = readText(sw.toString()).get(0);
        assertEquals(wmma, back.kernel());
        assertEquals(2, back.kernel().stages());
        String notGemm = TraceCsv.HEADER + ",kernel\n0,s,softmax,prefill,0,0,1,8,8,,64,bf16,," + wmma.name() + "\n";
        assertTrue(assertThrows(InputException.class, () -> readText(notGemm)).getMessage()
            .contains("kernel: only a gemm names the kernel that ran it, not softmax"));
        String unknown = TraceCsv.HEADER + ",kernel\n0,g,gemm,prefill,0,0,1,8,8,8,,bf16,,nvjet_tst_64x8\n";
        assertTrue(assertThrows(InputException.class, () -> readText(unknown)).getMessage()
            .contains("got 'nvjet_tst_64x8'"));
    }

    @Test
    void groupedGemmWritesEachGroupsRowsAndReadsThemBack() throws Exception {
        Operator grouped = Operator.groupedGemm(0, "experts_w13", Phase.DECODE, 3, 2, new long[] {3, 5, 1}, 256,
            128, dev.rafter.hw.DataType.BF16, dev.rafter.hw.DataType.FP8);
        StringWriter sw = new StringWriter();
        TraceCsv.writeHeader(sw);
        TraceCsv.writeRow(sw, grouped);
        assertTrue(sw.toString().contains("\n0,experts_w13,grouped_gemm,decode,3,2,3,3;5;1,256,128,0,bf16,,,fp8\n"),
            sw.toString());
        Operator back = readText(sw.toString()).get(0);
        assertEquals(grouped.shape(), back.shape());
        assertEquals(2.0 * 9 * 256 * 128, back.flops(), 0);
    }

    @Test
    void groupedGemmRowsAreCheckedNamingTheCell() throws Exception {
        String f = tmp.resolve("bad.csv").toString();
        assertEquals(f + ":3: m: a grouped_gemm gives each of its batch (3) groups' rows, ';'-separated (e.g. 3;5;1),"
            + " got '3;5'", bad("1,e,grouped_gemm,decode,0,1,3,3;5,256,128,,bf16,"));
        assertEquals(f + ":3: m: group 1 of the grouped_gemm expected rows from 1 to 16777216, got '0'",
            bad("1,e,grouped_gemm,decode,0,1,2,3;0,256,128,,bf16,"));
        assertEquals(f + ":3: m: group 0 of the grouped_gemm expected rows from 1 to 16777216, got 'x'",
            bad("1,e,grouped_gemm,decode,0,1,2,x;4,256,128,,bf16,"));
        assertEquals(f + ":3: elements: does not apply to kind grouped_gemm (its size is batch, m, n, k); expected it"
            + " empty or 0, got 8", bad("1,e,grouped_gemm,decode,0,1,2,3;4,256,128,8,bf16,"));
        assertEquals(f + ":3: n: must be > 0 for kind grouped_gemm", bad("1,e,grouped_gemm,decode,0,1,2,3;4,,128,,bf16,"));
    }

    private List<Operator> readText(String text) throws Exception {
        Path f = tmp.resolve("ok.csv");
        Files.write(f, text.getBytes(StandardCharsets.UTF_8));
        List<Operator> ops = new ArrayList<>();
        TraceCsv.read(f, ops::add);
        return ops;
    }

    @Test
    void byteOrderMarkAndCrlfAreAccepted() throws Exception {
        String rows = "0,g,gemm,prefill,0,0,1,8,8,8,0,fp16,\n1,s,softmax,prefill,0,0,0,4,16,0,64,fp16,0\n";
        for (String text : new String[] {
            "\uFEFF" + TraceCsv.HEADER + "\r\n" + rows.replace("\n", "\r\n"),   // Excel on Windows
            "\uFEFF" + TraceCsv.HEADER + "\n" + rows,                            // BOM, LF
            TraceCsv.HEADER + "\r\n" + rows.replace("\n", "\r\n"),             // CRLF, no BOM
            TraceCsv.HEADER + "\r\n" + rows.replace("\n", "\r\n").strip()}) {  // no final line end
            List<Operator> ops = readText(text);
            assertEquals(2, ops.size(), text);
            assertEquals(64, ops.get(1).elements());
            assertArrayEquals(new long[] {0}, ops.get(1).deps(), "no CR left in the last cell");
        }
    }

    @Test
    void cellsThatDoNotApplyToTheKindMayBeEmpty() throws Exception {
        List<Operator> ops = readText(TraceCsv.HEADER + "\n"
            + "0,g,gemm,prefill,0,0,1,8,16,32,,fp16,\n"
            + "1,add,elementwise,prefill,0,0,,,,,1000,fp16,\n"
            + "2,s,softmax,prefill,0,0,,4,16,,,fp16,\n"
            + "3,ar,all_reduce,prefill,0,0,,,4,,1000,fp16,\n"
            + "4,n,layernorm,prefill,0,0,0,8,16,0,128,fp16,\n");
        assertEquals(2.0 * 8 * 16 * 32, ops.get(0).flops());
        assertEquals(1000, ops.get(1).elements());
        assertEquals(false, ops.get(1).hasRowShape(), "elements alone: a pure elementwise op");
        assertEquals(64, ops.get(2).elements(), "m x n when elements is left empty");
        assertEquals(4, ops.get(2).m());
        assertEquals(4, ops.get(3).n());
        assertEquals(128, ops.get(4).elements());
    }

    @Test
    void oldTracesWithElementsAloneForVectorKindsStillLoad() throws Exception {
        List<Operator> ops = readText(TraceCsv.HEADER + "\n0,attn_norm,rmsnorm,prefill,0,0,0,0,0,0,33554432,bf16,\n"
            + "1,attn_softmax,softmax,prefill,0,0,0,0,0,0,1048576,bf16,\n");
        assertEquals(33554432, ops.get(0).elements());
        assertEquals(false, ops.get(1).hasRowShape());
        assertEquals(5.0 * 1048576, ops.get(1).flops());
    }

    @Test
    void theHeaderIsReadByNameInAnyOrderAndAnUnknownColumnIsNamed() throws Exception {
        List<Operator> ops = readText("deps,op_id,name,kind,phase,layer,step,batch,m,n,k,elements,data_type\n"
            + ",0,g,gemm,prefill,0,0,1,8,16,32,,fp16\n");
        assertEquals(16, ops.get(0).n());
        Path f = tmp.resolve("h.csv");
        Files.writeString(f, TraceCsv.HEADER + ",measured_x\n");
        assertTrue(assertThrows(InputException.class, () -> TraceCsv.read(f, op -> { })).getMessage()
            .endsWith(":1: expected the header '" + TraceCsv.HEADER + "': unknown column 'measured_x'"));
        Files.writeString(f, TraceCsv.HEADER.replace(",deps", "") + "\n");
        assertTrue(assertThrows(InputException.class, () -> TraceCsv.read(f, op -> { })).getMessage()
            .endsWith("column 'deps' is missing"));
        Files.writeString(f, TraceCsv.HEADER + ",m\n");
        assertTrue(assertThrows(InputException.class, () -> TraceCsv.read(f, op -> { })).getMessage()
            .endsWith("column 'm' appears twice"));
    }

    @Test
    void vectorRowShapeMustAgreeWithElements() throws Exception {
        String f = tmp.resolve("bad.csv").toString();
        assertEquals(f + ":3: elements: 100 disagrees with m x n = 8 x 16 = 128",
            bad("1,s,softmax,prefill,0,0,0,8,16,0,100,fp16,"));
        assertTrue(bad("1,s,softmax,prefill,0,0,0,8,,0,128,fp16,").contains(":3: n: a vector op's row shape needs"));
        assertTrue(bad("1,s,softmax,prefill,0,0,,,,,,fp16,").contains(":3: elements: must be > 0 for kind softmax"));
        assertTrue(bad("1,s,softmax,prefill,0,0,0,17592186044416,16,0,,fp16,").contains(":3: m: 17592186044416 rows"));
    }

    @Test
    void controlCharactersLongLinesAndBadDependenciesAreRejectedNamingLineAndColumn() throws Exception {
        String f = tmp.resolve("bad.csv").toString();
        assertEquals(f + ":3: name: contains a NUL byte", bad("1,g\0,gemm,prefill,0,0,1,8,8,8,0,fp16,"));
        assertEquals(f + ":3: deps: contains a control character (U+0007)",
            bad("1,g,gemm,prefill,0,0,1,8,8,8,0,fp16,0\u0007"));
        assertEquals(f + ":3: line longer than " + TraceCsv.MAX_LINE_CHARS + " characters (is this a trace CSV?)",
            bad("1,g,gemm,prefill,0,0,1,8,8,8,0,fp16," + "0;".repeat(TraceCsv.MAX_LINE_CHARS)));
        Path gap = tmp.resolve("gap.csv");
        Files.writeString(gap, TraceCsv.HEADER + "\n0,g,gemm,prefill,0,0,1,8,8,8,0,fp16,\n"
            + "5,g,gemm,prefill,0,0,1,8,8,8,0,fp16,0\n6,g,gemm,prefill,0,0,1,8,8,8,0,fp16,3\n");
        assertEquals(gap + ":4: deps: op 3 is not an op of this trace",
            assertThrows(InputException.class, () -> TraceCsv.read(gap, op -> { })).getMessage());
        assertEquals(f + ":3: deps: op 1 is not an earlier op of this trace",
            bad("1,g,gemm,prefill,0,0,1,8,8,8,0,fp16,1"));
        Path zeros = tmp.resolve("zeros.csv");
        Files.write(zeros, new byte[3 << 20]);
        assertTrue(assertThrows(InputException.class, () -> TraceCsv.read(zeros, op -> { })).getMessage()
            .startsWith(zeros + ":1: line longer than"), "a binary file fails fast");
    }

    @Test
    void aRowShapeMismatchIsExitCodeTwoOnTheCommandLine() throws Exception {
        Path trace = tmp.resolve("t.csv");
        Files.writeString(trace, "\uFEFF" + TraceCsv.HEADER + "\r\n0,s,softmax,prefill,0,0,,8,16,,100,fp16,\r\n");
        dev.rafter.cli.CliTest.assertBadInput(dev.rafter.cli.CliTest.run("roofline", "--hardware",
            "models/hardware/a100.yaml", "--trace", trace.toString(), "--out", tmp.resolve("o").toString()),
            "t.csv:2: elements: 100 disagrees with m x n = 8 x 16 = 128");
    }

    private String bad(String row) throws Exception {
        Path f = tmp.resolve("bad.csv");
        Files.writeString(f, TraceCsv.HEADER + "\n0,g,gemm,prefill,0,0,1,8,8,8,0,fp16,\n" + row + "\n");
        return assertThrows(InputException.class, () -> TraceCsv.read(f, op -> { })).getMessage();
    }

    @Test
    void looseRowsAreRejectedNamingTheLine() throws Exception {
        String f = tmp.resolve("bad.csv").toString();
        assertEquals(f + ":3: deps: expected ';'-separated op ids, got '0;;'",
            bad("1,g,gemm,prefill,0,0,1,8,8,8,0,fp16,0;;"));
        assertEquals(f + ":3: elements: does not apply to kind gemm (its size is batch, m, n, k); expected it empty"
            + " or 0, got 64", bad("1,g,gemm,prefill,0,0,1,8,8,8,64,fp16,"));
        assertEquals(f + ":3: step: a prefill operator has step 0 (step numbers decode steps), got 3",
            bad("1,g,gemm,prefill,0,3,1,8,8,8,0,fp16,"));
        // U+FF18 FULLWIDTH DIGIT EIGHT and U+0668 ARABIC-INDIC DIGIT EIGHT: digits to Character.digit, not to a CSV.
        assertEquals(f + ":3: m: expected an integer, got '\uFF18'", bad("1,g,gemm,prefill,0,0,1,\uFF18,8,8,0,fp16,"));
        assertEquals(f + ":3: op_id: expected an integer, got '\u0661'",
            bad("\u0661,g,gemm,prefill,0,0,1,8,8,8,0,fp16,"));
        assertEquals(f + ":3: deps: expected ';'-separated op ids, got '\u0660'",
            bad("1,g,gemm,prefill,0,0,1,8,8,8,0,fp16,\u0660"));
    }

    @Test
    void quotedCellsAreReadAndAMalformedQuoteNamesTheLine() throws Exception {
        Path f = tmp.resolve("quoted.csv");
        Files.writeString(f, TraceCsv.HEADER + "\n0,\"a, \"\"b\"\"\nc\",gemm,prefill,0,0,1,8,8,8,0,fp16,\n"
            + "1,\"plain\",gemm,prefill,0,0,1,8,8,8,0,fp16,0\n");
        java.util.List<String> names = new java.util.ArrayList<>();
        TraceCsv.read(f, op -> names.add(op.name()));
        assertEquals(java.util.List.of("a, \"b\"\nc", "plain"), names);
        assertTrue(bad("1,\"g\"x,gemm,prefill,0,0,1,8,8,8,0,fp16,").startsWith(tmp.resolve("bad.csv")
            + ":3: malformed quoted field"));
    }

    @Test
    void badLinesNameFileLineAndColumn() throws Exception {
        String f = tmp.resolve("bad.csv").toString();
        assertEquals(f + ":3: m: expected an integer, got 'x'", bad("1,g,gemm,prefill,0,0,1,x,8,8,0,fp16,"));
        assertTrue(bad("1,g,matmul,prefill,0,0,1,8,8,8,0,fp16,").startsWith(f + ":3: kind: expected one of gemm"));
        assertTrue(bad("1,g,gemm,prefill,0,0,1,0,8,8,0,fp16,").contains(":3: m: must be > 0 for kind gemm"));
        assertTrue(bad("1,g,gemm,prefill,0,0,1,8,8").contains(":3: expected 13 comma-separated columns"));
        assertTrue(bad("0,g,gemm,prefill,0,0,1,8,8,8,0,fp16,").contains(":3: op_id: ids must increase"));
        assertTrue(bad("1,s,softmax,prefill,0,0,0,0,0,0,0,fp16,").contains("elements: must be > 0"));
        assertTrue(bad("1,g,gemm,prefill,0,0,1,8,8,8,0,fp16,7").contains("deps: op 7 is not an earlier op"));
        assertTrue(bad("1,g,gemm,prefill,0,0,1,8,8,8,0,fp13,").contains("data_type: expected one of"));
        assertTrue(bad("1,g,gemm,prefill,0,0,1,8,8,99999999999,0,fp16,").contains("k: 99999999999 is beyond"));
        assertTrue(bad("1,g,gemm,prefill,0,0,1,8,8,-8,0,fp16,").contains("k: expected an integer >= 0, got -8"));
    }

    @Test
    void headerAndEmptinessAreChecked() throws Exception {
        Path f = tmp.resolve("h.csv");
        Files.writeString(f, "id,name\n");
        assertTrue(assertThrows(InputException.class, () -> TraceCsv.read(f, op -> { })).getMessage()
            .startsWith(f + ":1: expected the header"));
        Files.writeString(f, TraceCsv.HEADER + "\n");
        assertTrue(assertThrows(InputException.class, () -> TraceCsv.read(f, op -> { })).getMessage()
            .contains("no operators"));
    }
}

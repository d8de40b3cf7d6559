package dev.rafter.cli;

import static dev.rafter.cli.CliTest.assertBadInput;
import static dev.rafter.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code import} of a Kineto trace whose ops cannot become operators: exit 2 naming the event, never a 0-op CSV. */
class ImportBadInputTest {
    @TempDir
    Path tmp;

    private Path trace(String name, String args) throws Exception {
        Path f = tmp.resolve(name);
        Files.writeString(f, "{\"traceEvents\": [{\"ph\": \"X\", \"cat\": \"cpu_op\", \"name\": \"aten::mm\", \"ts\": 0,"
            + " \"dur\": 10, \"pid\": 1, \"tid\": 1" + (args == null ? "" : ", \"args\": " + args) + "}]}");
        return f;
    }

    private void assertRefused(Path in, String fragment) {
        Path out = tmp.resolve(in.getFileName() + ".csv");
        assertBadInput(run("import", in.toString(), "--out", out.toString()), fragment);
        assertFalse(Files.exists(out), "no CSV written");
    }

    @Test
    void opsWithoutArgsWithArgsOfTheWrongTypeOrHugeShapesAreRefusedNamingTheEvent() throws Exception {
        assertRefused(trace("noargs.json", null), "noargs.json: no op could be imported as an operator; the first,"
            + " traceEvents[0] (aten::mm): no 'Input Dims'");
        assertRefused(trace("list.json", "[1, 2]"), "list.json: no op could be imported as an operator; the first,"
            + " traceEvents[0] (aten::mm)");
        assertRefused(trace("dims.json", "{\"Input Dims\": \"8x8\", \"Input type\": [\"float\", \"float\"]}"),
            "dims.json: traceEvents[0]: 'Input Dims' must be a list of shapes");
        assertRefused(trace("types.json", "{\"Input Dims\": [[8, 8], [8, 8]], \"Input type\": [1, 2]}"),
            "types.json: traceEvents[0]: aten::mm: unknown dtype '1'");
        // 2^40 rows: beyond what Rafter simulates
        assertRefused(trace("huge.json", "{\"Input Dims\": [[1099511627776, 16], [16, 32]], \"Input type\":"
            + " [\"float\", \"float\"]}"), "huge.json: no op could be imported as an operator; the first,"
            + " traceEvents[0] (aten::mm): sizes beyond Rafter's bounds");
    }

    @Test
    void aKernelTheNameTableKnowsLaunchedWithAnImpossibleGridIsRefusedNamingTheEvent() throws Exception {
        Path f = tmp.resolve("grid.json");
        Files.writeString(f, "{\"traceEvents\": [{\"ph\": \"X\", \"cat\": \"cpu_op\", \"name\": \"aten::mm\","
            + " \"ts\": 0, \"dur\": 10, \"pid\": 1, \"tid\": 1, \"args\": {\"Input Dims\": [[8, 8], [8, 8]],"
            + " \"Input type\": [\"float\", \"float\"]}},\n{\"ph\": \"X\", \"cat\": \"kernel\", \"name\":"
            + " \"Cijk_Alik_Bljk_BBS_BH_MT64x32x256_MI16x16x1_SN\", \"ts\": 40, \"dur\": 2, \"pid\": 0, \"tid\": 7,"
            + " \"args\": {\"grid\": [0, 1, 1], \"block\": [256, 1, 1]}}]}");
        assertRefused(f, "grid.json: traceEvents[1]: kernel Cijk_Alik_Bljk_BBS_BH_MT64x32x256_MI16x16x1_SN: grid and"
            + " block [0, 1, 1][256, 1, 1] launch no thread; expected dimensions of at least 1");
    }

    @Test
    void aGemmKernelWhoseNameGivesAnEmptyTileIsRefusedNamingTheEvent() throws Exception {
        Path f = tmp.resolve("tile.json");
        Files.writeString(f, "{\"traceEvents\": [{\"ph\": \"X\", \"cat\": \"cpu_op\", \"name\": \"aten::mm\","
            + " \"ts\": 0, \"dur\": 10, \"pid\": 1, \"tid\": 1, \"args\": {\"Input Dims\": [[8, 8], [8, 8]],"
            + " \"Input type\": [\"float\", \"float\"]}},\n{\"ph\": \"X\", \"cat\": \"kernel\", \"name\":"
            + " \"nvjet_sm90_tst_64x0_64x16_2x4_h_bz_bias_TNT\", \"ts\": 40, \"dur\": 2, \"pid\": 0, \"tid\": 7,"
            + " \"args\": {\"grid\": [8, 1, 1], \"block\": [384, 1, 1]}}]}");
        assertRefused(f, "tile.json: traceEvents[1]: GEMM kernel nvjet_sm90_tst_64x0_64x16_2x4_h_bz_bias_TNT: the tile"
            + " its name gives, 64x0, computes nothing; expected tile sizes of at least 1");
    }

    @Test
    void jacksonsOwnSettingsAreNotNamedInAMessage() throws Exception {
        Path deep = tmp.resolve("deep.json");
        Files.writeString(deep, "{\"traceEvents\": [{\"ph\": \"X\", \"cat\": \"cpu_op\", \"name\": \"aten::mm\","
            + " \"args\": {\"x\": " + "[".repeat(2000) + "]".repeat(2000) + "}}]}");
        CliTest.Result r = run("import", deep.toString(), "--out", tmp.resolve("d.csv").toString());
        assertBadInput(r, "deep.json: Document nesting depth (1001) exceeds the maximum allowed (1000) at byte");
        assertFalse(r.err().contains("StreamReadConstraints"), r.err());
    }

    @Test
    void aChakraTraceWithNoOpsIsRefused() throws Exception {
        byte[] et = GeneratedInputTest.chakra();
        int second = GeneratedInputTest.messageStarts(et).stream().filter(s -> s > 0).min(Integer::compare)
            .orElseThrow();
        Path metadataOnly = tmp.resolve("metadata-only.et");
        Files.write(metadataOnly, java.util.Arrays.copyOf(et, second));
        assertRefused(metadataOnly, "metadata-only.et: no op could be imported as an operator: the trace holds no"
            + " ops");
    }
}

package dev.rafter.workload;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.config.InputException;
import java.io.StringWriter;
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
        }
    }

    private String bad(String row) throws Exception {
        Path f = tmp.resolve("bad.csv");
        Files.writeString(f, TraceCsv.HEADER + "\n0,g,gemm,prefill,0,0,1,8,8,8,0,fp16,\n" + row + "\n");
        return assertThrows(InputException.class, () -> TraceCsv.read(f, op -> { })).getMessage();
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

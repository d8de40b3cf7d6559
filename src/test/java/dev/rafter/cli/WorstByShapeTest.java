package dev.rafter.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** compare's worst operators: one line per name and shape, with the count and the error of their total time. */
class WorstByShapeTest {
    @TempDir
    Path tmp;

    @Test
    void repeatedShapesAreOneLine() throws IOException {
        Path trace = tmp.resolve("t.csv");
        Files.writeString(trace, "op_id,name,kind,phase,layer,step,batch,m,n,k,elements,data_type,deps\n"
            + "0,proj,gemm,prefill,0,0,1,1024,1024,1024,0,fp16,\n"
            + "1,proj,gemm,prefill,1,0,1,1024,1024,1024,0,fp16,\n"
            + "2,proj,gemm,prefill,2,0,1,1024,1024,1024,0,fp16,\n"
            + "3,add,elementwise,prefill,2,0,0,0,0,0,4096,fp16,\n");
        Path measured = tmp.resolve("m.csv");
        // every measured time far below any simulated one: the three projections miss the most time together
        Files.writeString(measured, "op_id,measured_s\n0,1e-9\n1,1e-9\n2,1e-9\n3,1e-9\n");
        StringWriter out = new StringWriter();
        int code = Main.execute(new String[] {"compare", "--hardware", "models/hardware/a100.yaml", "--trace",
            trace.toString(), "--measured", measured.toString(), "--out", tmp.resolve("o").toString()},
            new PrintWriter(out, true), new PrintWriter(new StringWriter(), true));
        assertEquals(0, code, out.toString());
        List<String> lines = out.toString().lines().toList();
        int header = lines.indexOf("worst operators by shape, most time missed first (count: simulated vs measured"
            + " total time, error, first op):");
        assertTrue(header >= 0, out.toString());
        assertEquals(header + 3, lines.size(), "two groups: " + out);
        String proj = lines.get(header + 1);
        assertTrue(proj.startsWith("  proj                     gemm       1x1024x1024x1024 fp16     3 x: "), proj);
        assertTrue(proj.endsWith("(op 0)"), proj);
        String add = lines.get(header + 2);
        assertTrue(add.startsWith("  add                      elementwise 4096 fp16"), add);
        assertTrue(add.contains(" 1 x: ") && add.endsWith("(op 3)"), add);
    }
}

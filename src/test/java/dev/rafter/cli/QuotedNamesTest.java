package dev.rafter.cli;

import static dev.rafter.cli.CliTest.assertBadInput;
import static dev.rafter.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rafter.config.CsvReader;
import dev.rafter.hw.DataType;
import dev.rafter.workload.Operator;
import dev.rafter.workload.Phase;
import dev.rafter.workload.TraceCsv;
import java.io.BufferedReader;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Operator names with commas, quotes and line breaks (as profiles name them) survive the trace CSV that lower and
 * import write, and come out unchanged in ops.csv, roofline.csv, events.csv and trace.json.
 */
class QuotedNamesTest {
    private static final List<String> NAMES = List.of("gemm, with a comma", "say \"hi\"", "two\nlines",
        "back\\slash\tand tab");

    @TempDir
    Path tmp;

    @Test
    void namesRoundTripFromTheTraceToEveryOutput() throws Exception {
        Path trace = tmp.resolve("names.csv");
        try (Writer w = Files.newBufferedWriter(trace)) {
            TraceCsv.writeHeader(w);
            for (int i = 0; i < NAMES.size(); i++) {
                TraceCsv.writeRow(w, Operator.gemm(i, NAMES.get(i), Phase.PREFILL, 0, 0, 1, 64, 64, 64,
                    DataType.FP16));
            }
        }
        List<String> read = new ArrayList<>();
        TraceCsv.read(trace, op -> read.add(op.name()));
        assertEquals(NAMES, read, "the trace CSV");

        Path out = tmp.resolve("sim");
        assertEquals(0, run("simulate", "--hardware", "models/hardware/a100.yaml", "--trace", trace.toString(),
            "--events", "both", "--out", out.toString()).code());
        assertEquals(NAMES, column(out.resolve("ops.csv"), "name", null), "ops.csv");
        assertEquals(NAMES, column(out.resolve("events.csv"), "event", "operators"), "events.csv");
        List<String> slices = new ArrayList<>();
        for (JsonNode e : new ObjectMapper().readTree(out.resolve("trace.json").toFile()).get("traceEvents")) {
            if (e.path("ph").asText().equals("X") && e.path("args").has("kind")) {
                slices.add(e.path("name").asText().replaceFirst("^\\d+ prefill:", ""));
            }
        }
        assertEquals(NAMES, slices, "trace.json");

        Path roofline = tmp.resolve("roofline");
        assertEquals(0, run("roofline", "--hardware", "models/hardware/a100.yaml", "--trace", trace.toString(),
            "--out", roofline.toString()).code());
        assertEquals(NAMES, column(roofline.resolve("roofline.csv"), "name", null), "roofline.csv");
    }

    @Test
    void aMalformedQuotedFieldIsBadInputNamingTheLine() throws Exception {
        Path trace = tmp.resolve("bad.csv");
        Files.writeString(trace, TraceCsv.HEADER + "\n0,ok,gemm,prefill,0,0,1,8,8,8,0,fp16,\n"
            + "1,\"quoted\"tail,gemm,prefill,0,0,1,8,8,8,0,fp16,\n");
        assertBadInput(run("simulate", "--hardware", "models/hardware/a100.yaml", "--trace", trace.toString(),
            "--out", tmp.resolve("o").toString()), "bad.csv:3: malformed quoted field");
    }

    /** A column of a CSV by header name, from rows whose first cell is {@code firstCell} (null: every row). */
    private static List<String> column(Path csv, String name, String firstCell) throws Exception {
        try (BufferedReader r = Files.newBufferedReader(csv)) {
            CsvReader in = new CsvReader(r, csv.toString(), 1 << 20, "a CSV");
            int index = List.of(in.next().cells()).indexOf(name);
            List<String> out = new ArrayList<>();
            for (CsvReader.Row row = in.next(); row != null; row = in.next()) {
                if (firstCell == null || row.cells()[0].equals(firstCell)) {
                    out.add(row.cells()[index]);
                }
            }
            return out;
        }
    }
}

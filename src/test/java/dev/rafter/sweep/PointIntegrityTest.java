package dev.rafter.sweep;

import static dev.rafter.cli.CliTest.assertBadInput;
import static dev.rafter.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rafter.config.InputException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sweep points carry a digest of their contents; --resume and merge trust only intact ones. */
class PointIntegrityTest {
    @TempDir
    Path tmp;

    static final String POINT = "clock_mhz-1000.json";

    String[] sweep(Path out, String clocks, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("sweep", "--hardware", "models/hardware/a100.yaml",
            "--trace", "traces/gemm-small.csv", "--vary", "clock_mhz=" + clocks, "--out", out.toString()));
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }

    @Test
    void aSealedPointChecksAndAnyEditedValueIsSeen() throws Exception {
        String sealed = PointFile.seal("{\n  \"latency_s\" : 1.5E-5,\n  \"point\" : {\"clock_mhz\" : \"1000\"}\n}\n");
        ObjectMapper json = new ObjectMapper();
        assertEquals(PointFile.Verdict.INTACT, PointFile.check(json.readTree(sealed)));
        assertTrue(sealed.contains("\"digest\" : \"sha256:"), sealed);
        assertEquals(PointFile.Verdict.EDITED, PointFile.check(json.readTree(sealed.replace("1.5E-5", "1.4E-5"))));
        assertEquals(PointFile.Verdict.UNSEALED, PointFile.check(json.readTree("{\"latency_s\" : 1.5E-5}")));
        assertEquals(sealed, PointFile.seal(sealed), "sealing again gives the same file");
    }

    @Test
    void resumeRerunsAPointEditedByHandAndSetsAsidePointsOfOtherValues() throws Exception {
        Path out = tmp.resolve("s");
        assertEquals(0, run(sweep(out, "1000,1200")).code());
        Path point = out.resolve("points").resolve(POINT);
        String original = Files.readString(point);
        Files.writeString(point, original.replaceFirst("\"latency_s\" : [0-9.Ee-]+", "\"latency_s\" : 1.0E-9"));

        StringWriter log = new StringWriter();
        int code = dev.rafter.cli.Main.execute(sweep(out, "1000,1400", "--resume"), new PrintWriter(log, true),
            new PrintWriter(new StringWriter(), true));
        assertEquals(0, code, log.toString());
        assertTrue(log.toString().contains("resume: moved 1 point of other values from " + out.resolve("points")
            + " to " + out.resolve("points-previous")), log.toString());
        assertTrue(log.toString().contains("re-ran 1 edited since they were written"), log.toString());
        ObjectMapper json = new ObjectMapper();
        assertEquals(json.readTree(original).get("latency_s"), json.readTree(point.toFile()).get("latency_s"),
            "the edited point was simulated again");
        assertEquals(PointFile.Verdict.INTACT, PointFile.check(json.readTree(point.toFile())));
        assertTrue(Files.exists(out.resolve("points-previous").resolve("clock_mhz-1200.json")));
        try (var files = Files.list(out.resolve("points"))) {
            assertEquals(List.of(POINT, "clock_mhz-1400.json"),
                files.map(f -> f.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void mergeRefusesAPointEditedByHand() throws Exception {
        Path out = tmp.resolve("shard");
        assertEquals(0, run(sweep(out, "1000,1200", "--shard", "1/1")).code());
        Path point = out.resolve("points").resolve(POINT);
        Files.writeString(point, Files.readString(point).replaceFirst("\"latency_s\" : [0-9.Ee-]+",
            "\"latency_s\" : 1.0E-9"));
        assertBadInput(run("sweep", "merge", out.toString(), "--out", tmp.resolve("m").toString()),
            point + ": its contents do not match its digest (edited since the sweep wrote it)");
        assertFalse(Files.exists(tmp.resolve("m").resolve("sweep.csv")));
    }

    @Test
    void numericValuesAreComparedAsNumbersAndSetAndVaryOfOneKeyIsBadInput() {
        InputException e = assertThrows(InputException.class,
            () -> SweepPlan.parse(List.of("clock_mhz=1000,1000.0,1e3")));
        assertTrue(e.getMessage().contains("value '1000.0' is given twice (as '1000': the same number)"),
            e.getMessage());
        assertThrows(InputException.class, () -> SweepPlan.parse(List.of("clock_mhz=1e3,+1000")));
        assertEquals(2, SweepPlan.parse(List.of("core.pe_array.dataflow=ws,os")).size());
        assertEquals(2, SweepPlan.parse(List.of("clock_mhz=1000,1000.5")).size());
        assertBadInput(run(sweep(tmp.resolve("x"), "1000,1200", "--set", "clock_mhz=abc")),
            "--set clock_mhz=abc: 'clock_mhz' is also varied by --vary");
    }
}

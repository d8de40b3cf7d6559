package dev.rafter.cli;

import static dev.rafter.cli.CliTest.assertBadInput;
import static dev.rafter.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code rafter plot} from a sweep.csv, and the charts a sweep writes by itself. */
class PlotCliTest {
    @TempDir
    Path tmp;

    private static final String HEADER = "core.local_buffer.capacity_kib,clock_mhz,latency_s,prefill_latency_s,"
        + "decode_latency_s,roofline_s,energy_j,static_energy_j,dynamic_energy_j,edp_j_s,pe_util,hbm_util,ttft_s,"
        + "tpot_mean_s,tokens_per_s";

    private Path csv(String... rows) throws Exception {
        Path csv = tmp.resolve("sweep.csv");
        Files.write(csv, List.of(rows));
        return csv;
    }

    private Path good() throws Exception {
        return csv(HEADER, "16,200,0.004,,0.004,0.002,1,0.25,0.75,0.004,0.5,0.5,,0.004,2000",
            "16,1400,0.002,,0.002,0.001,0.9,0.2,0.7,0.0018,0.5,0.5,,0.002,4000",
            "64,200,0.003,,0.003,0.002,1.1,0.3,0.8,0.0033,0.5,0.5,,0.003,2600",
            "64,1400,0.001,,0.001,0.001,1.0,0.3,0.7,0.001,0.5,0.5,,0.001,8000");
    }

    @Test
    void plotRedrawsAHeatmapAndTheParetoFront() throws Exception {
        Path csv = good();
        StringWriter out = new StringWriter();
        int code = Main.execute(new String[] {"plot", csv.toString(), "--x", "core.local_buffer.capacity_kib", "--y",
            "clock_mhz", "--metric", "edp", "--pareto"}, new PrintWriter(out, true), new PrintWriter(out, true));
        assertEquals(0, code, out.toString());
        assertTrue(out.toString().contains("energy-delay product, decode: optimum 64 KiB, 1400 MHz = 1 mJ s"),
            out.toString());
        assertTrue(out.toString().contains("Pareto front of 2 of 4 points"), out.toString());
        String heatmap = "heatmap-edp-decode-x-core.local_buffer.capacity_kib-y-clock_mhz";
        for (String f : new String[] {heatmap + ".png", heatmap + ".svg", "pareto-decode.png", "pareto-decode.svg"}) {
            assertTrue(Files.size(tmp.resolve("plots").resolve(f)) > 1000, f);
        }
        assertEquals(0, run("plot", csv.toString(), "--x", "clock_mhz", "--y", "core.local_buffer.capacity_kib",
            "--metric", "latency", "--phase", "decode", "--out", tmp.resolve("elsewhere").toString()).code());
        assertTrue(Files.exists(tmp.resolve("elsewhere/heatmap-latency-decode-x-clock_mhz-y-core.local_buffer"
            + ".capacity_kib.svg")));
    }

    @Test
    void badKeysMetricsAndPhasesExitTwoNamingTheChoices() throws Exception {
        String csv = good().toString();
        assertBadInput(run("plot", csv, "--x", "clock", "--y", "clock_mhz", "--metric", "edp"),
            "--x clock: not an axis of this sweep; expected one of core.local_buffer.capacity_kib, clock_mhz");
        assertBadInput(run("plot", csv, "--x", "clock_mhz", "--y", "clock_mhz", "--metric", "edp"),
            "expected two different axes");
        assertBadInput(run("plot", csv, "--x", "clock_mhz", "--y", "core.local_buffer.capacity_kib", "--metric",
            "power"), "--metric power: expected latency, energy or edp");
        assertBadInput(run("plot", csv, "--x", "clock_mhz", "--metric", "edp"), "a heatmap needs --y KEY");
        assertBadInput(run("plot", csv), "give --x KEY --y KEY --metric latency|energy|edp for a heatmap, or --pareto");
        assertBadInput(run("plot", csv, "--pareto", "--phase", "both"), "--phase both: expected prefill or decode");
        assertBadInput(run("plot", csv, "--pareto", "--phase", "prefill"), "this sweep has only decode");
        assertBadInput(run("plot", tmp.resolve("none.csv").toString(), "--pareto"), "none.csv: file not found");
    }

    @Test
    void aMalformedCsvExitsTwoNamingTheLine() throws Exception {
        String row = "16,200,0.004,,0.004,0.002,1,0.25,0.75,0.004,0.5,0.5,,0.004,2000";
        assertBadInput(run("plot", csv(HEADER, row, "16,1400,0.002").toString(), "--pareto"),
            "sweep.csv line 3: 3 cells, expected 15 as in the header");
        assertBadInput(run("plot", csv(HEADER, row.replace(",1,0.25", ",x,0.25")).toString(), "--pareto"),
            "sweep.csv line 2: energy_j 'x' is not a finite number");
        assertBadInput(run("plot", csv("a,b,c", "1,2,3").toString(), "--pareto"), "sweep.csv line 1: no latency_s column");
        assertBadInput(run("plot", csv().toString(), "--pareto"), "sweep.csv: empty");
        assertBadInput(run("plot", csv(HEADER).toString(), "--pareto"), "sweep.csv: a header and no points");
        assertBadInput(run("plot", csv(HEADER, row, row).toString(), "--pareto"),
            "sweep.csv line 3: repeats the point of line 2");
        assertBadInput(run("plot", csv(HEADER, "," + row.substring(row.indexOf(',') + 1)).toString(), "--pareto"),
            "sweep.csv line 2: no value for axis core.local_buffer.capacity_kib");
    }

    @Test
    void aNegativeLatencyEnergyOrEdpIsRefusedNamingTheLine() throws Exception {
        String good = "16,200,0.004,,0.004,0.002,1,0.25,0.75,0.004,0.5,0.5,,0.004,2000";
        String edp = "16,1400,0.002,,0.002,0.001,0.9,0.2,0.7,-0.0018,0.5,0.5,,0.002,4000";
        assertBadInput(run("plot", csv(HEADER, good, edp).toString(), "--pareto"),
            "sweep.csv line 3: edp_j_s '-0.0018' is negative; expected a time, energy or energy-delay product >= 0");
        assertBadInput(run("plot", csv(HEADER, good.replace(",1,0.25", ",-1,0.25")).toString(), "--x",
            "clock_mhz", "--y", "core.local_buffer.capacity_kib", "--metric", "energy"),
            "sweep.csv line 2: energy_j '-1' is negative");
        assertBadInput(run("plot", csv(HEADER, good.replace("16,200,0.004", "16,200,-4e-3")).toString(),
            "--pareto"), "sweep.csv line 2: latency_s '-4e-3' is negative");
    }

    @Test
    void plotNamesPathsAsGivenNotAbsolute() throws Exception {
        // a relative path, as a user types one: the messages repeat it, not the absolute path
        Path dir = Path.of("target", "plot-paths-test");
        Files.createDirectories(dir);
        Path csv = dir.resolve("sweep.csv");
        Files.copy(good(), csv, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertEquals(0, Main.execute(new String[] {"plot", csv.toString(), "--pareto"}, new PrintWriter(out, true),
            new PrintWriter(err, true)), err.toString());
        assertTrue(out.toString().contains("wrote " + dir.resolve("plots").resolve("pareto")), out.toString());
        assertTrue(!out.toString().contains(dir.toAbsolutePath().toString()), out.toString());
        Path bad = dir.resolve("bad.csv");
        Files.writeString(bad, HEADER + "\n");
        CliTest.Result r = run("plot", bad.toString(), "--pareto");
        assertBadInput(r, bad + ": a header and no points");
        assertTrue(!r.err().contains(dir.toAbsolutePath().toString()), r.err());
    }

    @Test
    void noMessageStartsWithPicocliErrorPrefix() {
        CliTest.Result r = run("simulate", "--hardware", "models/hardware/a100.yaml", "--trace",
            "traces/gemm-small.csv", "--workload", "models/workloads/tiny.yaml", "--out", tmp.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(!r.err().contains("Error:"), r.err());
        assertTrue(r.err().contains("mutually exclusive"), r.err());
    }

    @Test
    void aSweepOfTwoAxesWritesHeatmapsAndParetoFrontsPerPhase() throws Exception {
        Path out = tmp.resolve("s");
        StringWriter log = new StringWriter();
        int code = Main.execute(new String[] {"sweep", "--hardware", "models/hardware/sram-study-45nm.yaml", "--trace",
            "traces/gemm-small.csv", "--vary", "core.local_buffer.capacity_kib=32,64", "--vary", "clock_mhz=500,1000",
            "--jobs", "2", "--out", out.toString()}, new PrintWriter(log, true), new PrintWriter(log, true));
        assertEquals(0, code, log.toString());
        for (String stem : new String[] {"heatmap-latency", "heatmap-energy", "heatmap-edp", "pareto"}) {
            for (String phase : new String[] {"", "-prefill", "-decode"}) {
                for (String ext : new String[] {".png", ".svg"}) {
                    assertTrue(Files.isRegularFile(out.resolve("plots").resolve(stem + phase + ext)), stem + phase + ext);
                }
            }
        }
        assertTrue(log.toString().contains("charts (.png and .svg) in " + out.resolve("plots")), log.toString());
        String svg = Files.readString(out.resolve("plots/heatmap-energy-decode.svg"));
        assertTrue(svg.contains("class=\"optimum overall\""));
        // a redraw of the same sweep.csv writes the whole-run heatmap with the same optimum as the sweep's own
        StringWriter redraw = new StringWriter();
        assertEquals(0, Main.execute(new String[] {"plot", out.resolve("sweep.csv").toString(), "--x",
            "core.local_buffer.capacity_kib", "--y", "clock_mhz", "--metric", "edp", "--out",
            tmp.resolve("again").toString()}, new PrintWriter(redraw, true), new PrintWriter(redraw, true)));
        String title = redraw.toString().lines().findFirst().orElse("");
        assertTrue(log.toString().contains(title), title + " in " + log);
        String axes = "-x-core.local_buffer.capacity_kib-y-clock_mhz";
        assertEquals(Files.readString(out.resolve("plots/heatmap-edp.svg")),
            Files.readString(tmp.resolve("again/heatmap-edp" + axes + ".svg")), "the redraw is the sweep's own chart");
        // and one phase's energy and EDP, from sweep.csv's per-phase columns, as the sweep drew them
        assertEquals(0, run("plot", out.resolve("sweep.csv").toString(), "--x", "core.local_buffer.capacity_kib",
            "--y", "clock_mhz", "--metric", "edp", "--phase", "decode", "--out", tmp.resolve("again").toString())
            .code());
        assertEquals(Files.readString(out.resolve("plots/heatmap-edp-decode.svg")),
            Files.readString(tmp.resolve("again/heatmap-edp-decode" + axes + ".svg")),
            "a phase's EDP redrawn from sweep.csv");
        // axes swapped, into the sweep's own plots/: a file of its own, the sweep's chart left as it was
        String own = Files.readString(out.resolve("plots/heatmap-edp.svg"));
        assertEquals(0, run("plot", out.resolve("sweep.csv").toString(), "--x", "clock_mhz", "--y",
            "core.local_buffer.capacity_kib", "--metric", "edp").code());
        assertEquals(own, Files.readString(out.resolve("plots/heatmap-edp.svg")));
        assertTrue(Files.isRegularFile(out.resolve("plots/heatmap-edp-x-clock_mhz-y-core.local_buffer.capacity_kib"
            + ".svg")));
        // every chart the sweep wrote is a PNG that decodes
        try (var pngs = Files.list(out.resolve("plots"))) {
            for (Path png : pngs.filter(f -> f.toString().endsWith(".png")).toList()) {
                assertNotNull(ImageIO.read(png.toFile()), png.toString());
            }
        }
        BufferedImage sweepPng = ImageIO.read(out.resolve("sweep.png").toFile());
        assertEquals(900, sweepPng.getWidth());
        assertEquals(3 * 360, sweepPng.getHeight(), "latency, energy and EDP");

        // plots/ taken by a file: the sweep still writes its table, and says why the charts are missing
        Path blocked = tmp.resolve("blocked");
        Files.createDirectories(blocked);
        Files.writeString(blocked.resolve("plots"), "not a folder");
        StringWriter second = new StringWriter();
        assertEquals(0, Main.execute(new String[] {"sweep", "--hardware", "models/hardware/sram-study-45nm.yaml",
            "--trace", "traces/gemm-small.csv", "--phase", "decode", "--vary", "clock_mhz=500,1000", "--jobs", "1",
            "--out", blocked.toString()}, new PrintWriter(second, true), new PrintWriter(second, true)));
        assertTrue(Files.isRegularFile(blocked.resolve("sweep.csv")));
        assertTrue(second.toString().contains("charts not written (--out " + blocked.resolve("plots")),
            second.toString());
    }
}

package dev.rafter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rafter.cli.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README as a test: every {@code ```sh} block's commands run (in-process, from the checkout root, with every
 * {@code out/...} path moved into a temporary folder), every output the README shows is compared with the real
 * output within its printed precision, and the figures the prose quotes from an output are checked against it.
 *
 * <p>Markers the README may put on the line before a block (HTML comments, invisible when rendered):
 * {@code <!-- readme: slow -->} (the block runs only in the slow set, {@code mvn -B test -Pslow}),
 * {@code <!-- readme: synopsis -->} (not run), and {@code <!-- readme: output of ./rafter ARGS [(exit N)] -->}
 * before a plain block that shows what ARGS prints: its tokens must appear in order in the real output, numbers
 * within the precision shown, a line {@code ...} standing for lines left out. Wall-clock figures are masked.
 */
class ReadmeTest {

    private static final Path README = Path.of("README.md");

    /** The suite's own command: this test runs inside it. */
    private static final String TEST_COMMAND = "mvn -B install && mvn -B -f rafter-spark/pom.xml verify";

    private static final Pattern MARKER = Pattern.compile(
        "<!-- readme: (synopsis|slow|output of (\\./rafter .*?)(?: \\(exit (\\d+)\\))?) -->");
    private static final Pattern LOOP = Pattern.compile("for (\\w+) in ([^;]+); do (.+); done");

    /** Wall-clock time and rates depend on the machine, not on the model: never compared. */
    private static final Pattern WALL_TIME = Pattern.compile(
        "\\d+(?:\\.\\d+)? s \\(\\d+(?:\\.\\d+)? [kM]? ?events/s\\)");

    /**
     * The simulator's own figures on simulate's last line: its event count, like its wall time, depends on the machine
     * (by default every core up to four simulates, and a shape simulated ahead runs on a device of its own).
     */
    private static final Pattern SIMULATOR_FIGURES = Pattern.compile("(?m)^simulator: [^\\n]*?; wrote");

    private static final Pattern TOKEN = Pattern.compile(
        "[+-]?\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?|[^\\s\\d+-]+|[+-]");
    private static final Pattern NUMBER = Pattern.compile("[+-]?\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?");

    record ShBlock(int line, List<String> lines, boolean slow) { }

    record ShownOutput(int line, String command, int exit, String text) { }

    record Readme(String text, List<ShBlock> blocks, List<ShownOutput> outputs) { }

    record Result(int exit, String output) { }

    /**
     * Figures that differ from what the commands print, collected so that one run lists them all (a README whose
     * figures moved is fixed in one pass); a test fails at its end when any were found.
     */
    private static final List<String> MISMATCHES = new ArrayList<>();

    @Test
    void fastBlocksRunAndTheirFiguresMatch(@TempDir Path sandbox) throws IOException {
        MISMATCHES.clear();
        Readme readme = parse();
        Runner runner = new Runner(sandbox);
        for (ShBlock block : readme.blocks()) {
            if (!block.slow()) {
                runner.runBlock(block);
            }
        }
        for (ShownOutput shown : readme.outputs()) {
            Result result = runner.rafter(shown.command(), shown.line(), shown.exit());
            assertShown(shown, result.output());
        }
        checkProseFigures(readme.text(), runner, sandbox);
        checkServeProse(readme.text(), runner);
        assertNoMismatches();
    }

    /** Every image the README shows is in the repository, as a PNG (a renamed or uncopied chart shows broken). */
    @Test
    void imagesItShowsExist() throws IOException {
        Matcher image = Pattern.compile("!\\[[^\\]]*\\]\\(([^)]+)\\)").matcher(Files.readString(README));
        int images = 0;
        while (image.find()) {
            Path png = Path.of(image.group(1));
            assertTrue(Files.isRegularFile(png), "README shows " + png + ", which does not exist");
            byte[] head = Arrays.copyOf(Files.readAllBytes(png), 4);
            assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, head, png + " is not a PNG");
            images++;
        }
        assertTrue(images >= 2, "README's images found: " + images);
    }

    @Test
    @Tag("slow")
    void slowBlocksRunAndTheirFiguresMatch(@TempDir Path sandbox) throws IOException {
        MISMATCHES.clear();
        Readme readme = parse();
        Runner runner = new Runner(sandbox);
        for (ShBlock block : readme.blocks()) {
            if (block.slow()) {
                runner.runBlock(block);
            }
        }
        String text = readme.text();
        String bench = runner.rafter("./rafter bench --hardware models/hardware/a100.yaml", 0, 0).output();
        Matcher pattern = find(text, "same event pattern \\(([\\d.]+) M events, (\\d+) pending");
        Matcher ran = find(bench, "event pattern: (\\d+) events, (\\d+) pending");
        assertNear(pattern.group(1), Double.parseDouble(ran.group(1)) / 1e6, "bench's event count");
        assertNear(pattern.group(2), Double.parseDouble(ran.group(2)), "bench's pending events");
        // Wall times there are history (an earlier event loop); the event counts are today's.
        Matcher gemms = find(text, ("GEMM 16384 x 9216 x 12288 on a100 took [\\d.]+ s \\([\\d.]+ M events then; "
            + "([\\d.]+) M now\\) and 8192\\^3 [\\d.]+ s \\([\\d.]+ M events then; ([\\d.]+) M now\\)")
            .replace(" ", "\\s+"));
        assertNear(gemms.group(1), eventsOf(bench, "16384 x\\s+9216 x 12288") / 1e6, "bench 16384x9216x12288");
        assertNear(gemms.group(2), eventsOf(bench, "8192 x\\s+8192 x\\s+8192") / 1e6, "bench 8192^3");

        String validate = runner.rafter("./rafter validate --out out/v", 0, 0).output();
        assertNear(find(text, "- `single-array.csv`: (\\d+) single-array GEMMs").group(1),
            count(validate, "(?m)^ok\\s+single-array "), "single-array cases");
        assertNear(find(text, "- `roofline-shapes.csv`: (\\d+) GEMMs").group(1),
            count(validate, "(?m)^ok\\s+roofline "), "roofline-shape cases");
        Matcher f1 = find(text, "\\| 1\\. [^|]+\\| decode energy rises [^(]+\\(([\\d.]+) J -> ([\\d.]+) J");
        Matcher v1 = find(validate, "findings\\s+1: .* expected ([\\d.]+)\\s+simulated ([\\d.]+)");
        assertNear(f1.group(1), Double.parseDouble(v1.group(1)), "finding 1, 32 KB");
        assertNear(f1.group(2), Double.parseDouble(v1.group(2)), "finding 1, largest buffer");
        Matcher f2 = find(text, "\\| 2\\. [^|]+\\| -(\\d+) % from 16 to 32 KB, -(\\d+) % from 64 to 256 KB");
        Matcher v2 = find(validate, "gain 16->32 KB (\\d+)%, 64 KB->256 KB (\\d+)%");
        assertEquals(v2.group(1) + " " + v2.group(2), f2.group(1) + " " + f2.group(2), "README finding 2");
        Matcher f3 = find(text, "\\| 3\\. [^|]+\\| -(\\d+) % from 200 to 600 MHz, -(\\d+) % from 1000 to 1400 MHz");
        Matcher v3 = find(validate, "gain 200->600 MHz (\\d+)%, 1000->1400 MHz (\\d+)%");
        assertEquals(v3.group(1) + " " + v3.group(2), f3.group(1) + " " + f3.group(2), "README finding 3");
        Matcher f4 = find(text, "\\| 4\\. [^|]+\\| ([\\d.]+) J at 1400 MHz vs ([\\d.]+) J at 200 MHz");
        Matcher v4 = find(validate, "findings\\s+4: .* expected ([\\d.]+)\\s+simulated ([\\d.]+)");
        assertNear(f4.group(1), Double.parseDouble(v4.group(2)), "finding 4 at 1400 MHz");
        assertNear(f4.group(2), Double.parseDouble(v4.group(1)), "finding 4 at 200 MHz");
        Matcher f5 = find(text, "\\| 5\\. [^|]+\\| (\\d+) KB at (\\d+) MHz \\|");
        Matcher v5 = find(validate, "findings\\s+5: .* simulated ([\\d.]+)\\s+KB at ([\\d.]+) MHz");
        assertNear(f5.group(1), Double.parseDouble(v5.group(1)), "finding 5 buffer");
        assertNear(f5.group(2), Double.parseDouble(v5.group(2)), "finding 5 clock");
        Matcher f6 = find(text, "\\| 6\\. [^|]+\\| (\\d+) KB at (\\d+) MHz with 8192 GB/s \\|");
        Matcher v6 = find(validate, "findings\\s+6: .* simulated ([\\d.]+)\\s+KB at ([\\d.]+) MHz");
        assertNear(f6.group(1), Double.parseDouble(v6.group(1)), "finding 6 buffer");
        assertNear(f6.group(2), Double.parseDouble(v6.group(2)), "finding 6 clock");
        checkPrimitiveTable(text, validate);
        checkMemoryStudies(text, validate);
        checkSystemsDecode(text, validate);

        checkInterconnectStudy(text, sandbox);
        checkBandwidthKnee(text, sandbox);
        checkServeHostAndInterpolation(text, runner, sandbox);

        String lowered = runner.rafter("./rafter lower --workload models/workloads/gpt3-175b.yaml --phase all "
            + "--out out/gpt3-175b.csv", 0, 0).output();
        long rows = Long.parseLong(find(lowered, ": (\\d+) operators of gpt3-175b").group(1));
        assertNear(find(text, "the full GPT-3 run\\s+\\(96 layers, 1023 decode steps\\) is ([\\d.]+) M rows").group(1),
            rows / 1e6, "rows of the full GPT-3 run");
        assertEquals(rows, Long.parseLong(find(text, "the ([\\d,]+) operators of the full run").group(1)
            .replace(",", "")), "README's operators of the full GPT-3 run");
        assertNoMismatches();
    }

    /** Small-batch decode at 1, 2 and 4 devices on PCIe and NVSwitch ("Systems of devices"), as validate prints it. */
    private static void checkSystemsDecode(String text, String validate) {
        Matcher quoted = find(text, ("Llama-3-8B at batch 1 takes ([\\d.]+) / ([\\d.]+) / ([\\d.]+) ms per step \\(NVSwitch "
            + "([\\d.]+) / ([\\d.]+) / ([\\d.]+)\\)").replace(" ", "\\s+"));
        Matcher pcie = find(validate, "decode_more_devices@pcie-4gpu .* \\(host eager\\): ([\\d.]+) / ([\\d.]+) / "
            + "([\\d.]+);");
        Matcher nvswitch = find(validate, "decode_more_devices@dgx-a100-8 .* \\(host eager\\): ([\\d.]+) / ([\\d.]+) / "
            + "([\\d.]+);");
        for (int i = 1; i <= 3; i++) {
            assertNear(quoted.group(i), Double.parseDouble(pcie.group(i)), "PCIe decode ms per step, group " + i);
            assertNear(quoted.group(3 + i), Double.parseDouble(nvswitch.group(i)), "NVSwitch decode ms, group " + i);
        }
        Matcher parts = find(text, ("the 64 all-reduces of 8 KiB take ([\\d.]+) us each at NCCL's own PCI latencies and "
            + "the host issues (\\d+) launches in ([\\d.]+) ms \\(([\\d.]+) us each\\), hidden behind the kernels; no "
            + "faster would need ([\\d.]+) ms more per step, (\\d+) us more per all-reduce or a host above ([\\d.]+) us "
            + "per launch").replace(" ", "\\s+"));
        Matcher printed = find(validate, "decode_more_devices@pcie-4gpu .* 64 collectives of ([\\d.]+) us, host "
            + "([\\d.]+) ms for (\\d+) launches \\(([\\d.]+) us each\\); no faster at 4 devices needs ([\\d.]+) ms more "
            + "per step: (\\d+) us more per collective, or a host above ([\\d.]+) us per launch");
        assertNear(parts.group(1), Double.parseDouble(printed.group(1)), "PCIe all-reduce us");
        assertNear(parts.group(2), Double.parseDouble(printed.group(3)), "PCIe launches per step");
        assertNear(parts.group(3), Double.parseDouble(printed.group(2)), "PCIe host ms per step");
        assertNear(parts.group(4), Double.parseDouble(printed.group(4)), "PCIe host us per launch");
        assertNear(parts.group(5), Double.parseDouble(printed.group(5)), "PCIe ms missing per step");
        assertNear(parts.group(6), Double.parseDouble(printed.group(6)), "PCIe us missing per all-reduce");
        assertNear(parts.group(7), Double.parseDouble(printed.group(7)), "PCIe host break-even per launch");
    }

    /** The memory-technology studies' figures in "Near-memory processing", as validate prints them. */
    private static void checkMemoryStudies(String text, String validate) {
        Matcher fc = find(text, ("layers speed up ([\\d.]+)x at batch 1, about the 4x internal-to-external ratio, "
            + "([\\d.]+)x at batch 2 and not at all from batch 4 \\(([\\d.]+)x").replace(" ", "\\s+"));
        Matcher fcRun = find(validate, "FC speed-up by batch \\(1: ([\\d.]+)x, 2: ([\\d.]+)x, 4: ([\\d.]+)x");
        for (int g = 1; g <= 3; g++) {
            assertNear(fc.group(g), Double.parseDouble(fcRun.group(g)), "study (b) FC speed-up " + g);
        }
        Matcher att = find(text, "speeds up ([\\d.]+)x at batch 1 and ([\\d.]+)x at batch 32".replace(" ", "\\s+"));
        Matcher attRun = find(validate, "attention speed-up by batch \\(1: ([\\d.]+)x, .* 32: ([\\d.]+)x\\)");
        assertNear(att.group(1), Double.parseDouble(attRun.group(1)), "study (b) attention at batch 1");
        assertNear(att.group(2), Double.parseDouble(attRun.group(2)), "study (b) attention at batch 32");
        Matcher a = find(text, ("runs on one `h100-hbf` with its weights in HBF and its KV cache in HBM: ([\\d.]+) ms "
            + "and ([\\d.]+) J per token").replace(" ", "\\s+"));
        Matcher aRun = find(validate, "runs on h100-hbf \\(weights in HBF, KV cache in HBM\\): ([\\d.]+) ms and "
            + "([\\d.]+) J per token; dgx-h100-8 with 2 devices: ([\\d.]+) ms and ([\\d.]+) J per token");
        assertNear(a.group(1), Double.parseDouble(aRun.group(1)), "study (a) HBF ms per token");
        assertNear(a.group(2), Double.parseDouble(aRun.group(2)), "study (a) HBF J per token");
        Matcher system = find(text, "against ([\\d.]+) ms and ([\\d.]+) J on two devices".replace(" ", "\\s+"));
        assertNear(system.group(1), Double.parseDouble(aRun.group(3)), "study (a) system ms per token");
        assertNear(system.group(2), Double.parseDouble(aRun.group(4)), "study (a) system J per token");
        Matcher hidden = find(text, ("hidden \\(0.1 us\\) one HBF device takes ([\\d.]+) ms, ([\\d.]+)x the two-device "
            + "system; the global buffer's stages in flight hide the page latency only up to ([\\d.]+) us "
            + "\\(([\\d.]+) ms at 1 us, ([\\d.]+) ms at 5 us, ([\\d.]+) ms at 20 us\\)").replace(" ", "\\s+"));
        Matcher sweep = find(validate, "0.1 us: ([\\d.]+) ms, .*1 us: ([\\d.]+) ms, .*5 us: ([\\d.]+) ms, .*20 us: "
            + "([\\d.]+) ms\\): hidden \\(within 10%\\) up to ([\\d.]+) us");
        Matcher ratio = find(validate, "one HBF device's step [\\d.]+ ms is ([\\d.]+)x");
        assertNear(hidden.group(1), Double.parseDouble(sweep.group(1)), "study (a) hidden step");
        assertNear(hidden.group(2), Double.parseDouble(ratio.group(1)), "study (a) hidden over system");
        assertNear(hidden.group(3), Double.parseDouble(sweep.group(5)), "study (a) latency hidden up to");
        assertNear(hidden.group(4), Double.parseDouble(sweep.group(2)), "study (a) step at 1 us");
        assertNear(hidden.group(5), Double.parseDouble(sweep.group(3)), "study (a) step at 5 us");
        assertNear(hidden.group(6), Double.parseDouble(sweep.group(4)), "study (a) step at 20 us");
        checkStackedStudy(text, validate);
    }

    /** Study (c)'s table and figures in "3D-stacked DRAM", as validate prints them. */
    private static void checkStackedStudy(String text, String validate) {
        Matcher row = Pattern.compile("(?m)^\\| (\\d+) \\| ([\\d.]+) us \\| ([\\d.]+) us \\| ([\\d.]+) us \\| "
            + "([\\d.]+)x \\| ([\\d.]+)x \\|$").matcher(text);
        int rows = 0;
        while (row.find()) {
            Matcher run = find(validate, "(?:\\(|; )" + row.group(1) + ": ([\\d.]+) -> ([\\d.]+) us \\(predicted ([\\d.]+)\\), "
                + "roofline ([\\d.]+)x, simulated ([\\d.]+)x");
            for (int g = 1; g <= 5; g++) {
                assertNear(row.group(g + 1), Double.parseDouble(run.group(g)), "study (c) batch " + row.group(1)
                    + " column " + (g + 1));
            }
            rows++;
        }
        assertEquals(4, rows, "study (c) table rows");
        Matcher fc = find(text, ("(?s)layers gain ([\\d.]+)x at batch 1 \\(the roofline's 4x less the fixed costs\\), "
            + "([\\d.]+)x at 64, .*? ridge is ([\\d.]+) FLOP per byte against the H100's ([\\d.]+), .*? they gain "
            + "nothing \\(([\\d.]+)x\\)").replace(" ", "\\s+"));
        Matcher fcRun = find(validate, "FC speed-up by batch \\(1: ([\\d.]+)x .* 64: ([\\d.]+)x .* 512: ([\\d.]+)x .*"
            + "ridges: ([\\d.]+) FLOP/byte on h100, ([\\d.]+) on h100-stacked");
        assertNear(fc.group(1), Double.parseDouble(fcRun.group(1)), "study (c) FC at batch 1");
        assertNear(fc.group(2), Double.parseDouble(fcRun.group(2)), "study (c) FC at batch 64");
        assertNear(fc.group(3), Double.parseDouble(fcRun.group(5)), "study (c) stacked ridge");
        assertNear(fc.group(4), Double.parseDouble(fcRun.group(4)), "study (c) H100 ridge");
        assertNear(fc.group(5), Double.parseDouble(fcRun.group(3)), "study (c) FC at batch 512");
        Matcher clock = find(text, ("(?s)logic clock the compute-bound layers take ([\\d.]+)x as long .*? batch-1 step "
            + "takes ([\\d.]+)x as long").replace(" ", "\\s+"));
        Matcher clockRun = find(validate, "logic clock x0.6: batch \\d+'s FC layers take ([\\d.]+)x as long .* "
            + "batch 1's step ([\\d.]+)x as long");
        assertNear(clock.group(1), Double.parseDouble(clockRun.group(1)), "study (c) compute-bound at 0.6x clock");
        assertNear(clock.group(2), Double.parseDouble(clockRun.group(2)), "study (c) batch 1 at 0.6x clock");
    }

    /**
     * The interconnect study's table: per phase and topology, the phase's time at the base fabric (0 ns, 240 GB/s),
     * with 8 us per link, and at 60 and 960 GB/s, from the sweeps the README's slow block ran.
     */
    private static void checkInterconnectStudy(String text, Path sandbox) throws IOException {
        String[][] cells = {{"0", "240"}, {"8000", "240"}, {"0", "60"}, {"0", "960"}};
        int rows = 0;
        for (String topology : List.of("switch", "ring", "torus")) {
            List<String> csv = Files.readAllLines(sandbox.resolve("out/study-interconnect/" + topology
                + "/sweep.csv"));
            for (String phase : List.of("decode", "prefill")) {
                Matcher row = find(text, "\\| " + phase + ", " + topology
                    + " \\| ([\\d.]+) \\| ([\\d.]+) \\| ([\\d.]+) \\| ([\\d.]+) \\|");
                for (int c = 0; c < cells.length; c++) {
                    double seconds = csvCell(csv, cells[c][0] + "," + cells[c][1] + ",", phase + "_latency_s");
                    // ms per decode step (the study runs two) or of the prefill.
                    double shown = phase.equals("decode") ? seconds * 1e3 / 2 : seconds * 1e3;
                    assertNear(row.group(c + 1), shown, "interconnect study, " + phase + " on " + topology + " at "
                        + cells[c][0] + " ns, " + cells[c][1] + " GB/s");
                }
                rows++;
            }
        }
        assertEquals(6, rows);
    }

    /** The serving knee over memory bandwidth: the table's figures from the knee.csv the README's slow block wrote. */
    private static void checkBandwidthKnee(String text, Path sandbox) throws IOException {
        List<String> csv = Files.readAllLines(sandbox.resolve("out/knee-bandwidth/knee.csv"));
        int rows = 0;
        for (String bandwidth : List.of("1675", "3350", "6700")) {
            Matcher row = find(text, "\\| " + bandwidth
                + " \\| ([\\d.]+) \\| ([\\d.]+) \\| ([\\d.]+) \\| ([\\d.]+) \\|");
            String[][] cells = {{"5.0", "tpot_p50_s", "1e3"}, {"15.0", "ttft_p99_s", "1e3"},
                {"20.0", "goodput_requests_per_s", "1"}, {"25.0", "goodput_requests_per_s", "1"}};
            for (int c = 0; c < cells.length; c++) {
                double value = csvCell(csv, bandwidth + "," + cells[c][0] + ",", cells[c][1])
                    * Double.parseDouble(cells[c][2]);
                assertNear(row.group(c + 1), value, "serving knee at " + bandwidth + " GB/s, " + cells[c][1] + " at "
                    + cells[c][0] + " requests/s");
            }
            rows++;
        }
        assertEquals(3, rows);
    }

    /** A number from a CSV's first row beginning with {@code rowPrefix}, in the column its header names. */
    private static double csvCell(List<String> csv, String rowPrefix, String column) {
        int index = List.of(csv.get(0).split(",")).indexOf(column);
        assertTrue(index >= 0, "no column " + column);
        String line = csv.stream().filter(l -> l.startsWith(rowPrefix)).findFirst().orElseThrow();
        return Double.parseDouble(line.split(",")[index]);
    }

    /** The "Primitive checks" table's Rafter column: which validate cases each row shows, and their unit. */
    private static final Map<String, List<Map.Entry<String, Double>>> DEVICE_ROWS = Map.of(
        "read stream, share of peak|A100 80GB", List.of(Map.entry("stream_read@a100", 100.0)),
        "copy stream|A100", List.of(Map.entry("stream_copy@a100", 100.0)),
        "read stream|H100 SXM", List.of(Map.entry("stream_read@h100", 100.0)),
        "copy stream|H100 SXM / MI300X", List.of(Map.entry("stream_copy@h100", 100.0),
            Map.entry("stream_copy@mi300x", 100.0)),
        "fixed cost per kernel, eager / CUDA graph|A100", List.of(Map.entry("launch_gap_eager@a100", 1e6),
            Map.entry("launch_gap_graph@a100", 1e6)),
        "same|H100 (H200 proxy)", List.of(Map.entry("launch_gap_eager@h100", 1e6),
            Map.entry("launch_gap_graph@h100", 1e6)),
        "L2 read bandwidth|A100 / H100", List.of(Map.entry("l2_bandwidth@a100", 1e-12),
            Map.entry("l2_bandwidth@h100", 1e-12)),
        "load latency from a core (pointer chase)|A100 / H100", List.of(Map.entry("memory_latency@a100", 1e9),
            Map.entry("memory_latency@h100", 1e9)),
        "8-byte all-reduce, 8 GPUs|A100", List.of(Map.entry("all_reduce_8B_8gpu@a100", 1e6)),
        "8-byte all-reduce, 2 GPUs|A100", List.of(Map.entry("all_reduce_8B_2gpu@a100", 1e6)));

    /** The host's rows of the same table. */
    private static final Map<String, List<Map.Entry<String, Double>>> HOST_ROWS = Map.of(
        "empty eager op timed from the host (op + synchronize)|H100", List.of(Map.entry("host_empty_op_wall@h100",
            1e6)),
        "host CPU per eager op / per compiled call (guards)|H100", List.of(Map.entry("host_issue_eager@h100", 1e6),
            Map.entry("host_compiled_guards@h100", 1e6)),
        "host CPU of a CUDA-graph replay, 8 / 117 nodes|H100", List.of(Map.entry("host_graph_replay_8@h100", 1e6),
            Map.entry("host_graph_replay_117@h100", 1e6)),
        "host busy share of the tiny model's eager decode|H100", List.of(Map.entry("host_decode_bound_eager@h100",
            100.0)));

    private static final Map<String, List<Map.Entry<String, Double>>> PRIMITIVE_ROWS = new java.util.HashMap<>();

    static {
        PRIMITIVE_ROWS.putAll(DEVICE_ROWS);
        PRIMITIVE_ROWS.putAll(HOST_ROWS);
    }

    private static void checkPrimitiveTable(String text, String validate) {
        String table = find(text, "\\*\\*Primitive checks\\*\\*[^|]+((?:\\|.*\\|\\n)+)").group(1);
        int rows = 0;
        for (String row : table.split("\n")) {
            String[] cells = row.split("\\|");
            if (cells.length < 5 || cells[1].strip().equals("check") || cells[1].strip().startsWith("---")) {
                continue;
            }
            String key = cells[1].strip() + "|" + cells[2].strip();
            List<Map.Entry<String, Double>> cases = PRIMITIVE_ROWS.get(key);
            assertTrue(cases != null, "README's primitive-check row '" + key + "' names no validate case here");
            Matcher shown = NUMBER.matcher(cells[cells.length - 1]);
            for (Map.Entry<String, Double> c : cases) {
                assertTrue(shown.find(), "README's primitive-check row '" + key + "': too few figures");
                double simulated = Double.parseDouble(find(validate, "microbenchmark " + Pattern.quote(c.getKey())
                    + "\\s+expected \\S+\\s+simulated (\\S+)").group(1));
                assertNear(shown.group(), simulated * c.getValue(), "primitive check " + c.getKey());
            }
            rows++;
        }
        assertEquals(PRIMITIVE_ROWS.size(), rows, "rows of README's primitive-check table");
    }

    /** Figures the prose quotes from outputs of the fast blocks (and of two quick extra runs). */
    private static void checkProseFigures(String text, Runner runner, Path sandbox) throws IOException {
        Matcher peaks = find(text, "The A100-like\\s+model gives ([\\d.]+) TFLOP/s and ([\\d.]+) TB/s");
        JsonNode described = new ObjectMapper().readTree(
            runner.rafter("./rafter describe --hardware models/hardware/a100.yaml --json", 0, 0).output());
        assertNear(peaks.group(1), described.get("peak_flops_per_s").asDouble() / 1e12, "describe's peak");
        assertNear(peaks.group(2), described.get("memory_bytes_per_s").asDouble() / 1e12, "describe's bandwidth");

        assertEquals(firstLine(sandbox.resolve("out/s/ops.csv")),
            squeeze(find(text, "- `ops.csv`: one row per operator: `([^`]+)`").group(1)), "README's ops.csv columns");
        assertEquals(firstLine(sandbox.resolve("out/s/events.csv")),
            squeeze(find(text, "- `events.csv` \\(`--events csv\\|both`\\): `([^`]+)`").group(1)),
            "README's events.csv columns");
        String sweepColumns = squeeze(find(text, "one row per point: the axes, then\\s*`([^`]+)`").group(1));
        assertEquals("clock_mhz,core.local_buffer.capacity_kib," + sweepColumns,
            firstLine(sandbox.resolve("out/sweep/sweep.csv")), "README's sweep.csv columns after the sweep's axes");

        Matcher qkv = find(text, "is 2 x 16384 x 12288 x 9216 FLOPs at ([\\d.]+) TFLOP/s = ([\\d.]+) ms, (\\w+)-bound");
        String roofline = runner.output("./rafter roofline --hardware models/hardware/a100.yaml "
            + "--workload models/workloads/gpt3-175b.yaml --phase prefill --out out/r");
        Matcher qkvRow = find(roofline,
            "(?m)^  qkv_proj\\s+(\\d+)\\s+[\\d.]+\\s+[\\d.]+\\s+[\\d.]+\\s+([\\d.]+) s\\s+[\\d.]+% (\\w+)");
        assertNear(qkv.group(1), described.get("peak_flops_per_s").asDouble() / 1e12, "roofline example's peak");
        assertNear(qkv.group(2), Double.parseDouble(qkvRow.group(2)) * 1e3 / Integer.parseInt(qkvRow.group(1)),
            "GPT-3 QKV projection's bound per layer");
        assertEquals(qkvRow.group(3), qkv.group(3), "README's bound of the GPT-3 QKV projection");

        String sweep = runner.output("./rafter sweep --hardware models/hardware/sram-study-45nm.yaml --trace "
            + "traces/gemm-sram-study-layer.csv --phase decode --vary clock_mhz=200,400,600,800,1000,1200,1400 "
            + "--vary core.local_buffer.capacity_kib=16,32,64,128,256 --jobs 2 --out out/sweep");
        Matcher optimum = find(text, "the EDP optimum at (\\d+) KiB and (\\d+) MHz");
        Matcher swept = find(sweep, "decode: optimum (\\d+) MHz, (\\d+) KiB");
        assertEquals(swept.group(2) + " KiB, " + swept.group(1) + " MHz",
            optimum.group(1) + " KiB, " + optimum.group(2) + " MHz", "README's sweep optimum");
        Matcher points = find(text, "one GPT-3 layer's decode step, (\\d+) points");
        assertTrue(sweep.contains(" " + points.group(1) + " point summaries"), "README's sweep point count");

        String gpt3 = runner.rafter("./rafter simulate --hardware models/hardware/a100.yaml "
            + "--workload models/workloads/gpt3-175b.yaml --out out/gpt3", 0, 2).output();
        Matcher held = find(text, "bundled GPT-3 run \\(TP 4: ([\\d.]+) GiB of weights \\+ ([\\d.]+) GiB of KV cache "
            + "per device\\) needs `--set\\s+run.tensor_parallel=(\\d+)`");
        Matcher needs = find(gpt3, "on 4 devices needs ([\\d.]+) GiB per device \\(weights ([\\d.]+) GiB \\+ KV cache "
            + "([\\d.]+) GiB.*; (\\d+) devices");
        assertNear(held.group(1), Double.parseDouble(needs.group(2)), "GPT-3 weights per device");
        assertNear(held.group(2), Double.parseDouble(needs.group(3)), "GPT-3 KV cache per device");
        assertEquals(needs.group(4), held.group(3), "README's smallest tensor-parallel split of GPT-3");
        assertNear(find(text, "at TP 4 GPT-3 needs (\\d+) GiB per").group(1), Double.parseDouble(needs.group(1)),
            "GPT-3 per device at TP 4");

        String bert = runner.output("./rafter simulate --hardware models/hardware/h100.yaml --out out/bert "
            + "--trace traces/kineto/bert-small-uncased-h100.json.gz");
        Matcher coverage = find(text, "([\\d.]+)% of the measured GPU time\\s+maps to (\\d+) operators; "
            + "the total kernel time is within (\\d+)% \\(simulated [\\d.]+ us of device work "
            + "against (\\d+) us\\s+measured\\)");
        Matcher covered = find(bert, "(\\d+) operators mapped, .* hold ([\\d.]+)% of the measured GPU time "
            + "\\(([\\d.]+) us of");
        assertNear(coverage.group(1), Double.parseDouble(covered.group(2)), "BERT coverage");
        assertEquals(covered.group(1), coverage.group(2), "BERT operators mapped");
        assertNear(coverage.group(3), Math.abs(Double.parseDouble(find(bert, "total time ([+-][\\d.]+)%").group(1))),
            "BERT total-time error");
        assertNear(coverage.group(4), Double.parseDouble(covered.group(3)), "BERT measured time of mapped operators");
        Matcher mape = find(text, "per kind MAPE: GEMMs ([\\d.]+)%, layer norms ([\\d.]+)%, "
            + "tiny elementwise and GELU\\s+kernels ([\\d.]+)% and ([\\d.]+)%[^)]+\\), flash attention ([\\d.]+)%");
        assertNear(mape.group(1), mapeOf(bert, "gemm"), "BERT GEMM MAPE");
        assertNear(mape.group(2), mapeOf(bert, "layernorm"), "BERT layer-norm MAPE");
        assertNear(mape.group(3), mapeOf(bert, "elementwise"), "BERT elementwise MAPE");
        assertNear(mape.group(4), mapeOf(bert, "gelu"), "BERT GELU MAPE");
        assertNear(mape.group(5), mapeOf(bert, "flash_attention"), "BERT flash-attention MAPE");
    }

    /** Figures the serve section's prose quotes from runs of the tiny model (seconds each). */
    private static void checkServeProse(String text, Runner runner) {
        String h100Tiny = "./rafter serve --hardware models/hardware/h100.yaml --workload models/workloads/tiny.yaml ";
        String ttft = "TTFT p50 ([\\d.]+) us, p99 ([\\d.]+) (u|m)s";
        Matcher noCache = find(text, prose("without `--prefix-caching` the same run gives TTFT p50 ([\\d.]+) us \\(p99 "
            + "([\\d.]+) us\\)"));
        Matcher ran = find(runner.rafter(h100Tiny + "--arrivals poisson:2000 --requests 400 --prompt-tokens 448 "
            + "--prefixes 4 --prefix-tokens 384 --out out/serve-no-prefix-cache", 0, 0).output(), ttft);
        assertNear(noCache.group(1), Double.parseDouble(ran.group(1)), "TTFT p50 without prefix caching");
        assertNear(noCache.group(2), Double.parseDouble(ran.group(2)), "TTFT p99 without prefix caching");

        Matcher queued = find(text, prose("queued requests behind its 4-sequence limit (TTFT p50 ([\\d.]+) us, p99 "
            + "([\\d.]+) us)").replace("(TTFT", "\\(TTFT").replace("us)", "us\\)"));
        ran = find(runner.rafter(h100Tiny + "--arrivals poisson:4000 --requests 200 --max-sequences 4 "
            + "--out out/serve-one-replica", 0, 0).output(), ttft);
        assertNear(queued.group(1), Double.parseDouble(ran.group(1)), "one replica's TTFT p50");
        assertNear(queued.group(2), Double.parseDouble(ran.group(2)), "one replica's TTFT p99");

        Matcher router = find(text, prose("TTFT p50 is ([\\d.]+) us against least_loaded's ([\\d.]+) us"));
        String prefixRouted = "--arrivals poisson:4000 --requests 400 --prompt-tokens 448 --prefixes 8 "
            + "--prefix-tokens 384 --prefix-caching --replicas 4 --router ";
        assertNear(router.group(1), Double.parseDouble(find(runner.output(h100Tiny + prefixRouted
            + "prefix --out out/serve-prefix-router"), ttft).group(1)), "TTFT p50 routed by prefix");
        assertNear(router.group(2), Double.parseDouble(find(runner.rafter(h100Tiny + prefixRouted
            + "least_loaded --out out/serve-least-loaded", 0, 0).output(), ttft).group(1)), "TTFT p50 least loaded");

        Matcher step = find(text, prose("one of them alone times a decode step at ([\\d.]+) us against ([\\d.]+) us"));
        String one = "--workload models/workloads/tiny.yaml --concurrency 1 --requests 1 --output-tokens 8 --out ";
        String tpot = "TPOT p50 ([\\d.]+) us";
        assertNear(step.group(1), Double.parseDouble(find(runner.rafter("./rafter serve --system "
            + "models/systems/dgx-h100-8.yaml " + one + "out/serve-one-on-system", 0, 0).output(), tpot).group(1)),
            "a system replica's decode step");
        assertNear(step.group(2), Double.parseDouble(find(runner.rafter("./rafter serve --hardware "
            + "models/hardware/h100.yaml " + one + "out/serve-one-on-h100", 0, 0).output(), tpot).group(1)),
            "an h100 pair's decode step");

        Matcher energy = find(text, prose("(`--concurrency 2 --requests 4`): ([\\d.]+) J over ([\\d.]+) ms "
            + "(static ([\\d.]+) J: 110 W per device; dynamic ([\\d.]+) J), ([\\d.]+) W, ([\\d.]+) J per output token")
            .replace("(`", "\\(`").replace("`)", "`\\)").replace("(static", "\\(static").replace("J),", "J\\),"));
        String served = runner.rafter("./rafter serve --hardware models/hardware/a100.yaml --workload "
            + "models/workloads/tiny.yaml --concurrency 2 --requests 4 --out out/serve-energy", 0, 0).output();
        Matcher joules = find(served, "energy ([\\d.]+) J \\(static ([\\d.]+) J, dynamic ([\\d.]+) J\\) on 2 "
            + "device\\(s\\): average power ([\\d.]+) W .*, ([\\d.]+) J per output token");
        assertNear(energy.group(1), Double.parseDouble(joules.group(1)), "serve energy");
        assertNear(energy.group(2), Double.parseDouble(find(served, "in ([\\d.]+) ms simulated").group(1)),
            "serve energy's span");
        assertNear(energy.group(3), Double.parseDouble(joules.group(2)), "serve static energy");
        assertNear(energy.group(4), Double.parseDouble(joules.group(3)), "serve dynamic energy");
        assertNear(energy.group(5), Double.parseDouble(joules.group(4)), "serve average power");
        assertNear(energy.group(6), Double.parseDouble(joules.group(5)), "serve energy per output token");
    }

    /**
     * The serve section's Llama-3-8B figures over 60 s at 10 requests/s (about 2 minutes): TPOT and TTFT without a
     * host and with a serving host, and interpolated step timing's error against exact.
     */
    private static void checkServeHostAndInterpolation(String text, Runner runner, Path sandbox) throws IOException {
        String llama = "./rafter serve --hardware models/hardware/h100.yaml --workload models/workloads/llama3-8b.yaml "
            + "--arrivals poisson:10 --duration 60 ";
        Matcher host = find(text, prose("`: TPOT p50 ([\\d.]+) ms (p99 ([\\d.]+)) without a host, ([\\d.]+) ms (p99 "
            + "([\\d.]+)) with `serving`; TTFT p50 ([\\d.]+) ms and ([\\d.]+) ms:").replace("(p99", "\\(p99")
            .replace("))", ")\\)"));
        runner.rafter(llama + "--out out/serve-60s", 0, 0);
        runner.rafter(llama + "--set host.framework=serving --out out/serve-60s-host", 0, 0);
        runner.rafter(llama + "--step-timing interpolated --out out/serve-60s-interpolated", 0, 0);
        ObjectMapper json = new ObjectMapper();
        JsonNode exact = json.readTree(sandbox.resolve("out/serve-60s/serving.json").toFile());
        JsonNode withHost = json.readTree(sandbox.resolve("out/serve-60s-host/serving.json").toFile());
        JsonNode interpolated = json.readTree(sandbox.resolve("out/serve-60s-interpolated/serving.json").toFile());
        assertNear(host.group(1), exact.get("tpot_s").get("p50").asDouble() * 1e3, "TPOT p50 without a host");
        assertNear(host.group(2), exact.get("tpot_s").get("p99").asDouble() * 1e3, "TPOT p99 without a host");
        assertNear(host.group(3), withHost.get("tpot_s").get("p50").asDouble() * 1e3, "TPOT p50 with a host");
        assertNear(host.group(4), withHost.get("tpot_s").get("p99").asDouble() * 1e3, "TPOT p99 with a host");
        assertNear(host.group(5), exact.get("ttft_s").get("p50").asDouble() * 1e3, "TTFT p50 without a host");
        assertNear(host.group(6), withHost.get("ttft_s").get("p50").asDouble() * 1e3, "TTFT p50 with a host");
        Matcher error = find(text, prose("Measured against exact on the 60-s run above \\((\\d+) requests\\): TTFT p50 "
            + "([+-][\\d.]+)%, p99 ([+-][\\d.]+)%; TPOT p50 ([+-][\\d.]+)%, p99 ([+-][\\d.]+)%; output tokens/s "
            + "([+-][\\d.]+)%"));
        assertEquals(error.group(1), exact.get("requests").get("finished").asText(),
            "README's requests of the 60-s serve");
        String[][] figures = {{"ttft_s", "p50"}, {"ttft_s", "p99"}, {"tpot_s", "p50"}, {"tpot_s", "p99"},
            {"throughput", "output_tokens_per_s"}};
        for (int i = 0; i < figures.length; i++) {
            double e = exact.get(figures[i][0]).get(figures[i][1]).asDouble();
            double a = interpolated.get(figures[i][0]).get(figures[i][1]).asDouble();
            assertNear(error.group(i + 2), 100 * (a / e - 1), "interpolated " + String.join(".", figures[i]));
        }
    }

    /** A README sentence as a pattern: any run of blanks (a line break included) where it has a space. */
    private static String prose(String regex) {
        return regex.replace(" ", "\\s+");
    }

    /** Runs README command lines in-process, {@code out/...} and files the README writes moved into the sandbox. */
    private static final class Runner {
        private final Path sandbox;
        private final Set<String> written = new HashSet<>();
        private final Map<String, Result> results = new HashMap<>();

        Runner(Path sandbox) {
            this.sandbox = sandbox;
        }

        void runBlock(ShBlock block) {
            StringBuilder current = new StringBuilder();
            int first = -1;
            for (int i = 0; i < block.lines().size(); i++) {
                String line = block.lines().get(i).strip();
                first = first < 0 ? block.line() + 1 + i : first;
                if (line.endsWith("\\")) {
                    current.append(line, 0, line.length() - 1).append(' ');
                    continue;
                }
                runLine(withoutComment(current.append(line).toString()), first);
                current.setLength(0);
                first = -1;
            }
        }

        private void runLine(String line, int readmeLine) {
            if (line.isBlank()) {
                return;
            }
            Matcher loop = LOOP.matcher(line);
            if (line.startsWith("./rafter ")) {
                rafter(line, readmeLine, 0);
            } else if (line.equals(TEST_COMMAND)) {
                return; // the suite that runs this test
            } else if (line.startsWith("printf ")) {
                List<String> words = words(line);
                assertTrue(words.size() == 4 && words.get(2).equals(">"),
                    "README line " + readmeLine + ": expected printf 'TEXT' > FILE: " + line);
                write(words.get(3), words.get(1).replace("\\n", "\n"));
                written.add(words.get(3));
            } else if (loop.matches()) {
                for (String value : loop.group(2).trim().split("\\s+")) {
                    runLine(loop.group(3).replace("$" + loop.group(1), value), readmeLine);
                }
            } else {
                fail("README line " + readmeLine + ": a command this test does not know how to run: " + line);
            }
        }

        private void write(String name, String contents) {
            try {
                Files.writeString(sandbox.resolve(name), contents);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        /** The output (stdout, then stderr) of a README command that ran before, else of a run now. */
        String output(String command) {
            Result result = results.get(squeezeSpaces(command));
            assertTrue(result != null, "not run by the README: " + command);
            return result.output();
        }

        Result rafter(String command, int readmeLine, int expectedExit) {
            String key = squeezeSpaces(command);
            Result cached = results.get(key);
            if (cached != null) {
                return cached;
            }
            List<String> args = new ArrayList<>();
            List<String> words = words(key);
            for (String word : words.subList(1, words.size())) {
                args.add(word.startsWith("out/") || written.contains(word) ? sandbox.resolve(word).toString() : word);
            }
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int exit;
            try (PrintWriter o = new PrintWriter(out); PrintWriter e = new PrintWriter(err)) {
                exit = Main.execute(args.toArray(String[]::new), o, e);
            }
            // Paths print as the README wrote them.
            String output = (out + err.toString()).replace(sandbox + "/", "");
            assertEquals(expectedExit, exit, "README line " + readmeLine + ": " + command + "\n" + output);
            Result result = new Result(exit, output);
            results.put(key, result);
            return result;
        }
    }

    static Readme parse() {
        String text;
        try {
            text = Files.readString(README, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        List<String> lines = text.lines().toList();
        List<ShBlock> blocks = new ArrayList<>();
        List<ShownOutput> outputs = new ArrayList<>();
        Matcher marker = null;
        int markerLine = 0;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            Matcher m = MARKER.matcher(line);
            if (m.matches()) {
                marker = m;
                markerLine = i + 1;
                continue;
            }
            if (!line.startsWith("```")) {
                assertTrue(marker == null, "README line " + markerLine + ": a readme marker not followed by a block");
                continue;
            }
            String language = line.substring(3).strip();
            int start = i + 1;
            List<String> body = new ArrayList<>();
            for (i++; i < lines.size() && !lines.get(i).strip().equals("```"); i++) {
                body.add(lines.get(i));
            }
            String kind = marker == null ? "" : marker.group(1);
            if (language.equals("sh") && !kind.equals("synopsis")) {
                assertTrue(marker == null || kind.equals("slow"), "README line " + markerLine + ": " + kind
                    + " on a sh block");
                blocks.add(new ShBlock(start, body, kind.equals("slow")));
            } else if (marker != null && marker.group(2) != null) {
                assertTrue(language.isEmpty(), "README line " + markerLine + ": 'output of' before a " + language
                    + " block");
                outputs.add(new ShownOutput(start, marker.group(2),
                    marker.group(3) == null ? 0 : Integer.parseInt(marker.group(3)), String.join("\n", body)));
            }
            marker = null;
        }
        assertTrue(blocks.size() >= 10, "README: expected its command blocks, found " + blocks.size());
        return new Readme(text, blocks, outputs);
    }

    /** Shell words of a line (single and double quotes; {@code >} stands alone as written in the README). */
    static List<String> words(String line) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        char quote = 0;
        boolean inWord = false;
        for (char c : line.toCharArray()) {
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else {
                    word.append(c);
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
                inWord = true;
            } else if (Character.isWhitespace(c)) {
                if (inWord) {
                    words.add(word.toString());
                    word.setLength(0);
                    inWord = false;
                }
            } else {
                word.append(c);
                inWord = true;
            }
        }
        if (inWord) {
            words.add(word.toString());
        }
        return words;
    }

    /** The line up to an unquoted {@code #} that starts a word. */
    static String withoutComment(String line) {
        char quote = 0;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quote != 0) {
                quote = c == quote ? 0 : quote;
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == '#' && (i == 0 || Character.isWhitespace(line.charAt(i - 1)))) {
                return line.substring(0, i).strip();
            }
        }
        return line.strip();
    }

    /** The shown block's tokens appear in order in the output; {@code ...} lines skip; numbers to shown precision. */
    static void assertShown(ShownOutput shown, String output) {
        List<List<String>> segments = new ArrayList<>();
        segments.add(new ArrayList<>());
        for (String line : shown.text().split("\n")) {
            if (line.strip().equals("...")) {
                segments.add(new ArrayList<>());
            } else {
                segments.get(segments.size() - 1).addAll(tokens(line));
            }
        }
        List<String> actual = tokens(output);
        int from = 0;
        for (List<String> segment : segments) {
            int at = indexOf(actual, segment, from);
            if (at < 0) {
                MISMATCHES.add("README line " + shown.line() + ": the output shown differs from what "
                    + shown.command() + " prints (" + firstMismatch(actual, segment, from) + ")\n" + output);
                return;
            }
            from = at + segment.size();
        }
    }

    private static int indexOf(List<String> actual, List<String> segment, int from) {
        for (int at = from; at + segment.size() <= actual.size(); at++) {
            int i = 0;
            while (i < segment.size() && same(segment.get(i), actual.get(at + i))) {
                i++;
            }
            if (i == segment.size()) {
                return at;
            }
        }
        return -1;
    }

    /** Where the best partial match of a segment breaks off, for a readable failure. */
    private static String firstMismatch(List<String> actual, List<String> segment, int from) {
        int best = -1;
        int bestAt = 0;
        for (int at = from; at < actual.size(); at++) {
            int i = 0;
            while (i < segment.size() && at + i < actual.size() && same(segment.get(i), actual.get(at + i))) {
                i++;
            }
            if (i > best) {
                best = i;
                bestAt = at;
            }
        }
        if (best < 0 || best >= segment.size() || bestAt + best >= actual.size()) {
            return "not found";
        }
        return "README shows '" + segment.get(best) + "' where the output has '" + actual.get(bestAt + best)
            + "', after '" + String.join(" ", segment.subList(Math.max(0, best - 8), best)) + "'";
    }

    static List<String> tokens(String text) {
        List<String> tokens = new ArrayList<>();
        String masked = SIMULATOR_FIGURES.matcher(text).replaceAll("simulator: <this machine's figures>; wrote");
        Matcher m = TOKEN.matcher(WALL_TIME.matcher(masked).replaceAll("<wall-time>"));
        while (m.find()) {
            tokens.add(m.group());
        }
        return tokens;
    }

    /** Equal, or a number the shown one rounds: within half a unit of its last printed digit. */
    static boolean same(String shown, String actual) {
        if (shown.equals(actual)) {
            return true;
        }
        if (!NUMBER.matcher(shown).matches() || !NUMBER.matcher(actual).matches()) {
            return false;
        }
        return withinPrecision(shown, Double.parseDouble(actual));
    }

    static boolean withinPrecision(String shown, double actual) {
        BigDecimal value = new BigDecimal(shown);
        double halfUnit = 0.5 * Math.pow(10, -value.scale());
        return Math.abs(actual - value.doubleValue()) <= halfUnit * (1 + 1e-9);
    }

    private static void assertNear(String shown, double actual, String what) {
        if (!withinPrecision(shown, actual)) {
            MISMATCHES.add("README's " + what + ": shows " + shown + ", the output gives " + actual);
        }
    }

    private static void assertNoMismatches() {
        if (!MISMATCHES.isEmpty()) {
            fail(MISMATCHES.size() + " README figure(s) differ from the output:\n" + String.join("\n", MISMATCHES));
        }
    }

    private static Matcher find(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        if (!m.find()) {
            fail("not found (README figure or output line changed?): " + regex);
        }
        return m;
    }

    private static double eventsOf(String bench, String shape) {
        return Double.parseDouble(find(bench, shape + ":\\s+(\\d+) events").group(1));
    }

    private static double mapeOf(String output, String kind) {
        return Double.parseDouble(find(output, "(?m)^  " + kind + "\\s+\\d+ operators, MAPE ([\\d.]+)%").group(1));
    }

    private static long count(String text, String regex) {
        return Pattern.compile(regex).matcher(text).results().count();
    }

    private static String firstLine(Path file) throws IOException {
        try (var lines = Files.lines(file)) {
            return lines.findFirst().orElse("");
        }
    }

    private static String squeeze(String text) {
        return text.replaceAll("\\s+", "");
    }

    private static String squeezeSpaces(String text) {
        return text.strip().replaceAll("\\s+", " ");
    }
}

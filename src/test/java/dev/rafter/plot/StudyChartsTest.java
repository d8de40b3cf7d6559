package dev.rafter.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.config.InputException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

class StudyChartsTest {
    @TempDir
    Path tmp;

    private static final String HEADER = "core.local_buffer.capacity_kib,clock_mhz,latency_s,prefill_latency_s,"
        + "decode_latency_s,roofline_s,energy_j,static_energy_j,dynamic_energy_j,edp_j_s,pe_util,hbm_util,ttft_s,"
        + "tpot_mean_s,tokens_per_s";

    /** A decode-only sweep.csv row: latency and energy given, EDP their product, the rest plausible. */
    private static String row(String axes, double latency, double energy) {
        return axes + "," + latency + ",," + latency + "," + latency / 2 + "," + energy + "," + energy / 4 + ","
            + energy * 3 / 4 + "," + energy * latency + ",0.5,0.5,," + latency + "," + 8 / latency;
    }

    /**
     * 3 buffers x 3 clocks: latency falls with the clock and with the buffer up to 64 KiB; energy grows with the
     * buffer (leakage) and falls with the clock. EDP is lowest at 64 KiB, 1400 MHz (by construction: 2.0 x 1.1).
     */
    private Path grid() throws Exception {
        int[] kib = {16, 64, 256};
        int[] mhz = {200, 800, 1400};
        double[] latencyByKib = {3.0, 1.0, 0.95};
        double[] energyByKib = {1.0, 1.1, 2.0};
        double[] latencyByMhz = {7.0, 2.5, 2.0};
        double[] energyByMhz = {1.5, 1.2, 1.0};
        List<String> lines = new ArrayList<>(List.of(HEADER));
        for (int b = 0; b < 3; b++) {
            for (int c = 0; c < 3; c++) {
                lines.add(row(kib[b] + "," + mhz[c], latencyByKib[b] * latencyByMhz[c] * 1e-3,
                    energyByKib[b] * energyByMhz[c]));
            }
        }
        Path csv = tmp.resolve("sweep.csv");
        Files.write(csv, lines);
        return csv;
    }

    @Test
    void heatmapFramesTheLowestCell() throws Exception {
        StudyTable t = StudyTable.read(grid());
        assertEquals(List.of("core.local_buffer.capacity_kib", "clock_mhz"), t.axes());
        assertEquals(List.of("decode"), t.phases());
        Heatmap edp = Heatmap.of(t, "core.local_buffer.capacity_kib", "clock_mhz",
            Measure.of(t, Measure.Metric.EDP, "decode"));
        Heatmap.Panel p = edp.panels().get(0);
        assertEquals(1, edp.panels().size());
        assertEquals(1, p.bestX(), "64 KiB");
        assertEquals(2, p.bestY(), "1400 MHz");
        assertEquals(Map.of("core.local_buffer.capacity_kib", "64", "clock_mhz", "1400"), edp.optimum().values());
        assertEquals(1.0e-3 * 2.0 * 1.1, p.values()[2][1], 1e-15);
        assertTrue(edp.title().contains("optimum 64 KiB, 1400 MHz = 2.2 mJ s"), edp.title());
        // latency alone prefers the biggest buffer; energy alone the smallest buffer at the highest clock
        Heatmap latency = Heatmap.of(t, "core.local_buffer.capacity_kib", "clock_mhz",
            Measure.of(t, Measure.Metric.LATENCY, null));
        assertEquals(Map.of("core.local_buffer.capacity_kib", "256", "clock_mhz", "1400"),
            latency.optimum().values());
        Heatmap energy = Heatmap.of(t, "clock_mhz", "core.local_buffer.capacity_kib",
            Measure.of(t, Measure.Metric.ENERGY, null));
        assertEquals(Map.of("core.local_buffer.capacity_kib", "16", "clock_mhz", "1400"), energy.optimum().values());
        assertEquals(2, energy.panels().get(0).bestX(), "x is the clock now");
        assertEquals(0, energy.panels().get(0).bestY());
    }

    @Test
    void numericAxesAreSortedAndATieGoesToTheSmallestXThenY() throws Exception {
        Files.write(tmp.resolve("t.csv"), List.of(HEADER, row("64,1400", 1e-3, 1), row("16,1400", 1e-3, 1),
            row("64,200", 2e-3, 1), row("16,200", 1e-3, 1)));
        StudyTable t = StudyTable.read(tmp.resolve("t.csv"));
        assertEquals(List.of("16", "64"), t.values("core.local_buffer.capacity_kib"));
        assertEquals(List.of("200", "1400"), t.values("clock_mhz"));
        Heatmap h = Heatmap.of(t, "core.local_buffer.capacity_kib", "clock_mhz",
            Measure.of(t, Measure.Metric.LATENCY, null));
        assertEquals(Map.of("core.local_buffer.capacity_kib", "16", "clock_mhz", "200"), h.optimum().values());
    }

    @Test
    void aThirdAxisGivesOnePanelPerValueEachWithItsOptimum() throws Exception {
        List<String> lines = new ArrayList<>(List.of("memory.bandwidth_gb_per_s," + HEADER));
        for (int bw : new int[] {2048, 8192}) {
            for (int kib : new int[] {32, 64, 128}) {
                for (int mhz : new int[] {600, 1400}) {
                    // more bandwidth moves the optimum buffer from 64 to 128 KiB
                    int best = bw == 2048 ? 64 : 128;
                    double latency = (kib == best ? 1 : 2) * (mhz == 1400 ? 1 : 3) * (bw == 2048 ? 1.5 : 1);
                    lines.add(row(bw + "," + kib + "," + mhz, latency, 1));
                }
            }
        }
        Files.write(tmp.resolve("t.csv"), lines);
        StudyTable t = StudyTable.read(tmp.resolve("t.csv"));
        Heatmap h = Heatmap.of(t, "core.local_buffer.capacity_kib", "clock_mhz",
            Measure.of(t, Measure.Metric.EDP, "decode"));
        assertEquals(2, h.panels().size());
        assertFalse(h.bestOverRest());
        assertEquals(Map.of("memory.bandwidth_gb_per_s", "2048"), h.panels().get(0).fixed());
        assertEquals(1, h.panels().get(0).bestX());
        assertEquals(2, h.panels().get(1).bestX());
        assertEquals(Map.of("memory.bandwidth_gb_per_s", "8192", "core.local_buffer.capacity_kib", "128",
            "clock_mhz", "1400"), h.optimum().values());
        assertTrue(h.title().contains("optimum 8192 GB/s, 128 KiB, 1400 MHz"), h.title());
    }

    @Test
    void beyondTwelveCombinationsEachCellIsTheBestOverTheOtherAxes() throws Exception {
        List<String> lines = new ArrayList<>(List.of("run.batch," + HEADER));
        for (int batch = 1; batch <= 13; batch++) {
            for (int kib : new int[] {32, 64}) {
                lines.add(row(batch + "," + kib + ",1000", batch == 7 && kib == 64 ? 0.5 : 1 + batch, 1));
            }
        }
        Files.write(tmp.resolve("t.csv"), lines);
        StudyTable t = StudyTable.read(tmp.resolve("t.csv"));
        Heatmap h = Heatmap.of(t, "core.local_buffer.capacity_kib", "clock_mhz",
            Measure.of(t, Measure.Metric.LATENCY, null));
        assertTrue(h.bestOverRest());
        assertEquals(1, h.panels().size());
        assertEquals(2.0, h.panels().get(0).values()[0][0], "32 KiB: best over batches is batch 1");
        assertEquals(0.5, h.panels().get(0).values()[0][1]);
        assertEquals("7", h.optimum().values().get("run.batch"));
    }

    @Test
    void svgIsWellFormedAndMarksTheOptimum() throws Exception {
        StudyTable t = StudyTable.read(grid());
        Measure m = Measure.of(t, Measure.Metric.EDP, "decode");
        Heatmap h = Heatmap.of(t, "core.local_buffer.capacity_kib", "clock_mhz", m);
        Path png = StudyCharts.write(tmp.resolve("plots"), h, m);
        assertEquals(tmp.resolve("plots/heatmap-edp-decode.png"), png);
        byte[] bytes = Files.readAllBytes(png);
        assertEquals((byte) 0x89, bytes[0]);
        assertEquals('P', bytes[1]);
        Document svg = parse(tmp.resolve("plots/heatmap-edp-decode.svg"));
        assertEquals("svg", svg.getDocumentElement().getTagName());
        Element optimum = only(svg, "optimum overall");
        // the frame lies on the cell of 64 KiB (second column) at 1400 MHz (top row): find that cell's rectangle
        Element frame = (Element) optimum.getElementsByTagName("rect").item(0);
        double fx = Double.parseDouble(frame.getAttribute("x"));
        double fy = Double.parseDouble(frame.getAttribute("y"));
        Element cellText = textElement(svg, "2.2");
        assertNotNull(cellText, "the optimum's value (2.2 mJ s) is printed in its cell");
        double tx = Double.parseDouble(cellText.getAttribute("x"));
        double ty = Double.parseDouble(cellText.getAttribute("y"));
        double w = Double.parseDouble(frame.getAttribute("width"));
        double hgt = Double.parseDouble(frame.getAttribute("height"));
        assertTrue(tx > fx && tx < fx + w && ty > fy && ty < fy + hgt, "the frame surrounds the 2.2 cell");
        assertNotNull(textElement(svg, "local buffer capacity (KiB)"));
        assertNotNull(textElement(svg, "clock (MHz)"));
        assertNotNull(textElement(svg, "EDP (mJ s), log scale"));

        ParetoFront p = ParetoFront.of(t, m);
        StudyCharts.write(tmp.resolve("plots"), p, m);
        Document pareto = parse(tmp.resolve("plots/pareto-decode.svg"));
        Element front = only(pareto, "pareto-front");
        assertEquals(p.front().size(), front.getElementsByTagName("text").getLength(), "every front point labelled");
    }

    private static Document parse(Path svg) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        return f.newDocumentBuilder().parse(svg.toFile());
    }

    private static Element only(Document d, String cls) {
        NodeList groups = d.getElementsByTagName("g");
        Element found = null;
        for (int i = 0; i < groups.getLength(); i++) {
            Element g = (Element) groups.item(i);
            if (g.getAttribute("class").equals(cls)) {
                assertEquals(null, found, "one group of class " + cls);
                found = g;
            }
        }
        assertNotNull(found, "a group of class " + cls);
        return found;
    }

    private static Element textElement(Document d, String content) {
        NodeList texts = d.getElementsByTagName("text");
        for (int i = 0; i < texts.getLength(); i++) {
            if (texts.item(i).getTextContent().equals(content)) {
                return (Element) texts.item(i);
            }
        }
        return null;
    }

    @Test
    void paretoFrontIsExactlyTheNonDominatedSetTiesIncluded() throws Exception {
        // a hand-made set: (1,5) (2,3) (2,3) tie, (2,4) dominated by (2,3), (3,3) dominated, (4,1), (4,1) tie,
        // (5,1) dominated by (4,1), (1,6) dominated by (1,5)
        double[][] pts = {{1, 5}, {2, 3}, {2, 3}, {2, 4}, {3, 3}, {4, 1}, {4, 1}, {5, 1}, {1, 6}};
        StudyTable t = table(pts);
        Measure m = Measure.of(t, Measure.Metric.EDP, "decode");
        List<Integer> front = ParetoFront.of(t, m).front().stream().map(r -> r.line() - 2).toList();
        assertEquals(List.of(0, 1, 2, 5, 6), front);
        Random random = new Random(7);
        for (int trial = 0; trial < 200; trial++) {
            double[][] r = new double[1 + random.nextInt(40)][];
            for (int i = 0; i < r.length; i++) {
                r[i] = new double[] {1 + random.nextInt(6), 1 + random.nextInt(6)}; // small ranges: many ties
            }
            StudyTable rt = table(r);
            Set<Integer> got = new HashSet<>(ParetoFront.of(rt, m).front().stream().map(x -> x.line() - 2).toList());
            assertEquals(bruteForce(r), got, "trial " + trial);
        }
    }

    private static Set<Integer> bruteForce(double[][] pts) {
        Set<Integer> out = new HashSet<>();
        for (int i = 0; i < pts.length; i++) {
            boolean dominated = false;
            for (double[] q : pts) {
                if (q[0] <= pts[i][0] && q[1] <= pts[i][1] && (q[0] < pts[i][0] || q[1] < pts[i][1])) {
                    dominated = true;
                }
            }
            if (!dominated) {
                out.add(i);
            }
        }
        return out;
    }

    private StudyTable table(double[][] pts) throws Exception {
        List<String> lines = new ArrayList<>(List.of("point," + HEADER.substring(HEADER.indexOf("latency_s"))));
        for (int i = 0; i < pts.length; i++) {
            lines.add(row(Integer.toString(i), pts[i][0], pts[i][1]));
        }
        Path csv = tmp.resolve("pareto.csv");
        Files.write(csv, lines);
        return StudyTable.read(csv);
    }

    @Test
    void axisTitlesAndValuesTakeTheirUnitFromTheKey() {
        assertEquals("clock (MHz)", Units.axisTitle("clock_mhz"));
        assertEquals("clock (MHz)", Units.axisTitle("core.clock_mhz"));
        assertEquals("local buffer capacity (KiB)", Units.axisTitle("core.local_buffer.capacity_kib"));
        assertEquals("memory bandwidth (GB/s)", Units.axisTitle("memory.bandwidth_gb_per_s"));
        assertEquals("memory capacity (GiB)", Units.axisTitle("memory.capacity_gib"));
        assertEquals("global buffer capacity (MiB)", Units.axisTitle("global_buffer.capacity_mib"));
        assertEquals("memory latency (ns)", Units.axisTitle("memory.latency_ns"));
        assertEquals("batch", Units.axisTitle("run.batch"));
        assertEquals("interconnect latency (cycles)", Units.axisTitle("interconnect.latency_cycles"));
        assertEquals("local buffer bytes per cycle", Units.axisTitle("core.local_buffer.bytes_per_cycle"));
        assertEquals("vector unit flops per lane per cycle",
            Units.axisTitle("core.vector_unit.flops_per_lane_per_cycle"));
        assertEquals("64 KiB", Units.valueLabel("core.local_buffer.capacity_kib", "64"));
        assertEquals("batch 8", Units.valueLabel("run.batch", "8"));
        assertEquals("memory bandwidth 4096 GB/s", Units.namedValue("memory.bandwidth_gb_per_s", "4096"));
        assertEquals("32.8 uJ s", Units.si(3.2815e-5, "J s"));
        assertEquals("1 ks", Units.si(999.7, "s"));
        assertEquals("312 ms", Units.si(0.3124, "s"));
        assertEquals("0 J", Units.si(0, "J"));
    }

    @Test
    void phasesAndMetricsAreChecked() throws Exception {
        StudyTable t = StudyTable.read(grid());
        InputException e = assertThrows(InputException.class,
            () -> Measure.of(t, Measure.Metric.LATENCY, "prefill"));
        assertTrue(e.getMessage().contains("this sweep has only decode"), e.getMessage());
        // both phases in one run, without per-phase energy columns: a phase's energy is not known
        Files.write(tmp.resolve("both.csv"), List.of(HEADER, "16,200,3,1,2,3,9,1,8,27,0.5,0.5,1,1,1"));
        StudyTable both = StudyTable.read(tmp.resolve("both.csv"));
        assertEquals(List.of("prefill", "decode"), both.phases());
        assertEquals(2.0, Measure.of(both, Measure.Metric.LATENCY, "decode").of(both.rows().get(0)));
        e = assertThrows(InputException.class, () -> Measure.of(both, Measure.Metric.ENERGY, "decode"));
        assertTrue(e.getMessage().contains("no decode_energy_j column"), e.getMessage());
        assertEquals(27.0, Measure.of(both, Measure.Metric.EDP, null).of(both.rows().get(0)));
        assertThrows(InputException.class, () -> Measure.Metric.parse("power"));
    }
}

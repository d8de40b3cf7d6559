package dev.rafter.roofline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.plot.RecordingCanvas;
import dev.rafter.plot.XyChart;
import dev.rafter.workload.Operator;
import dev.rafter.workload.Phase;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** roofline.png: the costliest operator names labelled, a title naming workload, phases and device. */
class RooflineChartTest {
    @TempDir
    Path tmp;

    final HardwareSpec a100 = HardwareLoader.load(Path.of("models/hardware/a100.yaml"), List.of());
    final Roofline roofline = new Roofline(a100);

    /**
     * Ten decode GEMMs of 8 rows, op_0 .. op_9 with n = 1024 x (i + 1): all memory-bound, their bytes (weights,
     * n x 4096 x 2 B, and under 1% of activations) growing with n, so bound time grows with i; op_0 runs twice (two
     * layers), which brings it level with op_1 but not above op_2. The eight costliest are op_9 .. op_2.
     */
    private RooflineChart decodeChart() {
        RooflineChart chart = new RooflineChart(a100, "tiny-test");
        int id = 0;
        for (int i = 0; i < 10; i++) {
            Operator op = Operator.gemm(id++, "op_" + i, Phase.DECODE, 0, 1, 1, 8, 1024L * (i + 1), 4096,
                DataType.FP16);
            chart.add(op, roofline.of(op));
        }
        Operator again = Operator.gemm(id, "op_0", Phase.DECODE, 1, 1, 1, 8, 1024, 4096, DataType.FP16);
        chart.add(again, roofline.of(again));
        return chart;
    }

    @Test
    void theCostliestNamesAreLabelledWithTheirShare() {
        RooflineChart chart = decodeChart();
        List<String> labels = chart.labels().stream().map(XyChart.PointLabel::text).toList();
        assertEquals(RooflineChart.LABELLED, labels.size());
        assertEquals(List.of("op_9", "op_8", "op_7", "op_6", "op_5", "op_4", "op_3", "op_2"),
            labels.stream().map(l -> l.substring(0, l.indexOf(' '))).toList());
        // op_9 moves 10 of the 56 units of 1024 x 4096 x 2 B of weights that the eleven operators move
        // (1 + 2 + ... + 10, and op_0's second layer): 18% of the bound time
        assertEquals("op_9 18%", labels.get(0)); // 10 / 56 = 17.9%
        assertEquals("Roofline: tiny-test, decode, on " + a100.name(), chart.title());
    }

    @Test
    void bothPhasesNameThePhaseInTitleAndLabels() {
        RooflineChart chart = new RooflineChart(a100, "tiny-test");
        Operator prefill = Operator.gemm(0, "qkv_proj", Phase.PREFILL, 0, 0, 1, 4096, 4096, 4096, DataType.FP16);
        Operator decode = Operator.gemm(1, "qkv_proj", Phase.DECODE, 0, 1, 1, 8, 4096, 4096, DataType.FP16);
        chart.add(prefill, roofline.of(prefill));
        chart.add(decode, roofline.of(decode));
        assertEquals("Roofline: tiny-test, prefill and decode, on " + a100.name(), chart.title());
        List<String> labels = chart.labels().stream().map(XyChart.PointLabel::text).toList();
        assertTrue(labels.get(0).startsWith("prefill qkv_proj "), labels.toString());
        assertTrue(labels.get(1).startsWith("decode qkv_proj "), labels.toString());
    }

    @Test
    void labelsAndTextsStayApartAndThePngDecodes() throws Exception {
        RooflineChart chart = decodeChart();
        XyChart drawing = chart.chart();
        RecordingCanvas c = new RecordingCanvas();
        drawing.draw(c);
        assertEquals(List.of(), c.outside(drawing.width(), drawing.height()));
        assertEquals(List.of(), c.overlaps());
        assertEquals(List.of(), c.covered());
        List<Rectangle2D> boxes = drawing.labelBoxes();
        assertEquals(RooflineChart.LABELLED, boxes.size());
        assertTrue(c.strings().contains("attainable performance (TFLOP/s), log scale"), c.strings().toString());
        Path png = tmp.resolve("roofline.png");
        chart.write(png);
        BufferedImage read = ImageIO.read(png.toFile());
        assertEquals(960, read.getWidth());
        assertEquals(640, read.getHeight());
    }
}

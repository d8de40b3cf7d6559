package dev.rafter.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rafter.plot.RecordingCanvas;
import dev.rafter.plot.XyChart;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** sweep.png's charts: readable axis names with units, the swept values as ticks, no raw keys. */
class SweepChartTest {
    private static JsonNode summary(double latency, double energy) throws Exception {
        return new ObjectMapper().readTree("{\"latency_s\": " + latency + ", \"roofline_s\": " + latency / 2
            + ", \"energy_j\": {\"total\": " + energy + ", \"static\": " + energy / 4 + ", \"dynamic\": "
            + energy * 3 / 4 + "}, \"edp_j_s\": " + latency * energy
            + ", \"utilisation\": {\"pe_array\": 0.5, \"hbm\": 0.5}}");
    }

    @Test
    void axesAndLinesAreNamedInWordsWithUnits() throws Exception {
        List<String> axes = List.of("clock_mhz", "core.local_buffer.capacity_kib");
        List<Map<String, String>> values = new ArrayList<>();
        List<JsonNode> summaries = new ArrayList<>();
        for (String kib : new String[] {"16", "64"}) {
            for (String mhz : new String[] {"200", "600", "1000", "1400"}) {
                Map<String, String> v = new LinkedHashMap<>();
                v.put("clock_mhz", mhz);
                v.put("core.local_buffer.capacity_kib", kib);
                values.add(v);
                summaries.add(summary(0.6 / Double.parseDouble(mhz), 0.08));
            }
        }
        List<XyChart> charts = SweepReport.charts(axes, values, summaries);
        assertEquals(3, charts.size(), "latency, energy and EDP");
        RecordingCanvas c = new RecordingCanvas();
        charts.get(0).draw(c);
        List<String> texts = c.strings();
        assertTrue(texts.contains("latency vs clock"), texts.toString());
        assertTrue(texts.contains("clock (MHz)"), texts.toString());
        assertTrue(texts.contains("latency (ms)"), "0.43 .. 3 ms: milliseconds " + texts);
        assertTrue(texts.contains("local buffer capacity 16 KiB"), texts.toString());
        assertTrue(texts.containsAll(List.of("200", "600", "1000", "1400")), "the swept clocks as ticks " + texts);
        assertFalse(texts.stream().anyMatch(t -> t.contains("_") || t.startsWith(".")), texts.toString());
        assertEquals(List.of(), c.outside(charts.get(0).width(), charts.get(0).height()));
        assertEquals(List.of(), c.overlaps());
        assertEquals(List.of(), c.covered());
    }

    @Test
    void valuesThatAreNotNumbersAreCategoriesInSweepOrder() throws Exception {
        List<Map<String, String>> values = new ArrayList<>();
        List<JsonNode> summaries = new ArrayList<>();
        for (String d : new String[] {"weight_stationary", "output_stationary"}) {
            values.add(Map.of("core.pe_array.dataflow", d));
            summaries.add(summary(1e-3, 0.1));
        }
        List<XyChart> charts = SweepReport.charts(List.of("core.pe_array.dataflow"), values, summaries);
        RecordingCanvas c = new RecordingCanvas();
        charts.get(2).draw(c);
        assertTrue(c.strings().containsAll(List.of("weight_stationary", "output_stationary", "pe array dataflow",
            "energy-delay product (uJ s)")), c.strings().toString());
    }
}

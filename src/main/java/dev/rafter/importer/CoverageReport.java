package dev.rafter.importer;

import dev.rafter.config.CsvWriter;
import dev.rafter.report.AtomicFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How an imported trace's coverage is shown: a printed line (operators mapped, unmapped by name, share of the
 * measured GPU time covered) with the importer's notes, {@code coverage} in summary.json, and unmapped.csv (one row
 * per op name that was not mapped, with its count and measured time).
 */
public final class CoverageReport {
    /** Unmapped names printed on the coverage line; unmapped.csv has them all. */
    private static final int NAMES_SHOWN = 5;

    private CoverageReport() {}

    public static List<String> lines(Coverage c) {
        return lines(c, "unmapped.csv");
    }

    /** The printed coverage, naming the file that lists every unmapped name. */
    public static List<String> lines(Coverage c, String unmappedFile) {
        List<String> out = new ArrayList<>();
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT,
            "coverage (%s): %d operators mapped, %d ops unmapped", c.format(), c.mapped(),
            c.unmappedCount()));
        if (c.totalMeasuredS() > 0) {
            sb.append(String.format(Locale.ROOT, "; mapped operators hold %.1f%% of the measured GPU time (%s of %s)",
                100 * c.measuredShare(), dev.rafter.roofline.RooflineReport.time(c.mappedMeasuredS()),
                dev.rafter.roofline.RooflineReport.time(c.totalMeasuredS())));
        }
        out.add(sb.toString());
        if (!c.unmapped().isEmpty()) {
            List<Map.Entry<String, long[]>> names = new ArrayList<>(c.unmapped().entrySet());
            names.sort((a, b) -> a.getValue()[1] != b.getValue()[1] ? Long.compare(b.getValue()[1], a.getValue()[1])
                : Long.compare(b.getValue()[0], a.getValue()[0]));
            StringBuilder u = new StringBuilder("  unmapped (most measured time first; all in " + unmappedFile + "):");
            for (int i = 0; i < Math.min(NAMES_SHOWN, names.size()); i++) {
                Map.Entry<String, long[]> e = names.get(i);
                u.append(i == 0 ? " " : ", ").append(e.getKey()).append(" x").append(e.getValue()[0]);
            }
            if (names.size() > NAMES_SHOWN) {
                u.append(", ... (").append(names.size() - NAMES_SHOWN).append(" more names)");
            }
            out.add(u.toString());
        }
        for (String note : c.notes()) {
            out.add("  note: " + note);
        }
        return out;
    }

    public static Map<String, Object> json(Coverage c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", c.format());
        m.put("operators_mapped", c.mapped());
        m.put("ops_unmapped", c.unmappedCount());
        m.put("measured_s", c.totalMeasuredS());
        m.put("mapped_measured_s", c.mappedMeasuredS());
        m.put("measured_share", c.measuredShare());
        m.put("notes", c.notes());
        return m;
    }

    /** unmapped.csv: {@code name,count,measured_s}, most measured time first. */
    public static void writeUnmapped(Path file, Coverage c) {
        List<Map.Entry<String, long[]>> names = new ArrayList<>(c.unmapped().entrySet());
        names.sort((a, b) -> Long.compare(b.getValue()[1], a.getValue()[1]));
        AtomicFile.write(file, w -> {
            w.write("name,count,measured_s\n");
            for (Map.Entry<String, long[]> e : names) {
                w.write(CsvWriter.cell(e.getKey()) + "," + e.getValue()[0] + ","
                    + e.getValue()[1] * 1e-9 + "\n");
            }
        });
    }
}

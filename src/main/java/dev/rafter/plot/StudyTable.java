package dev.rafter.plot;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rafter.config.CsvReader;
import dev.rafter.config.InputException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The points of a sweep as a table: the axis values of each point and its figures, read from {@code sweep.csv}
 * (the axes are the columns before {@code latency_s}, the figures the rest) or built from the point summaries of a
 * sweep just run, which add each phase's energy ({@code prefill_energy_j}, {@code decode_energy_j}).
 */
public record StudyTable(List<String> axes, List<Row> rows) {

    /** One point: its value on every axis (in axis order) and its figures by column name (NaN: empty cell). */
    public record Row(int line, Map<String, String> values, Map<String, Double> figures) {
        public double figure(String column) {
            Double v = figures.get(column);
            return v == null ? Double.NaN : v;
        }
    }

    /** The phases a point's summary can have, as they name sweep.csv columns. */
    public static final List<String> PHASES = List.of("prefill", "decode");

    /** Longest cell read: far beyond any value or figure, small enough to fail fast on a file of another kind. */
    private static final int MAX_CELL_CHARS = 1 << 20;

    /** A sweep.csv is a line per point, a few hundred bytes each: 1 GiB is millions of points. */
    private static final long MAX_CSV_BYTES = 1L << 30;

    /** The first figure column of sweep.csv: the axes are the columns before it. */
    static final String FIRST_FIGURE = "latency_s";

    /** Reads a sweep.csv; anything malformed is bad input naming the line. */
    public static StudyTable read(Path csv) {
        List<CsvReader.Row> lines = new ArrayList<>();
        try (BufferedReader r = dev.rafter.config.InputFiles.newReader(csv, MAX_CSV_BYTES)) {
            CsvReader in = new CsvReader(r, csv.toString(), MAX_CELL_CHARS, "a sweep.csv");
            for (CsvReader.Row row = in.next(); row != null; row = in.next()) {
                lines.add(row);
            }
        } catch (NoSuchFileException e) {
            throw InputException.located(csv + ": file not found; expected a sweep.csv written by rafter sweep");
        } catch (IOException | UncheckedIOException e) {
            throw InputException.located(csv + ": cannot read it (" + e.getMessage() + ")");
        }
        if (lines.isEmpty()) {
            throw InputException.located(csv + ": empty; expected a sweep.csv written by rafter sweep (a header of"
                + " the axes, then latency_s, ...)");
        }
        String[] header = lines.get(0).cells();
        long headerLine = lines.get(0).line();
        int first = List.of(header).indexOf(FIRST_FIGURE);
        if (first < 0) {
            throw InputException.located(csv + " line " + headerLine + ": no latency_s column; expected a sweep.csv written by rafter"
                + " sweep (the axes, then latency_s, energy_j, edp_j_s, ...)");
        }
        if (first == 0) {
            throw InputException.located(csv + " line " + headerLine + ": no axis columns before latency_s");
        }
        for (int c = 0; c < header.length; c++) {
            if (header[c].isBlank()) {
                throw InputException.located(csv + " line " + headerLine + ": column " + (c + 1) + " has no name");
            }
            for (int d = 0; d < c; d++) {
                if (header[d].equals(header[c])) {
                    throw InputException.located(csv + " line " + headerLine + ": column '" + header[c] + "' appears twice");
                }
            }
        }
        List<String> axes = List.of(header).subList(0, first);
        List<Row> rows = new ArrayList<>();
        Map<String, Integer> lineOf = new java.util.HashMap<>();
        for (int i = 1; i < lines.size(); i++) {
            int lineNo = (int) lines.get(i).line();
            String[] cells = lines.get(i).cells();
            if (cells.length != header.length) {
                throw InputException.located(csv + " line " + lineNo + ": " + cells.length + " cells, expected "
                    + header.length + " as in the header");
            }
            Map<String, String> values = new LinkedHashMap<>();
            for (int c = 0; c < first; c++) {
                if (cells[c].isBlank()) {
                    throw InputException.located(csv + " line " + lineNo + ": no value for axis " + header[c]);
                }
                values.put(header[c], cells[c].trim());
            }
            Map<String, Double> figures = new LinkedHashMap<>();
            for (int c = first; c < header.length; c++) {
                String cell = cells[c].trim();
                double v;
                if (cell.isEmpty()) {
                    v = Double.NaN;
                } else {
                    try {
                        v = dev.rafter.config.Numbers.parseDouble(cell);
                    } catch (NumberFormatException e) {
                        v = Double.NaN;
                    }
                    if (Double.isNaN(v) || Double.isInfinite(v)) {
                        throw InputException.located(csv + " line " + lineNo + ": " + header[c] + " '" + cell
                            + "' is not a finite number");
                    }
                    if (v < 0 && isTimeOrEnergy(header[c])) {
                        throw InputException.located(csv + " line " + lineNo + ": " + header[c] + " '" + cell
                            + "' is negative; expected a time, energy or energy-delay product >= 0");
                    }
                }
                figures.put(header[c], v);
            }
            Integer before = lineOf.putIfAbsent(key(values.values()), lineNo);
            if (before != null) {
                throw InputException.located(csv + " line " + lineNo + ": repeats the point of line " + before
                    + " (the same value on every axis)");
            }
            rows.add(new Row(lineNo, values, figures));
        }
        if (rows.isEmpty()) {
            throw InputException.located(csv + ": a header and no points");
        }
        return new StudyTable(axes, rows);
    }

    /** A latency ({@code _s}), an energy ({@code _j}) or an EDP ({@code _j_s}): negative is no real figure. */
    private static boolean isTimeOrEnergy(String column) {
        return column.endsWith("_s") || column.endsWith("_j");
    }

    /**
     * The table of points just run: the sweep.csv figures (to its six digits) plus each phase's energy from the
     * summaries.
     */
    public static StudyTable of(List<String> axes, List<Map<String, String>> values, List<JsonNode> summaries) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < values.size(); i++) {
            JsonNode s = summaries.get(i);
            Map<String, Double> f = new LinkedHashMap<>();
            f.put("latency_s", number(s.path("latency_s")));
            f.put("energy_j", number(s.path("energy_j").path("total")));
            f.put("edp_j_s", number(s.path("edp_j_s")));
            for (String phase : PHASES) {
                JsonNode p = s.path("phases").path(phase);
                f.put(phase + "_latency_s", number(p.path("latency_s")));
                f.put(phase + "_energy_j", number(p.path("energy_j")));
            }
            rows.add(new Row(i + 2, values.get(i), f));
        }
        return new StudyTable(List.copyOf(axes), rows);
    }

    /** A summary's figure as sweep.csv holds it (six digits), so a redraw from the CSV gives the same chart. */
    private static double number(JsonNode n) {
        return n.isNumber() ? Double.parseDouble(dev.rafter.roofline.RooflineReport.num(n.asDouble())) : Double.NaN;
    }

    /**
     * A point's values as one hash key (maps of maps hash poorly: small numbers on several axes collide, which
     * made 100,000 points take a minute).
     */
    static String key(java.util.Collection<String> values) {
        return String.join("\u0000", values);
    }

    /** The phases some point ran (a figure in its {@code PHASE_latency_s} column). */
    public List<String> phases() {
        List<String> out = new ArrayList<>();
        for (String phase : PHASES) {
            if (rows.stream().anyMatch(r -> !Double.isNaN(r.figure(phase + "_latency_s")))) {
                out.add(phase);
            }
        }
        return out;
    }

    /** Whether some point has a figure in {@code column}. */
    public boolean has(String column) {
        return rows.stream().anyMatch(r -> !Double.isNaN(r.figure(column)));
    }

    /**
     * The values of an axis in drawing order: ascending when all are numbers, else as they first appear.
     */
    public List<String> values(String axis) {
        java.util.LinkedHashSet<String> seen = new java.util.LinkedHashSet<>();
        for (Row r : rows) {
            seen.add(r.values().get(axis));
        }
        List<String> out = new ArrayList<>(seen);
        boolean numeric = out.stream().allMatch(StudyTable::isNumber);
        if (numeric) {
            out.sort((a, b) -> Double.compare(Double.parseDouble(a), Double.parseDouble(b)));
        }
        return out;
    }

    private static boolean isNumber(String s) {
        try {
            Double.parseDouble(s);
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }
}

package dev.rafter.plot;

import dev.rafter.config.InputException;
import java.awt.Color;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A heatmap of one measure over two axes of a sweep, the optimum (lowest) cell framed. When the sweep has more
 * axes, there is one panel per combination of the other axes' values (all panels share one colour scale, so they
 * compare at a glance, and each frames its own optimum; the title names the overall one); beyond
 * {@value #MAX_PANELS} combinations, one panel shows in each cell the best over the other axes (the title names
 * the point of the overall optimum on every axis). Values in cells and on the colour bar share one SI prefix, named in the bar's title.
 * Cells grow where a grid is small, so that the axis titles and panel titles (one line per fixed axis) fit beside
 * and above it: no text leaves the picture or covers another at any grid size.
 */
public final class Heatmap {
    /** Most panels drawn side by side; more combinations of the other axes give one "best over them" panel. */
    static final int MAX_PANELS = 12;
    private static final int PANEL_COLUMNS = 3;
    private static final Color INK = new Color(0x33, 0x33, 0x33);
    private static final Color EMPTY = new Color(0xdd, 0xdd, 0xdd);
    private static final Color OPTIMUM = new Color(0xd6, 0x27, 0x28);

    /** One panel: the other axes' values it holds fixed (empty: none, or "best over them"), its cells [y][x]. */
    public record Panel(Map<String, String> fixed, StudyTable.Row[][] rows, double[][] values, int bestX, int bestY) {
        public boolean hasOptimum() {
            return bestX >= 0;
        }
    }

    private final StudyTable table;
    private final String xKey;
    private final String yKey;
    private final Measure measure;
    private final List<String> xs;
    private final List<String> ys;
    private final List<String> rest;
    private final boolean bestOverRest;
    private final List<Panel> panels = new ArrayList<>();
    private final Map<String, List<String>> axisValues = new HashMap<>();
    private final Units.Prefix prefix;
    private final double cellWidth;
    private final double cellHeight;

    private Heatmap(StudyTable table, String xKey, String yKey, Measure measure) {
        this.table = table;
        this.xKey = xKey;
        this.yKey = yKey;
        this.measure = measure;
        for (String axis : table.axes()) {
            axisValues.put(axis, table.values(axis));
        }
        this.xs = axisValues.get(xKey);
        this.ys = axisValues.get(yKey);
        this.rest = table.axes().stream().filter(a -> !a.equals(xKey) && !a.equals(yKey)).toList();
        this.bestOverRest = panelsWouldBe() > MAX_PANELS;
        List<Map<String, String>> combos = bestOverRest ? List.of() : combinations();
        Map<String, List<StudyTable.Row>> byFixed = new LinkedHashMap<>();
        for (Map<String, String> combo : combos) {
            byFixed.put(StudyTable.key(combo.values()), new ArrayList<>());
        }
        Map<String, StudyTable.Row> seen = new HashMap<>();
        for (StudyTable.Row r : table.rows()) {
            StudyTable.Row before = seen.put(StudyTable.key(r.values().values()), r);
            if (before != null) {
                throw new InputException("line " + r.line() + " repeats the point of line " + before.line()
                    + " (the same value on every axis)");
            }
            if (!bestOverRest) {
                byFixed.get(StudyTable.key(restOf(r).values())).add(r);
            }
        }
        if (bestOverRest) {
            panels.add(panel(Map.of(), table.rows()));
        } else {
            for (Map<String, String> combo : combos) {
                panels.add(panel(combo, byFixed.get(StudyTable.key(combo.values()))));
            }
        }
        this.prefix = sharedPrefix();
        this.cellWidth = Math.max(widestCell(prefix), Math.ceil((widestUnderOrOver() + 8) / xs.size()));
        // a grid of few rows grows its rows, so that the y axis's title (written upwards beside it) fits
        this.cellHeight = Math.max(CELL_H, Math.ceil((Canvas.textWidth(Units.axisTitle(yKey), 12, false) + 8)
            / ys.size()));
    }

    /**
     * The heatmap of {@code measure} over {@code xKey} (columns) and {@code yKey} (rows) of {@code table}; a key
     * that is not an axis of the sweep is bad input naming the axes.
     */
    public static Heatmap of(StudyTable table, String xKey, String yKey, Measure measure) {
        check(table, "--x", xKey);
        check(table, "--y", yKey);
        if (xKey.equals(yKey)) {
            throw new InputException("--x and --y: both are " + xKey + "; expected two different axes of "
                + String.join(", ", table.axes()));
        }
        return new Heatmap(table, xKey, yKey, measure);
    }

    private static void check(StudyTable table, String option, String key) {
        if (!table.axes().contains(key)) {
            throw new InputException(option + " " + key + ": not an axis of this sweep; expected one of "
                + String.join(", ", table.axes()));
        }
    }

    /** Every combination of the other axes' values, in their drawing order (first axis slowest). */
    private List<Map<String, String>> combinations() {
        List<Map<String, String>> out = new ArrayList<>();
        out.add(new LinkedHashMap<>());
        for (String axis : rest) {
            List<Map<String, String>> next = new ArrayList<>();
            for (Map<String, String> partial : out) {
                for (String v : axisValues.get(axis)) {
                    Map<String, String> m = new LinkedHashMap<>(partial);
                    m.put(axis, v);
                    next.add(m);
                }
            }
            out = next;
        }
        return out;
    }

    private Map<String, String> restOf(StudyTable.Row r) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String axis : rest) {
            m.put(axis, r.values().get(axis));
        }
        return m;
    }

    /** A panel of {@code rows}: each cell the lowest value of its rows; the optimum the lowest cell. */
    private Panel panel(Map<String, String> fixed, List<StudyTable.Row> rows) {
        StudyTable.Row[][] cells = new StudyTable.Row[ys.size()][xs.size()];
        double[][] values = new double[ys.size()][xs.size()];
        for (double[] v : values) {
            java.util.Arrays.fill(v, Double.NaN);
        }
        for (StudyTable.Row r : rows) {
            int x = xs.indexOf(r.values().get(xKey));
            int y = ys.indexOf(r.values().get(yKey));
            double v = measure.of(r);
            if (!Double.isNaN(v) && (Double.isNaN(values[y][x]) || v < values[y][x])) {
                values[y][x] = v;
                cells[y][x] = r;
            }
        }
        int bestX = -1;
        int bestY = -1;
        for (int x = 0; x < xs.size(); x++) {
            for (int y = 0; y < ys.size(); y++) {
                if (!Double.isNaN(values[y][x]) && (bestX < 0 || values[y][x] < values[bestY][bestX])) {
                    bestX = x;
                    bestY = y;
                }
            }
        }
        return new Panel(fixed, cells, values, bestX, bestY);
    }

    public List<Panel> panels() {
        return panels;
    }

    /** Whether the sweep had too many combinations of the other axes, and each cell is the best over them. */
    public boolean bestOverRest() {
        return bestOverRest;
    }

    /** The overall optimum's point (null when no point has this measure). */
    public StudyTable.Row optimum() {
        StudyTable.Row best = null;
        for (Panel p : panels) {
            if (p.hasOptimum()) {
                StudyTable.Row r = p.rows()[p.bestY()][p.bestX()];
                if (best == null || measure.of(r) < measure.of(best)) {
                    best = r;
                }
            }
        }
        return best;
    }

    /** A point's values on every axis in words: "64 KiB, 1400 MHz, 2048 GB/s". */
    static String describe(StudyTable table, StudyTable.Row r) {
        List<String> parts = new ArrayList<>();
        for (String axis : table.axes()) {
            parts.add(Units.valueLabel(axis, r.values().get(axis)));
        }
        return String.join(", ", parts);
    }

    // ---- drawing ----

    private static final double TITLE_H = 34;
    private static final double PANEL_TITLE_H = 22;
    private static final double PANEL_TITLE_LINE = 15;
    private static final double CELL_H = 28;
    private static final double MARGIN = 14;
    private static final double BAR_W = 18;

    private Units.Prefix sharedPrefix() {
        double max = 0;
        for (Panel p : panels) {
            for (double[] row : p.values()) {
                for (double v : row) {
                    if (!Double.isNaN(v)) {
                        max = Math.max(max, Math.abs(v));
                    }
                }
            }
        }
        return Units.prefixFor(max);
    }

    private ColourScale scale() {
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (Panel p : panels) {
            for (double[] row : p.values()) {
                for (double v : row) {
                    if (!Double.isNaN(v)) {
                        lo = Math.min(lo, v);
                        hi = Math.max(hi, v);
                    }
                }
            }
        }
        return lo > hi ? ColourScale.of(0, 1) : ColourScale.of(lo, hi);
    }

    private String cellText(double v, Units.Prefix p) {
        return Double.isNaN(v) ? "-" : Units.plain(v / p.factor());
    }

    private double widestCell(Units.Prefix p) {
        double w = 48;
        for (String x : xs) {
            w = Math.max(w, Canvas.textWidth(x, 11, false) + 10);
        }
        for (Panel panel : panels) {
            for (double[] row : panel.values()) {
                for (double v : row) {
                    w = Math.max(w, Canvas.textWidth(cellText(v, p), 11, false) + 10);
                }
            }
        }
        return Math.ceil(w);
    }

    /** A panel's title: the value of each other axis it holds fixed, one line each (none: no title). */
    private static List<String> panelTitle(Panel p) {
        List<String> lines = new ArrayList<>();
        p.fixed().forEach((k, v) -> lines.add(Units.namedValue(k, v)));
        return lines;
    }

    /** The widest text centred over or under a panel's grid: a line of its title, or the x axis's title. */
    private double widestUnderOrOver() {
        double w = Canvas.textWidth(Units.axisTitle(xKey), 12, false);
        for (Panel p : panels) {
            for (String line : panelTitle(p)) {
                w = Math.max(w, Canvas.textWidth(line, 12, true));
            }
        }
        return w;
    }

    /** The room above a panel's grid: one line of title, or as many as the panels' titles have. */
    private double panelTitleHeight() {
        int lines = 1;
        for (Panel p : panels) {
            lines = Math.max(lines, panelTitle(p).size());
        }
        return PANEL_TITLE_H + (lines - 1) * PANEL_TITLE_LINE;
    }

    private double yLabelWidth() {
        double w = 0;
        for (String y : ys) {
            w = Math.max(w, Canvas.textWidth(y, 11, false));
        }
        return Math.ceil(w) + 30;
    }

    private double panelWidth() {
        return yLabelWidth() + xs.size() * cellWidth + MARGIN;
    }

    private double panelHeight() {
        return panelTitleHeight() + ys.size() * cellHeight + 44;
    }

    private int columns() {
        return Math.min(PANEL_COLUMNS, panels.size());
    }

    private String barTitle() {
        return measure.metric().shortTitle + " (" + prefix.unit(measure.metric().unit) + ")";
    }

    public int width() {
        double bar = BAR_W + 16 + 60 + 24;
        double title = Canvas.textWidth(title(), 14, true) + 2 * MARGIN;
        double note = bestOverRest ? Canvas.textWidth(footnote(), 10, false) + 2 * MARGIN : 0;
        return (int) Math.ceil(Math.max(Math.max(title, note), MARGIN + columns() * panelWidth() + bar));
    }

    public int height() {
        int panelRows = (panels.size() + columns() - 1) / columns();
        double panelsH = panelRows * panelHeight();
        double barH = panelTitleHeight() + barHeight() + 12;
        return (int) Math.ceil(TITLE_H + Math.max(panelsH, barH) + 8 + (bestOverRest ? 18 : 0));
    }

    private String barLabel(ColourScale scale) {
        return barTitle() + (scale.log() ? ", log scale" : "");
    }

    /** The colour bar: as tall as a panel's cells, or as its title where that is longer (a grid of few rows). */
    private double barHeight() {
        return Math.max(ys.size() * cellHeight, Canvas.textWidth(barLabel(scale()), 11, false) + 8);
    }

    /** The chart's title: the measure and where its optimum lies. */
    public String title() {
        StudyTable.Row best = optimum();
        String what = measure.title();
        if (best == null) {
            return what + ": no point has this figure";
        }
        return what + ": optimum " + describe(table, best) + " = " + Units.si(measure.of(best),
            measure.metric().unit);
    }

    public void draw(Canvas c) {
        ColourScale scale = scale();
        double cw = cellWidth;
        c.text(width() / 2.0, 22, title(), 14, Canvas.Anchor.MIDDLE, true, INK, false);
        StudyTable.Row overall = optimum();
        for (int i = 0; i < panels.size(); i++) {
            double left = MARGIN + (i % columns()) * panelWidth();
            double top = TITLE_H + (i / columns()) * panelHeight();
            drawPanel(c, panels.get(i), left, top, cw, prefix, scale, overall);
        }
        double gridH = barHeight();
        double barX = MARGIN + columns() * panelWidth() + 16;
        double barTop = TITLE_H + panelTitleHeight();
        int steps = 64;
        for (int s = 0; s < steps; s++) {
            double t = (s + 0.5) / steps;
            c.rect(barX, barTop + gridH * (1 - (s + 1.0) / steps), BAR_W, gridH / steps + 0.5, ColourScale.at(t),
                null, 0);
        }
        c.rect(barX, barTop, BAR_W, gridH, null, INK, 1);
        String before = null;
        for (int k = 0; k <= 4; k++) {
            if (scale.max() <= scale.min() && k != 2) {
                continue; // one value: one tick, where its colour is
            }
            double t = k / 4.0;
            String label = Units.plain(scale.value(t) / prefix.factor());
            if (label.equals(before)) {
                continue; // values too close to tell apart (one value only: one tick)
            }
            before = label;
            double y = barTop + gridH * (1 - t);
            c.line(barX + BAR_W, y, barX + BAR_W + 4, y, INK, 1, false);
            c.text(barX + BAR_W + 6, y + 4, label, 10, Canvas.Anchor.START, false, INK, false);
        }
        c.text(barX + BAR_W + 62, barTop + gridH / 2, barLabel(scale), 11,
            Canvas.Anchor.MIDDLE, false, INK, true);
        if (bestOverRest) {
            c.text(MARGIN, height() - 8, footnote(), 10, Canvas.Anchor.START, false, INK, false);
        }
    }

    /** Under a "best over the other axes" panel: what each cell holds. */
    private String footnote() {
        return "each cell: the best over " + String.join(", ", rest.stream().map(Units::name).toList()) + " ("
            + panelsWouldBe() + " combinations, more than " + MAX_PANELS + " panels)";
    }

    /** The number of combinations of the other axes' values (saturating: a huge product stays huge). */
    private long panelsWouldBe() {
        long n = 1;
        for (String axis : rest) {
            n = Math.min(Long.MAX_VALUE / 1_000_000, n * axisValues.get(axis).size());
        }
        return n;
    }

    private void drawPanel(Canvas c, Panel p, double left, double top, double cw, Units.Prefix prefix,
                           ColourScale scale, StudyTable.Row overall) {
        double gridX = left + yLabelWidth();
        double gridY = top + panelTitleHeight();
        List<String> title = panelTitle(p);
        for (int i = 0; i < title.size(); i++) {
            c.text(gridX + xs.size() * cw / 2, top + 15 + i * PANEL_TITLE_LINE, title.get(i), 12, Canvas.Anchor.MIDDLE,
                true, INK, false);
        }
        for (int y = 0; y < ys.size(); y++) {
            double cy = gridY + (ys.size() - 1 - y) * cellHeight;
            for (int x = 0; x < xs.size(); x++) {
                double v = p.values()[y][x];
                Color fill = Double.isNaN(v) ? EMPTY : scale.colour(v);
                c.rect(gridX + x * cw, cy, cw, cellHeight, fill, Color.WHITE, 1);
                c.text(gridX + x * cw + cw / 2, cy + cellHeight / 2 + 4, cellText(v, prefix), 11,
                    Canvas.Anchor.MIDDLE, false, Double.isNaN(v) ? INK : ColourScale.textOn(fill), false);
            }
            c.text(gridX - 6, cy + cellHeight / 2 + 4, ys.get(y), 11, Canvas.Anchor.END, false, INK, false);
        }
        double gridBottom = gridY + ys.size() * cellHeight;
        for (int x = 0; x < xs.size(); x++) {
            c.text(gridX + x * cw + cw / 2, gridBottom + 15, xs.get(x), 11, Canvas.Anchor.MIDDLE, false, INK, false);
        }
        c.text(gridX + xs.size() * cw / 2, gridBottom + 34, Units.axisTitle(xKey), 12, Canvas.Anchor.MIDDLE, false,
            INK, false);
        c.text(left + 12, gridY + ys.size() * cellHeight / 2, Units.axisTitle(yKey), 12, Canvas.Anchor.MIDDLE, false,
            INK, true);
        if (p.hasOptimum()) {
            double ox = gridX + p.bestX() * cw;
            double oy = gridY + (ys.size() - 1 - p.bestY()) * cellHeight;
            boolean best = p.rows()[p.bestY()][p.bestX()] == overall;
            c.begin(best ? "optimum overall" : "optimum");
            c.rect(ox + 1.5, oy + 1.5, cw - 3, cellHeight - 3, null, Color.WHITE, 3);
            c.rect(ox + 1.5, oy + 1.5, cw - 3, cellHeight - 3, null, OPTIMUM, best ? 2.5 : 1.5);
            c.end();
        }
    }
}

package dev.rafter.plot;

import java.awt.Color;
import java.awt.geom.Rectangle2D;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Latency against energy of every point of a sweep, the Pareto front (the points no other point beats on both)
 * drawn as a staircase and each of its points labelled with its axis values. Axes are logarithmic when the values
 * span ten times or more.
 */
public final class ParetoFront {
    private static final int WIDTH = 960;
    private static final int HEIGHT = 640;
    private static final double LEFT = 86;
    private static final double RIGHT = 36;
    private static final double TOP = 44;
    private static final double BOTTOM = 62;
    private static final Color INK = new Color(0x33, 0x33, 0x33);
    private static final Color GRID = new Color(0xe4, 0xe4, 0xe4);
    private static final Color OTHER = new Color(0x1f, 0x77, 0xb4);
    private static final Color FRONT = new Color(0xd6, 0x27, 0x28);

    private final StudyTable table;
    private final Measure measure;
    private final List<StudyTable.Row> points;
    private final List<StudyTable.Row> front;

    private ParetoFront(StudyTable table, Measure measure) {
        this.table = table;
        this.measure = measure;
        this.points = table.rows().stream().filter(r -> !Double.isNaN(measure.latency(r))
            && !Double.isNaN(measure.energy(r))).toList();
        this.front = front(points, measure);
    }

    /** The front of {@code table} by the latency and energy of {@code measure} (whose metric does not matter). */
    public static ParetoFront of(StudyTable table, Measure measure) {
        return new ParetoFront(table, measure);
    }

    public List<StudyTable.Row> front() {
        return front;
    }

    /**
     * The non-dominated points: a point is on the front unless another has no more latency and no more energy and
     * less of one. Points that tie exactly are all on it. Ordered by latency (then energy, then input order).
     */
    static List<StudyTable.Row> front(List<StudyTable.Row> rows, Measure m) {
        List<StudyTable.Row> sorted = new ArrayList<>(rows);
        sorted.sort(Comparator.comparingDouble(m::latency).thenComparingDouble(m::energy));
        List<StudyTable.Row> out = new ArrayList<>();
        double lowestBefore = Double.POSITIVE_INFINITY; // least energy of the points with less latency
        int i = 0;
        while (i < sorted.size()) {
            int j = i;
            double latency = m.latency(sorted.get(i));
            while (j < sorted.size() && m.latency(sorted.get(j)) == latency) {
                j++;
            }
            double groupLowest = m.energy(sorted.get(i));
            if (groupLowest < lowestBefore) {
                for (int k = i; k < j && m.energy(sorted.get(k)) == groupLowest; k++) {
                    out.add(sorted.get(k));
                }
                lowestBefore = groupLowest;
            }
            i = j;
        }
        return out;
    }

    public int width() {
        return WIDTH;
    }

    public int height() {
        return HEIGHT;
    }

    public String title() {
        return "Latency vs energy" + (measure.phase() == null ? "" : ", " + measure.phase()) + ": Pareto front of "
            + front.size() + " of " + points.size() + " points";
    }

    public void draw(Canvas c) {
        c.text(WIDTH / 2.0, 26, title(), 14, Canvas.Anchor.MIDDLE, true, INK, false);
        double x0 = LEFT;
        double x1 = WIDTH - RIGHT;
        double y0 = HEIGHT - BOTTOM;
        double y1 = TOP;
        c.rect(x0, y1, x1 - x0, y0 - y1, null, INK, 1);
        if (points.isEmpty()) {
            c.text((x0 + x1) / 2, (y0 + y1) / 2, "no point has both latency and energy", 12, Canvas.Anchor.MIDDLE,
                false, INK, false);
            return;
        }
        double[] lat = points.stream().mapToDouble(measure::latency).toArray();
        double[] en = points.stream().mapToDouble(measure::energy).toArray();
        Axis xa = Axis.auto(java.util.Arrays.stream(lat).min().orElse(0), java.util.Arrays.stream(lat).max().orElse(1),
            x0, x1);
        Axis ya = Axis.auto(java.util.Arrays.stream(en).min().orElse(0), java.util.Arrays.stream(en).max().orElse(1),
            y0, y1);
        Units.Prefix px = Units.prefixFor(Math.max(Math.abs(xa.lo()), Math.abs(xa.hi())));
        Units.Prefix py = Units.prefixFor(Math.max(Math.abs(ya.lo()), Math.abs(ya.hi())));
        for (double t : xa.ticks()) {
            double x = xa.at(t);
            c.line(x, y0, x, y1, GRID, 1, false);
            c.line(x, y0, x, y0 + 4, INK, 1, false);
            c.text(x, y0 + 17, Units.plain(t / px.factor()), 11, Canvas.Anchor.MIDDLE, false, INK, false);
        }
        for (double t : ya.ticks()) {
            double y = ya.at(t);
            c.line(x0, y, x1, y, GRID, 1, false);
            c.line(x0 - 4, y, x0, y, INK, 1, false);
            c.text(x0 - 7, y + 4, Units.plain(t / py.factor()), 11, Canvas.Anchor.END, false, INK, false);
        }
        c.rect(x0, y1, x1 - x0, y0 - y1, null, INK, 1);
        String phase = measure.phase() == null ? "" : measure.phase() + " ";
        c.text((x0 + x1) / 2, HEIGHT - 18, phase + "latency (" + px.unit("s") + ")" + (xa.log() ? ", log scale" : ""),
            12, Canvas.Anchor.MIDDLE, false, INK, false);
        c.text(22, (y0 + y1) / 2, phase + "energy (" + py.unit("J") + ")" + (ya.log() ? ", log scale" : ""), 12,
            Canvas.Anchor.MIDDLE, false, INK, true);
        for (StudyTable.Row r : points) {
            c.circle(xa.at(measure.latency(r)), ya.at(measure.energy(r)), 3.5, OTHER, null, 0);
        }
        c.begin("pareto-front");
        for (int i = 0; i + 1 < front.size(); i++) {
            double ax = xa.at(measure.latency(front.get(i)));
            double ay = ya.at(measure.energy(front.get(i)));
            double bx = xa.at(measure.latency(front.get(i + 1)));
            double by = ya.at(measure.energy(front.get(i + 1)));
            c.line(ax, ay, bx, ay, FRONT, 1.5, true);
            c.line(bx, ay, bx, by, FRONT, 1.5, true);
        }
        Labels labels = new Labels(x0, x1, y1, y0);
        for (StudyTable.Row r : points) {
            labels.avoid(new Rectangle2D.Double(xa.at(measure.latency(r)) - 3.5, ya.at(measure.energy(r)) - 3.5, 7,
                7));
        }
        for (StudyTable.Row r : front) {
            double x = xa.at(measure.latency(r));
            double y = ya.at(measure.energy(r));
            c.circle(x, y, 5, FRONT, Color.WHITE, 1);
            labels.keepClear(new Rectangle2D.Double(x - 5, y - 5, 10, 10));
        }
        for (StudyTable.Row r : front) {
            labels.label(c, Heatmap.describe(table, r), xa.at(measure.latency(r)), ya.at(measure.energy(r)));
        }
        c.end();
    }
}

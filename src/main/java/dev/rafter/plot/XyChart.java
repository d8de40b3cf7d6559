package dev.rafter.plot;

import java.awt.Color;
import java.awt.geom.Rectangle2D;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * An x-y chart on Rafter's canvas (roofline.png, compare.png, sweep.png): series drawn as lines, markers or both,
 * linear or logarithmic axes whose titles carry the unit (with one SI prefix for the whole axis, so tick labels
 * read as plain numbers), labelled points placed clear of each other and of the legend, and a legend inside the
 * plot's lower right or outside on the right. A pure function of what was added: the same chart draws the same.
 */
public final class XyChart {
    /** How a series is drawn. */
    public enum Style { LINE, MARKERS, LINE_AND_MARKERS }

    /** Where the legend goes. */
    public enum LegendPlace { INSIDE_LOWER_RIGHT, OUTSIDE_RIGHT }

    /** One axis's description: its title without unit, the unit (null: none), and whether to use SI prefixes. */
    public record AxisSpec(String title, String unit, boolean siPrefix, boolean log) {}

    /** A named series (null name: not in the legend), its points as {x, y}. */
    public record Series(String name, Color colour, Style style, float lineWidth, boolean dashed, List<double[]> points) {}

    /** A text beside the point (x, y), in data coordinates. */
    public record PointLabel(double x, double y, String text) {}

    static final Color INK = new Color(0x33, 0x33, 0x33);
    private static final Color GRID = new Color(0xe4, 0xe4, 0xe4);
    private static final Color MINOR_GRID = new Color(0xf2, 0xf2, 0xf2);
    /** Colours of series told apart by colour (matplotlib's tab10). */
    public static final Color[] PALETTE = {new Color(0x1f, 0x77, 0xb4), new Color(0xff, 0x7f, 0x0e),
        new Color(0x2c, 0xa0, 0x2c), new Color(0xd6, 0x27, 0x28), new Color(0x94, 0x67, 0xbd),
        new Color(0x8c, 0x56, 0x4b), new Color(0xe3, 0x77, 0xc2), new Color(0x7f, 0x7f, 0x7f),
        new Color(0xbc, 0xbd, 0x22), new Color(0x17, 0xbe, 0xcf)};
    private static final double TICK_SIZE = 11;
    private static final double LEGEND_SIZE = 11;
    private static final double LEGEND_ROW = 17;
    private static final double MARKER_R = 3.5;

    private final int width;
    private final int height;
    private final String title;
    private final AxisSpec xSpec;
    private final AxisSpec ySpec;
    private final List<Series> series = new ArrayList<>();
    private final List<PointLabel> labels = new ArrayList<>();
    private String subtitle;
    private LegendPlace legendPlace = LegendPlace.INSIDE_LOWER_RIGHT;
    private List<Double> xTickValues;
    private List<String> xTickLabels;
    private List<Rectangle2D> labelBoxes = List.of();
    private Rectangle2D legendBox;

    public XyChart(int width, int height, String title, AxisSpec x, AxisSpec y) {
        this.width = width;
        this.height = height;
        this.title = title;
        this.xSpec = x;
        this.ySpec = y;
    }

    public XyChart subtitle(String s) {
        this.subtitle = s;
        return this;
    }

    public XyChart legend(LegendPlace place) {
        this.legendPlace = place;
        return this;
    }

    /** Ticks at these x values with these labels (e.g. a sweep's own values), instead of chosen ones. */
    public XyChart xTicks(List<Double> values, List<String> tickLabels) {
        this.xTickValues = values;
        this.xTickLabels = tickLabels;
        return this;
    }

    public XyChart add(Series s) {
        series.add(s);
        return this;
    }

    public XyChart label(PointLabel l) {
        labels.add(l);
        return this;
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }

    /** The boxes the point labels went into in the last drawing (pixels). */
    public List<Rectangle2D> labelBoxes() {
        return labelBoxes;
    }

    /** The legend's box in the last drawing (pixels), null when there was none. */
    public Rectangle2D legendBox() {
        return legendBox;
    }

    /** The range of the values an axis of {@code spec} can show, {min, max}; {1, 10} when there are none. */
    private double[] range(boolean xAxis, AxisSpec spec) {
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (double[] p : s.points()) {
                double v = xAxis ? p[0] : p[1];
                if (Double.isFinite(v) && (!spec.log() || v > 0)) {
                    min = Math.min(min, v);
                    max = Math.max(max, v);
                }
            }
        }
        return min > max ? new double[] {1, 10} : new double[] {min, max};
    }

    /** The x axis between pixels {@code from} and {@code to}. */
    public Axis xAxis(double from, double to) {
        double[] r = range(true, xSpec);
        return Axis.of(r[0], r[1], xSpec.log(), from, to);
    }

    public Axis yAxis(double from, double to) {
        double[] r = range(false, ySpec);
        return Axis.of(r[0], r[1], ySpec.log(), from, to);
    }

    /** One SI prefix for the axis; none where it spans so many decades that no prefix would help. */
    private static Units.Prefix prefix(AxisSpec spec, Axis a) {
        return spec.siPrefix() && a.decades() <= 9 ? Units.prefixFor(Math.max(Math.abs(a.lo()), Math.abs(a.hi())))
            : new Units.Prefix(1, "");
    }

    /** An axis title: "measured time (us), log scale". */
    static String axisTitle(AxisSpec spec, Units.Prefix p, boolean log) {
        String unit = spec.unit() == null ? "" : " (" + p.unit(spec.unit()) + ")";
        return spec.title() + unit + (log ? ", log scale" : "");
    }

    /** A tick label: three significant digits, plain where that stays short, else 1e+300 style. */
    static String tickLabel(double v) {
        double a = Math.abs(v);
        if (v == 0 || (a >= 1e-3 && a < 1e6)) {
            return Units.plain(v);
        }
        return new BigDecimal(v).round(new MathContext(3)).stripTrailingZeros().toString().toLowerCase(Locale.ROOT);
    }

    private List<Double> xTicks(Axis xa) {
        return xTickValues != null ? xTickValues : xa.ticks();
    }

    private List<String> xLabels(Axis xa, Units.Prefix p) {
        if (xTickLabels != null) {
            return xTickLabels;
        }
        return xa.ticks().stream().map(t -> tickLabel(t / p.factor())).toList();
    }

    private List<Series> inLegend() {
        return series.stream().filter(s -> s.name() != null).toList();
    }

    private double legendWidth() {
        double w = 0;
        for (Series s : inLegend()) {
            w = Math.max(w, Canvas.textWidth(s.name(), LEGEND_SIZE, false));
        }
        return w + 44;
    }

    public void draw(Canvas c) {
        double top = subtitle == null ? 44 : 60;
        double bottom = height - 56;
        double right = width - 24 - (legendPlace == LegendPlace.OUTSIDE_RIGHT && !inLegend().isEmpty()
            ? legendWidth() + 12 : 0);
        Axis yProbe = yAxis(bottom, top);
        Units.Prefix py = prefix(ySpec, yProbe);
        double yLabelW = 0;
        for (double t : yProbe.ticks()) {
            yLabelW = Math.max(yLabelW, Canvas.textWidth(tickLabel(t / py.factor()), TICK_SIZE, false));
        }
        double left = Math.ceil(yLabelW) + 40;
        Axis xa = xAxis(left, right);
        Axis ya = yAxis(bottom, top);
        Units.Prefix px = prefix(xSpec, xa);

        c.text(width / 2.0, 24, title, 14, Canvas.Anchor.MIDDLE, true, INK, false);
        if (subtitle != null) {
            c.text(width / 2.0, 42, subtitle, 11, Canvas.Anchor.MIDDLE, false, INK, false);
        }
        for (double t : xa.minorTicks()) {
            c.line(xa.at(t), bottom, xa.at(t), top, MINOR_GRID, 1, false);
        }
        for (double t : ya.minorTicks()) {
            c.line(left, ya.at(t), right, ya.at(t), MINOR_GRID, 1, false);
        }
        List<Double> xt = xTicks(xa);
        List<String> xl = xLabels(xa, px);
        double[] xc = new double[xt.size()];
        double[] xw = new double[xt.size()];
        for (int i = 0; i < xt.size(); i++) {
            xc[i] = xa.at(xt.get(i));
            xw[i] = Canvas.textWidth(xl.get(i), TICK_SIZE, false);
            c.line(xc[i], bottom, xc[i], top, GRID, 1, false);
        }
        for (int i : Axis.fitting(xc, xw, 8)) {
            c.line(xc[i], bottom, xc[i], bottom + 4, INK, 1, false);
            c.text(xc[i], bottom + 17, xl.get(i), TICK_SIZE, Canvas.Anchor.MIDDLE, false, INK, false);
        }
        List<Double> yt = ya.ticks();
        double[] yc = new double[yt.size()];
        double[] yh = new double[yt.size()];
        for (int i = 0; i < yt.size(); i++) {
            yc[i] = ya.at(yt.get(i));
            yh[i] = TICK_SIZE + 1;
            c.line(left, yc[i], right, yc[i], GRID, 1, false);
        }
        for (int i : Axis.fitting(yc, yh, 6)) {
            c.line(left - 4, yc[i], left, yc[i], INK, 1, false);
            c.text(left - 7, yc[i] + 4, tickLabel(yt.get(i) / py.factor()), TICK_SIZE, Canvas.Anchor.END, false, INK,
                false);
        }
        c.text((left + right) / 2, height - 16, axisTitle(xSpec, px, xa.log()), 12, Canvas.Anchor.MIDDLE, false, INK,
            false);
        c.text(16, (top + bottom) / 2, axisTitle(ySpec, py, ya.log()), 12, Canvas.Anchor.MIDDLE, false, INK, true);

        for (Series s : series) {
            if (s.style() != Style.MARKERS) {
                double[] prev = null;
                for (double[] p : s.points()) {
                    if (!xa.shows(p[0]) || !ya.shows(p[1])) {
                        prev = null;
                        continue;
                    }
                    if (prev != null) {
                        c.line(xa.at(prev[0]), ya.at(prev[1]), xa.at(p[0]), ya.at(p[1]), s.colour(), s.lineWidth(),
                            s.dashed());
                    }
                    prev = p;
                }
            }
        }
        for (Series s : series) {
            if (s.style() != Style.LINE) {
                for (double[] p : s.points()) {
                    if (xa.shows(p[0]) && ya.shows(p[1])) {
                        c.circle(xa.at(p[0]), ya.at(p[1]), MARKER_R, s.colour(), null, 0);
                    }
                }
            }
        }
        c.rect(left, top, right - left, bottom - top, null, INK, 1);
        legendBox = drawLegend(c, left, right, top, bottom);
        Labels placer = new Labels(left, right, top, bottom);
        if (legendBox != null && legendPlace == LegendPlace.INSIDE_LOWER_RIGHT) {
            placer.keepClear(legendBox);
        }
        for (Series s : series) {
            if (s.style() != Style.LINE) {
                for (double[] p : s.points()) {
                    if (xa.shows(p[0]) && ya.shows(p[1])) {
                        placer.avoid(new Rectangle2D.Double(xa.at(p[0]) - MARKER_R, ya.at(p[1]) - MARKER_R,
                            2 * MARKER_R, 2 * MARKER_R));
                    }
                }
            }
        }
        c.begin("point-labels");
        for (PointLabel l : labels) {
            if (xa.shows(l.x()) && ya.shows(l.y())) {
                placer.label(c, l.text(), xa.at(l.x()), ya.at(l.y()));
            }
        }
        c.end();
        labelBoxes = List.copyOf(placer.placed());
    }

    private Rectangle2D drawLegend(Canvas c, double left, double right, double top, double bottom) {
        List<Series> entries = inLegend();
        if (entries.isEmpty()) {
            return null;
        }
        double w = legendWidth();
        double h = entries.size() * LEGEND_ROW + 10;
        double x = legendPlace == LegendPlace.OUTSIDE_RIGHT ? right + 12 : right - w - 10;
        double y = legendPlace == LegendPlace.OUTSIDE_RIGHT ? top : bottom - h - 10;
        c.rect(x, y, w, h, Color.WHITE, INK, 1);
        for (int i = 0; i < entries.size(); i++) {
            Series s = entries.get(i);
            double cy = y + 5 + i * LEGEND_ROW + LEGEND_ROW / 2;
            if (s.style() != Style.MARKERS) {
                c.line(x + 8, cy, x + 30, cy, s.colour(), s.lineWidth(), s.dashed());
            }
            if (s.style() != Style.LINE) {
                c.circle(x + 19, cy, MARKER_R, s.colour(), null, 0);
            }
            c.text(x + 36, cy + 4, s.name(), LEGEND_SIZE, Canvas.Anchor.START, false, INK, false);
        }
        return new Rectangle2D.Double(x, y, w, h);
    }
}

package dev.rafter.plot;

import java.awt.Color;
import java.util.List;

/**
 * Bars of shares stacked to 100%, one bar per category, series bottom to top in their order, a legend on the
 * right and the category labels running up the page below their bars.
 */
public final class StackedBars {
    private static final Color INK = new Color(0x33, 0x33, 0x33);
    private static final Color GRID = new Color(0xdd, 0xdd, 0xdd);
    private static final double LABEL_SIZE = 11;
    private static final double BAR_PITCH = 70;
    private static final int LEFT = 80;
    private static final int TOP = 44;
    private static final int PLOT_HEIGHT = 400;
    private static final int LEGEND_WIDTH = 170;

    /** One bar: its label and each series' share of it, in percent. */
    public record Bar(String label, double[] shares) {}

    private final String title;
    private final String xTitle;
    private final String yTitle;
    private final List<String> series;
    private final List<Color> colours;
    private final List<Bar> bars;
    private final double labelDepth;

    public StackedBars(String title, String xTitle, String yTitle, List<String> series, List<Color> colours,
                       List<Bar> bars) {
        if (series.size() != colours.size()) {
            throw new IllegalArgumentException("one colour per series");
        }
        this.title = title;
        this.xTitle = xTitle;
        this.yTitle = yTitle;
        this.series = List.copyOf(series);
        this.colours = List.copyOf(colours);
        this.bars = List.copyOf(bars);
        double longest = 0;
        for (Bar b : bars) {
            longest = Math.max(longest, Canvas.textWidth(b.label(), LABEL_SIZE, false));
        }
        this.labelDepth = longest + 12;
    }

    public int width() {
        return (int) Math.max(720, LEFT + BAR_PITCH * Math.max(1, bars.size()) + 30 + LEGEND_WIDTH);
    }

    public int height() {
        return (int) Math.ceil(TOP + PLOT_HEIGHT + labelDepth + 40);
    }

    private double plotWidth() {
        return width() - LEFT - 30 - LEGEND_WIDTH;
    }

    public void draw(Canvas c) {
        double plotWidth = plotWidth();
        double bottom = TOP + PLOT_HEIGHT;
        c.text(width() / 2.0, 26, title, 15, Canvas.Anchor.MIDDLE, true, INK, false);
        for (int pct = 0; pct <= 100; pct += 10) {
            double y = bottom - PLOT_HEIGHT * pct / 100.0;
            c.line(LEFT, y, LEFT + plotWidth, y, GRID, 1, pct > 0 && pct < 100);
            c.text(LEFT - 6, y + 4, Integer.toString(pct), LABEL_SIZE, Canvas.Anchor.END, false, INK, false);
        }
        c.line(LEFT, TOP, LEFT, bottom, INK, 1, false);
        c.line(LEFT, bottom, LEFT + plotWidth, bottom, INK, 1, false);
        c.text(24, TOP + PLOT_HEIGHT / 2.0, yTitle, 12, Canvas.Anchor.MIDDLE, true, INK, true);
        double pitch = plotWidth / Math.max(1, bars.size());
        double barWidth = 0.8 * pitch;
        for (int i = 0; i < bars.size(); i++) {
            Bar b = bars.get(i);
            double x = LEFT + i * pitch + (pitch - barWidth) / 2;
            double level = 0;
            c.begin("bar");
            for (int s = 0; s < series.size() && s < b.shares().length; s++) {
                double share = Math.max(0, b.shares()[s]);
                if (share > 0) {
                    double h = PLOT_HEIGHT * Math.min(share, 100 - level) / 100;
                    if (h > 0) {
                        c.rect(x, bottom - PLOT_HEIGHT * level / 100 - h, barWidth, h, colours.get(s), null, 0);
                    }
                    level = Math.min(100, level + share);
                }
            }
            c.end();
            // The label runs up the page, ending just below the bar's middle.
            c.text(x + barWidth / 2 + LABEL_SIZE / 3, bottom + 8, b.label(), LABEL_SIZE, Canvas.Anchor.END, false,
                INK, true);
        }
        c.text(LEFT + plotWidth / 2, bottom + labelDepth + 24, xTitle, 12, Canvas.Anchor.MIDDLE, true, INK, false);
        double lx = LEFT + plotWidth + 24;
        double ly = TOP + 20;
        c.rect(lx - 8, ly - 18, LEGEND_WIDTH - 20, 26.0 * series.size() + 12, Color.WHITE, GRID, 1);
        for (int s = 0; s < series.size(); s++) {
            double y = ly + 26.0 * s;
            c.rect(lx, y - 11, 16, 16, colours.get(s), null, 0);
            c.text(lx + 24, y + 2, series.get(s), 12, Canvas.Anchor.START, false, INK, false);
        }
    }
}

package dev.rafter.plot;

import java.awt.Color;
import java.awt.geom.Rectangle2D;
import java.util.ArrayList;
import java.util.List;

/**
 * Labels beside points, placed so that they do not cover each other: each at the first of eight places near its
 * point that stays inside the plot and overlaps no earlier label, no kept-clear box (a marker, a legend) and no
 * other point; else the first near place that overlaps no label or kept-clear box; else the first of four places
 * farther up or down (a crowd of labels at one point); else right above. The boxes chosen are
 * kept, so a test can check them without pixels.
 */
public final class Labels {
    static final double SIZE = 10;
    private static final double HEIGHT = 12;
    private static final Color INK = new Color(0x33, 0x33, 0x33);

    private final double x0;
    private final double x1;
    private final double top;
    private final double bottom;
    private final List<Rectangle2D> clear = new ArrayList<>();
    private final List<Rectangle2D> labels = new ArrayList<>();
    private final List<Rectangle2D> others = new ArrayList<>();

    /** Labels inside the plot area {@code x0..x1} across and {@code top..bottom} down (pixels). */
    public Labels(double x0, double x1, double top, double bottom) {
        this.x0 = x0;
        this.x1 = x1;
        this.top = top;
        this.bottom = bottom;
    }

    /** A box no label may cover (a highlighted marker, a legend). */
    public void keepClear(Rectangle2D box) {
        clear.add(box);
    }

    /** A point a label should rather not cover (it may, where nothing else is free). */
    public void avoid(Rectangle2D box) {
        others.add(box);
    }

    /** The boxes (with their white ground) of the labels placed so far. */
    public List<Rectangle2D> placed() {
        return labels;
    }

    /** The white ground under a label's text box: a pixel wider all round, so no other label's text hides. */
    private static Rectangle2D ground(Rectangle2D r) {
        return new Rectangle2D.Double(r.getX() - 1, r.getY() - 1, r.getWidth() + 2, r.getHeight() + 2);
    }

    /** Places {@code text} beside the point at ({@code x}, {@code y}) and draws it on a white ground. */
    public Rectangle2D label(Canvas c, String text, double x, double y) {
        double w = Canvas.textWidth(text, SIZE, false);
        double[][] near = {{8, -6}, {8, 14}, {-8 - w, -6}, {-8 - w, 14}, {8, -20}, {8, 28}, {-8 - w, -20},
            {-8 - w, 28}};
        double[][] far = {{8, -34}, {8, 42}, {-8 - w, -34}, {-8 - w, 42}};
        Rectangle2D chosen = null;
        for (int pass = 0; pass < 3 && chosen == null; pass++) {
            for (double[] o : pass < 2 ? near : far) {
                Rectangle2D r = new Rectangle2D.Double(x + o[0], y + o[1] - HEIGHT + 2, w, HEIGHT);
                if (r.getMinX() < x0 + 2 || r.getMaxX() > x1 - 2 || r.getMinY() < top + 2
                    || r.getMaxY() > bottom - 2) {
                    continue;
                }
                Rectangle2D ground = ground(r);
                // grounds must not touch each other's text; a marker may touch a ground, not the text
                if (labels.stream().noneMatch(ground::intersects) && clear.stream().noneMatch(r::intersects)
                    && (pass > 0 || others.stream().noneMatch(r::intersects))) {
                    chosen = r;
                    break;
                }
            }
        }
        if (chosen == null) {
            double lx = Math.min(Math.max(x + 8, x0 + 2), x1 - 2 - w);
            chosen = new Rectangle2D.Double(lx, y - 6 - HEIGHT + 2, w, HEIGHT);
        }
        Rectangle2D ground = ground(chosen);
        labels.add(ground);
        c.rect(ground.getX(), ground.getY(), ground.getWidth(), ground.getHeight(), Color.WHITE, null, 0);
        c.text(chosen.getMinX(), chosen.getMaxY() - 2, text, SIZE, Canvas.Anchor.START, false, INK, false);
        return chosen;
    }
}

package dev.rafter.plot;

import java.awt.Color;
import java.awt.font.FontRenderContext;
import java.awt.font.LineMetrics;
import java.awt.geom.AffineTransform;
import java.awt.geom.Rectangle2D;
import java.util.ArrayList;
import java.util.List;

/**
 * A canvas that draws nothing and keeps every text with the box it covers (from the font's own metrics, as the
 * PNG and SVG canvases lay text out), so tests check placement without pixels.
 */
public final class RecordingCanvas implements Canvas {
    /** One text drawn: the string and the box it covers in pixels. */
    public record Text(String text, Rectangle2D box, boolean vertical) {}

    private final List<Text> texts = new ArrayList<>();
    private final List<Rectangle2D> filled = new ArrayList<>();

    public List<Text> texts() {
        return texts;
    }

    public List<String> strings() {
        return texts.stream().map(Text::text).toList();
    }

    @Override
    public void rect(double x, double y, double w, double h, Color fill, Color stroke, double strokeWidth) {
        if (fill != null) {
            filled.add(new Rectangle2D.Double(x, y, w, h));
        }
    }

    @Override
    public void line(double x1, double y1, double x2, double y2, Color colour, double width, boolean dashed) {}

    @Override
    public void circle(double cx, double cy, double r, Color fill, Color stroke, double strokeWidth) {}

    @Override
    public void text(double x, double y, String s, double size, Anchor anchor, boolean bold, Color colour,
                     boolean vertical) {
        double w = Canvas.textWidth(s, size, bold);
        LineMetrics m = Canvas.font(size, bold).getLineMetrics(s,
            new FontRenderContext(new AffineTransform(), true, true));
        double shift = anchor == Anchor.START ? 0 : anchor == Anchor.MIDDLE ? -w / 2 : -w;
        // a vertical text runs upwards from (x, y): its along-the-line extent is on y, its height on x
        Rectangle2D box = vertical
            ? new Rectangle2D.Double(x - m.getAscent(), y - shift - w, m.getAscent() + m.getDescent(), w)
            : new Rectangle2D.Double(x + shift, y - m.getAscent(), w, m.getAscent() + m.getDescent());
        texts.add(new Text(s, box, vertical));
    }

    /** Pairs of texts whose boxes overlap, as "a / b" (shrunk by a pixel: touching is not overlapping). */
    public List<String> overlaps() {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            for (int j = i + 1; j < texts.size(); j++) {
                if (shrunk(texts.get(i).box()).intersects(shrunk(texts.get(j).box()))) {
                    out.add(texts.get(i).text() + " / " + texts.get(j).text());
                }
            }
        }
        return out;
    }

    /** Texts partly under a filled rectangle (a text on a cell or a label's ground lies wholly inside it). */
    public List<String> covered() {
        List<String> out = new ArrayList<>();
        for (Text t : texts) {
            Rectangle2D b = shrunk(t.box());
            for (Rectangle2D r : filled) {
                if (r.intersects(b) && !r.contains(b)) {
                    out.add(t.text() + " under " + r);
                    break;
                }
            }
        }
        return out;
    }

    /** Texts not wholly inside a {@code width} x {@code height} image. */
    public List<String> outside(double width, double height) {
        List<String> out = new ArrayList<>();
        for (Text t : texts) {
            Rectangle2D b = t.box();
            if (b.getMinX() < 0 || b.getMinY() < 0 || b.getMaxX() > width || b.getMaxY() > height) {
                out.add(t.text() + " at " + b);
            }
        }
        return out;
    }

    static Rectangle2D shrunk(Rectangle2D r) {
        return new Rectangle2D.Double(r.getX() + 1, r.getY() + 1, Math.max(0, r.getWidth() - 2),
            Math.max(0, r.getHeight() - 2));
    }
}

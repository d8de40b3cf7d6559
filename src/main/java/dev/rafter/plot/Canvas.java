package dev.rafter.plot;

import java.awt.Color;
import java.awt.Font;
import java.awt.font.FontRenderContext;
import java.awt.geom.AffineTransform;

/**
 * What a study chart draws with: rectangles, lines, circles and text in pixel coordinates (origin top left). One
 * drawing renders to PNG ({@link PngCanvas}, Java2D) and to SVG ({@link SvgCanvas}, written by hand), so the two
 * files show the same picture. Text is laid out with Java2D's metrics of the same font in both.
 */
public interface Canvas {
    /** Where a text's anchor point lies on it. */
    enum Anchor { START, MIDDLE, END }

    /** A filled rectangle with an optional outline ({@code stroke} null: none). */
    void rect(double x, double y, double w, double h, Color fill, Color stroke, double strokeWidth);

    void line(double x1, double y1, double x2, double y2, Color colour, double width, boolean dashed);

    /** A filled circle with an optional outline. */
    void circle(double cx, double cy, double r, Color fill, Color stroke, double strokeWidth);

    /** One line of text with its baseline at {@code y}; {@code vertical}: rotated a quarter turn anticlockwise. */
    void text(double x, double y, String s, double size, Anchor anchor, boolean bold, Color colour, boolean vertical);

    /** Starts a group of elements with a role (SVG: {@code <g class="ROLE">}), e.g. "optimum"; PNG: nothing. */
    default void begin(String role) {}

    /** Ends the group {@link #begin} started. */
    default void end() {}

    /** This canvas seen with its origin moved to ({@code dx}, {@code dy}): charts stacked on one image. */
    static Canvas shifted(Canvas c, double dx, double dy) {
        return new Canvas() {
            @Override
            public void rect(double x, double y, double w, double h, Color fill, Color stroke, double strokeWidth) {
                c.rect(x + dx, y + dy, w, h, fill, stroke, strokeWidth);
            }

            @Override
            public void line(double x1, double y1, double x2, double y2, Color colour, double width, boolean dashed) {
                c.line(x1 + dx, y1 + dy, x2 + dx, y2 + dy, colour, width, dashed);
            }

            @Override
            public void circle(double cx, double cy, double r, Color fill, Color stroke, double strokeWidth) {
                c.circle(cx + dx, cy + dy, r, fill, stroke, strokeWidth);
            }

            @Override
            public void text(double x, double y, String s, double size, Anchor anchor, boolean bold, Color colour,
                             boolean vertical) {
                c.text(x + dx, y + dy, s, size, anchor, bold, colour, vertical);
            }

            @Override
            public void begin(String role) {
                c.begin(role);
            }

            @Override
            public void end() {
                c.end();
            }
        };
    }

    /** The font every chart uses (a plain sans serif). */
    static Font font(double size, boolean bold) {
        return new Font(Font.SANS_SERIF, bold ? Font.BOLD : Font.PLAIN, 1).deriveFont((float) size);
    }

    /** The width of {@code s} in pixels at {@code size}, the same for both renderers. */
    static double textWidth(String s, double size, boolean bold) {
        return font(size, bold).getStringBounds(s, new FontRenderContext(new AffineTransform(), true, true))
            .getWidth();
    }
}

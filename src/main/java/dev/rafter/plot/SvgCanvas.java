package dev.rafter.plot;

import java.awt.Color;
import java.util.Locale;

/** A {@link Canvas} that writes SVG 1.1 text: one element per call, numbers with a dot, text escaped. */
final class SvgCanvas implements Canvas {
    private final StringBuilder svg = new StringBuilder();

    SvgCanvas(int width, int height) {
        svg.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
            .append("<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"").append(width)
            .append("\" height=\"").append(height).append("\" viewBox=\"0 0 ").append(width).append(' ')
            .append(height).append("\" font-family=\"DejaVu Sans, Arial, Helvetica, sans-serif\">\n")
            .append("<rect x=\"0\" y=\"0\" width=\"").append(width).append("\" height=\"").append(height)
            .append("\" fill=\"#ffffff\"/>\n");
    }

    String finish() {
        return svg + "</svg>\n";
    }

    @Override
    public void begin(String role) {
        svg.append("<g class=\"").append(escape(role)).append("\">\n");
    }

    @Override
    public void end() {
        svg.append("</g>\n");
    }

    @Override
    public void rect(double x, double y, double w, double h, Color fill, Color stroke, double strokeWidth) {
        svg.append("<rect x=\"").append(n(x)).append("\" y=\"").append(n(y)).append("\" width=\"").append(n(w))
            .append("\" height=\"").append(n(h)).append("\" fill=\"").append(fill == null ? "none" : hex(fill))
            .append('"');
        stroke(stroke, strokeWidth);
        svg.append("/>\n");
    }

    @Override
    public void line(double x1, double y1, double x2, double y2, Color colour, double width, boolean dashed) {
        svg.append("<line x1=\"").append(n(x1)).append("\" y1=\"").append(n(y1)).append("\" x2=\"").append(n(x2))
            .append("\" y2=\"").append(n(y2)).append('"');
        stroke(colour, width);
        if (dashed) {
            svg.append(" stroke-dasharray=\"4 3\"");
        }
        svg.append("/>\n");
    }

    @Override
    public void circle(double cx, double cy, double r, Color fill, Color stroke, double strokeWidth) {
        svg.append("<circle cx=\"").append(n(cx)).append("\" cy=\"").append(n(cy)).append("\" r=\"").append(n(r))
            .append("\" fill=\"").append(fill == null ? "none" : hex(fill)).append('"');
        stroke(stroke, strokeWidth);
        svg.append("/>\n");
    }

    @Override
    public void text(double x, double y, String s, double size, Anchor anchor, boolean bold, Color colour,
                     boolean vertical) {
        svg.append("<text x=\"").append(n(x)).append("\" y=\"").append(n(y)).append("\" font-size=\"")
            .append(n(size)).append('"');
        if (anchor != Anchor.START) {
            svg.append(" text-anchor=\"").append(anchor == Anchor.MIDDLE ? "middle" : "end").append('"');
        }
        if (bold) {
            svg.append(" font-weight=\"bold\"");
        }
        svg.append(" fill=\"").append(hex(colour)).append('"');
        if (vertical) {
            svg.append(" transform=\"rotate(-90 ").append(n(x)).append(' ').append(n(y)).append(")\"");
        }
        svg.append('>').append(escape(s)).append("</text>\n");
    }

    private void stroke(Color stroke, double width) {
        if (stroke != null) {
            svg.append(" stroke=\"").append(hex(stroke)).append("\" stroke-width=\"").append(n(width)).append('"');
        }
    }

    private static String n(double v) {
        String s = String.format(Locale.ROOT, "%.2f", v);
        return s.contains(".") ? s.replaceAll("0+$", "").replaceAll("\\.$", "") : s;
    }

    private static String hex(Color c) {
        return String.format(Locale.ROOT, "#%02x%02x%02x", c.getRed(), c.getGreen(), c.getBlue());
    }

    /** XML text and attribute escaping; characters XML 1.0 forbids become '?'. */
    static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&apos;");
                default -> b.append(c < 0x20 && c != '\t' && c != '\n' && c != '\r' ? '?' : c);
            }
        }
        return b.toString();
    }
}

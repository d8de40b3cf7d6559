package dev.rafter.plot;

import java.awt.Color;

/**
 * Values to colours: the viridis map (perceptually uniform, readable in grey and by most colour-blind readers),
 * on a logarithmic scale when the values span ten times or more, linear otherwise. Low values are dark.
 */
record ColourScale(double min, double max, boolean log) {

    /** Viridis at nine even stops (matplotlib's table, every 32nd entry). */
    private static final int[] VIRIDIS = {0x440154, 0x472d7b, 0x3b528b, 0x2c728e, 0x21918c, 0x28ae80, 0x5ec962,
        0xaddc30, 0xfde725};

    static ColourScale of(double min, double max) {
        boolean log = min > 0 && max / min >= 10;
        return new ColourScale(min, max, log);
    }

    /** Where {@code v} lies between min (0) and max (1). */
    double position(double v) {
        if (max <= min) {
            return 0.5;
        }
        double t = log ? Math.log(v / min) / Math.log(max / min) : (v - min) / (max - min);
        return Math.max(0, Math.min(1, t));
    }

    /** The value at position {@code t} (0..1). */
    double value(double t) {
        return log ? min * Math.pow(max / min, t) : min + (max - min) * t;
    }

    Color colour(double v) {
        return at(position(v));
    }

    static Color at(double t) {
        double x = t * (VIRIDIS.length - 1);
        int i = (int) Math.min(VIRIDIS.length - 2, Math.floor(x));
        double f = x - i;
        int a = VIRIDIS[i];
        int b = VIRIDIS[i + 1];
        return new Color(mix(a >> 16, b >> 16, f), mix(a >> 8, b >> 8, f), mix(a, b, f));
    }

    private static int mix(int a, int b, double f) {
        return (int) Math.round((a & 0xff) * (1 - f) + (b & 0xff) * f);
    }

    /** Black or white, whichever reads better on {@code c}. */
    static Color textOn(Color c) {
        double luminance = 0.2126 * c.getRed() + 0.7152 * c.getGreen() + 0.0722 * c.getBlue();
        return luminance > 140 ? Color.BLACK : Color.WHITE;
    }
}

package dev.rafter.serving;

import dev.rafter.config.InputException;
import java.util.Locale;

/**
 * How a serving step is timed ({@code serve --step-timing}): {@code exact} simulates every distinct operator shape;
 * {@code interpolated} times steps from exact simulations at grid points and interpolates between them
 * ({@link StepInterpolation}), an approximation for runs too long to simulate every distinct step.
 */
public enum StepTiming {
    EXACT, INTERPOLATED;

    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static StepTiming of(String key) {
        for (StepTiming t : values()) {
            if (t.key().equals(key)) {
                return t;
            }
        }
        throw new InputException("--step-timing: expected exact or interpolated, got '" + key + "'");
    }
}

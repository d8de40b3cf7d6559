package dev.rafter.workload;

import dev.rafter.config.InputException;
import dev.rafter.config.Section;
import java.util.Locale;

/**
 * What an operator's time means ({@code --timing}): {@code kernel} (the default) is the device's time from the start
 * of the operator's first kernel to the end of its last, what profiler traces record; {@code wall} is the time a
 * host measures around the call with a synchronisation ({@code time.time()} around the op and
 * {@code torch.cuda.synchronize()}): the framework's work and the launches, the kernels and the round trip back. Wall
 * timing needs a host model ({@code host.framework}), and the host then waits for each operator before the next.
 */
public enum Timing {
    KERNEL, WALL;

    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The timing named {@code text}; a bad one is an error naming {@code option} and the valid keys. */
    public static Timing parse(String text, String option) {
        return Section.parseChoice(text, Timing.class, m -> new InputException(option + ": " + m));
    }
}

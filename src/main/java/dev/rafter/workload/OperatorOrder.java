package dev.rafter.workload;

import dev.rafter.config.InputException;
import dev.rafter.config.Section;
import java.util.Locale;

/**
 * Which operators may run at the same time, by key ({@code --order}, {@code run.order}): {@code strict} (one after
 * another in trace order, the default) or {@code dependencies} (an operator waits only for its {@code deps}). The
 * scheduler of each key is chosen in {@code dev.rafter.sim.schedule.OperatorSchedulers}.
 */
public enum OperatorOrder {
    STRICT, DEPENDENCIES;

    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The order named {@code text}; a bad one is an error naming {@code option} and the valid keys. */
    public static OperatorOrder parse(String text, String option) {
        return Section.parseChoice(text, OperatorOrder.class, m -> new InputException(option + ": " + m));
    }
}

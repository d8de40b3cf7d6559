package dev.rafter.sim.schedule;

import dev.rafter.workload.Operator;
import dev.rafter.workload.OperatorOrder;
import java.util.function.Predicate;

/** The catalogue of operator schedulers, one per {@link OperatorOrder} key. */
public final class OperatorSchedulers {
    private OperatorSchedulers() {}

    public static OperatorScheduler of(OperatorOrder order) {
        return switch (order) {
            case STRICT -> new StrictOrder();
            case DEPENDENCIES -> new DependencyOrder(DependencyOrder.WINDOW);
        };
    }

    /** {@code --order dependencies} where the operators {@code engineFree} accepts hold no engine. */
    public static OperatorScheduler dependencies(Predicate<Operator> engineFree) {
        return new DependencyOrder(DependencyOrder.WINDOW, engineFree);
    }
}

package dev.rafter.sim.schedule;

import dev.rafter.workload.OperatorOrder;

/** The catalogue of operator schedulers, one per {@link OperatorOrder} key. */
public final class OperatorSchedulers {
    private OperatorSchedulers() {}

    public static OperatorScheduler of(OperatorOrder order) {
        return switch (order) {
            case STRICT -> new StrictOrder();
            case DEPENDENCIES -> new DependencyOrder(DependencyOrder.WINDOW);
        };
    }
}

package dev.rafter.serving;

import dev.rafter.config.InputException;
import java.util.Comparator;
import java.util.List;

/**
 * Who goes first: the order in which waiting requests are admitted; the last in this order among the running ones
 * is the one preempted when the KV cache is full. Chosen by key with {@code --policy}.
 */
public interface Policy {
    String key();

    /** First in this order is served first; ties end on the request id, so the order is total. */
    Comparator<Request> order();

    /** First come, first served (vLLM's default). */
    Policy FCFS = new Policy() {
        @Override
        public String key() {
            return "fcfs";
        }

        @Override
        public Comparator<Request> order() {
            return Comparator.comparingLong(Request::arrivalPs).thenComparingLong(Request::id);
        }
    };

    /** Lower priority value first, then first come (vLLM's {@code priority} policy). */
    Policy PRIORITY = new Policy() {
        @Override
        public String key() {
            return "priority";
        }

        @Override
        public Comparator<Request> order() {
            return Comparator.comparingInt(Request::priority).thenComparingLong(Request::arrivalPs)
                .thenComparingLong(Request::id);
        }
    };

    List<Policy> ALL = List.of(FCFS, PRIORITY);

    static Policy of(String key) {
        for (Policy p : ALL) {
            if (p.key().equals(key)) {
                return p;
            }
        }
        throw new InputException("--policy: expected fcfs or priority, got '" + key + "'");
    }
}

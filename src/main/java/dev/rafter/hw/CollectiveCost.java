package dev.rafter.hw;

import static dev.rafter.config.Check.numberIn;

import dev.rafter.config.Check;

/**
 * One row of a collective library's cost table (NCCL's src/graph/tuning.cc keeps the same three numbers per
 * algorithm and protocol): a fixed per-call latency, a latency per hop of the algorithm, and the share of link
 * bytes that is payload (a protocol that sends a flag with every 8 bytes, as NCCL's LL does, moves half payload).
 */
public record CollectiveCost(CollectiveAlgorithm algorithm, String protocol, double baseLatencyNs,
                             double hopLatencyNs, double payloadFraction) {
    public CollectiveCost {
        Check.nonBlank("protocol", protocol);
        if (algorithm == CollectiveAlgorithm.AUTO) {
            throw new dev.rafter.config.InputException("algorithm: a cost row names one algorithm, not auto");
        }
        numberIn("base_latency_ns", baseLatencyNs, 0, 1e9, false);
        numberIn("hop_latency_ns", hopLatencyNs, 0, 1e9, false);
        numberIn("payload_fraction", payloadFraction, 0, 1, true);
    }
}

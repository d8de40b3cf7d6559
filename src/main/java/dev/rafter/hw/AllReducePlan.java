package dev.rafter.hw;

import dev.rafter.config.InputException;

/**
 * How one all-reduce runs on a device's links: the cost row (algorithm and protocol) chosen, the hops and payload
 * bytes of its algorithm, and its alpha-beta time {@code base + hops x hop + egress / (bandwidth x payload)} — the
 * model NCCL uses to choose (tuning.cc, ncclTopoGetAlgoTime). The simulator runs the chosen plan as pipelined
 * link events; the formula only chooses.
 */
public record AllReducePlan(CollectiveCost cost, int devices, int hops, long egressBytes, double predictedS) {

    public static AllReducePlan choose(HardwareSpec.DeviceLink link, long tensorBytes, int devices) {
        AllReducePlan best = null;
        for (CollectiveCost c : link.collectiveCosts()) {
            if (!c.algorithm().runsOn(link.topology(), link.inSwitchReduction())
                || (link.algorithm() != CollectiveAlgorithm.AUTO && link.algorithm() != c.algorithm())) {
                continue;
            }
            int hops = c.algorithm().hops(devices);
            long egress = c.algorithm().egressBytes(tensorBytes, devices);
            double t = (c.baseLatencyNs() + hops * c.hopLatencyNs()) * 1e-9
                + egress / (link.bytesPerSecond() * c.payloadFraction());
            if (best == null || t < best.predictedS) {
                best = new AllReducePlan(c, devices, hops, egress, t);
            }
        }
        if (best == null) {
            throw new InputException("device_link.algorithm: no row of device_link.collective_costs runs "
                + link.algorithm().name().toLowerCase(java.util.Locale.ROOT) + " on a "
                + link.topology().name().toLowerCase(java.util.Locale.ROOT) + " topology");
        }
        return best;
    }

    /**
     * A lower bound of any plan's time on these links: the cheapest row's base latency plus its payload at the
     * full link bandwidth (hop latencies may hide behind pipelining).
     */
    public static double lowerBoundS(HardwareSpec.DeviceLink link, long tensorBytes, int devices) {
        double best = Double.MAX_VALUE;
        for (CollectiveCost c : link.collectiveCosts()) {
            if (c.algorithm().runsOn(link.topology(), link.inSwitchReduction())
                && (link.algorithm() == CollectiveAlgorithm.AUTO || link.algorithm() == c.algorithm())) {
                best = Math.min(best, c.baseLatencyNs() * 1e-9
                    + c.algorithm().egressBytes(tensorBytes, devices) / link.bytesPerSecond());
            }
        }
        return best == Double.MAX_VALUE ? 0 : best;
    }

    public String describe() {
        return String.format("all-reduce over %d devices: %s/%s, %d hops, %.4g MB sent per device, "
                + "predicted %.4g us", devices, cost.algorithm().name().toLowerCase(java.util.Locale.ROOT),
            cost.protocol(), hops, egressBytes / 1e6, predictedS * 1e6);
    }
}

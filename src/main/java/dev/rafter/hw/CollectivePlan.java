package dev.rafter.hw;

import dev.rafter.config.InputException;
import java.util.Locale;

/**
 * How one collective runs on a device's links: the cost row (algorithm and protocol) chosen, the hops and payload
 * bytes of its algorithm, and its alpha-beta time {@code base + hops x hop + egress / (bandwidth x payload)} — the
 * model NCCL uses to choose (tuning.cc, ncclTopoGetAlgoTime). The simulator runs the chosen plan as pipelined
 * link events; the formula only chooses.
 */
public record CollectivePlan(Collective collective, CollectiveCost cost, int devices, int hops, long egressBytes,
                             double predictedS) {

    public static CollectivePlan choose(HardwareSpec.DeviceLink link, Collective c, long tensorBytes, int devices) {
        CollectivePlan best = null;
        for (CollectiveCost row : link.collectiveCosts()) {
            if (!usable(link, c, row)) {
                continue;
            }
            int hops = row.algorithm().hops(c, devices);
            long egress = row.algorithm().egressBytes(c, tensorBytes, devices);
            double t = (row.baseLatencyNs() + hops * row.hopLatencyNs()) * 1e-9
                + egress / (link.bytesPerSecond() * row.payloadFraction());
            if (best == null || t < best.predictedS) {
                best = new CollectivePlan(c, row, devices, hops, egress, t);
            }
        }
        if (best == null) {
            throw new InputException("device_link.algorithm: no row of device_link.collective_costs runs "
                + c.key() + " with " + link.algorithm().name().toLowerCase(java.util.Locale.ROOT) + " on a "
                + link.topology().name().toLowerCase(java.util.Locale.ROOT) + " topology");
        }
        return best;
    }

    private static boolean usable(HardwareSpec.DeviceLink link, Collective c, CollectiveCost row) {
        return row.algorithm().runsOn(c, link.topology(), link.inSwitchReduction())
            && (link.algorithm() == CollectiveAlgorithm.AUTO || link.algorithm() == row.algorithm());
    }

    /**
     * A lower bound of any plan's time on these links: the cheapest row's base latency plus its payload at the
     * full link bandwidth (hop latencies may hide behind pipelining).
     */
    public static double lowerBoundS(HardwareSpec.DeviceLink link, Collective c, long tensorBytes, int devices) {
        double best = Double.MAX_VALUE;
        for (CollectiveCost row : link.collectiveCosts()) {
            if (usable(link, c, row)) {
                best = Math.min(best, row.baseLatencyNs() * 1e-9
                    + row.algorithm().egressBytes(c, tensorBytes, devices) / link.bytesPerSecond());
            }
        }
        return best == Double.MAX_VALUE ? 0 : best;
    }

    public String describe() {
        return String.format(Locale.ROOT,
            "%s over %d devices: %s/%s, %d hops, %.4g MB sent per device, predicted %.4g us",
            collective.key().replace('_', '-'), devices, cost.algorithm().name().toLowerCase(java.util.Locale.ROOT),
            cost.protocol(), hops, egressBytes / 1e6, predictedS * 1e6);
    }
}

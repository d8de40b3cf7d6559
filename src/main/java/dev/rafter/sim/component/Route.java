package dev.rafter.sim.component;

import dev.rafter.sim.Scheduler;
import dev.rafter.sim.message.LinkTransfer;
import java.util.List;

/**
 * A path of links a message crosses one after another (device to switch to device, node to NIC to node), with
 * the latency of the wire after each link. A message is booked at each link when it arrives there (store and
 * forward), not at all of them when it is sent: a link then serves messages in the order they reach it, whichever
 * route they come by. Booking a whole path at send time would hold a later link for a message still queued
 * upstream and let it jump ahead of messages that arrive there first. (A transfer that crosses two resources at
 * once, like a core's load through the global-buffer port and its own port, stays a single cut-through
 * reservation: {@link Interconnect}; there both start at the same instant, so that is exact.) Large transfers are
 * cut into messages by their sender (collectives send 512 KiB slices, as NCCL does), which pipelines them over the
 * hops.
 */
public final class Route {
    /** One hop: a link and the latency of the wire behind it, in ps. */
    public record Hop(Link link, long wirePs) {
        public Hop {
            if (link == null || wirePs < 0) {
                throw new IllegalArgumentException("a hop needs a link and a wire latency >= 0 ps");
            }
        }
    }

    private final Scheduler scheduler;
    private final Hop[] hops;

    public Route(Scheduler scheduler, List<Hop> hops) {
        if (hops.isEmpty()) {
            throw new IllegalArgumentException("a route needs at least one hop");
        }
        this.scheduler = scheduler;
        this.hops = hops.toArray(Hop[]::new);
    }

    /** Sends {@code transfer} along the route; {@code done} runs when its last byte has crossed the last wire. */
    public void send(LinkTransfer transfer, Runnable done) {
        new InFlight(transfer, done).run();
    }

    public int hops() {
        return hops.length;
    }

    /** A message on its way: each run is its arrival at the next hop. */
    private final class InFlight implements Runnable {
        private final LinkTransfer transfer;
        private final Runnable done;
        private int hop;

        InFlight(LinkTransfer transfer, Runnable done) {
            this.transfer = transfer;
            this.done = done;
        }

        @Override
        public void run() {
            Hop h = hops[hop++];
            long arrival = h.link().serve(transfer) + h.wirePs();
            scheduler.at(arrival, hop == hops.length ? done : this);
        }
    }
}

package dev.rafter.sim.fabric;

import dev.rafter.sim.Scheduler;
import dev.rafter.sim.component.Catalogue;
import dev.rafter.sim.component.DeviceLink;
import dev.rafter.sim.component.Link;
import dev.rafter.sim.component.Route;
import dev.rafter.sim.trace.TraceSink;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A system's fabric on the kernel: a {@link Link} per direction of every wire, and a {@link Route} (hop by hop,
 * store and forward) for every pair of endpoints that talk, built on first use along {@link FabricGraph#path}.
 * Devices are endpoints that send and receive; switches forward (and, for in-switch reduction, the collective
 * that uses them waits at them). Statistics: bytes and busy time per link, through the trace.
 */
public final class Fabric {
    private final FabricGraph graph;
    private final Scheduler scheduler;
    private final List<Link> links = new ArrayList<>();
    private final long[] busyPs;
    private final Map<Long, Route> routes = new HashMap<>();

    public Fabric(FabricGraph graph, Scheduler scheduler, TraceSink sink) {
        this.graph = graph;
        this.scheduler = scheduler;
        this.busyPs = new long[graph.links().size()];
        TraceSink counting = (track, kind, op, start, end, amount) -> {
            busyPs[track.index()] += end - start;
            sink.slice(track, kind, op, start, end, amount);
        };
        for (FabricGraph.DirectedLink l : graph.links()) {
            // The links borrow the device-link kind's statistics (bytes on the wire) until the fabric has its own
            // catalogue entry.
            links.add(new Link(l.parameters().bytesPerSecond(), scheduler, counting,
                Catalogue.track(l.index(), DeviceLink.KIND, -1, l.index(), l.name())));
        }
    }

    public FabricGraph graph() {
        return graph;
    }

    public Scheduler scheduler() {
        return scheduler;
    }

    /** The route from one endpoint (a device or a switch) to another. */
    public Route route(int from, int to) {
        return routes.computeIfAbsent(((long) from << 32) | to, k -> {
            List<Route.Hop> hops = new ArrayList<>();
            for (FabricGraph.DirectedLink l : graph.path(from, to)) {
                hops.add(new Route.Hop(links.get(l.index()), graph.wirePs(l)));
            }
            return new Route(scheduler, hops);
        });
    }

    public long bytesMoved(int link) {
        return links.get(link).bytesMoved();
    }

    public long busyPs(int link) {
        return busyPs[link];
    }
}

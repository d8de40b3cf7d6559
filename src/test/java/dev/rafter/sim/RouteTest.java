package dev.rafter.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rafter.sim.component.Catalogue;
import dev.rafter.sim.component.DeviceLink;
import dev.rafter.sim.component.Link;
import dev.rafter.sim.component.Route;
import dev.rafter.sim.message.LinkTransfer;
import dev.rafter.sim.trace.SliceKind;
import dev.rafter.sim.trace.TraceSink;
import dev.rafter.sim.trace.Track;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Messages crossing links in a row, booked hop by hop; times asserted to the picosecond. */
class RouteTest {
    record Slice(String track, long opId, long start, long end) {}

    final List<Slice> slices = new ArrayList<>();
    final TraceSink sink = (track, kind, op, start, end, amount) -> {
        assertEquals(SliceKind.TRANSFER, kind);
        slices.add(new Slice(track.name(), op, start, end));
    };

    static Track track(String name) {
        return Catalogue.track(0, DeviceLink.KIND, -1, 0, name);
    }

    /**
     * All links 1 byte/ns (1 GB/s), wires 5 ns. A: 1000 B over a -> shared from t = 0. B: 10 B over b -> shared from
     * t = 100 ns. B reaches the shared link at 115 ns, long before A (1005 ns), so it is served first there: a
     * route booked whole at send time would have held the shared link for A from 1005 to 2005 ns and queued B
     * behind it. C: 500 B over b -> shared from t = 200 ns reaches the shared link at 705 ns and goes first too; D
     * (10 B, from t = 300 ns over a) queues behind A on link a and then behind A on the shared link: FIFO by
     * arrival at each link.
     */
    @Test
    void eachLinkServesMessagesInTheOrderTheyArriveThere() {
        Map<Long, Long> done = new TreeMap<>();
        new Kernel().run(s -> {
            Link a = new Link(1e9, s, sink, track("a"));
            Link b = new Link(1e9, s, sink, track("b"));
            Link shared = new Link(1e9, s, sink, track("shared"));
            Route viaA = new Route(s, List.of(new Route.Hop(a, 5_000), new Route.Hop(shared, 5_000)));
            Route viaB = new Route(s, List.of(new Route.Hop(b, 5_000), new Route.Hop(shared, 5_000)));
            viaA.send(new LinkTransfer(1, 1000), () -> done.put(1L, s.now()));
            s.schedule(100_000, () -> viaB.send(new LinkTransfer(2, 10), () -> done.put(2L, s.now())));
            s.schedule(200_000, () -> viaB.send(new LinkTransfer(3, 500), () -> done.put(3L, s.now())));
            s.schedule(300_000, () -> viaA.send(new LinkTransfer(4, 10), () -> done.put(4L, s.now())));
        });
        // B: b 100-110, wire to 115, shared 115-125, wire: done 130 ns.
        // C: b 200-700, wire to 705, shared 705-1205, done 1210 ns.
        // A: a 0-1000, wire to 1005, shared busy with C until 1205: 1205-2205, done 2210 ns.
        // D: a busy with A until 1000: 1000-1010, wire to 1015, shared after A: 2205-2215, done 2220 ns.
        assertEquals(Map.of(1L, 2_210_000L, 2L, 130_000L, 3L, 1_210_000L, 4L, 2_220_000L), done);
        assertEquals(List.of(
            new Slice("shared", 2, 115_000, 125_000),
            new Slice("shared", 3, 705_000, 1_205_000),
            new Slice("shared", 1, 1_205_000, 2_205_000),
            new Slice("shared", 4, 2_205_000, 2_215_000)),
            slices.stream().filter(x -> x.track().equals("shared")).toList());
    }

    @Test
    void aOneHopRouteIsTheLinkPlusItsWire() {
        long[] done = {-1};
        Link[] link = new Link[1];
        new Kernel().run(s -> {
            link[0] = new Link(2e9, s, sink, track("l"));
            new Route(s, List.of(new Route.Hop(link[0], 700))).send(new LinkTransfer(0, 4000), () -> done[0] = s.now());
        });
        assertEquals(2_000_000 + 700, done[0], "4000 B at 2 B/ns, then 700 ps of wire");
        assertEquals(4000, link[0].bytesMoved());
    }
}

package dev.rafter.sim.system;

import dev.rafter.hw.SystemSpec;
import dev.rafter.sim.Device;
import dev.rafter.sim.fabric.FabricGraph;
import dev.rafter.sim.trace.SliceKind;
import dev.rafter.sim.trace.TraceEventWriter;
import dev.rafter.sim.trace.TraceSink;
import dev.rafter.sim.trace.Track;
import dev.rafter.workload.Operator;
import java.io.Writer;

/**
 * trace.json of a system run (Chrome trace-event JSON, opens in ui.perfetto.dev): one process per device, with a
 * thread for its operators and one per track of the device (PE arrays, vector units, DMA slots, memory channels,
 * ...), and one process for the fabric with a thread per direction of each wire (a slice's op is the number of the
 * communication it belongs to: collectives and sends in the order they started). Times in microseconds with
 * picosecond resolution, as a single device's trace.
 */
public final class SystemTrace {
    /** The operators' thread in a device's process; the device's tracks follow from 1. */
    private static final int OPERATORS_TID = 0;

    private final TraceEventWriter events;
    private final int fabricPid;
    private final SystemSpec spec;
    private final int devices;
    /** Per device, the thread of its collectives when they overlap compute (0: with the other operators). */
    private final int[] collectivesTid;

    /** Names the processes and threads of the first {@code devices} devices of {@code spec} and of its fabric. */
    public SystemTrace(Writer out, SystemSpec spec, int devices) {
        this.events = new TraceEventWriter(out);
        this.fabricPid = devices + 1;
        this.spec = spec;
        this.devices = devices;
        this.collectivesTid = new int[devices];
        for (int d = 0; d < devices; d++) {
            SystemSpec.Device device = spec.devices().get(d);
            int pid = d + 1;
            meta("process_name", pid, 0, device.name() + " (" + device.hardware().name() + ")");
            meta("process_sort_index", pid, 0, Integer.toString(pid));
            meta("thread_name", pid, OPERATORS_TID, "operators");
            for (Track t : Device.tracks(device.hardware())) {
                meta("thread_name", pid, t.id() + 1, t.name());
            }
        }
        meta("process_name", fabricPid, 0, "fabric " + spec.name());
        meta("process_sort_index", fabricPid, 0, Integer.toString(fabricPid));
        for (FabricGraph.DirectedLink l : new FabricGraph(spec).links()) {
            meta("thread_name", fabricPid, l.index(), l.name());
        }
    }

    /**
     * Puts each device's collectives on a thread of their own, after its tracks ({@code --order dependencies}:
     * a collective then runs beside compute, and overlapping slices never share a thread).
     */
    public SystemTrace overlapping() {
        for (int d = 0; d < devices; d++) {
            collectivesTid[d] = Device.tracks(spec.devices().get(d).hardware()).stream().mapToInt(Track::id).max()
                .orElse(-1) + 2;
            meta("thread_name", d + 1, collectivesTid[d], "collectives");
        }
        return this;
    }

    /** The sink of device {@code index}'s slices and operators. */
    public TraceSink device(int index) {
        int pid = index + 1;
        return new TraceSink() {
            @Override
            public void slice(Track track, SliceKind kind, long opId, long startPs, long endPs, long amount) {
                SystemTrace.this.slice(pid, track.id() + 1, kind, opId, startPs, endPs, amount);
            }

            @Override
            public void operator(Operator op, long startPs, long endPs) {
                SystemTrace.this.operator(pid, op.kind().isCollective() ? collectivesTid[index] : OPERATORS_TID, op,
                    startPs, endPs);
            }
        };
    }

    /** The sink of the fabric's links (a link's track index is its directed link's). */
    public TraceSink fabric() {
        return (track, kind, opId, startPs, endPs, amount) -> slice(fabricPid, track.index(), kind, opId, startPs,
            endPs, amount);
    }

    private synchronized void slice(int pid, int tid, SliceKind kind, long opId, long startPs, long endPs,
                                    long amount) {
        events.slice(pid, tid, kind, opId, startPs, endPs, amount);
    }

    private synchronized void operator(int pid, int tid, Operator op, long startPs, long endPs) {
        events.operator(pid, tid, op, startPs, endPs);
    }

    private void meta(String what, int pid, int tid, String value) {
        events.meta(what, pid, tid, value);
    }

    /** Ends the JSON document. */
    public void close() {
        events.close();
    }
}

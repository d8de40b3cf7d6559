package dev.rafter.sim;

import dev.rafter.hw.HardwareSpec;
import dev.rafter.mapping.GemmPlan;
import dev.rafter.sim.component.Core;
import dev.rafter.sim.component.GlobalBuffer;
import dev.rafter.sim.component.Hbm;
import dev.rafter.sim.component.HbmChannel;
import dev.rafter.sim.component.Interconnect;
import dev.rafter.sim.component.PeArray;
import dev.rafter.sim.trace.TraceSink;
import dev.rafter.sim.trace.Track;
import java.util.ArrayList;
import java.util.List;

/**
 * The wiring of one accelerator from its hardware model: the catalogue of its components (HBM channels and
 * controller, global buffer, interconnect, cores with PE arrays), their clock domains and the latencies that
 * belong to the links between them.
 */
public final class Device {
    private final HardwareSpec hw;
    private final Scheduler scheduler;
    private final ClockDomain coreClock;
    private final Hbm hbm;
    private final GlobalBuffer globalBuffer;
    private final Interconnect interconnect;
    private final Core[] cores;
    private long hbmWritesPending;

    public Device(HardwareSpec hw, Scheduler scheduler, TraceSink sink, List<Track> tracks) {
        this.hw = hw;
        this.scheduler = scheduler;
        this.coreClock = coreClock(hw);
        int t = 0;
        int lanes = hw.core().peArrays();
        Track[][] peTracks = new Track[hw.cores()][lanes];
        Track[] dmaTracks = new Track[hw.cores()];
        for (int c = 0; c < hw.cores(); c++) {
            for (int l = 0; l < lanes; l++) {
                peTracks[c][l] = tracks.get(t++);
            }
            dmaTracks[c] = tracks.get(t++);
        }
        Track globalTrack = tracks.get(t++);
        HbmChannel[] channels = new HbmChannel[hw.memory().channels()];
        double perChannel = hw.memoryBytesPerS() / channels.length;
        long latency = Math.round(hw.memory().latencyNs() * 1000);
        for (int c = 0; c < channels.length; c++) {
            channels[c] = new HbmChannel(scheduler, sink, tracks.get(t++), perChannel, latency);
        }
        this.hbm = new Hbm(channels);
        this.globalBuffer = new GlobalBuffer(scheduler, hbm, hw.globalBuffer().capacityBytes());
        double psPerCycle = 1e6 / hw.clockMhz();
        this.interconnect = new Interconnect(scheduler, sink, psPerCycle / hw.globalBuffer().bytesPerCycle(),
            globalTrack, psPerCycle / hw.interconnect().bytesPerCycle(), dmaTracks,
            coreClock.ps(hw.interconnect().latencyCycles()));
        this.cores = new Core[hw.cores()];
        for (int c = 0; c < cores.length; c++) {
            PeArray[] arrays = new PeArray[lanes];
            for (int l = 0; l < lanes; l++) {
                arrays[l] = new PeArray(hw.core().peArray(), sink, peTracks[c][l]);
            }
            cores[c] = new Core(c, hw.core(), scheduler, sink, coreClock, arrays, globalBuffer, interconnect, hbm);
        }
    }

    public static ClockDomain coreClock(HardwareSpec hw) {
        return new ClockDomain("core", hw.clockMhz());
    }

    /** The trace tracks of a device, in the order {@link Device} consumes them. */
    public static List<Track> tracks(HardwareSpec hw) {
        List<Track> out = new ArrayList<>();
        for (int c = 0; c < hw.cores(); c++) {
            for (int l = 0; l < hw.core().peArrays(); l++) {
                out.add(new Track(out.size(), Track.Kind.PE_ARRAY, c, l, "core" + c + ".pe" + l));
            }
            out.add(new Track(out.size(), Track.Kind.DMA, c, 0, "core" + c + ".dma"));
        }
        out.add(new Track(out.size(), Track.Kind.GLOBAL_BUFFER, -1, 0, "global_buffer"));
        for (int ch = 0; ch < hw.memory().channels(); ch++) {
            out.add(new Track(out.size(), Track.Kind.HBM_CHANNEL, -1, ch, "hbm.ch" + ch));
        }
        return out;
    }

    /** Runs one GEMM's tile program; {@code done} runs when every result is in HBM. */
    public void runGemm(GemmPlan plan, Runnable done) {
        long opId = plan.op().id();
        int e = plan.op().dataType().bytes();
        int[] coresLeft = {cores.length};
        Runnable finishIfDone = () -> {
            if (coresLeft[0] == 0 && hbmWritesPending == 0) {
                coresLeft[0] = -1;
                for (Core c : cores) {
                    c.endOperator();
                }
                done.run();
            }
        };
        for (List<GemmPlan.Tile> tiles : plan.cores()) {
            for (GemmPlan.Tile tile : tiles) {
                hbmWritesPending++;
            }
        }
        globalBuffer.begin(opId, plan.stages());
        for (int c = 0; c < cores.length; c++) {
            List<GemmPlan.Tile> tiles = c < plan.cores().size() ? plan.cores().get(c) : List.of();
            cores[c].begin(opId, e, tiles, () -> {
                coresLeft[0]--;
                finishIfDone.run();
            }, () -> {
                hbmWritesPending--;
                finishIfDone.run();
            });
        }
    }

    /** The components that still hold work, for a deadlock report. */
    public List<String> waiting() {
        List<String> out = new ArrayList<>();
        for (Core c : cores) {
            String w = c.waiting();
            if (w != null) {
                out.add(w);
            }
        }
        if (globalBuffer.stagesInUse() > 0) {
            out.add(globalBuffer.waitingSummary());
        }
        if (hbmWritesPending > 0) {
            out.add("hbm: " + hbmWritesPending + " result writes pending");
        }
        return out;
    }

    public Core[] cores() {
        return cores;
    }

    public Hbm hbm() {
        return hbm;
    }

    public Interconnect interconnect() {
        return interconnect;
    }

    public GlobalBuffer globalBuffer() {
        return globalBuffer;
    }

    public ClockDomain clock() {
        return coreClock;
    }

    public HardwareSpec spec() {
        return hw;
    }

    Scheduler scheduler() {
        return scheduler;
    }
}

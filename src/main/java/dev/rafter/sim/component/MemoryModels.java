package dev.rafter.sim.component;

import dev.rafter.hw.HardwareSpec;
import dev.rafter.sim.Scheduler;
import dev.rafter.sim.trace.TraceSink;
import dev.rafter.sim.trace.Track;
import java.util.List;

/**
 * The catalogue of memory-channel models, the one place that reads {@code memory.model}: {@code simple} is
 * {@link SimpleChannel} (bandwidth and a fixed latency), {@code banked} is {@link BankedChannel} (banks, rows and
 * a DRAM standard's timing table), {@code flash} is {@link FlashChannel} (pages, planes, program/erase from a flash
 * standard, and a share of the tier's read buffer). Each channel gets {@code memory.bandwidth_gb_per_s / channels}.
 */
public final class MemoryModels {
    private MemoryModels() {}

    /** The channels of {@code memory}, one per track. */
    public static MemoryChannel[] channels(HardwareSpec.Memory memory, Scheduler scheduler, TraceSink sink,
                                           List<Track> tracks) {
        MemoryChannel[] out = new MemoryChannel[memory.channels()];
        for (int c = 0; c < out.length; c++) {
            out[c] = channel(memory, c, scheduler, sink, tracks.get(c));
        }
        return out;
    }

    /** Channel {@code c} of {@code memory}, on {@code track}. */
    public static MemoryChannel channel(HardwareSpec.Memory memory, int c, Scheduler scheduler, TraceSink sink,
                                        Track track) {
        int n = memory.channels();
        double perChannel = memory.bytesPerSecond() / n;
        long latency = Math.round(memory.latencyNs() * 1000);
        return switch (memory.model()) {
            case SIMPLE -> new SimpleChannel(scheduler, sink, track, perChannel, latency);
            case BANKED -> new BankedChannel(scheduler, sink, track, perChannel, latency, memory.timing(),
                BankedChannel.firstRefreshPs(memory.timing(), c, n));
            case FLASH -> new FlashChannel(scheduler, sink, track, perChannel, latency, memory.flash(),
                bufferPagesPerChannel(memory));
        };
    }

    /** The read buffer split evenly over the channels, in whole pages (each channel buffers its own pages). */
    static long bufferPagesPerChannel(HardwareSpec.Memory memory) {
        double bytes = memory.readBufferMib() * 1024 * 1024;
        return (long) Math.floor(bytes / memory.flash().pageBytes() / memory.channels());
    }
}

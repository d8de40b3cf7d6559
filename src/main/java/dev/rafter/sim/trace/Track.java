package dev.rafter.sim.trace;

/** One timeline of the trace: a PE array, a DMA slot, an HBM channel... Overlapping slices never share a track. */
public record Track(int id, Kind kind, int core, int index, String name) {
    /** What a track shows. */
    public enum Kind { PE_ARRAY, VECTOR_UNIT, DMA, HBM_CHANNEL, GLOBAL_BUFFER, INTERCONNECT_PORT, DEVICE_LINK }
}

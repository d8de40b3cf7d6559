package dev.rafter.importer;

import java.util.List;
import java.util.Map;

/**
 * What an importer made of a trace, so nothing is dropped silently: the operators it mapped, every op it could
 * not map (by name: how many, and the GPU time the trace measured for them), the measured GPU time of the mapped
 * and of all ops, and one-line notes for the user (e.g. "kernels launched from CUDA graphs carry no shapes:
 * record in eager mode with record_shapes=True").
 *
 * @param unmapped name -> {count, measured nanoseconds}, in first-seen order
 */
public record Coverage(String format, long mapped, Map<String, long[]> unmapped, double mappedMeasuredS,
                       double totalMeasuredS, List<String> notes) {

    /** Share of the trace's measured GPU time that mapped operators account for (1 when nothing is measured). */
    public double measuredShare() {
        return totalMeasuredS <= 0 ? 1 : mappedMeasuredS / totalMeasuredS;
    }

    public long unmappedCount() {
        long n = 0;
        for (long[] v : unmapped.values()) {
            n += v[0];
        }
        return n;
    }
}

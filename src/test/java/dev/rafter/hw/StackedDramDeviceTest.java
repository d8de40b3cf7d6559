package dev.rafter.hw;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The H100 with 3D-stacked DRAM (models/hardware/h100-stacked.yaml, which extends h100.yaml): its memory, its
 * memory's energy per bit and the on-chip path behind the memory.
 */
class StackedDramDeviceTest {
    static final Path STACKED = Path.of("models/hardware/h100-stacked.yaml");

    @Test
    void fourTimesTheBandwidthAtHalfTheEnergyPerBitOfHbm2() {
        HardwareSpec stacked = HardwareLoader.load(STACKED, List.of());
        // 4x the H100's 3.35 TB/s (O'Connor et al., MICRO 2017: Fine-Grained DRAM has 4x HBM2's bandwidth)
        assertEquals(4 * 3350e9, stacked.memoryBytesPerS(), 1);
        // 2x HBM2's energy efficiency (same source): 3.92 / 2 pJ/bit
        assertEquals(3.92 / 2, stacked.energy().memoryPjPerBit(null), 0.005);
        // 1280 channels of 16 b at HBM3's 5.2 Gb/s per pin, as the H100's 160 of 32 b
        assertEquals(3350e9 / 160 / 32, stacked.memoryBytesPerS() / stacked.memory().channels() / 16, 1);
        // the ridge moves 4x down: 989.5 TFLOP/s (datasheet's 989) over 13.4 TB/s
        assertEquals(73.8, stacked.peakFlopsPerS() / stacked.memoryBytesPerS(), 0.05);
    }
}

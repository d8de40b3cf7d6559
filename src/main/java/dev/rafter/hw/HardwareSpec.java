package dev.rafter.hw;

import static dev.rafter.config.Check.intIn;
import static dev.rafter.config.Check.numberIn;
import static dev.rafter.config.Check.positive;

import dev.rafter.config.Check;
import dev.rafter.config.InputException;

/**
 * One accelerator device, as read from {@code models/hardware/*.yaml}. Every record validates its own values;
 * the bounds reject typos and unit slips (e.g. a clock in Hz) rather than describe real limits. {@code energy}
 * (the technology's energy tables) may be null: then no energy is reported.
 */
public record HardwareSpec(String name, double clockMhz, int cores, Core core, GlobalBuffer globalBuffer,
                           Memory memory, Interconnect interconnect, DeviceLink deviceLink, DataType dataType,
                           dev.rafter.energy.EnergyModel energy) {

    public HardwareSpec {
        Check.nonBlank("name", name);
        positive("clock_mhz", clockMhz, 100_000);
        intIn("cores", cores, 1, 1_000_000);
        // The smallest useful local tile: one array-sized output tile plus double-buffered array-sized operands.
        long tileBytes = (long) core.peArray().rows() * core.peArray().cols() * dataType.bytes();
        long needed = 5 * tileBytes;
        if (core.localBuffer().capacityBytes() < needed) {
            throw new InputException("core.local_buffer.capacity_kib: " + Check.fmt(core.localBuffer().capacityKib())
                + " KiB cannot hold one double-buffered " + core.peArray().rows() + "x" + core.peArray().cols()
                + " tile (needs >= " + Check.fmt(needed / 1024.0) + " KiB)");
        }
    }

    public record Core(int peArrays, PeArray peArray, VectorUnit vectorUnit, LocalBuffer localBuffer) {
        public Core {
            intIn("pe_arrays", peArrays, 1, 1024);
        }
    }

    /** {@code fold_overlap}: successive folds overlap fill and drain (see Dataflow#overlappedCycles). */
    public record PeArray(int rows, int cols, Dataflow dataflow, boolean foldOverlap) {
        public PeArray {
            intIn("rows", rows, 1, 4096);
            intIn("cols", cols, 1, 4096);
        }

        /** Cycles of an m x n x k tile on this array. */
        public long cycles(long m, long n, long k) {
            return foldOverlap ? dataflow.overlappedCycles(rows, cols, m, n, k) : dataflow.cycles(rows, cols, m, n, k);
        }
    }

    public record VectorUnit(int lanes, int flopsPerLanePerCycle) {
        public VectorUnit {
            intIn("lanes", lanes, 1, 65_536);
            intIn("flops_per_lane_per_cycle", flopsPerLanePerCycle, 1, 1024);
        }
    }

    public record LocalBuffer(double capacityKib, int bytesPerCycle) {
        public LocalBuffer {
            positive("capacity_kib", capacityKib, 1 << 24);
            intIn("bytes_per_cycle", bytesPerCycle, 1, 1 << 20);
        }

        public long capacityBytes() {
            return (long) (capacityKib * 1024);
        }
    }

    public record GlobalBuffer(double capacityMib, int bytesPerCycle) {
        public GlobalBuffer {
            positive("capacity_mib", capacityMib, 1 << 20);
            intIn("bytes_per_cycle", bytesPerCycle, 1, 1 << 24);
        }

        public long capacityBytes() {
            return (long) (capacityMib * 1024 * 1024);
        }
    }

    /** How a memory channel is timed: a bandwidth-and-latency server, or banks and rows from a DRAM standard. */
    public enum MemoryModel { SIMPLE, BANKED }

    /**
     * {@code latencyNs} is the fixed path (controller, NoC, L2 miss path) added to every access; the banked model
     * adds the DRAM core timing of {@code timing} (a standard's table, null unless given) on top.
     */
    public record Memory(int channels, double bandwidthGbPerS, double latencyNs, double capacityGib,
                         MemoryModel model, MemoryTiming timing) {
        public Memory {
            intIn("channels", channels, 1, 4096);
            positive("bandwidth_gb_per_s", bandwidthGbPerS, 1e6);
            numberIn("latency_ns", latencyNs, 0, 1e6, false);
            positive("capacity_gib", capacityGib, 1 << 20);
            if (model == MemoryModel.BANKED && timing == null) {
                throw new InputException("timing: required when model is banked (a standard's table, e.g. "
                    + "timing: ../memory/hbm3.yaml)");
            }
        }

        public double bytesPerSecond() {
            return bandwidthGbPerS * 1e9;
        }
    }

    public record Interconnect(int bytesPerCycle, int latencyCycles) {
        public Interconnect {
            intIn("bytes_per_cycle", bytesPerCycle, 1, 1 << 20);
            intIn("latency_cycles", latencyCycles, 0, 1_000_000);
        }
    }

    public enum Topology { RING, FULLY_CONNECTED }

    public record DeviceLink(double bandwidthGbPerS, double latencyNs, Topology topology) {
        public DeviceLink {
            positive("bandwidth_gb_per_s", bandwidthGbPerS, 1e6);
            numberIn("latency_ns", latencyNs, 0, 1e9, false);
        }

        public double bytesPerSecond() {
            return bandwidthGbPerS * 1e9;
        }
    }

    public HardwareSpec withEnergy(dev.rafter.energy.EnergyModel model) {
        return new HardwareSpec(name, clockMhz, cores, core, globalBuffer, memory, interconnect, deviceLink, dataType,
            model);
    }

    public double clockHz() {
        return clockMhz * 1e6;
    }

    /** Peak dense MAC throughput of all PE arrays, counting a MAC as two FLOPs. */
    public double peakFlopsPerS() {
        return 2.0 * cores * core.peArrays() * core.peArray().rows() * core.peArray().cols() * clockHz();
    }

    public double vectorFlopsPerS() {
        return (double) cores * core.vectorUnit().lanes() * core.vectorUnit().flopsPerLanePerCycle() * clockHz();
    }

    public double memoryBytesPerS() {
        return memory.bytesPerSecond();
    }

    public double ridgeFlopsPerByte() {
        return peakFlopsPerS() / memoryBytesPerS();
    }

    public long sramBytes() {
        return cores * core.localBuffer().capacityBytes() + globalBuffer.capacityBytes();
    }
}

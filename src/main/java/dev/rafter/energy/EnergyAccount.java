package dev.rafter.energy;

import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareSpec;

/**
 * Charges energy for what a run did (counted from its event trace) on one device:
 * <ul>
 *   <li>PE arrays: MACs x energy per MAC of the data type; vector units: FLOPs x energy per FLOP;</li>
 *   <li>local buffers: every byte loaded is written once and read once into the arrays or vector unit, every
 *       result byte written once and read once to be stored; global buffer: HBM fills are writes, transfers to
 *       cores are reads, results from cores are writes and their drain to HBM reads; per 64 bits at the access
 *       energy of that buffer's capacity (write = read x {@code sram_write_to_read});</li>
 *   <li>HBM and device links: bits moved x energy per bit;</li>
 *   <li>static: SRAM leakage of all local buffers and the global buffer x elapsed time.</li>
 * </ul>
 * With a voltage-frequency curve, dynamic energy scales with (V / V_nominal)^2 and leakage power with
 * V / V_nominal at the device's clock.
 */
public final class EnergyAccount {
    private final EnergyModel model;
    private final double macPj;
    private final double flopPj;
    private final double localReadPjPerByte;
    private final double globalReadPjPerByte;
    private final double dynamicScale;
    private final double leakageW;
    private final double localLeakageW;

    public EnergyAccount(HardwareSpec hw, EnergyModel model) {
        this.model = model;
        DataType dt = hw.dataType();
        this.macPj = model.macPj().get(dt);
        this.flopPj = model.vectorFlopPj().get(dt);
        this.localReadPjPerByte = model.sramReadPjPer64b(hw.core().localBuffer().capacityKib()) / 8;
        this.globalReadPjPerByte = model.sramReadPjPer64b(hw.globalBuffer().capacityMib() * 1024) / 8;
        double v = model.voltageAt(hw.clockMhz()) / model.nominalVoltage();
        this.dynamicScale = v * v;
        this.localLeakageW = hw.cores() * model.sramLeakageW(hw.core().localBuffer().capacityKib()) * v;
        this.leakageW = localLeakageW + model.sramLeakageW(hw.globalBuffer().capacityMib() * 1024) * v;
    }

    /** What happened in an interval: the counters of the trace. */
    public record Activity(long macs, long vectorFlops, long coreLoadBytes, long coreStoreBytes, long hbmReadBytes,
                           long hbmWriteBytes, long linkBytes, double seconds) {}

    public EnergyBreakdown of(Activity a) {
        double pj = 1e-12;
        double write = model.sramWriteToRead();
        // Local: loads written then read; results written by the arrays then read out to be stored.
        double localBytes = a.coreLoadBytes() + a.coreStoreBytes();
        double local = localBytes * localReadPjPerByte * (1 + write);
        // Global: HBM fills written, core loads read, core stores written, drains to HBM read.
        double global = (a.hbmReadBytes() * write + a.coreLoadBytes() + a.coreStoreBytes() * write
            + a.hbmWriteBytes()) * globalReadPjPerByte;
        double s = dynamicScale * pj;
        return new EnergyBreakdown(a.macs() * macPj * s, a.vectorFlops() * flopPj * s, local * s,
            localLeakageW * a.seconds(), global * s, (leakageW - localLeakageW) * a.seconds(),
            8.0 * (a.hbmReadBytes() + a.hbmWriteBytes()) * model.memoryPjPerBit() * pj,
            8.0 * a.linkBytes() * model.linkPjPerBit() * pj);
    }

    public double leakageW() {
        return leakageW;
    }
}

package dev.rafter.energy;

import dev.rafter.hw.HardwareSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * Charges energy for what a run did (counted from its event trace) on one device: each component kind's
 * {@link EnergyUse} (declared with the kind) turns its counts into dynamic joules and gives its leakage power.
 * With a voltage-frequency curve, dynamic energy of on-chip components scales with (V / V_nominal)^2 and leakage
 * power with V / V_nominal at the device's clock ({@link #dynamicPj}, {@link #voltageRatio}). A device with a
 * board idle power ({@code power.idle_w}) is also charged a {@code board} part: the idle power less the SRAM
 * leakage already charged, so that the static power of the device is its measured idle power.
 */
public final class EnergyAccount {
    private final HardwareSpec hw;
    private final EnergyModel model;
    private final List<EnergyUse> uses;
    private final double voltageRatio;
    private final double dynamicPj;
    /** Leakage of the first i uses, i = 0..n: a use's share is the difference, so the shares add up exactly. */
    private final double[] leakageUpTo;
    /** Board static power beyond SRAM leakage, W; NaN without a board idle power (no board part). */
    private final double boardW;

    public EnergyAccount(HardwareSpec hw, EnergyModel model, List<EnergyUse> uses) {
        this.hw = hw;
        this.model = model;
        this.uses = List.copyOf(uses);
        this.voltageRatio = model.voltageAt(hw.clockMhz()) / model.nominalVoltage();
        this.dynamicPj = voltageRatio * voltageRatio * 1e-12;
        this.leakageUpTo = new double[uses.size() + 1];
        for (int i = 0; i < uses.size(); i++) {
            leakageUpTo[i + 1] = leakageUpTo[i] + uses.get(i).leakage().watts(this);
        }
        DevicePower board = model.device();
        this.boardW = board == null || !board.hasIdle() ? Double.NaN
            : Math.max(0, board.idleW() - leakageUpTo[uses.size()]);
    }

    /** What happened in an interval: the counts of the trace, over {@code seconds}. */
    public record Activity(EnergyUse.Counts counts, double seconds) {}

    public EnergyBreakdown of(Activity a) {
        List<EnergyBreakdown.Part> parts = new ArrayList<>(uses.size());
        for (int i = 0; i < uses.size(); i++) {
            EnergyUse u = uses.get(i);
            parts.add(new EnergyBreakdown.Part(u.name(), u.dynamic().joules(this, a.counts()),
                (leakageUpTo[i + 1] - leakageUpTo[i]) * a.seconds()));
        }
        if (!Double.isNaN(boardW)) {
            parts.add(new EnergyBreakdown.Part("board", 0, boardW * a.seconds()));
        }
        return new EnergyBreakdown(parts);
    }

    /** The device's leakage power, W. */
    public double leakageW() {
        return leakageUpTo[uses.size()];
    }

    /** The device's static power: leakage plus the board's idle power beyond it, W. */
    public double staticW() {
        return Double.isNaN(boardW) ? leakageW() : leakageW() + boardW;
    }

    public HardwareSpec hardware() {
        return hw;
    }

    public EnergyModel model() {
        return model;
    }

    /** Joules per picojoule of on-chip dynamic energy at the device's voltage: (V / V_nominal)^2 x 1e-12. */
    public double dynamicPj() {
        return dynamicPj;
    }

    /** V / V_nominal at the device's clock (1 without a voltage-frequency curve). */
    public double voltageRatio() {
        return voltageRatio;
    }
}

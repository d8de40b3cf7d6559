package dev.rafter.report;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class PowerProfileTest {
    /** 1 J over 1 us is 1 MW: numbers chosen so each step is exact. */
    @Test
    void stepsAddOverlappingOperatorsOnTopOfStaticPower() {
        PowerProfile p = new PowerProfile(100);
        p.add(0, 1_000_000, 1e-4);           // 100 W for 1 us
        p.add(500_000, 2_000_000, 3e-4);     // 200 W for 1.5 us, overlapping the first for 0.5 us
        List<PowerProfile.Step> steps = p.steps(3_000_000);
        assertEquals(List.of(new PowerProfile.Step(0, 200), new PowerProfile.Step(500_000, 400),
            new PowerProfile.Step(1_000_000, 300), new PowerProfile.Step(2_000_000, 100)), steps);
        assertEquals(400, PowerProfile.peak(steps), 0);
        // its integral is static x time plus the operators' energy
        double joules = 0;
        for (int i = 0; i < steps.size(); i++) {
            long to = i + 1 < steps.size() ? steps.get(i + 1).startPs() : 3_000_000;
            joules += steps.get(i).watts() * (to - steps.get(i).startPs()) * 1e-12;
        }
        assertEquals(100 * 3e-6 + 1e-4 + 3e-4, joules, 1e-15);
    }

    @Test
    void aGapBetweenOperatorsDrawsStaticPower() {
        PowerProfile p = new PowerProfile(50);
        p.add(1_000_000, 2_000_000, 1e-4);
        assertEquals(List.of(new PowerProfile.Step(0, 50), new PowerProfile.Step(1_000_000, 150),
            new PowerProfile.Step(2_000_000, 50)), p.steps(3_000_000));
    }
}

package dev.rafter.report;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PowerProfileTest {
    /** 1 J over 1 us is 1 MW: numbers chosen so each step is exact. */
    @Test
    void stepsAddOverlappingOperatorsOnTopOfStaticPower() {
        PowerProfile p = new PowerProfile(100);
        p.add(0, 1_000_000, 1e-4);           // 100 W for 1 us
        p.add(500_000, 2_000_000, 3e-4);     // 200 W for 1.5 us, overlapping the first for 0.5 us
        PowerProfile.Steps steps = p.steps(3_000_000);
        assertEquals(List.of(List.of(0L, 200.0), List.of(500_000L, 400.0), List.of(1_000_000L, 300.0),
            List.of(2_000_000L, 100.0)), rows(steps));
        assertEquals(400, steps.peak(), 0);
        // its integral is static x time plus the operators' energy
        double joules = 0;
        for (int i = 0; i < steps.size(); i++) {
            long to = i + 1 < steps.size() ? steps.startPs(i + 1) : 3_000_000;
            joules += steps.watts(i) * (to - steps.startPs(i)) * 1e-12;
        }
        assertEquals(100 * 3e-6 + 1e-4 + 3e-4, joules, 1e-15);
    }

    @Test
    void aGapBetweenOperatorsDrawsStaticPower() {
        PowerProfile p = new PowerProfile(50);
        p.add(1_000_000, 2_000_000, 1e-4);
        assertEquals(List.of(List.of(0L, 50.0), List.of(1_000_000L, 150.0), List.of(2_000_000L, 50.0)),
            rows(p.steps(3_000_000)));
    }

    /**
     * Operators one after another, swept as they arrive: the same steps, to the bit, as sorting every start and
     * end at the end of the run (and as the sweep that did only that), whatever the end of the run. Gaps of none
     * (one ends as the next starts), operators of no time, energies that round.
     */
    @Test
    void stepsSweptAsOperatorsArriveEqualTheSortedSweep() {
        Random random = new Random(16);
        for (int set = 0; set < 200; set++) {
            int n = 1 + random.nextInt(60);
            long[][] ops = new long[n][];
            double[] joules = new double[n];
            long t = random.nextInt(3) == 0 ? 0 : random.nextInt(1000);
            for (int i = 0; i < n; i++) {
                long length = random.nextInt(4) == 0 ? 0 : 1 + random.nextInt(2000);
                ops[i] = new long[] {t, t + length};
                joules[i] = random.nextInt(5) == 0 ? 0 : random.nextInt(5) == 0 ? joules[Math.max(0, i - 1)]
                    : random.nextDouble() * 1e-6;
                t += length + (random.nextBoolean() ? 0 : random.nextInt(300));
            }
            assertAllWaysEqual(ops, joules, 40 + random.nextInt(60), random);
        }
    }

    /** Operators that overlap (or start before the previous one ends, or at once): the sorted sweep's steps. */
    @Test
    void overlappingOperatorsGiveTheSortedSweepsSteps() {
        Random random = new Random(17);
        for (int set = 0; set < 200; set++) {
            int n = 1 + random.nextInt(60);
            long[][] ops = new long[n][];
            double[] joules = new double[n];
            long t = 0;
            int sequentialUntil = random.nextInt(n);
            for (int i = 0; i < n; i++) {
                long length = random.nextInt(5) == 0 ? 0 : 1 + random.nextInt(2000);
                ops[i] = new long[] {t, t + length};
                joules[i] = random.nextDouble() * 1e-6;
                // after the first ones, the next one starts at the same time or inside this one
                t += i < sequentialUntil ? length : random.nextBoolean() ? 0 : random.nextInt((int) length + 1);
            }
            assertAllWaysEqual(ops, joules, 40 + random.nextInt(60), random);
        }
    }

    /** Past the kept number of operators neighbours are merged: the sweep of the merged ones, as before. */
    @Test
    void halvedOperatorsAreSweptAtTheEnd() {
        PowerProfile p = new PowerProfile(10);
        int n = (1 << 21) + 5;
        for (int i = 0; i < n; i++) {
            p.add(1000L * i, 1000L * i + 700, (i % 7) * 1e-9);
        }
        long end = 1000L * n;
        assertEquals(rows(p.stepsBySorting(end)), rows(p.steps(end)));
        double joules = 0;
        PowerProfile.Steps steps = p.steps(end);
        for (int i = 0; i < steps.size(); i++) {
            long to = i + 1 < steps.size() ? steps.startPs(i + 1) : end;
            joules += (steps.watts(i) - 10) * (to - steps.startPs(i)) * 1e-12;
        }
        double expected = 0;
        for (int i = 0; i < n; i++) {
            expected += (i % 7) * 1e-9;
        }
        assertEquals(expected, joules, expected * 1e-9);
    }

    /** The steps at several ends of the run (none, before, on and after the operators' times), three ways. */
    private static void assertAllWaysEqual(long[][] ops, double[] joules, double staticW, Random random) {
        long last = Arrays.stream(ops).mapToLong(o -> o[1]).max().orElse(0);
        List<Long> ends = new ArrayList<>(List.of(0L, -1L, 1L, last, last + 1, last - 1, ops[0][0], ops[0][1]));
        for (int k = 0; k < 4; k++) {
            ends.add((long) random.nextInt((int) last + 2));
        }
        for (long end : ends) {
            List<List<Object>> expected = sweepOnce(ops, joules, staticW, end);
            assertEquals(expected, rows(profile(ops, joules, staticW).stepsBySorting(end)), "sorted, end " + end);
            PowerProfile p = profile(ops, joules, staticW);
            assertEquals(expected, rows(p.steps(end)), "steps, end " + end);
            assertEquals(expected, rows(p.steps(end)), "steps again, end " + end);
        }
    }

    private static PowerProfile profile(long[][] ops, double[] joules, double staticW) {
        PowerProfile p = new PowerProfile(staticW);
        for (int i = 0; i < ops.length; i++) {
            p.add(ops[i][0], ops[i][1], joules[i]);
        }
        return p;
    }

    /**
     * The sweep as it was before operators were swept as they arrived: every start and end sorted by time (equal
     * times in the order operators arrived), their watts summed in that order.
     */
    private static List<List<Object>> sweepOnce(long[][] ops, double[] joules, double staticW, long endPs) {
        List<long[]> events = new ArrayList<>();
        List<Double> delta = new ArrayList<>();
        for (int i = 0; i < ops.length; i++) {
            if (ops[i][1] > ops[i][0]) {
                double w = joules[i] / ((ops[i][1] - ops[i][0]) * 1e-12);
                events.add(new long[] {ops[i][0], delta.size(), 1});
                delta.add(w);
                events.add(new long[] {ops[i][1], delta.size(), -1});
                delta.add(-w);
            }
        }
        events.sort((a, b) -> Long.compare(a[0], b[0]));
        List<List<Object>> out = new ArrayList<>();
        out.add(List.of(0L, staticW));
        double dynamic = 0;
        int active = 0;
        for (int k = 0; k < events.size(); ) {
            long t = events.get(k)[0];
            while (k < events.size() && events.get(k)[0] == t) {
                active += (int) events.get(k)[2];
                dynamic += delta.get((int) events.get(k++)[1]);
            }
            double w = active == 0 ? staticW : staticW + Math.max(0, dynamic);
            if (t >= endPs) {
                break;
            }
            List<Object> last = out.get(out.size() - 1);
            if ((long) last.get(0) == t) {
                out.set(out.size() - 1, List.of(t, w));
            } else if ((double) last.get(1) != w) {
                out.add(List.of(t, w));
            }
        }
        return out;
    }

    /** Each step as (start, watts); Double's equals compares the watts bit for bit. */
    private static List<List<Object>> rows(PowerProfile.Steps steps) {
        List<List<Object>> out = new ArrayList<>();
        for (int i = 0; i < steps.size(); i++) {
            out.add(List.of(steps.startPs(i), steps.watts(i)));
        }
        return out;
    }
}

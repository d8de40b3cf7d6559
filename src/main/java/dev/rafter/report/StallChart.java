package dev.rafter.report;

import dev.rafter.plot.StackedBars;
import dev.rafter.plot.StudyCharts;
import dev.rafter.sim.Simulation;
import dev.rafter.sim.component.Catalogue;
import dev.rafter.sim.component.PeArray;
import dev.rafter.sim.trace.RunStats;
import dev.rafter.sim.trace.SliceKind;
import dev.rafter.workload.Phase;
import java.awt.Color;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * stalls.png: where the PE arrays' time went, per operator name (phase:name): stacked bars of the share of busy
 * time and of each wait reason (averaged over the arrays), labelled with the operator's total time, so a decode
 * operator of microseconds reads as clearly as a prefill one of milliseconds.
 */
public final class StallChart implements Simulation.OpListener {
    private static final int MAX_BARS = 30;
    private static final String[] SERIES = {"busy", "memory", "interconnect", "buffer full", "dependency", "dispatch",
        "idle"};
    private static final Color[] COLOURS = {new Color(0x2c, 0xa0, 0x2c), new Color(0xd6, 0x27, 0x28),
        new Color(0xff, 0x7f, 0x0e), new Color(0x94, 0x67, 0xbd), new Color(0x1f, 0x77, 0xb4),
        new Color(0x55, 0x55, 0x55), new Color(0xbb, 0xbb, 0xbb)};

    private final int arrays;
    private final Map<String, double[]> byName = new LinkedHashMap<>();
    /** The same rows by phase, then name: found without building the phase:name key for every operator. */
    private final Map<Phase, Map<String, double[]>> byPhaseName = new EnumMap<>(Phase.class);

    private static final int PE_BUSY = Catalogue.slot(
        PeArray.KIND, "busy_ps");

    public StallChart(int arrays) {
        this.arrays = arrays;
        for (Phase p : Phase.values()) {
            byPhaseName.put(p, new HashMap<>());
        }
    }

    /**
     * What an operator added to its row, kept for its twins (which report the same sums object, time, phase and
     * name): adding the kept figures gives the same doubles as computing them again.
     */
    private record Added(RunStats.Sums sums, long elapsedPs, Phase phase, String name, double[] row,
                         double[] figures) {}

    /** The figures added last, by the sums' identity hash (a repeating layer's operators find theirs here). */
    private final Added[] recent = new Added[1024];

    @Override
    public void finished(Simulation.OpResult r) {
        RunStats.Sums s = r.sums();
        long elapsedPs = r.endPs() - r.startPs();
        int slot = System.identityHashCode(s) & (recent.length - 1);
        Added added = recent[slot];
        if (added == null || added.sums() != s || added.elapsedPs() != elapsedPs || added.phase() != r.op().phase()
            || !added.name().equals(r.op().name())) {
            added = new Added(s, elapsedPs, r.op().phase(), r.op().name(), rowOf(r), figures(s, elapsedPs));
            recent[slot] = added;
        }
        double[] v = added.row();
        double[] f = added.figures();
        for (int i = 0; i < f.length; i++) {
            v[i] += f[i];
        }
    }

    private double[] rowOf(Simulation.OpResult r) {
        Map<String, double[]> ofPhase = byPhaseName.get(r.op().phase());
        double[] v = ofPhase.get(r.op().name());
        if (v == null) {
            v = byName.computeIfAbsent(r.op().phase().key() + ":" + r.op().name(), k -> new double[7]);
            ofPhase.put(r.op().name(), v);
        }
        return v;
    }

    /**
     * The PE arrays' busy, stall (memory, interconnect, buffer full, dependency, dispatch) and idle times, ps summed
     * over {@code arrays} arrays, in {@link #SERIES} order: stalls.png's bars and summary.json's cycles.
     */
    static double[] arrayTimesPs(RunStats.Sums s, long elapsedPs, int arrays) {
        double elapsed = (double) elapsedPs * arrays;
        double busy = s.at(PE_BUSY);
        double memory = s.stallPs(SliceKind.STALL_MEMORY);
        double interconnect = s.stallPs(SliceKind.STALL_INTERCONNECT);
        double buffer = s.stallPs(SliceKind.STALL_BUFFER_FULL);
        double dependency = s.stallPs(SliceKind.STALL_DEPENDENCY);
        double dispatch = s.stallPs(SliceKind.STALL_DISPATCH);
        double idle = Math.max(0, elapsed - busy - memory - interconnect - buffer - dependency - dispatch);
        return new double[] {busy, memory, interconnect, buffer, dependency, dispatch, idle};
    }

    /** The operator's busy, stall and idle times per array, ms, in {@link #SERIES} order. */
    private double[] figures(RunStats.Sums s, long elapsedPs) {
        double[] ps = arrayTimesPs(s, elapsedPs, arrays);
        for (int i = 0; i < ps.length; i++) {
            ps[i] = ps[i] / arrays * 1e-9; // ps per array -> ms
        }
        return ps;
    }

    /** stalls.png's bytes. */
    public byte[] png() {
        List<Map.Entry<String, double[]>> rows = new ArrayList<>(byName.entrySet());
        rows.sort((a, b) -> Double.compare(total(b.getValue()), total(a.getValue())));
        if (rows.size() > MAX_BARS) {
            rows = rows.subList(0, MAX_BARS);
        }
        List<StackedBars.Bar> bars = new ArrayList<>();
        for (Map.Entry<String, double[]> r : rows) {
            double t = total(r.getValue());
            double[] shares = new double[SERIES.length];
            for (int i = 0; i < shares.length; i++) {
                shares[i] = t == 0 ? 0 : 100 * r.getValue()[i] / t;
            }
            bars.add(new StackedBars.Bar(r.getKey() + " (" + dev.rafter.roofline.RooflineReport.time(t * 1e-3) + ")",
                shares));
        }
        StackedBars chart = new StackedBars("Where the PE arrays' time went", "operator (total time)",
            "share of the operator's time (%)", List.of(SERIES), List.of(COLOURS), bars);
        return StudyCharts.png(chart.width(), chart.height(), chart::draw);
    }

    private static double total(double[] v) {
        double t = 0;
        for (double x : v) {
            t += x;
        }
        return t;
    }
}

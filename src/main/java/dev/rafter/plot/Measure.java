package dev.rafter.plot;

import dev.rafter.config.InputException;
import java.util.List;

/**
 * What a chart shows of each point: latency, energy or energy-delay product, of the whole run or of one phase.
 * When the sweep ran that phase alone, its figures are the run's ({@code latency_s}, {@code energy_j},
 * {@code edp_j_s}); when it ran both, a phase's latency is its own column, its energy {@code PHASE_energy_j}
 * (written by a sweep's own charts from the point summaries; sweep.csv does not have it) and its EDP their
 * product. Lower is better for all three.
 */
public record Measure(Metric metric, String phase, String latencyColumn, String energyColumn, String edpColumn) {

    /** The metrics a chart can show. */
    public enum Metric {
        LATENCY("latency", "latency", "latency", "s"), ENERGY("energy", "energy", "energy", "J"),
        EDP("edp", "energy-delay product", "EDP", "J s");

        public final String key;
        public final String title;
        /** The name on a colour bar, where space is short. */
        public final String shortTitle;
        public final String unit;

        Metric(String key, String title, String shortTitle, String unit) {
            this.key = key;
            this.title = title;
            this.shortTitle = shortTitle;
            this.unit = unit;
        }

        public static Metric parse(String s) {
            for (Metric m : values()) {
                if (m.key.equals(s)) {
                    return m;
                }
            }
            throw new InputException("--metric " + s + ": expected latency, energy or edp");
        }
    }

    /** The measure of {@code metric} in {@code phase} (null: the whole run) of {@code table}, checked. */
    public static Measure of(StudyTable table, Metric metric, String phase) {
        List<String> phases = table.phases();
        if (phase != null && !phases.contains(phase)) {
            throw new InputException("--phase " + phase + ": this sweep has " + (phases.isEmpty() ? "no phases"
                : "only " + String.join(" and ", phases)) + "; expected " + (phases.isEmpty() ? "no --phase"
                : String.join(" or ", phases) + " (or no --phase: the whole run)"));
        }
        boolean whole = phase == null || phases.size() == 1;
        String energy = whole ? "energy_j" : phase + "_energy_j";
        if (!whole && metric != Metric.LATENCY && !table.has(energy)) {
            throw new InputException("--phase " + phase + " --metric " + metric.key + ": the sweep ran "
                + String.join(" and ", phases) + " together and sweep.csv has no " + energy + " column;"
                + " expected --metric latency, or a sweep of that phase alone (--phase " + phase + ")");
        }
        if (metric != Metric.LATENCY && !table.has(energy)) {
            throw new InputException("--metric " + metric.key + ": no point has an energy figure (the hardware has"
                + " no energy model); expected --metric latency");
        }
        return new Measure(metric, phase, whole ? "latency_s" : phase + "_latency_s", energy,
            whole ? "edp_j_s" : null);
    }

    public double latency(StudyTable.Row r) {
        return r.figure(latencyColumn);
    }

    public double energy(StudyTable.Row r) {
        return r.figure(energyColumn);
    }

    /** This measure of a point; NaN where it has none. */
    public double of(StudyTable.Row r) {
        return switch (metric) {
            case LATENCY -> latency(r);
            case ENERGY -> energy(r);
            case EDP -> edpColumn != null && !Double.isNaN(r.figure(edpColumn)) ? r.figure(edpColumn)
                : energy(r) * latency(r);
        };
    }

    /** "energy-delay product, decode" or "latency" (the whole run). */
    public String title() {
        return metric.title + (phase == null ? "" : ", " + phase);
    }

    /** The file name stem: heatmap-edp-decode, or heatmap-latency for the whole run. */
    public String stem() {
        return metric.key + (phase == null ? "" : "-" + phase);
    }
}

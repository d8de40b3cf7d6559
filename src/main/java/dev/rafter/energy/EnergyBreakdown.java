package dev.rafter.energy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Energy of a run or an operator, in joules, split into static and dynamic and by component. */
public record EnergyBreakdown(List<Part> parts) {
    /** One component kind's share. */
    public record Part(String name, double dynamic, double staticEnergy) {}

    public EnergyBreakdown {
        parts = List.copyOf(parts);
    }

    /** Both breakdowns' energy, part by part (the same parts in the same order: one device's accounts). */
    public EnergyBreakdown plus(EnergyBreakdown other) {
        List<Part> sum = new java.util.ArrayList<>(parts.size());
        for (int i = 0; i < parts.size(); i++) {
            Part a = parts.get(i);
            Part b = other.parts.get(i);
            if (!a.name().equals(b.name())) {
                throw new IllegalArgumentException("parts differ: " + a.name() + " and " + b.name());
            }
            sum.add(new Part(a.name(), a.dynamic() + b.dynamic(), a.staticEnergy() + b.staticEnergy()));
        }
        return new EnergyBreakdown(sum);
    }

    public double dynamic() {
        double sum = 0;
        for (Part p : parts) {
            sum += p.dynamic();
        }
        return sum;
    }

    public double staticEnergy() {
        double sum = 0;
        for (Part p : parts) {
            sum += p.staticEnergy();
        }
        return sum;
    }

    public double total() {
        return dynamic() + staticEnergy();
    }

    /** Dynamic plus static energy of the component named {@code name}; 0 where there is none. */
    public double of(String name) {
        for (Part p : parts) {
            if (p.name().equals(name)) {
                return p.dynamic() + p.staticEnergy();
            }
        }
        return 0;
    }

    public Map<String, Object> byComponent() {
        Map<String, Object> m = new LinkedHashMap<>();
        for (Part p : parts) {
            m.put(p.name(), p.dynamic() + p.staticEnergy());
        }
        return m;
    }
}

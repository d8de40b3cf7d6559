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

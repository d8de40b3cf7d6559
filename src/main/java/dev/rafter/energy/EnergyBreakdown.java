package dev.rafter.energy;

import java.util.LinkedHashMap;
import java.util.Map;

/** Energy of a run or an operator, in joules, split into static and dynamic and by component. */
public record EnergyBreakdown(double peArray, double vectorUnit, double localBufferDynamic,
                              double localBufferStatic, double globalBufferDynamic, double globalBufferStatic,
                              double memory, double deviceLink) {

    public double dynamic() {
        return peArray + vectorUnit + localBufferDynamic + globalBufferDynamic + memory + deviceLink;
    }

    public double staticEnergy() {
        return localBufferStatic + globalBufferStatic;
    }

    public double total() {
        return dynamic() + staticEnergy();
    }

    public Map<String, Object> byComponent() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pe_array", peArray);
        m.put("vector_unit", vectorUnit);
        m.put("local_buffer", localBufferDynamic + localBufferStatic);
        m.put("global_buffer", globalBufferDynamic + globalBufferStatic);
        m.put("hbm", memory);
        m.put("device_link", deviceLink);
        return m;
    }
}

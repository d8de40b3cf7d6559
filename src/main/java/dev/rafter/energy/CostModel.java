package dev.rafter.energy;

import static dev.rafter.config.Check.numberIn;

import dev.rafter.config.InputException;
import dev.rafter.config.Section;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What running a device costs in money and carbon, from {@code models/cost/*.yaml} (chosen by {@code --cost}).
 * Quantities carry their units in the value ({@code electricity: 0.08 USD/kWh}); a bare number where a unit is
 * expected is refused, naming the key. Per device (by the hardware's name): a price per hour or a purchase price
 * amortised over its lifetime and the file's utilisation, and embodied carbon as a total amortised the same way or
 * per exaFLOP delivered.
 */
public record CostModel(String name, String date, double pue, double usdPerKwh, double gCo2ePerKwh,
                        double utilisation, Map<String, Device> devices) {

    /** One device's figures. NaN where not given. */
    public record Device(double usdPerHour, double priceUsd, double lifetimeHours, double embodiedKg,
                         double embodiedGPerExaflop) {
        public Device {
            if (Double.isNaN(usdPerHour) == Double.isNaN(priceUsd)) {
                throw new InputException("price: expected one price, in USD/h (renting) or USD (buying)");
            }
            if (Double.isNaN(lifetimeHours) && (!Double.isNaN(priceUsd) || !Double.isNaN(embodiedKg))) {
                throw new InputException("lifetime: required to amortise a purchase price or embodied kgCO2e");
            }
            if (!Double.isNaN(lifetimeHours) && !(lifetimeHours > 0)) {
                // Amortised over nothing, a price or embodied carbon would come out infinite in every run.
                throw new InputException("lifetime: expected a service life > 0, e.g. 'lifetime: 5 years'");
            }
        }
    }

    public CostModel {
        numberIn("pue", pue, 1, 10, false);
        numberIn("utilisation", utilisation, 0, 1, true);
        devices = Map.copyOf(devices);
    }

    public static CostModel load(Path file) {
        return Section.read(file, CostModel::read);
    }

    static CostModel read(Section s) {
        String name = s.string("name");
        String date = s.string("date");
        double pue = ratio(s, "pue");
        double electricity = quantity(s, "electricity", Map.of("USD/kWh", 1.0));
        double grid = quantity(s, "grid_carbon", Map.of("gCO2e/kWh", 1.0, "kgCO2e/kWh", 1000.0));
        double utilisation = s.has("utilisation") ? ratio(s, "utilisation") : 1;
        Map<String, Device> devices = new LinkedHashMap<>();
        Section d = s.section("devices");
        for (String device : d.keys()) {
            Section e = d.section(device);
            String price = e.string("price");
            double perHour = unitOf(price).equals("USD/h") ? quantity(e, "price", Map.of("USD/h", 1.0)) : Double.NaN;
            double purchase = Double.isNaN(perHour) ? quantity(e, "price", Map.of("USD", 1.0)) : Double.NaN;
            double lifetime = e.has("lifetime") ? quantity(e, "lifetime", Map.of("years", 8760.0, "h", 1.0))
                : Double.NaN;
            double kg = Double.NaN;
            double perExaflop = Double.NaN;
            if (e.has("embodied_carbon")) {
                if (unitOf(e.string("embodied_carbon")).equals("gCO2e/EFLOP")) {
                    perExaflop = quantity(e, "embodied_carbon", Map.of("gCO2e/EFLOP", 1.0));
                } else {
                    kg = quantity(e, "embodied_carbon", Map.of("kgCO2e", 1.0, "tCO2e", 1000.0));
                }
            }
            double kgFinal = kg;
            double perExaflopFinal = perExaflop;
            devices.put(device, e.build(() -> new Device(perHour, purchase, lifetime, kgFinal, perExaflopFinal)));
        }
        return s.build(() -> new CostModel(name, date, pue, electricity, grid, utilisation, devices));
    }

    private static String unitOf(String value) {
        int space = value.trim().indexOf(' ');
        return space < 0 ? "" : value.trim().substring(space + 1).trim();
    }

    /** A non-negative number followed by one of {@code units} (to the base unit by its factor). */
    private static double quantity(Section s, String key, Map<String, Double> units) {
        String text = s.string(key).trim();
        List<String> names = units.keySet().stream().sorted().toList();
        String example = key + ": 1 " + names.get(0);
        int space = text.indexOf(' ');
        if (space < 0) {
            throw InputException.located(s.where(key) + ": '" + text + "' has no unit: expected a number and one of "
                + String.join(", ", names) + ", e.g. '" + example + "'");
        }
        String unit = text.substring(space + 1).trim();
        Double factor = units.get(unit);
        double value;
        try {
            value = dev.rafter.config.Numbers.parseDouble(text.substring(0, space));
        } catch (NumberFormatException ex) {
            value = Double.NaN;
        }
        if (factor == null || !(value >= 0) || Double.isInfinite(value)) {
            throw InputException.located(s.where(key) + ": expected a number >= 0 and one of "
                + String.join(", ", names) + ", e.g. '" + example + "', got '" + dev.rafter.config.InputFiles
                .shorten(text) + "'");
        }
        return value * factor;
    }

    /** A plain number (a ratio, no unit). */
    private static double ratio(Section s, String key) {
        return s.number(key);
    }

    /** The figures of the device named {@code hardware}; a complaint names the devices the file has. */
    public Device device(String hardware, String file) {
        Device d = devices.get(hardware);
        if (d == null) {
            throw InputException.located(file + ": devices: no entry for '" + hardware + "' (it has "
                + String.join(", ", new java.util.TreeSet<>(devices.keySet())) + ")");
        }
        return d;
    }

    /**
     * The {@code cost} block of a run's summary (as {@code simulate --cost} and {@code sweep --cost} write it): its
     * latency and total energy, {@code flops} delivered, and output tokens from the summary's serving figures times
     * {@code sequences} (none for a trace: per-token figures are null).
     */
    public Map<String, Object> ofSummary(Device d, Map<String, Object> summary, double flops, int sequences) {
        double tokens = summary.get("serving") instanceof Map<?, ?> sv && sv.get("output_tokens") instanceof Long n
            ? (double) n * sequences : 0;
        return of(d, (double) summary.get("latency_s"), (double) ((Map<?, ?>) summary.get("energy_j")).get("total"),
            flops, tokens);
    }

    /**
     * Cost and carbon of a run of {@code seconds} on one device that used {@code joules} (at the device) and
     * delivered {@code flops}, for {@code tokens} output tokens (0: per-token figures are null).
     */
    public Map<String, Object> of(Device d, double seconds, double joules, double flops, double tokens) {
        return of(List.of(d), seconds, joules, new double[] {flops}, tokens);
    }

    /**
     * Cost and carbon of a run of {@code seconds} on the devices {@code ds}, each held for the whole run (a system:
     * its price per hour, or its price over its lifetime, counts for every device the run used), that used
     * {@code joules} in all (devices and fabric) and delivered {@code flops[i]} on device {@code i}. Embodied carbon
     * is each device's share (by its time, or by its own FLOPs where the file gives it per exaFLOP); where a device
     * has none, the total's embodied part is null.
     */
    public Map<String, Object> of(List<Device> ds, double seconds, double joules, double[] flops, double tokens) {
        double hours = seconds / 3600;
        double kwh = joules * pue / 3.6e6;
        double deviceUsd = 0;
        double embodiedG = 0;
        for (int i = 0; i < ds.size(); i++) {
            Device d = ds.get(i);
            deviceUsd += deviceUsd(d, hours);
            embodiedG += !Double.isNaN(d.embodiedKg()) ? embodiedG(d, hours)
                : !Double.isNaN(d.embodiedGPerExaflop()) ? d.embodiedGPerExaflop() * flops[i] / 1e18 : Double.NaN;
        }
        double electricityUsd = kwh * usdPerKwh;
        double operationalG = kwh * gCo2ePerKwh;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", name);
        m.put("date", date);
        m.put("usd", deviceUsd + electricityUsd);
        m.put("usd_device", deviceUsd);
        m.put("usd_electricity", electricityUsd);
        m.put("usd_per_million_tokens", tokens > 0 ? (deviceUsd + electricityUsd) / tokens * 1e6 : null);
        Map<String, Object> g = new LinkedHashMap<>();
        g.put("operational", operationalG);
        g.put("embodied", Double.isNaN(embodiedG) ? null : embodiedG);
        double total = operationalG + (Double.isNaN(embodiedG) ? 0 : embodiedG);
        g.put("total", total);
        m.put("g_co2e", g);
        m.put("g_co2e_per_thousand_tokens", tokens > 0 ? total / tokens * 1e3 : null);
        if (Double.isNaN(embodiedG)) {
            m.put("note", String.format(Locale.ROOT, "embodied carbon not given for this device in %s", name));
        }
        return m;
    }

    /** A device's price for {@code hours} of holding it: by the hour, or its purchase over its working hours. */
    private double deviceUsd(Device d, double hours) {
        return !Double.isNaN(d.usdPerHour()) ? d.usdPerHour() * hours
            : d.priceUsd() * hours / (d.lifetimeHours() * utilisation);
    }

    /** A device's embodied kgCO2e amortised over its working hours, for {@code hours}; NaN where not given so. */
    private double embodiedG(Device d, double hours) {
        return d.embodiedKg() * 1000 * hours / (d.lifetimeHours() * utilisation);
    }

    /**
     * Cost and carbon of a serving run ({@code serve}): the devices {@code ds} held over the serving span of
     * {@code seconds}, which used {@code joules} in all (static over the span, each step's dynamic energy, KV-cache
     * transfers) and delivered {@code flops[i]} on device {@code i}, for {@code tokens} output tokens; as {@link
     * #of}, with the devices and their hours first.
     */
    public Map<String, Object> ofServing(List<Device> ds, double seconds, double joules, double[] flops,
                                         double tokens) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", name);
        m.put("date", date);
        m.put("devices", (long) ds.size());
        m.put("device_hours", seconds / 3600 * ds.size());
        m.putAll(of(ds, seconds, joules, flops, tokens));
        return m;
    }
}

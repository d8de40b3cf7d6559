package dev.rafter.energy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.config.InputException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CostModelTest {
    @TempDir
    Path tmp;

    static final String OWNED = "name: t\ndate: 2026-06\npue: 1.5\nelectricity: 0.10 USD/kWh\n"
        + "grid_carbon: 400 gCO2e/kWh\nutilisation: 0.5\ndevices:\n"
        + "  bought: {price: 8760 USD, lifetime: 1 years, embodied_carbon: 876 kgCO2e}\n"
        + "  rented: {price: 3.6 USD/h, embodied_carbon: 2 gCO2e/EFLOP}\n";

    CostModel load(String text) throws Exception {
        Path f = tmp.resolve("cost.yaml");
        Files.writeString(f, text);
        return CostModel.load(f);
    }

    /**
     * TCO (capex + energy x PUE x $/kWh, after aiinframap.com) and carbon (energy x PUE x grid intensity plus
     * amortised embodied carbon), on round numbers.
     */
    @Test
    void costAndCarbonFollowTheClosedForm() throws Exception {
        CostModel m = load(OWNED);
        // one hour, 3.6 MJ (1 kWh at the device), 1000 tokens
        Map<String, Object> bought = m.of(m.device("bought", "f"), 3600, 3.6e6, 0, 1000);
        // $8760 over 8760 h at 50% use: $2 per hour of work; 1 kWh x PUE 1.5 x $0.10 = $0.15
        assertEquals(2.15, (double) bought.get("usd"), 1e-12);
        assertEquals(2.15 / 1000 * 1e6, (double) bought.get("usd_per_million_tokens"), 1e-9);
        Map<?, ?> g = (Map<?, ?>) bought.get("g_co2e");
        assertEquals(1.5 * 400, (double) g.get("operational"), 1e-9);
        assertEquals(876e3 / (8760 * 0.5), (double) g.get("embodied"), 1e-9); // 200 g per working hour
        assertEquals((600 + 200) / 1000.0 * 1e3, (double) bought.get("g_co2e_per_thousand_tokens"), 1e-9);
        Map<String, Object> rented = m.of(m.device("rented", "f"), 1800, 0, 3e18, 0);
        assertEquals(1.8, (double) rented.get("usd"), 1e-12);
        assertEquals(6.0, (double) ((Map<?, ?>) rented.get("g_co2e")).get("embodied"), 1e-12);
        assertNull(rented.get("usd_per_million_tokens"), "no tokens, no per-token figure");
    }

    @Test
    void aQuantityWithoutItsUnitIsRefusedNamingTheKey() throws Exception {
        String m1 = assertThrows(InputException.class, () -> load(OWNED.replace("0.10 USD/kWh", "0.10")))
            .getMessage();
        assertTrue(m1.contains("electricity") && m1.contains("has no unit") && m1.contains("USD/kWh"), m1);
        String m2 = assertThrows(InputException.class, () -> load(OWNED.replace("876 kgCO2e", "876")))
            .getMessage();
        assertTrue(m2.contains("devices.bought.embodied_carbon") && m2.contains("has no unit"), m2);
        String m3 = assertThrows(InputException.class, () -> load(OWNED.replace("3.6 USD/h", "3.6 EUR/h")))
            .getMessage();
        assertTrue(m3.contains("devices.rented.price"), m3);
        String m4 = assertThrows(InputException.class, () -> load(OWNED.replace(", lifetime: 1 years", "")))
            .getMessage();
        assertTrue(m4.contains("devices.bought") && m4.contains("lifetime"), m4);
        String m5 = assertThrows(InputException.class, () -> load(OWNED).device("h100-sxm", "cost.yaml"))
            .getMessage();
        assertTrue(m5.contains("h100-sxm") && m5.contains("bought, rented"), m5);
    }

    @Test
    void theBundledCostModelsLoadAndCoverTheDevicesTheyName() {
        for (String f : new String[] {"cloud-2026", "owned-datacentre"}) {
            CostModel m = CostModel.load(Path.of("models/cost/" + f + ".yaml"));
            assertTrue(m.devices().containsKey("h100-sxm") && m.devices().containsKey("a100-like"), f);
        }
    }
}

package dev.rafter.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.rafter.sim.component.Catalogue;
import dev.rafter.sim.component.ComponentKind;
import dev.rafter.sim.component.Wiring;
import dev.rafter.sim.trace.SliceKind;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "components", mixinStandardHelpOptions = true,
    description = "Print the component catalogue: every kind with its parameters, ports and statistics.")
public final class ComponentsCommand extends CommandBase implements Callable<Integer> {
    @Option(names = "--json", description = "print JSON for scripts")
    boolean json;

    @Override
    public Integer call() throws Exception {
        List<Map<String, Object>> kinds = new ArrayList<>();
        for (ComponentKind k : Catalogue.declarations()) {
            kinds.add(describe(k));
        }
        if (json) {
            out().println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(
                Map.of("components", kinds)));
            return Main.OK;
        }
        for (ComponentKind k : Catalogue.declarations()) {
            out().printf("%s: %s%n", k.name(), k.description());
            out().printf("  instances   %s%n", instances(k));
            out().println("  parameters");
            if (k.parameters().isEmpty()) {
                out().println("    (none)");
            }
            for (ComponentKind.Parameter p : k.parameters()) {
                out().printf("    %-44s %-16s %-26s %-12s %s%n", p.key(), p.unit().isEmpty() ? "-" : p.unit(),
                    p.range(), p.byDefault() == null ? "required" : "default " + p.byDefault(), p.description());
            }
            out().println("  ports");
            for (ComponentKind.Port p : k.ports()) {
                out().printf("    %-3s %-12s %-44s %s%n", p.direction().name().toLowerCase(Locale.ROOT), p.name(),
                    p.messages().isEmpty() ? "(a call, no message record)" : String.join(", ", messages(p)),
                    p.description());
            }
            if (!Wiring.from(k).isEmpty()) {
                out().println("  wires");
            }
            for (Wiring.Wire w : Wiring.from(k)) {
                out().printf("    %-16s -> %s%s%n", w.fromPort(), w.to().name() + "." + w.toPort(),
                    w.latency().isEmpty() ? "" : " (latency " + w.latency() + ")");
            }
            out().println("  statistics");
            for (ComponentKind.Statistic s : k.statistics()) {
                out().printf("    %-22s %-6s %-13s %-36s %s%n", s.name(), s.unit(), s.combine().key(),
                    s.measure().key() + " of " + slices(s), s.description());
            }
            if (k.utilisation() != null) {
                out().printf("  utilisation %s: %s over capacity%n", k.utilisation().key(),
                    String.join(" + ", k.utilisation().work()));
            }
            if (k.energy() != null) {
                out().printf("  energy      energy_j.by_component.%s%n", k.energy().name());
            }
            out().println();
        }
        return Main.OK;
    }

    private static Map<String, Object> describe(ComponentKind k) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", k.name());
        m.put("description", k.description());
        m.put("instances", instances(k));
        List<Map<String, Object>> params = new ArrayList<>();
        for (ComponentKind.Parameter p : k.parameters()) {
            Map<String, Object> pm = new LinkedHashMap<>();
            pm.put("key", p.key());
            pm.put("unit", p.unit());
            pm.put("range", p.range());
            pm.put("default", p.byDefault());
            pm.put("description", p.description());
            params.add(pm);
        }
        m.put("parameters", params);
        List<Map<String, Object>> ports = new ArrayList<>();
        for (ComponentKind.Port p : k.ports()) {
            Map<String, Object> pm = new LinkedHashMap<>();
            pm.put("name", p.name());
            pm.put("direction", p.direction().name().toLowerCase(Locale.ROOT));
            pm.put("messages", messages(p));
            pm.put("description", p.description());
            ports.add(pm);
        }
        m.put("ports", ports);
        List<Map<String, Object>> wires = new ArrayList<>();
        for (Wiring.Wire w : Wiring.from(k)) {
            Map<String, Object> wm = new LinkedHashMap<>();
            wm.put("port", w.fromPort());
            wm.put("to", w.to().name() + "." + w.toPort());
            wm.put("latency", w.latency().isEmpty() ? null : w.latency());
            wires.add(wm);
        }
        m.put("wires", wires);
        List<Map<String, Object>> stats = new ArrayList<>();
        for (ComponentKind.Statistic s : k.statistics()) {
            Map<String, Object> sm = new LinkedHashMap<>();
            sm.put("name", s.name());
            sm.put("unit", s.unit());
            sm.put("measure", s.measure().key());
            sm.put("slices", s.slices().stream().sorted().map(SliceKind::label).toList());
            sm.put("combine", s.combine().key());
            sm.put("description", s.description());
            stats.add(sm);
        }
        m.put("statistics", stats);
        m.put("utilisation", k.utilisation() == null ? null : k.utilisation().key());
        m.put("energy", k.energy() == null ? null : k.energy().name());
        return m;
    }

    private static String instances(ComponentKind k) {
        String where = k.placement().scope() == ComponentKind.Scope.CORE ? "per core" : "per device";
        return k.placement().count() == null ? "as listed in the hardware file's components: list" : where;
    }

    /** Message records by their names as written in code, e.g. MemoryAccess.StageFill. */
    private static List<String> messages(ComponentKind.Port p) {
        return p.messages().stream().map(c -> c.getName().substring(c.getPackageName().length() + 1)
            .replace('$', '.')).toList();
    }

    /** The slice kinds a statistic counts, in words: all, all but some, or a list. */
    private static String slices(ComponentKind.Statistic s) {
        EnumSet<SliceKind> all = SliceKind.intervals();
        if (s.slices().containsAll(all)) {
            return "all slices";
        }
        if (s.slices().size() * 2 > all.size()) {
            all.removeAll(s.slices());
            return "all slices but " + String.join(", ", all.stream().map(SliceKind::label).toList());
        }
        return "'" + String.join("', '", s.slices().stream().sorted().map(SliceKind::label).toList()) + "' slices";
    }
}

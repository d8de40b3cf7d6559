package dev.rafter.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.rafter.config.InputException;
import dev.rafter.config.Section;
import dev.rafter.hw.SystemLoader;
import dev.rafter.hw.SystemSpec;
import dev.rafter.sim.fabric.FabricAlgorithm;
import dev.rafter.sim.fabric.FabricCollectives;
import dev.rafter.sim.fabric.FabricGraph;
import dev.rafter.sim.fabric.FabricOp;
import dev.rafter.sim.fabric.FabricPlan;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** nccl-tests on a simulated fabric: one collective alone on an idle system, at each size asked for. */
@Command(name = "collective", mixinStandardHelpOptions = true,
    description = "Simulate one collective on a system's fabric (like nccl-tests): time, algorithm and bus "
        + "bandwidth, and the busiest link, per size.")
public final class CollectiveCommand extends CommandBase implements Callable<Integer> {
    @Option(names = "--system", required = true, paramLabel = "S", description = "system YAML (models/systems)")
    Path system;

    @Option(names = "--op", defaultValue = "all_reduce", paramLabel = "OP",
        description = "all_reduce, all_gather, reduce_scatter, all_to_all, broadcast or send_recv (default "
            + "all_reduce)")
    String op;

    @Option(names = "--bytes", required = true, split = ",", paramLabel = "SIZE",
        description = "sizes per device as nccl-tests counts them, e.g. 1KiB,1MiB,64MiB (B, KiB, MiB, GiB, KB, MB, GB)")
    List<String> sizes;

    @Option(names = "--algorithm", defaultValue = "auto", paramLabel = "A",
        description = "auto, ring, tree, direct, in_switch (or nvls) or hierarchical (default auto: least "
            + "closed-form time: alpha-beta, each step at least its memory time)")
    String algorithm;

    @Option(names = "--set", paramLabel = "K=V", description = "override a field of the system file, e.g. "
        + "fabric.link.bandwidth_gb_per_s=900")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--json", description = "print JSON for scripts")
    boolean json;

    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(B|KiB|MiB|GiB|KB|MB|GB)?");

    /** A size such as {@code 64MiB} in bytes. */
    static long bytes(String text) {
        Matcher m = SIZE.matcher(text.trim());
        if (!m.matches()) {
            throw new InputException("--bytes: expected a size such as 1024, 1KiB, 64MiB or 1GB, got '" + text + "'");
        }
        long unit = switch (m.group(2) == null ? "B" : m.group(2)) {
            case "KiB" -> 1L << 10;
            case "MiB" -> 1L << 20;
            case "GiB" -> 1L << 30;
            case "KB" -> 1_000L;
            case "MB" -> 1_000_000L;
            case "GB" -> 1_000_000_000L;
            default -> 1;
        };
        long n;
        try {
            n = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            n = Long.MAX_VALUE;
        }
        if (n < 1 || n > (64L << 30) / unit) {
            throw new InputException("--bytes: expected a size from 1 B to 64 GiB, got '" + text + "'");
        }
        return n * unit;
    }

    @Override
    public Integer call() throws Exception {
        SystemSpec spec = SystemLoader.load(system, overrides);
        FabricGraph graph = new FabricGraph(spec);
        FabricOp fabricOp = Section.parseChoice(op, FabricOp.class, m -> new InputException("--op: " + m));
        FabricAlgorithm wanted = Section.parseChoice(algorithm.equals("nvls") ? "in_switch" : algorithm,
            FabricAlgorithm.class, m -> new InputException("--algorithm: " + m));
        if (sizes.isEmpty()) {
            // '--bytes ,' splits into no sizes at all: an empty table is no answer.
            throw new InputException("--bytes: expected at least one size, e.g. 1KiB,1MiB,64MiB");
        }
        List<Long> byteCounts = sizes.stream().map(CollectiveCommand::bytes).toList();
        List<Map<String, Object>> rows = new ArrayList<>();
        for (long size : byteCounts) {
            FabricPlan plan = FabricPlan.choose(graph, fabricOp, size, wanted);
            FabricCollectives.Result r = FabricCollectives.run(graph, plan);
            FabricCollectives.LinkUse busiest = r.busiest();
            double algbw = size / r.timeS();
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("bytes", size);
            row.put("algorithm", plan.algorithm().name().toLowerCase(Locale.ROOT));
            row.put("protocol", plan.cost().protocol());
            row.put("time_s", r.timeS());
            row.put("algbw_gb_per_s", algbw / 1e9);
            row.put("busbw_gb_per_s", algbw * fabricOp.busFactor(spec.deviceCount()) / 1e9);
            row.put("closed_form_s", plan.predictedS());
            row.put("busiest_link", busiest.name());
            row.put("busiest_link_utilisation", (double) busiest.busyPs() / r.timePs());
            row.put("fabric_energy_j", r.energyJ());
            rows.add(row);
        }
        if (json) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("system", spec.name());
            doc.put("op", fabricOp.key());
            doc.put("devices", spec.deviceCount());
            doc.put("rows", rows);
            out().println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(doc));
            return Main.OK;
        }
        out().printf(Locale.ROOT, "%s: %s over %d devices (%s)%n", spec.name(), fabricOp.key(), spec.deviceCount(),
            spec.devices().get(0).hardware().name());
        out().printf(Locale.ROOT, "%12s  %-22s %11s %11s %11s %11s  %s%n", "size_B", "algorithm/protocol", "time_us",
            "algbw_GB/s", "busbw_GB/s", "closed_us", "busiest link (utilisation)");
        for (Map<String, Object> row : rows) {
            out().printf(Locale.ROOT, "%12d  %-22s %11.2f %11.2f %11.2f %11.2f  %s (%.0f%%)%n", row.get("bytes"),
                row.get("algorithm") + "/" + row.get("protocol"), (double) row.get("time_s") * 1e6,
                row.get("algbw_gb_per_s"), row.get("busbw_gb_per_s"), (double) row.get("closed_form_s") * 1e6,
                row.get("busiest_link"), 100 * (double) row.get("busiest_link_utilisation"));
        }
        return Main.OK;
    }
}

package dev.rafter.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rafter.config.InputException;
import dev.rafter.report.SimulationReport;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code sweep.json}, written beside sweep.csv by every finished sweep run: what the sweep is (its settings, its
 * {@code --vary} axes in order, the Rafter build) and which shard of it this folder holds, so that
 * {@code rafter sweep merge} can rebuild the plan, refuse shards of different sweeps and name missing points.
 */
public record SweepManifest(String settings, List<String> vary, String rafter, SweepShard shard) {
    public static final String FILE = "sweep.json";

    public static SweepManifest of(Sweep sweep, SweepPlan plan, SweepShard shard) {
        List<String> vary = new ArrayList<>();
        for (int a = 0; a < plan.paths().size(); a++) {
            vary.add(plan.paths().get(a) + "=" + String.join(",", plan.values().get(a)));
        }
        return new SweepManifest(sweep.settings(), vary, sweep.rafterVersion(), shard);
    }

    public String json() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("sweep", settings);
        m.put("vary", vary);
        m.put("rafter", rafter);
        m.put("shard", shard.toString());
        return SimulationReport.json(m);
    }

    /** A manifest is a few lines; a megabyte is far beyond one. */
    private static final long MAX_BYTES = 1L << 20;

    /** The manifest in {@code dir}; bad input naming the file when it is missing or not one. */
    public static SweepManifest read(Path dir) {
        Path file = dir.resolve(FILE);
        if (!java.nio.file.Files.isRegularFile(file)) {
            throw new InputException(dir + ": no " + FILE + ", not the output of a finished sweep (a killed run"
                + " finishes with the same command and --resume)");
        }
        try {
            JsonNode n = new ObjectMapper().readTree(dev.rafter.config.InputFiles.readBytes(file, MAX_BYTES));
            List<String> vary = new ArrayList<>();
            n.path("vary").forEach(v -> vary.add(v.asText()));
            if (!n.path("sweep").isTextual() || vary.isEmpty() || !n.path("rafter").isTextual()
                || !n.path("shard").isTextual()) {
                throw new InputException(file + ": expected sweep, vary, rafter and shard, as a sweep writes them");
            }
            return new SweepManifest(n.get("sweep").asText(), vary, n.get("rafter").asText(),
                SweepShard.parse(n.get("shard").asText()));
        } catch (IOException e) {
            throw new InputException(file + ": unreadable (" + reason(e) + ")");
        }
    }

    /**
     * Why a JSON file could not be read, in one line without Jackson's own words for where its source is ("start
     * marker at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, ...]").
     */
    static String reason(IOException e) {
        String m = e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage()
            : e.getMessage();
        return m == null ? "unknown error" : m.lines().findFirst().orElse("")
            .replaceAll("\\s*\\(start marker at \\[Source:[^\\]]*\\]\\)", "").trim();
    }

    /** Whether {@code other} is a shard of the same sweep. */
    public String differenceTo(SweepManifest other) {
        if (!settings.equals(other.settings)) {
            return "other settings (" + other.settings + " vs " + settings + ")";
        }
        if (!vary.equals(other.vary)) {
            return "other --vary axes (" + other.vary + " vs " + vary + ")";
        }
        if (!rafter.equals(other.rafter)) {
            return "another Rafter build (" + other.rafter + " vs " + rafter + ")";
        }
        if (shard.n() != other.shard.n()) {
            return "another shard count (" + other.shard + " vs " + shard + ")";
        }
        return "";
    }
}

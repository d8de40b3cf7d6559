package dev.rafter.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rafter.config.InputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code rafter sweep merge DIR...}: the points of shard outputs ({@code --shard k/N} runs) joined into the points of
 * the whole sweep, in plan order, so the report written from them equals the unsharded sweep's byte for byte.
 * Refused (bad input): folders of different sweeps (settings, axes, Rafter build or shard count), a point found in
 * two folders, and points missing (named).
 */
public final class SweepMerge {
    private SweepMerge() {}

    /** The merged sweep: its plan, manifest (as shard 1/1) and points by index, with each point's file. */
    public record Merged(SweepPlan plan, SweepManifest manifest, List<Sweep.Point> points, List<Path> files) {}

    public static Merged merge(List<Path> dirs) {
        if (dirs.isEmpty()) {
            throw new InputException("sweep merge: give the output folders of the shards, e.g. out/s1 out/s2 out/s3");
        }
        SweepManifest first = SweepManifest.read(dirs.get(0));
        SweepPlan plan = SweepPlan.parse(first.vary());
        Map<String, Integer> byName = new HashMap<>();
        for (int i = 0; i < plan.size(); i++) {
            byName.put(plan.name(i), i);
        }
        ObjectMapper json = new ObjectMapper();
        Sweep.Point[] points = new Sweep.Point[plan.size()];
        Path[] files = new Path[plan.size()];
        for (Path dir : dirs) {
            SweepManifest m = SweepManifest.read(dir);
            String differs = first.differenceTo(m);
            if (!differs.isEmpty()) {
                throw new InputException(dir + ": a shard of another sweep than " + dirs.get(0) + ": " + differs);
            }
            List<Path> found = new ArrayList<>();
            try (var list = Files.newDirectoryStream(dir.resolve("points"), "*.json")) {
                list.forEach(found::add);
            } catch (java.nio.file.NoSuchFileException | java.nio.file.NotDirectoryException e) {
                throw new InputException(dir + ": no points/ folder, not the output of a sweep");
            } catch (IOException e) {
                throw new InputException(dir + "/points: unreadable (" + e.getMessage() + ")");
            }
            found.sort(null);
            for (Path f : found) {
                String name = f.getFileName().toString();
                Integer index = byName.get(name.substring(0, name.length() - ".json".length()));
                if (index == null || !m.shard().contains(index)) {
                    continue; // left from another sweep in the same folder (kept by --resume): not this shard's
                }
                JsonNode summary;
                try {
                    summary = json.readTree(dev.rafter.config.InputFiles.readBytes(f, PointFile.MAX_BYTES));
                } catch (IOException e) {
                    throw new InputException(f + ": unreadable point summary (" + SweepManifest.reason(e)
                        + "); rerun that shard with --resume");
                }
                PointFile.Verdict sealed = PointFile.check(summary);
                if (sealed != PointFile.Verdict.INTACT) {
                    throw new InputException(f + ": " + (sealed == PointFile.Verdict.EDITED
                        ? "its contents do not match its digest (edited since the sweep wrote it)"
                        : "no digest (not written by this Rafter)") + "; rerun that shard with --resume");
                }
                if (!summary.path("sweep").asText().equals(m.settings())
                    || !summary.path("inputs").path("rafter").asText().equals(m.rafter())
                    || !summary.path("point").equals(json.valueToTree(plan.point(index)))) {
                    continue; // a stale point of another sweep: counted missing below
                }
                if (points[index] != null) {
                    throw new InputException("point " + plan.name(index) + " is in both " + files[index].getParent()
                        .getParent() + " and " + dir + " (the same shard given twice?)");
                }
                points[index] = new Sweep.Point(index, plan.point(index), summary, false);
                files[index] = f;
            }
        }
        List<String> missing = new ArrayList<>();
        for (int i = 0; i < plan.size(); i++) {
            if (points[i] == null) {
                missing.add(plan.name(i));
            }
        }
        if (!missing.isEmpty()) {
            throw new InputException("sweep merge: " + missing.size() + " of " + plan.size() + " points missing: "
                + String.join(", ", missing.subList(0, Math.min(5, missing.size())))
                + (missing.size() > 5 ? ", ..." : "") + " (run the shards that hold them, e.g. --shard "
                + (byName.get(missing.get(0)) % first.shard().n() + 1) + "/" + first.shard().n() + " --resume)");
        }
        return new Merged(plan, new SweepManifest(first.settings(), first.vary(), first.rafter(), SweepShard.ALL),
            List.of(points), List.of(files));
    }
}

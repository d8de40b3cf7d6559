package dev.rafter.plot;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rafter.report.AtomicFile;
import dev.rafter.report.OutputFolder;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The charts of a study, each as PNG and SVG: heatmaps ({@code heatmap-METRIC[-PHASE]}) of latency, energy and
 * energy-delay product over two axes, and the Pareto front of latency against energy ({@code pareto[-PHASE]}).
 * A sweep writes them into {@code DIR/plots/} by itself ({@link #afterSweep}); {@code rafter plot} redraws them
 * from a sweep.csv.
 */
public final class StudyCharts {
    private StudyCharts() {}

    /** Writes {@code NAME.png} and {@code NAME.svg} of one drawing into {@code dir}; returns the PNG's path. */
    public static Path write(Path dir, String name, int width, int height, Consumer<Canvas> drawing) {
        byte[] image = png(width, height, drawing);
        SvgCanvas svg = new SvgCanvas(width, height);
        drawing.accept(svg);
        String text = svg.finish();
        Path pngPath = dir.resolve(name + ".png");
        AtomicFile.writeBytes(pngPath, image);
        AtomicFile.write(dir.resolve(name + ".svg"), w -> w.write(text));
        return pngPath;
    }

    /** The PNG file of one drawing on a white canvas of {@code width} x {@code height} pixels. */
    public static byte[] png(int width, int height, Consumer<Canvas> drawing) {
        PngCanvas png = new PngCanvas(width, height);
        drawing.accept(png);
        return PngEncoder.encode(png.finish());
    }

    /** A sweep's own heatmap over its first two axes: {@code heatmap-METRIC[-PHASE]}. */
    public static Path write(Path dir, Heatmap h, Measure m) {
        return write(dir, "heatmap-" + m.stem(), h.width(), h.height(), h::draw);
    }

    /**
     * The file name (without extension) of a heatmap that {@code rafter plot} draws over {@code xKey} across and
     * {@code yKey} up: {@code heatmap-edp-decode-x-clock_mhz-y-core.local_buffer.capacity_kib}. It names both axes
     * in their roles, so no two choices of axes share a file, and never equals a sweep's own chart's name.
     */
    public static String plotName(Measure m, String xKey, String yKey) {
        return "heatmap-" + m.stem() + "-x-" + fileSafe(xKey) + "-y-" + fileSafe(yKey);
    }

    /** A key as part of a file name: letters, digits, dot, dash and underscore kept, anything else '_'. */
    static String fileSafe(String key) {
        return key.replaceAll("[^A-Za-z0-9._-]", "_");
    }

    public static Path write(Path dir, ParetoFront p, Measure m) {
        return write(dir, "pareto" + (m.phase() == null ? "" : "-" + m.phase()), p.width(), p.height(), p::draw);
    }

    /**
     * The phases charts are drawn for: the one phase a sweep ran (its figures are the run's), or the whole run
     * (null) and each phase when it ran both.
     */
    static List<String> phasesToDraw(StudyTable t) {
        List<String> phases = t.phases();
        if (phases.size() == 1) {
            return phases;
        }
        List<String> out = new ArrayList<>();
        out.add(null);
        out.addAll(phases);
        return out;
    }

    /**
     * After a sweep: with two axes or more, heatmaps of latency, energy and EDP over the first two axes (x the
     * first) for each phase; with energy figures, the Pareto fronts. Previous charts in {@code dir} go first.
     * Says on {@code log} what it wrote and where; when {@code dir} cannot be written (e.g. a file is there),
     * says so and leaves the sweep's other outputs alone.
     */
    public static void afterSweep(List<String> axes, List<Map<String, String>> values, List<JsonNode> summaries,
                                  Path dir, PrintWriter log) {
        try {
            drawAfterSweep(StudyTable.of(axes, values, summaries), dir, log);
        } catch (dev.rafter.config.InputException | UncheckedIOException e) {
            // the charts are a view of sweep.csv: a folder they cannot go into must not cost the sweep its table
            log.printf("charts not written (%s); rafter plot redraws them from sweep.csv%n",
                e.getMessage().lines().findFirst().orElse("cannot write them"));
        }
    }

    private static void drawAfterSweep(StudyTable t, Path dir, PrintWriter log) {
        List<String> axes = t.axes();
        if (axes.size() < 2 && !t.has("energy_j")) {
            return; // one axis and no energy: sweep.png says it all
        }
        OutputFolder.requireDirectory(dir, "--out");
        removeCharts(dir);
        List<String> wrote = new ArrayList<>();
        String edpOptimum = null;
        for (String phase : phasesToDraw(t)) {
            boolean energy = t.has(phase == null ? "energy_j" : phase + "_energy_j");
            if (axes.size() >= 2) {
                for (Measure.Metric metric : Measure.Metric.values()) {
                    if (metric != Measure.Metric.LATENCY && !energy) {
                        continue;
                    }
                    Measure m = Measure.of(t, metric, phase);
                    Heatmap h = Heatmap.of(t, axes.get(0), axes.get(1), m);
                    write(dir, h, m);
                    wrote.add("heatmap-" + m.stem());
                    if (metric == Measure.Metric.EDP && (phase == null || edpOptimum == null)) {
                        edpOptimum = h.title();
                    }
                }
            }
            if (energy) {
                Measure m = Measure.of(t, Measure.Metric.EDP, phase);
                ParetoFront p = ParetoFront.of(t, m);
                write(dir, p, m);
                wrote.add("pareto" + (phase == null ? "" : "-" + phase) + " (" + p.front().size() + " of "
                    + t.rows().size() + " points on the front)");
            }
        }
        if (wrote.isEmpty()) {
            return;
        }
        log.printf("charts (.png and .svg) in %s: %s%n", dir, String.join(", ", wrote));
        if (edpOptimum != null) {
            log.printf("%s%n", edpOptimum);
        }
    }

    /** A point's values on every axis in words: "64 KiB, 1400 MHz, 2048 GB/s". */
    public static String describe(StudyTable table, StudyTable.Row r) {
        return Heatmap.describe(table, r);
    }

    /** Removes the heatmaps and Pareto charts a previous sweep left in {@code dir} (regular files only). */
    static void removeCharts(Path dir) {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "{heatmap-,pareto}*.{png,svg}")) {
            for (Path f : files) {
                if (Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
                    Files.delete(f);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir + ": " + e.getMessage(), e);
        }
    }
}

package dev.rafter.cli;

import dev.rafter.config.InputException;
import dev.rafter.plot.Heatmap;
import dev.rafter.plot.Measure;
import dev.rafter.plot.ParetoFront;
import dev.rafter.plot.StudyCharts;
import dev.rafter.plot.StudyTable;
import dev.rafter.report.OutputFolder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code plot}: redraws a sweep's heatmap or Pareto front from its sweep.csv, as PNG and SVG. */
@Command(name = "plot", mixinStandardHelpOptions = true,
    description = "Redraw from a sweep.csv: a heatmap of latency, energy or EDP over two axes (the optimum framed;"
        + " one panel per value of the other axes), or the Pareto front of latency vs energy; PNG and SVG.")
public final class PlotCommand extends CommandBase implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "SWEEP.csv", description = "a sweep.csv written by rafter sweep")
    Path csv;

    @Option(names = "--x", paramLabel = "KEY", description = "the axis across, e.g. core.local_buffer.capacity_kib")
    String x;

    @Option(names = "--y", paramLabel = "KEY", description = "the axis up, e.g. clock_mhz")
    String y;

    @Option(names = "--metric", paramLabel = "M", description = "latency, energy or edp")
    String metric;

    @Option(names = "--phase", paramLabel = "P", description = "prefill or decode (default: the whole run; the phase, when the sweep ran one)")
    String phase;

    @Option(names = "--pareto", description = "the Pareto front of latency vs energy, its points labelled")
    boolean pareto;

    @Option(names = "--out", paramLabel = "DIR", description = "output directory (default: plots/ beside SWEEP.csv)")
    Path out;

    @Override
    public Integer call() {
        boolean heatmap = x != null || y != null || metric != null;
        if (!heatmap && !pareto) {
            throw new InputException("plot: give --x KEY --y KEY --metric latency|energy|edp for a heatmap, or"
                + " --pareto");
        }
        List<String> missing = new ArrayList<>();
        if (heatmap) {
            if (x == null) {
                missing.add("--x KEY");
            }
            if (y == null) {
                missing.add("--y KEY");
            }
            if (metric == null) {
                missing.add("--metric latency|energy|edp");
            }
        }
        if (!missing.isEmpty()) {
            throw new InputException("plot: a heatmap needs " + String.join(", ", missing));
        }
        if (phase != null && !StudyTable.PHASES.contains(phase)) {
            throw new InputException("--phase " + phase + ": expected prefill or decode");
        }
        Measure.Metric chosen = heatmap ? Measure.Metric.parse(metric) : Measure.Metric.EDP;
        StudyTable table = StudyTable.read(csv);
        if (phase == null && table.phases().size() == 1) {
            phase = table.phases().get(0); // the sweep ran one phase: the whole run is that phase
        }
        // as given, so messages name the path the user typed (as every other command does)
        Path dir = out != null ? out : csv.getParent() == null ? Path.of("plots") : csv.getParent().resolve("plots");
        List<Runnable> writes = new ArrayList<>();
        if (heatmap) {
            Measure m = Measure.of(table, chosen, phase);
            Heatmap h = Heatmap.of(table, x, y, m);
            writes.add(() -> {
                Path png = StudyCharts.write(dir, StudyCharts.plotName(m, x, y), h.width(), h.height(), h::draw);
                out().printf("%s%nwrote %s and .svg%n", h.title(), png);
            });
        }
        if (pareto) {
            Measure m = Measure.of(table, Measure.Metric.EDP, phase);
            ParetoFront p = ParetoFront.of(table, m);
            writes.add(() -> {
                Path png = StudyCharts.write(dir, p, m);
                out().printf("%s%n", p.title());
                for (StudyTable.Row r : p.front()) {
                    out().printf("  %s: latency %s, energy %s%n", StudyCharts.describe(table, r),
                        dev.rafter.plot.Units.si(m.latency(r), "s"), dev.rafter.plot.Units.si(m.energy(r), "J"));
                }
                out().printf("wrote %s and .svg%n", png);
            });
        }
        OutputFolder.requireDirectory(dir, "--out");
        writes.forEach(Runnable::run);
        return Main.OK;
    }
}

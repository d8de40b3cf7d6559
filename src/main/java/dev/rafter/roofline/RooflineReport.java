package dev.rafter.roofline;

import dev.rafter.config.CsvWriter;
import dev.rafter.report.AtomicFile;
import dev.rafter.workload.Operator;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Phase;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** {@code rafter roofline}: streams operators, writes roofline.csv and roofline.png, prints a summary table. */
public final class RooflineReport {
    public static final String CSV_HEADER =
        "op_id,name,kind,phase,layer,step,flops,bytes,intensity,compute_s,memory_s,roofline_s,bound";

    private RooflineReport() {}

    /** {@code workload} names the operators in the chart's title (a model's name or a trace file's). */
    public static PhaseTotals run(Roofline roofline, OperatorSource source, String workload, Path outDir,
                                  PrintWriter table) {
        PhaseTotals totals = new PhaseTotals();
        RooflineChart chart = new RooflineChart(roofline.hardware(), workload);
        if (outDir == null) {
            source.forEach(op -> {
                Roofline.Bound b = roofline.of(op);
                totals.add(op, b);
            });
        } else {
            // With several memory tiers, a last column names the tier whose bytes bind the memory time.
            boolean tiers = roofline.hardware().memoryTiers().size() > 1;
            AtomicFile.write(outDir.resolve("roofline.csv"), w -> {
                w.write(CSV_HEADER + (tiers ? ",memory_tier" : ""));
                w.write('\n');
                source.forEach(op -> {
                    Roofline.Bound b = roofline.of(op);
                    totals.add(op, b);
                    chart.add(op, b);
                    writeRow(w, op, b, tiers);
                });
                requireOperators(totals);
            });
            chart.write(outDir.resolve("roofline.png"));
        }
        requireOperators(totals);
        printTable(roofline, totals, table);
        return totals;
    }

    private static void requireOperators(PhaseTotals totals) {
        if (totals.total().ops == 0) {
            throw new dev.rafter.config.InputException("no operators in the selected phase (check --phase)");
        }
    }

    private static void writeRow(Writer w, Operator op, Roofline.Bound b, boolean tiers) {
        try {
            w.write(op.id() + "," + CsvWriter.cell(op.name()) + "," + op.kind().key() + "," + op.phase().key() + ","
                + op.layer() + ","
                + op.step() + "," + num(b.flops()) + "," + num(b.bytes()) + "," + num(b.intensity()) + ","
                + num(b.computeS()) + "," + num(b.memoryS()) + "," + num(b.seconds()) + "," + b.bound()
                + (tiers ? "," + b.memoryTier() : "") + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Numbers in CSV: integers exactly, others with 6 significant digits. */
    public static String num(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return String.format(Locale.ROOT, "%.6g", v);
    }

    static void printTable(Roofline roofline, PhaseTotals totals, PrintWriter out) {
        out.printf("Roofline on %s: peak %.1f TFLOP/s (PE arrays), %.1f TFLOP/s (vector), memory %.0f GB/s,"
                + " ridge %.1f FLOP/B%n", roofline.hardware().name(), roofline.hardware().peakFlopsPerS() / 1e12,
            roofline.hardware().vectorFlopsPerS() / 1e12, roofline.hardware().memoryBytesPerS() / 1e9,
            roofline.hardware().ridgeFlopsPerByte());
        List<dev.rafter.hw.HardwareSpec.MemoryTier> tiers = roofline.hardware().memoryTiers();
        for (int t = 1; t < tiers.size(); t++) {
            out.printf("  memory tier %s: %.0f GB/s (each operand's bytes at its tier's bandwidth)%n",
                tiers.get(t).name(), tiers.get(t).memory().bytesPerSecond() / 1e9);
        }
        for (Map.Entry<Phase, PhaseTotals.Sum> e : totals.phases().entrySet()) {
            PhaseTotals.Sum p = e.getValue();
            out.printf("%n%s: %d ops, %.3e FLOP, %.3e B, roofline %s (compute %s, memory %s)%n", e.getKey().key(),
                p.ops, p.flops, p.bytes, time(p.rooflineS), time(p.computeS), time(p.memoryS));
            out.printf("  %-20s %9s %12s %12s %10s %12s %7s %s%n", "operator", "count", "GFLOP", "MB", "FLOP/B",
                "roofline", "share", "bound");
            List<Map.Entry<String, PhaseTotals.Sum>> rows = new ArrayList<>(totals.byName(e.getKey()).entrySet());
            rows.sort((a, b) -> Double.compare(b.getValue().rooflineS, a.getValue().rooflineS));
            for (Map.Entry<String, PhaseTotals.Sum> r : rows) {
                PhaseTotals.Sum s = r.getValue();
                String bound = s.computeBoundOps == s.ops ? "compute" : s.computeBoundOps == 0 ? "memory" : "mixed";
                out.printf("  %-20s %9d %12.1f %12.1f %10.1f %12s %6.1f%% %s%n", r.getKey(), s.ops, s.flops / 1e9,
                    s.bytes / 1e6, s.bytes == 0 ? 0 : s.flops / s.bytes, time(s.rooflineS),
                    100 * s.rooflineS / p.rooflineS, bound);
            }
        }
    }

    public static String time(double s) {
        if (s >= 1) {
            return String.format(Locale.ROOT, "%.3f s", s);
        }
        if (s >= 1e-3) {
            return String.format(Locale.ROOT, "%.3f ms", s * 1e3);
        }
        return String.format(Locale.ROOT, "%.3f us", s * 1e6);
    }
}

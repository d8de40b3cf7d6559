package dev.rafter.validation;

import dev.rafter.config.CsvReader;
import dev.rafter.config.InputException;
import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.plot.XyChart;
import dev.rafter.roofline.Roofline;
import dev.rafter.sim.Simulation;
import dev.rafter.sim.component.PeArray;
import dev.rafter.workload.Operator;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Phase;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Runs the checks in {@code validation/}: data files of cases with expected values from their sources, and this
 * code that simulates each case and compares.
 * <ul>
 *   <li>{@code single-array.csv}: one GEMM on one array of the given size and dataflow; the array's busy cycles
 *       must equal the SCALE-Sim closed form exactly, and the latency must not be below it.</li>
 *   <li>{@code roofline-shapes.csv}: GEMMs on the bundled devices; latency must be at least the roofline bound
 *       and at most {@code max_ratio} times it.</li>
 *   <li>{@code findings.yaml}: the published findings of the SRAM/frequency study on a grid of runs
 *       ({@link Findings}).</li>
 *   <li>{@code microbenchmarks.csv}: primitive microbenchmarks (memory streams, launch gap, L2 bandwidth, load
 *       latency, tiny all-reduce) on the bundled devices against their published values ({@link Microbenchmarks}).</li>
 *   <li>{@code fabric.csv}: collectives on the bundled systems' fabrics against their closed form
 *       ({@link FabricCases}).</li>
 *   <li>{@code power.csv}: board power on the bundled devices: energy per FLOP under TDP / peak, idle power drawn
 *       when idle ({@link Power}).</li>
 *   <li>{@code near-memory.csv}, {@code hbf.csv}, {@code stacked.csv}: the hardware outlook's memory-technology
 *       studies, each with a chart ({@link MemoryStudies}).</li>
 * </ul>
 */
public final class Validation {
    /**
     * One checked case; {@code knownGap}, when not null, says why a case that does not pass is a known
     * disagreement between the model and its source (reported, not counted as a failure).
     */
    public record Check(String suite, String name, double expected, double simulated, String comparison,
                        boolean passed, String knownGap) {
        public Check(String suite, String name, double expected, double simulated, String comparison,
                     boolean passed) {
            this(suite, name, expected, simulated, comparison, passed, null);
        }

        /** Failed, and not a known gap. */
        public boolean failed() {
            return !passed && knownGap == null;
        }
    }

    /** A chart a run of the checks draws, and the file name it goes to in {@code validate --out}. */
    public record Chart(String file, XyChart chart) {}

    /** The files of every chart a run may draw ({@link #charts}). */
    public static final List<String> CHART_FILES = List.of("near-memory.png", "hbf.png", "stacked.png");

    private final Path dir;
    private List<Chart> charts = List.of();

    public Validation(Path dir) {
        this.dir = dir;
    }

    public List<Check> run() {
        List<Check> out = new ArrayList<>();
        try {
            singleArray(out);
            rooflineShapes(out);
            new Findings(dir).run(out);
            new Microbenchmarks(dir).run(out);
            new FabricCases(dir).run(out);
            new SystemCases(dir).run(out);
            new Power(dir).run(out);
            MemoryStudies memory = new MemoryStudies(dir);
            memory.run(out);
            charts = memory.charts();
        } catch (NumberFormatException | IndexOutOfBoundsException e) {
            // The suites parse their cells where they use them; a cell that is not what its column holds (a word
            // for a number, a list without its separator) is the table's, on the row being checked.
            String at = ROW.get();
            if (at == null) {
                throw e;
            }
            throw InputException.located(at + ": " + (e instanceof NumberFormatException n
                ? "expected a number, got " + quoted(n.getMessage())
                : "a cell lacks a part its column needs (" + e.getMessage() + ")")
                + "; see the table's header for what each column holds");
        } finally {
            ROW.remove();
        }
        return out;
    }

    /** The row of a case table being checked, as "file:line", while its suite runs it (null between tables). */
    private static final ThreadLocal<String> ROW = new ThreadLocal<>();

    /** The text a NumberFormatException names ('abc' of: For input string: "abc"). */
    private static String quoted(String message) {
        if (message == null) {
            return "an empty cell";
        }
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("[\"'](.*)[\"']").matcher(message);
        return "'" + (m.find() ? m.group(1) : message) + "'";
    }

    /** The charts of the last {@link #run}, each named in {@link #CHART_FILES}. */
    public List<Chart> charts() {
        return charts;
    }

    private void singleArray(List<Check> out) {
        Path hwFile = dir.resolve("hardware/single-array.yaml");
        for (String[] row : rows(dir.resolve("single-array.csv"), 9)) {
            HardwareSpec hw = HardwareLoader.load(hwFile, List.of("core.pe_array.dataflow=" + row[1],
                "core.pe_array.rows=" + row[2], "core.pe_array.cols=" + row[3]));
            Operator op = Operator.gemm(0, row[0], Phase.PREFILL, 0, 0, 1, Long.parseLong(row[4]),
                Long.parseLong(row[5]), Long.parseLong(row[6]), DataType.FP16);
            long expected = Long.parseLong(row[7]);
            Simulation.OpResult r = simulate(hw, op);
            long busy = r.sums().get(PeArray.KIND, "busy_ps") / 1000; // 1000 MHz: 1000 ps per cycle exactly
            long latency = (r.endPs() - r.startPs()) / 1000;
            out.add(new Check("single-array", row[0], expected, busy, "busy cycles == closed form",
                busy == expected && latency >= expected));
        }
    }

    private void rooflineShapes(List<Check> out) {
        for (String[] row : rows(dir.resolve("roofline-shapes.csv"), 8)) {
            Path hwFile = dir.resolveSibling("models").resolve("hardware").resolve(row[1] + ".yaml");
            HardwareSpec hw = HardwareLoader.load(hwFile, List.of());
            Operator op = Operator.gemm(0, row[0], Phase.PREFILL, 0, 0, Long.parseLong(row[2]),
                Long.parseLong(row[3]), Long.parseLong(row[4]), Long.parseLong(row[5]), DataType.FP16);
            double bound = new Roofline(hw).of(op).seconds();
            double maxRatio = dev.rafter.config.Numbers.parseDouble(row[6]);
            Simulation.OpResult r = simulate(hw, op);
            double ratio = r.latencyS() / bound;
            out.add(new Check("roofline", row[0] + "@" + row[1], bound, r.latencyS(),
                String.format(Locale.ROOT,
                    "1 <= latency/roofline = %.3f <= %s", ratio, row[6]), ratio >= 1 && ratio <= maxRatio));
        }
    }

    private static Simulation.OpResult simulate(HardwareSpec hw, Operator op) {
        Simulation.OpResult[] result = new Simulation.OpResult[1];
        new Simulation(hw).run(OperatorSource.of(op), null, r -> result[0] = r);
        return result[0];
    }

    /** A case table's rows; while one is being checked, {@link #run} knows its file and line. */
    static Iterable<String[]> rows(Path file, int columns) {
        List<String[]> cells = new ArrayList<>();
        List<Long> lines = new ArrayList<>();
        for (CsvReader.Row row : read(file, columns)) {
            cells.add(row.cells());
            lines.add(row.line());
        }
        return () -> new java.util.Iterator<>() {
            private int next;

            @Override
            public boolean hasNext() {
                if (next < cells.size()) {
                    return true;
                }
                ROW.remove();
                return false;
            }

            @Override
            public String[] next() {
                if (!hasNext()) {
                    throw new java.util.NoSuchElementException();
                }
                ROW.set(file + ":" + lines.get(next));
                return cells.get(next++);
            }
        };
    }

    private static List<CsvReader.Row> read(Path file, int columns) {
        List<CsvReader.Row> out = new ArrayList<>();
        try (java.io.BufferedReader r = dev.rafter.config.InputFiles.newReader(file, 1L << 26)) {
            CsvReader csv = new CsvReader(r, file.toString(), 1 << 20, "a validation case table");
            if (csv.next() == null) {
                return out; // no header, no cases
            }
            for (CsvReader.Row row = csv.next(); row != null; row = csv.next()) {
                if (row.cells().length != columns) {
                    throw new InputException(file + ":" + row.line() + ": expected " + columns + " columns");
                }
                out.add(row);
            }
        } catch (NoSuchFileException e) {
            throw new InputException(file + ": file not found");
        } catch (IOException e) {
            throw new InputException(file + ": cannot read (" + e.getMessage() + ")");
        } catch (java.io.UncheckedIOException e) {
            throw new InputException(file + ": cannot read (" + e.getCause().getMessage() + ")");
        }
        return out;
    }
}

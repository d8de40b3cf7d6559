package dev.rafter.serving;

import dev.rafter.config.CsvWriter;
import dev.rafter.plot.StudyCharts;
import dev.rafter.plot.XyChart;
import dev.rafter.report.AtomicFile;
import java.io.IOException;
import java.io.Writer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The metrics of a serving run: per request time to first token (arrival to the end of the step that yields it),
 * time per output token (first token to last, over the output tokens after the first; none for a one-token
 * output), end-to-end latency and queueing time (arrival to the start of its first step); their mean, p50, p90 and
 * p99 (nearest rank); throughput; goodput (requests per second that meet both latency targets); the KV cache, batch
 * size and preemptions over time; and two checks on every run: conservation (every request that arrived finished
 * or is counted unfinished) and Little's law (mean requests in the system = arrival rate x mean time in it, over
 * the window from 0 to the last departure, within {@link #LITTLE_TOLERANCE}).
 */
public final class ServingReport {
    /** Relative tolerance of Little's law: the two sides are sums of the same picosecond times in another order. */
    public static final double LITTLE_TOLERANCE = 1e-9;
    private static final double PS = 1e-12;

    /** Latency targets in seconds for goodput. */
    public record Slo(double ttftS, double tpotS) {}

    private ServingReport() {}

    /** The serving.json content (all but the run's description, which the caller adds first). */
    public static Map<String, Object> summary(ServingEngine.Result result, Slo slo, long kvBlocks) {
        List<ServingEngine.Outcome> done = result.outcomes().stream().filter(ServingEngine.Outcome::finished).toList();
        long arrived = result.outcomes().size();
        long unfinished = arrived - done.size();
        if (done.isEmpty()) {
            throw new dev.rafter.config.InputException("no request arrived (check --requests, --duration or the"
                + " request file)");
        }
        long firstArrival = done.stream().mapToLong(o -> o.request().arrivalPs()).min().orElse(0);
        long lastFinish = done.stream().mapToLong(ServingEngine.Outcome::finishPs).max().orElse(0);
        double spanS = (lastFinish - firstArrival) * PS;
        long outputTokens = 0;
        long promptTokens = 0;
        long good = 0;
        List<Double> ttft = new ArrayList<>();
        List<Double> tpot = new ArrayList<>();
        List<Double> e2e = new ArrayList<>();
        List<Double> queue = new ArrayList<>();
        for (ServingEngine.Outcome o : done) {
            outputTokens += o.request().outputTokens();
            promptTokens += o.request().promptTokens();
            double t = ttftS(o);
            Double p = tpotS(o);
            ttft.add(t);
            if (p != null) {
                tpot.add(p);
            }
            e2e.add((o.finishPs() - o.request().arrivalPs()) * PS);
            queue.add(queueS(o));
            if (t <= slo.ttftS() && (p == null || p <= slo.tpotS())) {
                good++;
            }
        }
        Map<String, Object> s = new LinkedHashMap<>();
        Map<String, Object> requests = new LinkedHashMap<>();
        requests.put("arrived", arrived);
        requests.put("finished", (long) done.size());
        requests.put("unfinished", unfinished);
        s.put("requests", requests);
        s.put("span_s", spanS);
        Map<String, Object> throughput = new LinkedHashMap<>();
        throughput.put("requests_per_s", done.size() / spanS);
        throughput.put("output_tokens_per_s", outputTokens / spanS);
        throughput.put("total_tokens_per_s", (outputTokens + promptTokens) / spanS);
        s.put("throughput", throughput);
        s.put("ttft_s", stats(ttft));
        s.put("tpot_s", stats(tpot));
        s.put("e2e_s", stats(e2e));
        s.put("queue_s", stats(queue));
        Map<String, Object> goodput = new LinkedHashMap<>();
        goodput.put("slo_ttft_s", slo.ttftS());
        goodput.put("slo_tpot_s", slo.tpotS());
        goodput.put("requests_meeting_slo", good);
        goodput.put("fraction", (double) good / done.size());
        goodput.put("requests_per_s", good / spanS);
        s.put("goodput", goodput);
        ServingEngine.Steps steps = result.steps();
        StepTotals t = StepTotals.of(steps);
        Map<String, Object> st = new LinkedHashMap<>();
        st.put("count", (long) steps.count());
        st.put("busy_s", t.busyS());
        st.put("mean_batch", t.batchTime() / t.busyS());
        st.put("peak_batch", t.peakBatch());
        s.put("steps", st);
        Map<String, Object> kv = new LinkedHashMap<>();
        kv.put("blocks", kvBlocks);
        kv.put("peak_occupancy", (double) t.peakKv() / kvBlocks);
        kv.put("mean_occupancy_while_busy", t.kvTime() / t.busyS() / kvBlocks);
        s.put("kv_cache", kv);
        s.put("preemptions", result.preemptions());
        s.put("littles_law", little(done, lastFinish));
        return s;
    }

    /**
     * serving.json's {@code energy} block, over the serving span {@code spanS} (first arrival to last finish, as
     * throughput and cost count it): every device's static power ({@code staticW}, all {@code devices} of the run,
     * busy or idle) over the span, plus the dynamic energy of every step's operators ({@link ServingEngine.Steps}),
     * plus {@code transferJ} (what KV-cache transfers spent on a system's fabric; 0 elsewhere); average power,
     * the highest power of a device over a step (a group of {@code groupDevices} shares its step's dynamic energy
     * alike) against the board's power cap {@code capW} (NaN: none; flagged, not throttled),
     * energy per output token of the finished requests, and each finished request's share of its steps'
     * energy ({@link ServingEngine.Outcome#energyJ}).
     */
    public static Map<String, Object> energy(ServingEngine.Result result, double spanS, double staticW, long devices,
                                             double transferJ, int groupDevices, double capW) {
        ServingEngine.Steps steps = result.steps();
        double dynamicJ = steps.dynamicJ.sum();
        // A device's power over a step: its static power and its share of the step's dynamic energy over the step.
        double peakW = 0;
        for (int i = 0; i < steps.count(); i++) {
            double stepS = (steps.endPs.get(i) - steps.startPs.get(i)) * PS;
            peakW = Math.max(peakW, steps.dynamicJ.get(i) / groupDevices / stepS);
        }
        peakW += staticW / devices;
        double staticJ = staticW * spanS;
        double total = staticJ + dynamicJ + transferJ;
        long outputTokens = 0;
        List<Double> perRequest = new ArrayList<>();
        for (ServingEngine.Outcome o : result.outcomes()) {
            if (o.finished()) {
                outputTokens += o.request().outputTokens();
                perRequest.add(o.energyJ());
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("joules", total);
        m.put("static_j", staticJ);
        m.put("dynamic_j", dynamicJ);
        if (transferJ > 0) {
            m.put("kv_transfer_j", transferJ);
        }
        m.put("devices", devices);
        m.put("static_w", staticW);
        m.put("average_power_w", total / spanS);
        m.put("average_power_per_device_w", total / spanS / devices);
        m.put("peak_step_power_per_device_w", peakW);
        if (!Double.isNaN(capW)) {
            m.put("cap_w", capW);
            m.put("above_cap", peakW > capW);
        }
        m.put("energy_per_output_token_j", total / outputTokens);
        m.put("per_request_j", stats(perRequest));
        m.put("basis", "static power of every device over the serving span, busy or idle, plus each step's operators'"
            + " dynamic energy as simulate charges them; a request's share: its tokens' part of each of its steps");
        return m;
    }

    /**
     * One replica's share of a run of {@code spanS} seconds (first arrival to last departure over all replicas):
     * requests sent to it and finished, steps, mean batch and KV-cache occupancy while busy (time-weighted over its
     * steps), peak occupancy, busy share of the span, preemptions.
     */
    public static Map<String, Object> replicaSummary(int index, ServingEngine.Result result, long kvBlocks,
                                                     double spanS) {
        ServingEngine.Steps steps = result.steps();
        StepTotals t = StepTotals.of(steps);
        double busyS = t.busyS();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("replica", (long) index);
        m.put("requests", (long) result.outcomes().size());
        m.put("finished", result.outcomes().stream().filter(ServingEngine.Outcome::finished).count());
        m.put("steps", (long) steps.count());
        m.put("busy_s", busyS);
        m.put("busy_share", busyS / spanS);
        m.put("mean_batch", busyS == 0 ? 0.0 : t.batchTime() / busyS);
        m.put("kv_mean_occupancy_while_busy", busyS == 0 ? 0.0 : t.kvTime() / busyS / kvBlocks);
        m.put("kv_peak_occupancy", (double) t.peakKv() / kvBlocks);
        m.put("preemptions", result.preemptions());
        if (result.prefixCache() != null) {
            m.put("prefix_cache", result.prefixCache());
        }
        if (result.speculative() != null) {
            m.put("speculative", result.speculative());
        }
        return m;
    }

    /** A run's steps summed over time: busy seconds, batch and KV blocks weighted by step time, and their peaks. */
    private record StepTotals(double busyS, double batchTime, double kvTime, long peakKv, long peakBatch) {
        static StepTotals of(ServingEngine.Steps steps) {
            double busyS = 0;
            double batchTime = 0;
            double kvTime = 0;
            long peakKv = 0;
            long peakBatch = 0;
            for (int i = 0; i < steps.count(); i++) {
                double d = (steps.endPs.get(i) - steps.startPs.get(i)) * PS;
                busyS += d;
                batchTime += d * steps.sequences.get(i);
                kvTime += d * steps.kvBlocks.get(i);
                peakKv = Math.max(peakKv, steps.kvBlocks.get(i));
                peakBatch = Math.max(peakBatch, steps.sequences.get(i));
            }
            return new StepTotals(busyS, batchTime, kvTime, peakKv, peakBatch);
        }
    }

    /**
     * Little's law over [0, last departure]: the time-average of the requests in the system (from the arrival and
     * departure events, in time order) against the arrival rate times the mean time in the system.
     */
    static Map<String, Object> little(List<ServingEngine.Outcome> done, long endPs) {
        long[] arrivals = done.stream().mapToLong(o -> o.request().arrivalPs()).sorted().toArray();
        long[] departures = done.stream().mapToLong(ServingEngine.Outcome::finishPs).sorted().toArray();
        double area = 0;
        long inSystem = 0;
        long last = 0;
        int a = 0;
        int d = 0;
        while (d < departures.length) {
            boolean arrival = a < arrivals.length && arrivals[a] <= departures[d];
            long t = arrival ? arrivals[a] : departures[d];
            area += (double) inSystem * (t - last);
            last = t;
            if (arrival) {
                inSystem++;
                a++;
            } else {
                inSystem--;
                d++;
            }
        }
        double window = endPs;
        double meanInSystem = area / window;
        double rate = done.size() / (window * PS);
        double meanTime = 0;
        for (ServingEngine.Outcome o : done) {
            meanTime += (o.finishPs() - o.request().arrivalPs()) * PS;
        }
        meanTime /= done.size();
        double error = Math.abs(meanInSystem - rate * meanTime) / Math.max(meanInSystem, Double.MIN_VALUE);
        if (!(error <= LITTLE_TOLERANCE)) {
            throw new IllegalStateException("Little's law does not hold: " + meanInSystem + " requests in the system"
                + " on average, arrival rate x mean time in system = " + rate * meanTime);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("mean_in_system", meanInSystem);
        m.put("arrival_rate_per_s", rate);
        m.put("mean_time_in_system_s", meanTime);
        m.put("relative_error", error);
        m.put("tolerance", LITTLE_TOLERANCE);
        return m;
    }

    static double ttftS(ServingEngine.Outcome o) {
        return (o.firstTokenPs() - o.request().arrivalPs()) * PS;
    }

    /** Null for a one-token output (no token after the first). */
    static Double tpotS(ServingEngine.Outcome o) {
        int after = o.request().outputTokens() - 1;
        return after == 0 ? null : (o.finishPs() - o.firstTokenPs()) * PS / after;
    }

    static double queueS(ServingEngine.Outcome o) {
        return (o.firstScheduledPs() - o.request().arrivalPs()) * PS;
    }

    /** Count, mean, p50, p90, p99 and max (nearest rank) of {@code values}, as serving.json gives its latencies. */
    public static Map<String, Object> distribution(List<Double> values) {
        return stats(values);
    }

    private static Map<String, Object> stats(List<Double> values) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("count", (long) values.size());
        if (values.isEmpty()) {
            return m;
        }
        double[] v = values.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(v);
        double sum = 0;
        for (double x : v) {
            sum += x;
        }
        m.put("mean", sum / v.length);
        m.put("p50", percentile(v, 0.50));
        m.put("p90", percentile(v, 0.90));
        m.put("p99", percentile(v, 0.99));
        m.put("max", v[v.length - 1]);
        return m;
    }

    /** Nearest rank of sorted values. */
    static double percentile(double[] sorted, double p) {
        int rank = (int) Math.ceil(p * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    /** requests.csv: one row per request that arrived, in id order; empty cells where it did not get that far. */
    public static void writeRequests(Writer w, ServingEngine.Result result) throws IOException {
        writeRequests(w, result, null);
    }

    /** requests.csv, with a last column {@code replica}: the replica each request was sent to (null: none). */
    public static void writeRequests(Writer w, ServingEngine.Result result, int[] replicaOf) throws IOException {
        Object[] replica = null;
        if (replicaOf != null) {
            replica = new Object[replicaOf.length];
            for (int i = 0; i < replicaOf.length; i++) {
                replica[i] = replicaOf[i];
            }
        }
        writeRequests(w, result, replicaOf == null ? new String[0] : new String[] {"replica"},
            replicaOf == null ? new Object[0][] : new Object[][] {replica});
    }

    /**
     * requests.csv with more columns after {@code finished}: {@code columns[c]} headed {@code names[c]}, one cell
     * per outcome (where the replicas were, with replicas or disaggregation).
     */
    public static void writeRequests(Writer w, ServingEngine.Result result, String[] names, Object[][] columns)
        throws IOException {
        w.write("id,arrival_s,prompt_tokens,output_tokens,priority,queue_s,ttft_s,tpot_s,e2e_s,preemptions,"
            + "finished" + (names.length == 0 ? "" : "," + String.join(",", names)) + "\n");
        StringBuilder row = new StringBuilder();
        List<ServingEngine.Outcome> outcomes = result.outcomes();
        for (int i = 0; i < outcomes.size(); i++) {
            ServingEngine.Outcome o = outcomes.get(i);
            row.setLength(0);
            Request r = o.request();
            row.append(r.id()).append(',').append(r.arrivalPs() * PS).append(',').append(r.promptTokens())
                .append(',').append(r.outputTokens()).append(',').append(r.priority()).append(',');
            row.append(o.firstScheduledPs() < 0 ? "" : queueS(o)).append(',');
            row.append(o.firstTokenPs() < 0 ? "" : ttftS(o)).append(',');
            Double tpot = o.finished() ? tpotS(o) : null;
            row.append(tpot == null ? "" : tpot).append(',');
            row.append(o.finished() ? (o.finishPs() - r.arrivalPs()) * PS : "").append(',');
            row.append(o.preemptions()).append(',').append(o.finished());
            for (Object[] column : columns) {
                row.append(',').append(column[i]);
            }
            row.append('\n');
            w.write(row.toString());
        }
    }

    /** occupancy.png: KV-cache occupancy and batch size (share of the sequence limit) over time, per step. */
    public static void writeOccupancyChart(Path png, ServingEngine.Result result, long kvBlocks, int maxSequences,
                                           String title) {
        ServingEngine.Steps steps = result.steps();
        int stride = Math.max(1, steps.count() / 4000); // enough points for the eye, not a point per step
        List<double[]> kv = new ArrayList<>();
        List<double[]> batch = new ArrayList<>();
        for (int i = 0; i < steps.count(); i += stride) {
            double t = steps.startPs.get(i) * PS;
            kv.add(new double[] {t, (double) steps.kvBlocks.get(i) / kvBlocks});
            batch.add(new double[] {t, (double) steps.sequences.get(i) / maxSequences});
        }
        XyChart chart = new XyChart(1000, 520, title, new XyChart.AxisSpec("time", "s", true, false),
            new XyChart.AxisSpec("share", "", false, false))
            .subtitle("KV cache blocks held, and sequences per step over the limit of " + maxSequences);
        chart.add(new XyChart.Series("KV cache occupancy", XyChart.PALETTE[0], XyChart.Style.LINE, 1.2f, false, kv));
        chart.add(new XyChart.Series("batch / max sequences", XyChart.PALETTE[1], XyChart.Style.LINE, 1.2f, false,
            batch));
        write(png, chart);
    }

    /** occupancy.png with replicas: each replica's KV-cache occupancy over time, per step. */
    public static void writeReplicaOccupancyChart(Path png, List<ServingEngine.Result> replicas, long kvBlocks,
                                                  String title) {
        XyChart chart = new XyChart(1000, 520, title, new XyChart.AxisSpec("time", "s", true, false),
            new XyChart.AxisSpec("share", "", false, false))
            .subtitle("KV cache blocks held per replica, of " + kvBlocks + " each");
        for (int k = 0; k < replicas.size(); k++) {
            ServingEngine.Steps steps = replicas.get(k).steps();
            int stride = Math.max(1, steps.count() * replicas.size() / 4000);
            List<double[]> kv = new ArrayList<>();
            for (int i = 0; i < steps.count(); i += stride) {
                kv.add(new double[] {steps.startPs.get(i) * PS, (double) steps.kvBlocks.get(i) / kvBlocks});
            }
            chart.add(new XyChart.Series("replica " + k, XyChart.PALETTE[k % XyChart.PALETTE.length],
                XyChart.Style.LINE, 1.2f, false, kv));
        }
        write(png, chart);
    }

    /** latency.png: each finished request's TTFT and end-to-end latency against its arrival time. */
    public static void writeLatencyChart(Path png, ServingEngine.Result result, String title) {
        List<ServingEngine.Outcome> done = result.outcomes().stream().filter(ServingEngine.Outcome::finished).toList();
        int stride = Math.max(1, done.size() / 4000);
        List<double[]> ttft = new ArrayList<>();
        List<double[]> e2e = new ArrayList<>();
        for (int i = 0; i < done.size(); i += stride) {
            ServingEngine.Outcome o = done.get(i);
            double t = o.request().arrivalPs() * PS;
            ttft.add(new double[] {t, ttftS(o)});
            e2e.add(new double[] {t, (o.finishPs() - o.request().arrivalPs()) * PS});
        }
        XyChart chart = new XyChart(1000, 520, title, new XyChart.AxisSpec("arrival time", "s", true, false),
            new XyChart.AxisSpec("latency", "s", true, false));
        chart.add(new XyChart.Series("end to end", XyChart.PALETTE[0], XyChart.Style.MARKERS, 1, false, e2e));
        chart.add(new XyChart.Series("time to first token", XyChart.PALETTE[1], XyChart.Style.MARKERS, 1, false,
            ttft));
        write(png, chart);
    }

    /** knee.csv: one row per offered rate (the points of a sweep over --arrivals, each a serving summary). */
    public static void writeKnee(Writer w, List<Map<String, Object>> points) throws IOException {
        writeKnee(w, points, null);
    }

    /** knee.csv of a knee swept over {@code key} (serve --vary): each row begins with the point's value of it. */
    public static void writeKnee(Writer w, List<Map<String, Object>> points, String key) throws IOException {
        w.write((key == null ? "" : CsvWriter.cell(key) + ",") + "rate_per_s,requests,ttft_p50_s,ttft_p99_s,"
            + "tpot_p50_s,tpot_p99_s,e2e_p50_s,e2e_p99_s,requests_per_s,output_tokens_per_s,goodput_requests_per_s,"
            + "goodput_fraction,mean_batch,preemptions\n");
        for (Map<String, Object> p : points) {
            Map<?, ?> requests = (Map<?, ?>) p.get("requests");
            Map<?, ?> throughput = (Map<?, ?>) p.get("throughput");
            Map<?, ?> goodput = (Map<?, ?>) p.get("goodput");
            List<Object> row = List.of(p.get("rate_per_s"), requests.get("finished"), cell(p, "ttft_s", "p50"),
                cell(p, "ttft_s", "p99"), cell(p, "tpot_s", "p50"), cell(p, "tpot_s", "p99"), cell(p, "e2e_s", "p50"),
                cell(p, "e2e_s", "p99"), throughput.get("requests_per_s"), throughput.get("output_tokens_per_s"),
                goodput == null ? "" : goodput.get("requests_per_s"), goodput == null ? "" : goodput.get("fraction"),
                ((Map<?, ?>) p.get("steps")).get("mean_batch"), p.get("preemptions"));
            StringBuilder line = new StringBuilder(key == null ? "" : CsvWriter.cell(String.valueOf(p.get(key))) + ",");
            for (int i = 0; i < row.size(); i++) {
                line.append(i == 0 ? "" : ",").append(row.get(i));
            }
            w.write(line.append('\n').toString());
        }
    }

    private static Object cell(Map<String, Object> point, String metric, String which) {
        Object v = ((Map<?, ?>) point.get(metric)).get(which);
        return v == null ? "" : v;
    }

    /** knee.png: TTFT and TPOT, p50 (solid) and p99 (dashed), against the offered rate. */
    public static void writeKneeChart(Path png, List<Map<String, Object>> points, String title) {
        XyChart chart = new XyChart(1000, 520, title, new XyChart.AxisSpec("offered load", "requests/s", false,
            false), new XyChart.AxisSpec("latency", "s", true, true))
            .subtitle("latency against load: p50 solid, p99 dashed");
        String[][] lines = {{"ttft_s", "p50", "TTFT p50"}, {"ttft_s", "p99", "TTFT p99"}, {"tpot_s", "p50",
            "TPOT p50"}, {"tpot_s", "p99", "TPOT p99"}};
        for (int i = 0; i < lines.length; i++) {
            List<double[]> xy = new ArrayList<>();
            for (Map<String, Object> p : points) {
                Object v = ((Map<?, ?>) p.get(lines[i][0])).get(lines[i][1]);
                if (v != null) {
                    xy.add(new double[] {(double) p.get("rate_per_s"), (double) v});
                }
            }
            chart.add(new XyChart.Series(lines[i][2], XyChart.PALETTE[i / 2], XyChart.Style.LINE_AND_MARKERS, 1.5f,
                i % 2 == 1, xy));
        }
        write(png, chart);
    }

    /**
     * knee.png of a knee swept over a key (serve --vary): TTFT p99 (solid) and TPOT p99 (dashed) against the offered
     * rate, a colour per value ({@code byValue}: each value, as the legend labels it, in order; the title names the key).
     */
    public static void writeKneeChart(Path png, Map<String, List<Map<String, Object>>> byValue, String title) {
        XyChart chart = new XyChart(1000, 520, title, new XyChart.AxisSpec("offered load", "requests/s", false,
            false), new XyChart.AxisSpec("latency", "s", true, true))
            .subtitle("p99 latency against load, a colour per value: TTFT solid, TPOT dashed");
        int colour = 0;
        for (Map.Entry<String, List<Map<String, Object>>> e : byValue.entrySet()) {
            for (String[] line : new String[][] {{"ttft_s", "TTFT"}, {"tpot_s", "TPOT"}}) {
                List<double[]> xy = new ArrayList<>();
                for (Map<String, Object> p : e.getValue()) {
                    Object v = ((Map<?, ?>) p.get(line[0])).get("p99");
                    if (v != null) {
                        xy.add(new double[] {(double) p.get("rate_per_s"), (double) v});
                    }
                }
                chart.add(new XyChart.Series(line[1] + " p99, " + e.getKey(), XyChart.PALETTE[colour],
                    XyChart.Style.LINE_AND_MARKERS, 1.5f, line[1].equals("TPOT"), xy));
            }
            colour++;
        }
        write(png, chart);
    }

    /** goodput.png of a knee swept over a key: throughput (solid) and goodput (dashed) per value. */
    public static void writeGoodputChart(Path png, Map<String, List<Map<String, Object>>> byValue, String title) {
        XyChart chart = new XyChart(1000, 520, title, new XyChart.AxisSpec("offered load", "requests/s", false,
            false), new XyChart.AxisSpec("requests/s", "", false, false))
            .subtitle("throughput (solid), and goodput (dashed) where --slo gives targets, a colour per value");
        int colour = 0;
        for (Map.Entry<String, List<Map<String, Object>>> e : byValue.entrySet()) {
            List<double[]> served = new ArrayList<>();
            List<double[]> good = new ArrayList<>();
            for (Map<String, Object> p : e.getValue()) {
                double rate = (double) p.get("rate_per_s");
                served.add(new double[] {rate, (double) ((Map<?, ?>) p.get("throughput")).get("requests_per_s")});
                if (p.get("goodput") instanceof Map<?, ?> g) {
                    good.add(new double[] {rate, (double) g.get("requests_per_s")});
                }
            }
            chart.add(new XyChart.Series("throughput, " + e.getKey(), XyChart.PALETTE[colour],
                XyChart.Style.LINE_AND_MARKERS, 1.5f, false, served));
            if (!good.isEmpty()) {
                chart.add(new XyChart.Series("goodput, " + e.getKey(), XyChart.PALETTE[colour],
                    XyChart.Style.LINE_AND_MARKERS, 1.5f, true, good));
            }
            colour++;
        }
        write(png, chart);
    }

    /** goodput.png: served and good (within --slo) requests per second against the offered rate. */
    public static void writeGoodputChart(Path png, List<Map<String, Object>> points, String title) {
        XyChart chart = new XyChart(1000, 520, title, new XyChart.AxisSpec("offered load", "requests/s", false,
            false), new XyChart.AxisSpec("requests/s", "", false, false))
            .subtitle("throughput, and goodput (requests meeting --slo) where targets are given");
        List<double[]> served = new ArrayList<>();
        List<double[]> good = new ArrayList<>();
        for (Map<String, Object> p : points) {
            double rate = (double) p.get("rate_per_s");
            served.add(new double[] {rate, (double) ((Map<?, ?>) p.get("throughput")).get("requests_per_s")});
            if (p.get("goodput") instanceof Map<?, ?> g) {
                good.add(new double[] {rate, (double) g.get("requests_per_s")});
            }
        }
        chart.add(new XyChart.Series("throughput", XyChart.PALETTE[0], XyChart.Style.LINE_AND_MARKERS, 1.5f, false,
            served));
        if (!good.isEmpty()) {
            chart.add(new XyChart.Series("goodput", XyChart.PALETTE[1], XyChart.Style.LINE_AND_MARKERS, 1.5f, false,
                good));
        }
        write(png, chart);
    }

    private static void write(Path png, XyChart chart) {
        byte[] image = StudyCharts.png(chart.width(), chart.height(), chart::draw);
        AtomicFile.writeBytes(png, image);
    }
}

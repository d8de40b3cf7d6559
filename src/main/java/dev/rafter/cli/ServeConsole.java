package dev.rafter.cli;

import dev.rafter.roofline.RooflineReport;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** What {@code rafter serve} prints: a run's summary from serving.json's figures, and a knee's table. */
final class ServeConsole {
    private final PrintWriter console;

    ServeConsole(PrintWriter console) {
        this.console = console;
    }

    @SuppressWarnings("unchecked")
    void summary(Map<String, Object> s, double wallS, boolean draftModel, String router, String costSource,
                 Path folder) {
        Map<String, Object> req = (Map<String, Object>) s.get("requests");
        Map<String, Object> ttft = (Map<String, Object>) s.get("ttft_s");
        Map<String, Object> tpot = (Map<String, Object>) s.get("tpot_s");
        Map<String, Object> thr = (Map<String, Object>) s.get("throughput");
        Map<String, Object> kv = (Map<String, Object>) s.get("kv_cache");
        Map<String, Object> steps = (Map<String, Object>) s.get("steps");
        Map<String, Object> memo = (Map<String, Object>) s.get("step_memo");
        console.printf("%s requests served on %s (%s unfinished) in %s simulated%n", req.get("finished"),
            s.get("hardware"), req.get("unfinished"), RooflineReport.time((double) s.get("span_s")));
        console.printf("TTFT p50 %s, p99 %s; TPOT %s%n", RooflineReport.time((double) ttft.get("p50")),
            RooflineReport.time((double) ttft.get("p99")), tpot.containsKey("p50")
                ? "p50 " + RooflineReport.time((double) tpot.get("p50")) + ", p99 "
                + RooflineReport.time((double) tpot.get("p99")) : "none (one-token outputs)");
        console.printf(Locale.ROOT, "throughput %.4g output tokens/s (%.4g requests/s)%n",
            thr.get("output_tokens_per_s"), thr.get("requests_per_s"));
        if (s.get("goodput") instanceof Map<?, ?> g) {
            console.printf(Locale.ROOT, "goodput %.4g requests/s (%.1f%% meet TTFT <= %s and TPOT <= %s)%n",
                g.get("requests_per_s"), 100 * (double) g.get("fraction"), RooflineReport.time((double)
                g.get("slo_ttft_s")), RooflineReport.time((double) g.get("slo_tpot_s")));
        }
        if (s.get("speculative") instanceof Map<?, ?> sp) {
            console.printf(Locale.ROOT, "speculative decoding: %s draft tokens (%s), %.1f%% accepted, %.3f tokens per "
                + "verification%n", sp.get("draft_tokens"), !draftModel ? "no draft model" : "draft "
                + sp.get("draft"), 100 * (double) sp.get("acceptance"), sp.get("tokens_per_verification"));
        }
        if (s.get("prefix_cache") instanceof Map<?, ?> p) {
            console.printf(Locale.ROOT, "prefix cache: %.1f%% of prompt tokens hit (%s of %s), %s evictions%n",
                100 * (double) p.get("hit_rate"), p.get("hit_tokens"), p.get("queried_tokens"), p.get("evictions"));
        }
        console.printf(Locale.ROOT, "%s steps, mean batch %.1f, KV cache peak %.1f%% of %s blocks, %s preemptions%n",
            steps.get("count"), steps.get("mean_batch"), 100 * (double) kv.get("peak_occupancy"), kv.get("blocks"),
            s.get("preemptions"));
        if (s.get("host") instanceof Map<?, ?> h) {
            console.printf("host (%s, %s): %s per step%s%n", h.get("framework"), h.get("costs"),
                RooflineReport.time((double) h.get("per_step_s")), h.containsKey("scheduling_and_sampling")
                    ? " (synchronisation and graph replay; scheduling and sampling not measured, counted 0)"
                    : " + " + RooflineReport.time((double) h.get("per_sequence_in_step_s")) + " per sequence");
        }
        if (s.get("system") instanceof Map<?, ?> sys) {
            console.printf("system %s: %s device group(s) of %s (tensor parallel), %s of its %s devices%n",
                sys.get("name"), sys.get("groups"), sys.get("tensor_parallel"), sys.get("devices"),
                sys.get("devices_in_system"));
        }
        if (s.get("swap") instanceof Map<?, ?> sw) {
            console.printf(Locale.ROOT, "swap: %s KV blocks to host memory and %s back over %.4g GB/s%n",
                sw.get("swapped_out_blocks"), sw.get("swapped_in_blocks"), sw.get("link_bandwidth_gb_per_s"));
        }
        if (s.get("replicas") instanceof Map<?, ?> pool) {
            long queried = 0;
            long hit = 0;
            for (Object o : (List<?>) pool.get("per_replica")) {
                printReplica("replica", (Map<?, ?>) o, (String) pool.get("router"));
                if (((Map<?, ?>) o).get("prefix_cache") instanceof Map<?, ?> p) {
                    queried += (long) p.get("queried_tokens");
                    hit += (long) p.get("hit_tokens");
                }
            }
            if (queried > 0) {
                console.printf(Locale.ROOT, "prefix cache over the replicas: %.1f%% of prompt tokens hit (%d of %d)%n",
                    100.0 * hit / queried, hit, queried);
            }
        }
        if (s.get("disaggregation") instanceof Map<?, ?> d) {
            for (String side : List.of("prefill", "decode")) {
                for (Object o : (List<?>) ((Map<?, ?>) d.get(side)).get("per_replica")) {
                    printReplica(side, (Map<?, ?>) o, router);
                }
            }
            Map<?, ?> moved = (Map<?, ?>) d.get("kv_transfer");
            Map<?, ?> t = (Map<?, ?>) moved.get("time_s");
            Map<?, ?> wait = (Map<?, ?>) moved.get("wait_for_decode_s");
            console.printf(Locale.ROOT, "KV transfers: %s, %.4g GB; time p50 %s, p99 %s; wait for decode room p50 %s, "
                + "p99 %s%n", moved.get("transfers"), (long) moved.get("bytes") / 1e9, timeOf(t, "p50"),
                timeOf(t, "p99"), timeOf(wait, "p50"), timeOf(wait, "p99"));
        }
        if (s.get("energy") instanceof Map<?, ?> e) {
            console.printf(Locale.ROOT, "energy %.4g J (static %.4g J, dynamic %.4g J%s) on %s device(s): average "
                + "power %.4g W (%.4g W per device), %.4g J per output token, per request p50 %.4g J%n", e.get("joules"),
                e.get("static_j"), e.get("dynamic_j"), e.get("kv_transfer_j") instanceof Double moved
                    ? String.format(Locale.ROOT, ", KV transfers %.4g J", moved) : "", e.get("devices"),
                e.get("average_power_w"), e.get("average_power_per_device_w"), e.get("energy_per_output_token_j"),
                ((Map<?, ?>) e.get("per_request_j")).get("p50"));
        }
        if (s.get("cost") instanceof Map<?, ?> c) {
            String perTokens = c.get("usd_per_million_tokens") instanceof Double usd
                ? String.format(Locale.ROOT, "; $%.4g per million output tokens", usd) : "";
            String carbon = c.get("g_co2e_per_thousand_tokens") instanceof Double g
                ? String.format(Locale.ROOT, ", %.4g g CO2e per thousand tokens%s", g,
                    ((Map<?, ?>) c.get("g_co2e")).get("embodied") == null ? " (operational; embodied not given)" : "")
                : "";
            console.printf(Locale.ROOT, "cost (%s, %s%s): $%.4g for %s device(s) over %s (electricity $%.4g)%s%s%n",
                c.get("model"), c.get("date"), costSource, c.get("usd"), c.get("devices"),
                RooflineReport.time((double) s.get("span_s")), c.get("usd_electricity"), perTokens, carbon);
        }
        Runtime rt = Runtime.getRuntime();
        console.printf(Locale.ROOT, "simulator: %s of %s steps from the step memo, %s operator shapes simulated%s; "
            + "wall %.1f s, heap %.0f MiB in use; wrote %s%n", memo.get("step_hits"), memo.get("steps"),
            memo.get("operator_shapes_simulated"), "interpolated".equals(s.get("step_timing"))
                ? " (steps interpolated between them: an approximation)" : "", wallS,
            (rt.totalMemory() - rt.freeMemory()) / 1048576.0, folder);
    }

    /**
     * The knee's table, a row per rate point; with {@code key} (else null) a first column, {@code width} wide, of each
     * point's value of it.
     */
    void kneeTable(List<Map<String, Object>> points, String key, int width, boolean goodput) {
        String keyed = key == null ? "" : "%-" + width + "s  ";
        console.println((key == null ? "" : String.format(Locale.ROOT, keyed, key)) + "rate/s  TTFT p50   TTFT p99   "
            + "TPOT p50   TPOT p99   requests/s" + (goodput ? "  goodput/s" : ""));
        for (Map<String, Object> p : points) {
            double rate = (double) p.get("rate_per_s");
            if (key != null) {
                console.print(String.format(Locale.ROOT, keyed, p.get(key)));
            }
            console.printf(Locale.ROOT, "%6s  %-9s  %-9s  %-9s  %-9s  %10.4g%s%n", rate == Math.rint(rate)
                ? Long.toString((long) rate) : Double.toString(rate),
                stat(p, "ttft_s", "p50"), stat(p, "ttft_s", "p99"), stat(p, "tpot_s", "p50"),
                stat(p, "tpot_s", "p99"), ((Map<?, ?>) p.get("throughput")).get("requests_per_s"),
                p.get("goodput") instanceof Map<?, ?> g ? String.format(Locale.ROOT, "  %9.4g",
                    g.get("requests_per_s")) : "");
        }
    }

    private void printReplica(String kind, Map<?, ?> r, String router) {
        console.printf(Locale.ROOT, "%s %s (%s): %s requests, mean batch %.1f, KV cache mean %.1f%%, busy %.1f%%%n",
            kind, r.get("replica"), router, r.get("requests"), r.get("mean_batch"),
            100 * (double) r.get("kv_mean_occupancy_while_busy"), 100 * (double) r.get("busy_share"));
    }

    private static String stat(Map<String, Object> point, String metric, String which) {
        Object v = ((Map<?, ?>) point.get(metric)).get(which);
        return v == null ? "-" : RooflineReport.time((double) v).replace(" ", "");
    }

    /** A quantile of a distribution in serving.json, as a time, or "-" for none. */
    private static String timeOf(Map<?, ?> distribution, String quantile) {
        return distribution.containsKey(quantile) ? RooflineReport.time((double) distribution.get(quantile)) : "-";
    }
}

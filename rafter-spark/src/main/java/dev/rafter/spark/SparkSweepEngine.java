package dev.rafter.spark;

import dev.rafter.cli.SweepCommand;
import dev.rafter.config.InputException;
import dev.rafter.sweep.SweepDescription;
import dev.rafter.sweep.SweepEngine;
import java.io.IOException;
import java.io.Serializable;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntFunction;
import java.util.regex.Pattern;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import scala.collection.Iterator;
import scala.runtime.AbstractFunction1;
import scala.runtime.AbstractFunction2;
import scala.runtime.BoxedUnit;

/**
 * {@code --engine spark}: the points of a sweep as a Spark job. Only indices travel: the sweep's description (its
 * options and the bytes of its input files) is broadcast once, each executor rebuilds the sweep from it
 * ({@link SweepCommand#pointRunner}) and runs the indices of its tasks; each task's summaries come back to the driver
 * as the task finishes, where {@link dev.rafter.sweep.Sweep} writes them under {@code points/} at once (so a killed
 * sweep resumes from every finished task). Tasks are small (at most {@link #POINTS_PER_TASK} points) so little is
 * lost to a kill and the cores stay busy to the end.
 *
 * <p>The master is {@code --master}, else the one spark-submit set ({@code spark.master}), else {@code local[*]}.
 */
public final class SparkSweepEngine implements SweepEngine {
    static final int POINTS_PER_TASK = 8;
    private static final Pattern LOCAL = Pattern.compile("local(\\[(\\*|[1-9][0-9]*)(,[1-9][0-9]*)?\\])?");
    /** Rebuilt sweeps on this JVM (an executor), by broadcast: built once, used by every task. */
    private static final Map<Long, IntFunction<String>> RUNNERS = new ConcurrentHashMap<>();

    private final String master;

    public SparkSweepEngine(String master) {
        this.master = master == null ? null : checkMaster(master);
    }

    /** A master URL Spark takes, and a cluster that answers; else bad input in one line. */
    static String checkMaster(String master) {
        if (LOCAL.matcher(master).matches() || master.equals("yarn")) {
            return master;
        }
        String scheme = master.contains("://") ? master.substring(0, master.indexOf("://")) : "";
        if (!scheme.equals("spark") && !scheme.equals("k8s")) {
            throw new InputException("--master " + master + ": expected local[*], local[N], spark://HOST:PORT,"
                + " k8s://https://HOST:PORT or yarn");
        }
        String rest = master.substring(scheme.length() + 3);
        List<String> hosts = new ArrayList<>();
        if (scheme.equals("k8s")) {
            hosts.add(rest.contains("://") ? rest : "https://" + rest);
        } else {
            for (String h : rest.split(",")) {
                hosts.add("spark://" + h);
            }
        }
        for (String h : hosts) {
            URI uri;
            try {
                uri = URI.create(h);
            } catch (IllegalArgumentException e) {
                throw new InputException("--master " + master + ": not a URL (" + e.getMessage() + ")");
            }
            int port = uri.getPort() > 0 ? uri.getPort() : scheme.equals("spark") ? 7077 : 443;
            if (uri.getHost() == null) {
                throw new InputException("--master " + master + ": no host in " + h);
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(uri.getHost(), port), 5000);
            } catch (IOException e) {
                throw new InputException("--master " + master + ": cannot reach " + uri.getHost() + ":" + port + " ("
                    + e.getMessage() + ")");
            }
        }
        return master;
    }

    /**
     * Spark's start-up warnings that a local run's user cannot act on: the host name resolving to a loopback address
     * (a local master needs no other) and Hadoop's missing native library (a sweep reads nothing from HDFS). On a
     * cluster they stay, where they may matter. Spark logs through log4j under ./rafter and spark-submit (its own
     * SLF4J provider; Rafter's logging is relocated in the shaded jar) and through logback in this module's tests.
     */
    private static void quietLocalStartUp() {
        for (String name : List.of("org.apache.spark.util.Utils", "org.apache.hadoop.util.NativeCodeLoader")) {
            if (org.apache.logging.log4j.LogManager.getContext(false)
                instanceof org.apache.logging.log4j.core.LoggerContext) {
                org.apache.logging.log4j.core.config.Configurator.setLevel(name, org.apache.logging.log4j.Level.ERROR);
            }
            if (org.slf4j.LoggerFactory.getLogger(name) instanceof ch.qos.logback.classic.Logger logger) {
                logger.setLevel(ch.qos.logback.classic.Level.ERROR);
            }
        }
    }

    @Override
    public void run(Work work, int[] indices, Finished finished) {
        SweepDescription description = work.description();
        // Before the configuration: creating it already starts Spark's utilities, which log at start-up.
        if ((master != null ? master : System.getProperty("spark.master", "local[*]")).startsWith("local")) {
            quietLocalStartUp();
        }
        SparkConf conf = new SparkConf().setAppName("rafter sweep");
        if (master != null) {
            conf.setMaster(master);
        } else if (!conf.contains("spark.master")) {
            conf.setMaster("local[*]");
        }
        conf.setIfMissing("spark.ui.enabled", "false").setIfMissing("spark.ui.showConsoleProgress", "false");
        JavaSparkContext sc;
        try {
            sc = new JavaSparkContext(conf);
        } catch (RuntimeException e) {
            throw unwrap(e, false);
        }
        try (sc) {
            sc.setLogLevel("WARN");
            Broadcast<SweepDescription> shared = sc.broadcast(description);
            List<Integer> list = new ArrayList<>(indices.length);
            for (int i : indices) {
                list.add(i);
            }
            int tasks = Math.max(1, Math.min(indices.length, Math.max(sc.defaultParallelism() * 4,
                (indices.length + POINTS_PER_TASK - 1) / POINTS_PER_TASK)));
            JavaRDD<Integer> rdd = sc.parallelize(list, tasks);
            sc.sc().runJob(rdd.rdd(), new RunPoints(shared), new Collect(finished),
                scala.reflect.ClassTag$.MODULE$.apply(Results.class));
        } catch (Exception e) { // Spark's SparkException is checked, though Scala declares nothing
            throw unwrap(e, sc.sc().isStopped());
        }
    }

    /**
     * The first of our own exceptions under Spark's wrappers (a failed point, a point file that cannot be written);
     * otherwise the cluster failed the job ({@code stopped}: the master or the scheduler stopped the application,
     * and Spark's own messages above say why).
     */
    static RuntimeException unwrap(Exception e, boolean stopped) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof InputException || t instanceof java.io.UncheckedIOException) {
                return (RuntimeException) t;
            }
        }
        String what = stopped ? "the cluster stopped the application (Spark's messages above say why)"
            : e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
        return new dev.rafter.sweep.EngineFailure("the Spark job failed: " + what + "; the points that finished are"
            + " saved, --resume runs the rest", e);
    }

    /** One task's points: indices and their summaries. */
    record Results(int[] indices, String[] summaries) implements Serializable {}

    /** Runs on an executor: the task's points, from the broadcast description. */
    static final class RunPoints extends AbstractFunction1<Iterator<Integer>, Results> implements Serializable {
        private static final long serialVersionUID = 1L;
        private final Broadcast<SweepDescription> description;

        RunPoints(Broadcast<SweepDescription> description) {
            this.description = description;
        }

        @Override
        public Results apply(Iterator<Integer> points) {
            // An executor is a JVM of its own, started with the cluster's locale: as Main does for the CLI.
            java.util.Locale.setDefault(java.util.Locale.ROOT);
            IntFunction<String> runner = RUNNERS.computeIfAbsent(description.id(),
                id -> SweepCommand.pointRunner(description.value()));
            List<Integer> indices = new ArrayList<>();
            List<String> summaries = new ArrayList<>();
            while (points.hasNext()) {
                int i = points.next();
                indices.add(i);
                summaries.add(runner.apply(i));
            }
            return new Results(indices.stream().mapToInt(Integer::intValue).toArray(),
                summaries.toArray(String[]::new));
        }
    }

    /** Runs on the driver as each task finishes (Spark calls it one task at a time). */
    static final class Collect extends AbstractFunction2<Object, Results, BoxedUnit> implements Serializable {
        private static final long serialVersionUID = 1L;
        private final transient Finished finished;

        Collect(Finished finished) {
            this.finished = finished;
        }

        @Override
        public BoxedUnit apply(Object task, Results results) {
            for (int j = 0; j < results.indices().length; j++) {
                finished.accept(results.indices()[j], results.summaries()[j]);
            }
            return BoxedUnit.UNIT;
        }
    }
}

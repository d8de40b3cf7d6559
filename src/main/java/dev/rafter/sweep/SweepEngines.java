package dev.rafter.sweep;

import dev.rafter.config.InputException;
import java.lang.reflect.InvocationTargetException;

/**
 * The catalogue of sweep engines, by {@code --engine}: {@code local} (threads in this process) and {@code spark}
 * (Apache Spark, from the separate {@code rafter-spark} jar, found by its class name at run time so that the core
 * jar has no Spark dependency).
 */
public final class SweepEngines {
    /** The Spark engine's class, in the rafter-spark module. */
    static final String SPARK = "dev.rafter.spark.SparkSweepEngine";

    /** How to get the Spark engine, for the message when it is not on the class path. */
    public static final String HOW_TO_BUILD_SPARK = "run ./rafter sweep --engine spark (which builds and adds it),"
        + " or build it with 'mvn -B install -DskipTests && mvn -B -f rafter-spark/pom.xml package -DskipTests'"
        + " and spark-submit rafter-spark/target/rafter-spark.jar";

    private SweepEngines() {}

    /**
     * The engine named {@code name}; {@code master} (null: the default) is Spark's master URL, {@code jobs} the local
     * engine's threads.
     */
    public static SweepEngine open(String name, String master, int jobs) {
        switch (name) {
            case "local":
                if (master != null) {
                    throw new InputException("--master " + master + ": a Spark master URL, only with --engine spark");
                }
                return new LocalSweepEngine(jobs);
            case "spark":
                return spark(master);
            default:
                throw new InputException("--engine " + name + ": expected local or spark");
        }
    }

    private static SweepEngine spark(String master) {
        Class<?> type;
        try {
            type = Class.forName(SPARK);
        } catch (ClassNotFoundException | LinkageError e) {
            throw new InputException("--engine spark: the Spark engine (rafter-spark) is not on the class path; "
                + HOW_TO_BUILD_SPARK);
        }
        try {
            return (SweepEngine) type.getConstructor(String.class).newInstance(master);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException("cannot start the Spark engine: " + e.getCause(), e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot start the Spark engine: " + e, e);
        }
    }
}

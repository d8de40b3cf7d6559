package dev.rafter.sweep;

/**
 * Runs sweep points and does nothing else: which points, the files under {@code points/}, resume, progress and the
 * report stay with {@link Sweep}. Each point is a pure function of its index, so an engine needs only indices and a
 * way to run one: in this process ({@link Work#runPoint}) or, in another process, rebuilt from
 * {@link Work#description()}. Engines are chosen by name in {@link SweepEngines}.
 */
public interface SweepEngine extends AutoCloseable {
    /**
     * Runs the points {@code indices} of {@code work} and hands each finished point's summary (the JSON text saved
     * under {@code points/}) to {@code finished} as soon as it is back, one call at a time; returns when all are done.
     * A point that fails ends the run with its exception.
     */
    void run(Work work, int[] indices, Finished finished);

    /** The engine's resources (a Spark context) go; the local engine has none. */
    @Override
    default void close() {}

    /** One finished point. */
    @FunctionalInterface
    interface Finished {
        void accept(int index, String summary);
    }

    /** What an engine runs. */
    interface Work {
        /** Point {@code index}, run in this process: its summary as JSON text. */
        String runPoint(int index);

        /** What another process needs to run any point of the sweep (built when first asked for). */
        SweepDescription description();
    }
}

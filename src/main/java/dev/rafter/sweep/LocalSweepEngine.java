package dev.rafter.sweep;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** {@code --engine local}: the points on a pool of {@code --jobs} threads in this process. */
public final class LocalSweepEngine implements SweepEngine {
    private final int jobs;

    public LocalSweepEngine(int jobs) {
        this.jobs = Math.max(1, jobs);
    }

    @Override
    public void run(Work work, int[] indices, Finished finished) {
        ExecutorService pool = Executors.newFixedThreadPool(jobs, r -> {
            Thread t = new Thread(r, "rafter-sweep");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int index : indices) {
                futures.add(pool.submit(() -> {
                    String summary = work.runPoint(index);
                    synchronized (finished) {
                        finished.accept(index, summary);
                    }
                }));
            }
            for (Future<?> f : futures) {
                dev.rafter.sim.Futures.join(f, "sweep");
            }
        } finally {
            pool.shutdownNow();
        }
    }
}

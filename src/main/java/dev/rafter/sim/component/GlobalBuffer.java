package dev.rafter.sim.component;

import dev.rafter.mapping.Stage;
import dev.rafter.sim.message.MemoryAccess;
import java.util.ArrayList;
import java.util.List;

/**
 * The global buffer's contents: it loads the stages of the running operator from HBM in order, at most
 * {@link #WINDOW} stages ahead of the oldest one still in use (double buffering) and only while they fit in its
 * capacity, and tells waiting cores when a stage has arrived. Parameters: capacity. Statistics: bytes loaded,
 * peak occupancy.
 */
public final class GlobalBuffer {
    /** Stages in flight: one being consumed while the next one loads. */
    public static final int WINDOW = 2;

    private final Hbm hbm;
    private final long capacity;

    private long opId;
    private List<Stage> stages = List.of();
    private boolean[] ready;
    private int[] releases;
    private List<List<Runnable>> waiters;
    private int nextLoad;
    private int oldestInUse;
    private long occupied;
    long peakOccupied;
    long bytesLoaded;

    public GlobalBuffer(Hbm hbm, long capacity) {
        this.hbm = hbm;
        this.capacity = capacity;
    }

    public void begin(long opId, List<Stage> stages) {
        this.opId = opId;
        this.stages = stages;
        this.ready = new boolean[stages.size()];
        this.releases = new int[stages.size()];
        this.waiters = new ArrayList<>(stages.size());
        for (int i = 0; i < stages.size(); i++) {
            waiters.add(null);
        }
        this.nextLoad = 0;
        this.oldestInUse = 0;
        this.occupied = 0;
        loadMore();
    }

    private void loadMore() {
        while (nextLoad < stages.size() && nextLoad < oldestInUse + WINDOW) {
            Stage s = stages.get(nextLoad);
            if (occupied + s.loadBytes() > capacity && occupied > 0) {
                return;
            }
            occupied += s.loadBytes();
            peakOccupied = Math.max(peakOccupied, occupied);
            bytesLoaded += s.loadBytes();
            int index = nextLoad++;
            hbm.transfer(new MemoryAccess.StageFill(opId, s.address(), s.loadBytes()), () -> arrived(index));
        }
    }

    private void arrived(int stage) {
        ready[stage] = true;
        List<Runnable> w = waiters.get(stage);
        if (w != null) {
            waiters.set(stage, null);
            for (Runnable r : w) {
                r.run();
            }
        }
    }

    public boolean isReady(int stage) {
        return ready[stage];
    }

    /** Runs {@code r} once the stage has arrived (at once if it has). */
    public void whenReady(int stage, Runnable r) {
        if (ready[stage]) {
            r.run();
            return;
        }
        List<Runnable> w = waiters.get(stage);
        if (w == null) {
            w = new ArrayList<>(4);
            waiters.set(stage, w);
        }
        w.add(r);
    }

    /** One user is done with the stage; the last frees its streamed bytes and the pins it ends. */
    public void release(int stage) {
        Stage s = stages.get(stage);
        if (++releases[stage] < s.users()) {
            return;
        }
        occupied -= s.heldBytes() + s.unpinBytes();
        while (oldestInUse < stages.size() && releases[oldestInUse] >= stages.get(oldestInUse).users()) {
            oldestInUse++;
        }
        loadMore();
    }

    /** Stages not yet released by all their users (0 when the operator's data flow finished cleanly). */
    public int stagesInUse() {
        int n = 0;
        for (int i = 0; i < stages.size(); i++) {
            if (releases[i] < stages.get(i).users()) {
                n++;
            }
        }
        return n;
    }

    public long bytesLoaded() {
        return bytesLoaded;
    }

    public String waitingSummary() {
        return "global buffer: " + stagesInUse() + " stage(s) in use, next to load " + nextLoad + " of "
            + stages.size() + ", " + occupied + " of " + capacity + " bytes occupied";
    }
}

package dev.rafter.mapping;

import dev.rafter.workload.Operator;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * What a global buffer that keeps its contents across kernels (a GPU's L2, {@code global_buffer.keeps_contents})
 * holds between operators: the bytes written into it, in the order they were written, up to its capacity, the least
 * recently written evicted first. An operator's result is an entry of its own (its producer's id), so an operator
 * that reads it finds its resident part ({@link #residentOf}); the bytes an operator fetched from memory are written
 * into the buffer too and push older entries out, but nobody looks them up.
 *
 * <p>Which lines of a partly resident tensor remain is not tracked: an operator whose inputs are partly resident
 * finds that share of every read of them in the buffer ({@link #readingResident}).
 *
 * <p>The buffer is write-back, as a GPU's L2 is: a result stays dirty in it until evicted, and only then is written
 * to memory, by whichever operator's bytes push it out ({@link #lastWrittenBack}, {@link #writingBack}). Fetched
 * bytes are clean: evicting them costs nothing. (Back-to-back kernels that each read and write one 64 KB buffer run
 * at 3.8 TB/s on an A100 80GB and 6.1 TB/s on an H200, above their DRAM's 2.0 and 4.8 TB/s peaks, so their stores
 * complete in the L2 and do not reach DRAM per kernel: te42kyfo/gpu-benches @1c36d50, gpu-small-kernels.)
 */
public final class L2Residency {
    /** An entry's owner for bytes that are no operator's result (fetched from memory). */
    private static final long FETCHED = -1;

    private final long capacity;
    /** Entries, the least recently written first: {owner, bytes}. */
    private final ArrayDeque<long[]> entries = new ArrayDeque<>();
    /** The entries of results still held, by their operator's id. */
    private final EntriesById results = new EntriesById();
    private long held;
    /** Bytes of results held (dirty: not yet in memory). */
    private long dirty;
    /** Dirty bytes evicted so far, and by the last {@link #run}. */
    private long evictedDirty;
    private long lastWrittenBack;

    public L2Residency(long capacityBytes) {
        if (capacityBytes <= 0) {
            throw new IllegalArgumentException("capacity must be > 0, got " + capacityBytes);
        }
        this.capacity = capacityBytes;
    }

    /** {@code bytes} fetched from memory pass through the buffer and stay there, like any written bytes. */
    public void fetched(long bytes) {
        long[] last = entries.peekLast();
        if (last != null && last[0] == FETCHED) {
            // Fetched bytes are never looked up: one entry for a run of them keeps the queue short.
            add(last, bytes);
        } else if (bytes > 0) {
            long[] e = {FETCHED, 0};
            entries.addLast(e);
            add(e, bytes);
        }
    }

    /** Operator {@code opId} wrote its result of {@code bytes}: the newest entry. */
    public void wrote(long opId, long bytes) {
        if (bytes <= 0) {
            return;
        }
        long[] e = {opId, 0};
        entries.addLast(e);
        results.put(opId, e);
        add(e, bytes);
    }

    /**
     * Entries by operator id, without boxing: a hash table with linear probing (an entry's id is its key). Every
     * operator of a run puts, looks up and removes its result here; a {@code HashMap<Long, long[]>} boxed each id,
     * several objects per operator.
     */
    static final class EntriesById {
        private long[] ids = new long[64];
        private long[][] entries = new long[64][];
        private int size;

        long[] get(long id) {
            int mask = ids.length - 1;
            for (int i = slot(id, mask); entries[i] != null; i = (i + 1) & mask) {
                if (ids[i] == id) {
                    return entries[i];
                }
            }
            return null;
        }

        void put(long id, long[] entry) {
            if (2 * (size + 1) > ids.length) {
                grow();
            }
            int mask = ids.length - 1;
            int i = slot(id, mask);
            while (entries[i] != null && ids[i] != id) {
                i = (i + 1) & mask;
            }
            if (entries[i] == null) {
                size++;
            }
            ids[i] = id;
            entries[i] = entry;
        }

        void remove(long id) {
            int mask = ids.length - 1;
            int i = slot(id, mask);
            while (entries[i] != null && ids[i] != id) {
                i = (i + 1) & mask;
            }
            if (entries[i] == null) {
                return;
            }
            entries[i] = null;
            size--;
            // Moves back the entries after the hole that probing would no longer reach past it.
            for (int j = (i + 1) & mask; entries[j] != null; j = (j + 1) & mask) {
                int home = slot(ids[j], mask);
                if (((j - home) & mask) >= ((j - i) & mask)) {
                    ids[i] = ids[j];
                    entries[i] = entries[j];
                    entries[j] = null;
                    i = j;
                }
            }
        }

        private void grow() {
            long[] oldIds = ids;
            long[][] oldEntries = entries;
            ids = new long[oldIds.length * 2];
            entries = new long[oldIds.length * 2][];
            size = 0;
            for (int i = 0; i < oldIds.length; i++) {
                if (oldEntries[i] != null) {
                    put(oldIds[i], oldEntries[i]);
                }
            }
        }

        private static int slot(long id, int mask) {
            long h = id * 0x9E3779B97F4A7C15L;
            return (int) (h ^ (h >>> 32)) & mask;
        }
    }

    /** Bytes of operator {@code opId}'s result still in the buffer. */
    public long residentOf(long opId) {
        long[] e = results.get(opId);
        return e == null ? 0 : e[1];
    }

    /**
     * Bytes of the newest results still in the buffer, newest first, up to {@code bytes}: what an operator that names
     * no producers (a trace without deps) finds of inputs of {@code bytes}, taking them to be the latest results.
     */
    public long newestResults(long bytes) {
        long found = 0;
        var newestFirst = entries.descendingIterator();
        while (found < bytes && newestFirst.hasNext()) {
            long[] e = newestFirst.next();
            if (e[0] != FETCHED) {
                found += e[1];
            }
        }
        return Math.min(found, bytes);
    }

    /**
     * Operator {@code op}, running on the cores, comes next: returns the bytes of its activations its producers left
     * in the buffer, then leaves the buffer as {@code op} does (what it fetched from memory, then its result). Its
     * producers are its deps; where it has none (a trace without them), the latest results, the operator before it
     * first ({@link #newestResults}). A function of the operators so far alone, so the stream and the threads that
     * simulate ahead of it agree.
     */
    public long run(Operator op) {
        long evictedBefore = evictedDirty;
        long inputs = op.activationInputBytes();
        long resident = 0;
        long[] deps = op.deps();
        if (deps.length == 0) {
            resident = newestResults(inputs);
        } else {
            for (long d : deps) {
                resident += residentOf(d);
            }
        }
        resident = Math.min(resident, inputs);
        fetched(Math.max(0, (long) op.minBytes() - op.outputBytes() - resident));
        wrote(op.id(), op.outputBytes());
        lastWrittenBack = evictedDirty - evictedBefore;
        return resident;
    }

    /**
     * Dirty bytes the last {@link #run}'s operator evicted (its producers' results, or its own result's first part
     * where the result outgrows the buffer): that operator writes them to memory.
     */
    public long lastWrittenBack() {
        return lastWrittenBack;
    }

    /** Dirty bytes evicted (written to memory) since the buffer was empty. */
    public long evictedDirty() {
        return evictedDirty;
    }

    /** Bytes of results still in the buffer and not in memory (written there only when evicted). */
    public long dirty() {
        return dirty;
    }

    /**
     * What the buffer holds, entry by entry, least recently written first: {held, dirty, then each entry's owner and
     * bytes} (for {@link #holdsAsShifted}).
     */
    public long[] contents() {
        long[] c = new long[2 + 2 * entries.size()];
        c[0] = held;
        c[1] = dirty;
        int i = 2;
        for (long[] e : entries) {
            c[i++] = e[0];
            c[i++] = e[1];
        }
        return c;
    }

    /**
     * Whether the buffer holds what it held when {@link #contents} returned {@code earlier}, each result's producer
     * {@code shift} ids later: then operators that repeat the ones since, {@code shift} ids later, find and leave
     * what those did.
     */
    public boolean holdsAsShifted(long[] earlier, long shift) {
        if (earlier.length != 2 + 2 * entries.size() || earlier[0] != held || earlier[1] != dirty) {
            return false;
        }
        int i = 2;
        for (long[] e : entries) {
            long owner = earlier[i] == FETCHED ? FETCHED : earlier[i] + shift;
            if (e[0] != owner || e[1] != earlier[i + 1]) {
                return false;
            }
            i += 2;
        }
        return true;
    }

    /** Bytes the buffer holds. */
    public long held() {
        return held;
    }

    private void add(long[] entry, long bytes) {
        entry[1] += bytes;
        held += bytes;
        if (entry[0] != FETCHED) {
            dirty += bytes;
        }
        while (held > capacity) {
            long[] oldest = entries.peekFirst();
            long out = Math.min(oldest[1], held - capacity);
            oldest[1] -= out;
            held -= out;
            if (oldest[0] != FETCHED) {
                dirty -= out;
                evictedDirty += out;
            }
            if (oldest[1] == 0) {
                entries.removeFirst();
                if (oldest[0] != FETCHED) {
                    results.remove(oldest[0]);
                }
            }
        }
    }

    /**
     * {@code programs} of an operator that finds {@code resident} of its {@code inputBytes} of activations in the
     * global buffer: each stage's activations are that share resident (rounded down; all of them when every input
     * byte is), and the programs read that much less from memory. Stages of scratch (a split-K reduction's partial
     * sums) are left as they are. With nothing resident, {@code programs} themselves.
     */
    public static List<TileProgram> readingResident(List<TileProgram> programs, long resident, long inputBytes) {
        if (resident <= 0 || inputBytes <= 0) {
            return programs;
        }
        List<TileProgram> out = new ArrayList<>(programs.size());
        for (TileProgram p : programs) {
            List<Stage> stages = new ArrayList<>(p.stages().size());
            long fromBuffer = 0;
            for (Stage s : p.stages()) {
                long r = residentShare(s.activationBytes(), resident, inputBytes);
                fromBuffer += r;
                stages.add(r == 0 ? s : s.withResident(r));
            }
            out.add(new TileProgram(List.copyOf(stages), p.cores(), p.hbmReadBytes() - fromBuffer, p.hbmWriteBytes(),
                p.explanation()));
        }
        return List.copyOf(out);
    }

    /**
     * {@code programs} of an operator that writes {@code bytes} of evicted dirty results back to memory: spread over
     * its stages in order (across its programs), each stage writing its share as it loads, the first
     * {@code bytes mod stages} one byte more, so the eviction traffic shares the memory channels with the operator's
     * reads while it runs. With nothing to write, or no stage to carry it, {@code programs} themselves.
     */
    public static List<TileProgram> writingBack(List<TileProgram> programs, long bytes) {
        long stages = 0;
        for (TileProgram p : programs) {
            stages += p.stages().size();
        }
        if (bytes <= 0 || stages == 0) {
            return programs;
        }
        long each = bytes / stages;
        long extra = bytes % stages;
        long index = 0;
        List<TileProgram> out = new ArrayList<>(programs.size());
        for (TileProgram p : programs) {
            List<Stage> withWrites = new ArrayList<>(p.stages().size());
            for (Stage s : p.stages()) {
                long share = each + (index++ < extra ? 1 : 0);
                withWrites.add(share == 0 ? s : s.withWriteBack(share));
            }
            out.add(new TileProgram(List.copyOf(withWrites), p.cores(), p.hbmReadBytes(), p.hbmWriteBytes(),
                p.explanation()));
        }
        return List.copyOf(out);
    }

    /** {@code bytes} x {@code resident} / {@code inputBytes}, rounded down; all of {@code bytes} at a full share. */
    static long residentShare(long bytes, long resident, long inputBytes) {
        if (resident >= inputBytes) {
            return bytes;
        }
        return (long) Math.floor((double) bytes * resident / inputBytes);
    }
}

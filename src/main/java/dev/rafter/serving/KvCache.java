package dev.rafter.serving;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The paged KV cache's blocks, counted, and with prefix caching on, vLLM's automatic prefix caching: a full block is
 * known by its content (the tokens before and in it), so requests that begin with the same prefix share its full
 * blocks. A block holds the content of the shared prefix when it lies wholly inside the request's
 * {@link Request#prefixTokens()}; any other block is the request's own (another request never holds the same
 * tokens, but the request itself, preempted and recomputed, finds its own blocks again). A sequence's full blocks
 * are entered in the cache as it computes them (a block whose content is already cached is given up for the cached
 * one, as vLLM's allocator does); when no sequence refers to a cached block it stays cached but evictable, and a
 * block needed when none is unused goes to the evictable block used least recently (vLLM's LRU evictor: ties go to
 * the block later in its sequence). Blocks of a finished request's own content are freed outright: nothing can hit
 * them again.
 */
final class KvCache {
    /** A block's content: block {@code index} of the prefix {@code prefixId}, or of request {@code requestId}. */
    record Key(String prefixId, long requestId, int index) {}

    /** A cached block: who refers to it, and when it last became unreferenced. */
    static final class Block {
        final Key key;
        final long serial;
        int references;
        long releasedPs;

        Block(Key key, long serial) {
            this.key = key;
            this.serial = serial;
        }
    }

    /** Blocks a sequence holds: {@code count} in all, the first {@code cached.size()} of them cached blocks. */
    static final class Held {
        long count;
        final List<Block> cached = new ArrayList<>();
    }

    private static final Comparator<Block> LEAST_RECENT = Comparator.<Block>comparingLong(b -> b.releasedPs)
        .thenComparing(Comparator.<Block>comparingInt(b -> b.key.index).reversed())
        .thenComparingLong(b -> b.serial);

    private final int blockTokens;
    private final long capacity;
    private final boolean caching;
    /** Blocks that hold nothing cached. */
    private long unused;
    private final Map<Key, Block> byKey = new HashMap<>();
    private final TreeSet<Block> evictable = new TreeSet<>(LEAST_RECENT);
    private long serials;
    private long queriedTokens;
    private long hitTokens;
    private long evictions;

    KvCache(int blockTokens, long capacity, boolean caching) {
        this.blockTokens = blockTokens;
        this.capacity = capacity;
        this.caching = caching;
        this.unused = capacity;
    }

    /** Blocks that can be given to a sequence: unused, or cached and evictable. */
    long free() {
        return unused + evictable.size();
    }

    /** Blocks sequences hold. */
    long held() {
        return capacity - free();
    }

    boolean caching() {
        return caching;
    }

    private Key key(Request r, int index) {
        return r.prefixId() != null && (long) (index + 1) * blockTokens <= r.prefixTokens()
            ? new Key(r.prefixId(), -1, index) : new Key(null, r.id(), index);
    }

    /**
     * The cached blocks a waiting sequence of {@code tokens} tokens (its prompt, and what it generated before a
     * preemption) would start from: its leading full blocks found in the cache, leaving at least its last token to
     * compute (its logits give the next token), as vLLM's scheduler does.
     */
    List<Block> lookUp(Request r, int tokens) {
        if (!caching) {
            return List.of();
        }
        List<Block> hits = new ArrayList<>();
        int most = (tokens - 1) / blockTokens;
        for (int i = 0; i < most; i++) {
            Block b = byKey.get(key(r, i));
            if (b == null) {
                break;
            }
            hits.add(b);
        }
        return hits;
    }

    /** Of {@code hits}, those no sequence refers to now (taking them uses up free blocks). */
    static long unreferenced(List<Block> hits) {
        long n = 0;
        for (Block b : hits) {
            if (b.references == 0) {
                n++;
            }
        }
        return n;
    }

    /** A sequence of {@code tokens} tokens starts from {@code hits}, counted in the hit rate. */
    void admit(Held held, List<Block> hits, int tokens) {
        if (caching) {
            queriedTokens += tokens;
            hitTokens += (long) hits.size() * blockTokens;
        }
        for (Block b : hits) {
            refer(b);
            held.cached.add(b);
        }
        held.count = hits.size();
    }

    private void refer(Block b) {
        if (b.references++ == 0) {
            evictable.remove(b);
        }
    }

    /** Gives a sequence {@code blocks} more blocks (at most {@link #free()}): unused ones first, then evicted ones. */
    void allocate(Held held, long blocks) {
        long fromUnused = Math.min(blocks, unused);
        unused -= fromUnused;
        for (long i = fromUnused; i < blocks; i++) {
            Block victim = evictable.pollFirst();
            byKey.remove(victim.key);
            evictions++;
        }
        held.count += blocks;
    }

    /** Enters the full blocks of a sequence that has computed {@code computed} tokens. */
    void computed(Request r, Held held, int computed) {
        if (!caching) {
            return;
        }
        for (int i = held.cached.size(); i < computed / blockTokens; i++) {
            Key k = key(r, i);
            Block b = byKey.get(k);
            if (b != null) {
                refer(b);
                unused++; // the sequence's own copy of the block is given up
            } else {
                b = new Block(k, serials++);
                b.references = 1;
                byKey.put(k, b);
            }
            held.cached.add(b);
        }
    }

    /**
     * A sequence gives up its blocks at {@code nowPs}: {@code finished}, its own content goes (no one can hit it);
     * preempted, it stays cached for the sequence's recomputation. Cached blocks are released from the last.
     */
    void release(Held held, long nowPs, boolean finished) {
        unused += held.count - held.cached.size();
        for (int i = held.cached.size() - 1; i >= 0; i--) {
            Block b = held.cached.get(i);
            if (--b.references > 0) {
                continue;
            }
            if (finished && b.key.prefixId() == null) {
                byKey.remove(b.key);
                unused++;
            } else {
                b.releasedPs = nowPs;
                evictable.add(b);
            }
        }
        held.cached.clear();
        held.count = 0;
    }

    /** Prefix-cache figures for serving.json: tokens looked up and found at admissions, and evictions. */
    Map<String, Object> summary() {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("queried_tokens", queriedTokens);
        m.put("hit_tokens", hitTokens);
        m.put("hit_rate", queriedTokens == 0 ? 0.0 : (double) hitTokens / queriedTokens);
        m.put("evictions", evictions);
        m.put("cached_blocks_at_end", (long) byKey.size());
        return m;
    }
}

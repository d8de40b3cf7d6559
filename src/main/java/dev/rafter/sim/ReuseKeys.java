package dev.rafter.sim;

import dev.rafter.sim.Simulation.ReuseKey;
import dev.rafter.workload.Operator;
import java.util.HashMap;
import java.util.Map;

/**
 * The reuse keys of a stream of operators, in order: each operator's key is found among the few keys that followed
 * the last operator's key before, by comparing fields, and built and looked up only when none matches (a shape and a
 * key built and hashed per operator were garbage of every replayed operator). One key object per distinct key, so
 * maps holding it find it by identity.
 */
final class ReuseKeys {
    /**
     * A distinct key, with the keys that followed it, the latest first: a decode step's layers repeat their
     * operators, but what each finds in the global buffer comes round with a longer period, so a key has a few
     * followers in turn.
     */
    private static final class KnownKey {
        private static final int FOLLOWERS = 4;
        final ReuseKey key;
        private final KnownKey[] following = new KnownKey[FOLLOWERS];

        KnownKey(ReuseKey key) {
            this.key = key;
        }

        /** The follower that is {@code op}'s key, finding what is given, or null. */
        KnownKey following(Operator op, long resident, long evicted, double clockMhz) {
            for (KnownKey k : following) {
                if (k == null) {
                    return null;
                }
                ReuseKey r = k.key;
                if (r.residentBytes() == resident && r.writtenBackBytes() == evicted && r.clockMhz() == clockMhz
                    && r.shape().matches(op)) {
                    return k;
                }
            }
            return null;
        }

        /** {@code next} followed this key: the latest follower first, the oldest of them going. */
        void followedBy(KnownKey next) {
            int at = FOLLOWERS - 1;
            for (int i = 0; i < FOLLOWERS; i++) {
                if (following[i] == next || following[i] == null) {
                    at = i;
                    break;
                }
            }
            System.arraycopy(following, 0, following, 1, at);
            following[0] = next;
        }
    }

    /** Distinct keys held at most: past them all are forgotten (a trace of ever new shapes). */
    private final int most;
    /** The key of the operator seen last (null before the first). */
    private KnownKey lastKey;
    /** One node per distinct key, so that {@link KnownKey#following} finds the keys it saw. */
    private final Map<ReuseKey, KnownKey> keys = new HashMap<>();

    ReuseKeys(int most) {
        this.most = most;
    }

    /** The key of {@code op}, the next operator of the stream, finding and writing back what is given. */
    ReuseKey next(Operator op, long resident, long evicted, double clockMhz) {
        KnownKey known = lastKey == null ? null : lastKey.following(op, resident, evicted, clockMhz);
        if (known == null) {
            if (keys.size() >= most) {
                keys.clear();
                lastKey = null;
            }
            ReuseKey built = new ReuseKey(op.shape(), resident, evicted, clockMhz);
            known = keys.computeIfAbsent(built, KnownKey::new);
            if (lastKey != null) {
                lastKey.followedBy(known);
            }
        }
        lastKey = known;
        return known.key;
    }
}

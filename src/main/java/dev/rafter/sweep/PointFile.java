package dev.rafter.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * A point summary as saved under {@code points/}: the summary plus {@code "digest"}, the SHA-256 of the summary's
 * canonical text without it (Jackson's indented form, fields in the order written). {@code --resume} and
 * {@code sweep merge} trust a point only when its contents still match its digest, so a point edited by hand (or
 * truncated and repaired) is re-run or refused instead of being folded into a sweep as if Rafter had computed it.
 */
public final class PointFile {
    static final String DIGEST = "digest";
    /** A point summary is a few KiB; 64 MiB is far beyond one (and keeps a stray huge file from filling memory). */
    public static final long MAX_BYTES = 1L << 26;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private PointFile() {}

    /** The file text of a point: {@code summary} (a JSON object) sealed with its digest. */
    public static String seal(String summary) {
        try {
            ObjectNode node = (ObjectNode) JSON.readTree(summary);
            node.remove(DIGEST);
            String digest = digestOf(node);
            node.put(DIGEST, digest);
            return JSON.writeValueAsString(node) + "\n";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Whether a saved point has a digest and its contents match it (false: unsealed or edited). */
    public static Verdict check(JsonNode saved) {
        if (!(saved instanceof ObjectNode o) || !o.path(DIGEST).isTextual()) {
            return Verdict.UNSEALED;
        }
        ObjectNode copy = o.deepCopy();
        String claimed = copy.remove(DIGEST).asText();
        return claimed.equals(digestOf(copy)) ? Verdict.INTACT : Verdict.EDITED;
    }

    /** What a saved point's digest says. */
    public enum Verdict { INTACT, UNSEALED, EDITED }

    private static String digestOf(ObjectNode withoutDigest) {
        try {
            return "sha256:" + SweepKey.sha256(JSON.writeValueAsString(withoutDigest));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

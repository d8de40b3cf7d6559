package dev.rafter.importer;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.rafter.config.InputException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code args} of one Kineto trace event, as far as the importer needs them; one instance is reused for every
 * event. Recognised keys (others are skipped):
 * <ul>
 *   <li>{@code External id} (also {@code external id}, as older Kineto writes it on kernels) and
 *       {@code correlation}: how a GPU kernel finds the runtime launch and the CPU op that launched it;</li>
 *   <li>{@code Input Dims}: per argument of a {@code cpu_op}, its shape ({@code []} for scalars and 0-d tensors,
 *       a list of shapes for a tensor list); {@code Input type}: per argument, the tensor's dtype as PyTorch
 *       prints it ({@code c10::BFloat16}, {@code float}, ...) or {@code Scalar}, {@code ScalarList},
 *       {@code TensorList}, {@code ""}; {@code Concrete Inputs}: per argument, a scalar's value as text;</li>
 *   <li>collectives ({@code record_param_comms}, {@code nccl:*}): {@code Collective name},
 *       {@code In msg nelems}, {@code Group size}, {@code dtype}, and the process group a multi-rank replay joins
 *       them by: {@code Process Group Name}, {@code Process Group Ranks} (text, "[0, 1]"), {@code Global rank start}
 *       and {@code Global rank stride} (PyTorch's {@code torch/csrc/profiler/util.h} names them, its
 *       {@code saveNcclMeta} writes them);</li>
 *   <li>{@code stream}, {@code grid} and {@code block} of a kernel (its launch configuration: with its name, what
 *       tells one launch of a kernel from another when no op records its shapes).</li>
 * </ul>
 */
final class KinetoArgs {
    /** A tensor list argument's shapes, kept aside from {@link #dims}. */
    static final long[] LIST = new long[0];
    private static final long[] SCALAR = new long[0];

    long externalId;
    long correlation;
    long stream;
    /** A kernel's grid and block as written ("[132, 1, 1][128, 1, 1]"), or "" when absent. */
    String launchConfig;
    /** A kernel's grid alone, as written ("[132, 1, 1]"), or "" when absent. */
    String grid;
    /** Per argument: its shape, {@link #LIST} for a tensor list (shapes in {@link #lists}), null when absent. */
    final List<long[]> dims = new ArrayList<>();
    /** Per argument: the shapes of a tensor list argument, else null. */
    final List<long[][]> lists = new ArrayList<>();
    final List<String> types = new ArrayList<>();
    final List<String> concrete = new ArrayList<>();
    boolean hasDims;
    String collectiveName;
    long inMsgElements;
    long groupSize;
    String collectiveDtype;
    /** The collective's process group: its name and global ranks as written, null when absent. */
    String groupName;
    String groupRanks;
    long groupRankStart;
    long groupRankStride;

    void clear() {
        externalId = -1;
        correlation = -1;
        stream = -1;
        launchConfig = "";
        grid = "";
        dims.clear();
        lists.clear();
        types.clear();
        concrete.clear();
        hasDims = false;
        collectiveName = null;
        inMsgElements = -1;
        groupSize = -1;
        collectiveDtype = null;
        groupName = null;
        groupRanks = null;
        groupRankStart = -1;
        groupRankStride = -1;
    }

    /** Reads the args object the parser stands on (at its START_OBJECT). */
    void read(JsonParser p) throws IOException {
        if (p.currentToken() != JsonToken.START_OBJECT) {
            throw new InputException("'args' must be an object");
        }
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            JsonToken t = p.nextToken();
            switch (key) {
                case "External id", "external id" -> externalId = id(p, t);
                case "correlation" -> correlation = id(p, t);
                case "stream" -> stream = t.isNumeric() ? p.getLongValue() : skipTo(p, -1);
                case "grid", "block" -> {
                    String d = dimensions(p, t);
                    launchConfig = launchConfig + d;
                    if (key.equals("grid")) {
                        grid = d;
                    }
                }
                case "Input Dims" -> readDims(p, t);
                case "Input type" -> readStrings(p, t, types);
                case "Concrete Inputs" -> readStrings(p, t, concrete);
                case "Collective name" -> collectiveName = t == JsonToken.VALUE_STRING ? p.getText() : skip(p);
                case "In msg nelems" -> inMsgElements = count(p, t, key);
                case "Group size" -> groupSize = count(p, t, key);
                case "dtype" -> collectiveDtype = t == JsonToken.VALUE_STRING ? p.getText() : skip(p);
                case "Process Group Name" -> groupName = t.isScalarValue() && t != JsonToken.VALUE_NULL
                    ? p.getText() : skip(p);
                case "Process Group Ranks" -> groupRanks = t.isScalarValue() && t != JsonToken.VALUE_NULL
                    ? p.getText() : t == JsonToken.START_ARRAY ? dimensions(p, t) : skip(p);
                case "Global rank start" -> groupRankStart = id(p, t);
                case "Global rank stride" -> groupRankStride = id(p, t);
                default -> p.skipChildren();
            }
        }
    }

    /** Passes over a value of the wrong type whole (a list or object too), so the next token is the next key. */
    private static String skip(JsonParser p) throws IOException {
        p.skipChildren();
        return null;
    }

    private static long skipTo(JsonParser p, long fallback) throws IOException {
        p.skipChildren();
        return fallback;
    }

    /** A launch dimension list as text ("[132, 1, 1]"); anything else as "?" (it only tells launches apart). */
    private static String dimensions(JsonParser p, JsonToken t) throws IOException {
        if (t != JsonToken.START_ARRAY) {
            p.skipChildren();
            return "?";
        }
        StringBuilder b = new StringBuilder("[");
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t == JsonToken.START_ARRAY || t == JsonToken.START_OBJECT) {
                p.skipChildren();
            }
            b.append(b.length() > 1 ? ", " : "").append(t.isScalarValue() ? p.getText() : "?");
        }
        return b.append(']').toString();
    }

    /** An id, or -1 when absent or not a non-negative integer (then nothing links through it). */
    private static long id(JsonParser p, JsonToken t) throws IOException {
        if (t != JsonToken.VALUE_NUMBER_INT) {
            p.skipChildren();
            return -1;
        }
        long v = p.getLongValue();
        return v < 0 || v == Long.MAX_VALUE ? -1 : v;
    }

    private static long count(JsonParser p, JsonToken t, String key) throws IOException {
        if (t == JsonToken.VALUE_NUMBER_INT) {
            return p.getLongValue();
        }
        if (t == JsonToken.VALUE_STRING) {
            try {
                return Long.parseLong(p.getText().trim());
            } catch (NumberFormatException e) {
                throw new InputException("'" + key + "' must be an integer, got '" + p.getText() + "'");
            }
        }
        p.skipChildren();
        return -1;
    }

    private void readDims(JsonParser p, JsonToken t) throws IOException {
        if (t != JsonToken.START_ARRAY) {
            p.skipChildren();
            throw new InputException("'Input Dims' must be a list of shapes");
        }
        hasDims = true;
        long[] buf = new long[8];
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t == JsonToken.VALUE_NULL) {
                dims.add(null);
                lists.add(null);
            } else if (t != JsonToken.START_ARRAY) {
                throw new InputException("'Input Dims' must be a list of shapes, found " + p.getText());
            } else {
                t = p.nextToken();
                if (t == JsonToken.END_ARRAY) {
                    dims.add(SCALAR);
                    lists.add(null);
                } else if (t == JsonToken.START_ARRAY) {
                    List<long[]> shapes = new ArrayList<>();
                    while (t != JsonToken.END_ARRAY) {
                        if (t != JsonToken.START_ARRAY) {
                            throw new InputException("'Input Dims' holds a tensor list with a non-shape entry");
                        }
                        shapes.add(shape(p, p.nextToken(), buf));
                        t = p.nextToken();
                    }
                    dims.add(LIST);
                    lists.add(shapes.toArray(new long[0][]));
                } else {
                    dims.add(shape(p, t, buf));
                    lists.add(null);
                }
            }
        }
    }

    /** Reads sizes from {@code t} up to the END_ARRAY of one shape. */
    private static long[] shape(JsonParser p, JsonToken t, long[] buf) throws IOException {
        int n = 0;
        while (t != JsonToken.END_ARRAY) {
            if (t == JsonToken.START_ARRAY) {
                // Deeper nesting (a list of tensor lists) carries no shape the importer uses.
                p.skipChildren();
                t = p.nextToken();
                continue;
            }
            if (t != JsonToken.VALUE_NUMBER_INT) {
                throw new InputException("'Input Dims' holds a non-integer size '" + p.getText() + "'");
            }
            long v = p.getLongValue();
            if (v < 0) {
                throw new InputException("'Input Dims' holds a negative size " + v);
            }
            if (n == buf.length) {
                buf = java.util.Arrays.copyOf(buf, n * 2);
            }
            buf[n++] = v;
            t = p.nextToken();
        }
        return java.util.Arrays.copyOf(buf, n);
    }

    private static void readStrings(JsonParser p, JsonToken t, List<String> out) throws IOException {
        if (t != JsonToken.START_ARRAY) {
            p.skipChildren();
            return;
        }
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t == JsonToken.START_ARRAY || t == JsonToken.START_OBJECT) {
                p.skipChildren();
                out.add("");
            } else if (t == JsonToken.VALUE_NULL) {
                out.add("");
            } else {
                out.add(p.getText());
            }
        }
    }

    /** The dtype text of argument {@code i} ("" when not given). */
    String type(int i) {
        return i < types.size() ? types.get(i) : "";
    }

    /** The concrete value text of argument {@code i} ("" when not given). */
    String concrete(int i) {
        return i < concrete.size() ? concrete.get(i) : "";
    }
}

package dev.rafter.importer;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import dev.rafter.config.InputException;
import dev.rafter.hw.DataType;
import dev.rafter.importer.KinetoArrays.Bytes;
import dev.rafter.importer.KinetoArrays.Ints;
import dev.rafter.importer.KinetoArrays.LongLongMap;
import dev.rafter.importer.KinetoArrays.Longs;
import dev.rafter.importer.KinetoMapper.Outcome;
import dev.rafter.importer.KinetoMapper.Result;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;
import dev.rafter.workload.Phase;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.zip.ZipException;

/**
 * Reads a PyTorch profiler trace (Kineto's Chrome trace-event JSON, as {@code torch.profiler}, vLLM and SGLang write
 * it; plain or gzipped) into Rafter operators with the GPU time each one measured.
 *
 * <h2>How the trace is read</h2>
 * One streaming pass (Jackson's {@link JsonParser}) over {@code traceEvents}, which may come in any order, keeps a
 * few words per event that matters and nothing per other event, so memory is bounded by the number of ops and
 * kernels, never by the file size:
 * <ul>
 *   <li>{@code cpu_op} events (PyTorch ops; {@code Operator} in early Kineto) and {@code user_annotation} ranges:
 *       thread, start, end, {@code External id}, and for ops the importer knows the operator shape mapped at once
 *       from {@code Input Dims}, {@code Input type} and {@code Concrete Inputs} ({@link KinetoMapper});</li>
 *   <li>GPU activity ({@code kernel}, {@code gpu_memcpy}, {@code gpu_memset}): duration, {@code correlation},
 *       {@code External id} when the kernel carries it;</li>
 *   <li>runtime and driver calls ({@code cuda_runtime}, {@code cuda_driver}; ROCm writes its {@code hip*} calls
 *       under the same categories): for launches, correlation -> External id; graph launches
 *       ({@code cudaGraphLaunch}, {@code hipGraphLaunch}) by correlation.</li>
 * </ul>
 * Then a kernel is linked to the op that launched it: its own {@code External id}, else the one of the runtime launch
 * with its {@code correlation}. A kernel with no recorded op (one of a graph replay, one launched before the
 * profiler's first recorded CPU op, or by a runtime call no op encloses) is inferred from its name and launch
 * configuration: when ops elsewhere in the trace launched the same kernel (full name, grid and block) as their only
 * kernel, all with one shape, it becomes an operator of that shape named "OP (inferred from kernel)", placed among
 * the others by its GPU start; else, with a model hint, each graph replay and each run of such kernels outside
 * replays (consecutive in GPU order) is read as a decode step of the hint by kernel name and launch grid
 * ({@link KernelNames}), named "ROLE (inferred from kernel name)"; otherwise it stays unmapped under the graph
 * launch's or the kernel's name. Ops nest by time on each thread (a child lies inside its parent's
 * [ts, ts + dur]); the operators are the ops that launched GPU work themselves: the innermost op of each launch (so
 * {@code aten::linear} -> {@code aten::addmm} yields one GEMM, the addmm's), each counted once. Ops that launched
 * nothing (views, allocations, host-side ops) are not device operators. A trace without any GPU activity (profiled
 * on the CPU alone) yields the innermost ops the importer can map, without measured times. For a multi-rank replay
 * ({@link RankTraces}) the top-level {@code distributedInfo} block gives the trace's rank and world size, and each
 * collective carries the process group its {@code record_param_comms} names ({@link ImportedOp#group}).
 *
 * <h2>What each operator gets</h2>
 * Ids from 0 in CPU launch order (start time, then file order); no dependencies (run one after another);
 * {@code layer} -1; {@code phase} DECODE when the nearest enclosing annotation's name holds "decode", PREFILL when it
 * holds "prefill" or "extend", else PREFILL; {@code step} of a decode operator the number of the enclosing
 * {@code ProfilerStep#N} less the trace's first (0 without one), of a prefill operator 0; the name is the op's with commas and quotes dropped; the measured time is the sum
 * of its kernels' {@code dur} (microseconds in the trace), NaN when none was recorded.
 *
 * <h2>Bad input</h2>
 * A truncated or corrupt file, a JSON document without {@code traceEvents}, an event of the wrong type, or a dtype
 * text PyTorch never writes on an op the importer maps is an InputException naming the file and the event
 * ({@code traceEvents[i]}, counted from 0) or the byte offset in the (decompressed) JSON.
 */
final class KinetoImporter implements TraceImporter {
    /** Lenient where Chrome's own trace viewer is (NaN, a trailing comma, raw control characters in names). */
    private static final JsonFactory JSON = JsonFactory.builder()
        .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
        .enable(JsonReadFeature.ALLOW_TRAILING_COMMA)
        .enable(JsonReadFeature.ALLOW_UNESCAPED_CONTROL_CHARS)
        .enable(JsonReadFeature.ALLOW_BACKSLASH_ESCAPING_ANY_CHARACTER)
        .build();

    @Override
    public String format() {
        return "kineto";
    }

    /**
     * Any JSON document: an object whose first member has a name, or an array of objects (the Chrome trace-event
     * format's two forms). Kineto's own files begin with {@code schemaVersion}, but tools that post-process them
     * put their metadata first, so no member name is required; a JSON file that is no trace gets a message that
     * says what was expected.
     */
    @Override
    public boolean recognises(byte[] head, int length) {
        int i = 0;
        if (length >= 3 && (head[0] & 0xff) == 0xef && (head[1] & 0xff) == 0xbb && (head[2] & 0xff) == 0xbf) {
            i = 3;
        }
        i = skipSpace(head, i, length);
        if (i >= length || (head[i] != '{' && head[i] != '[')) {
            return false;
        }
        byte open = head[i];
        i = skipSpace(head, i + 1, length);
        if (i >= length) {
            return true;
        }
        return open == '{' ? head[i] == '"' || head[i] == '}' : head[i] == '{' || head[i] == ']';
    }

    private static int skipSpace(byte[] b, int i, int length) {
        while (i < length && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t')) {
            i++;
        }
        return i;
    }

    @Override
    public Coverage read(Path file, Consumer<ImportedOp> out) {
        return new Reading(file, null).run(out);
    }

    @Override
    public Coverage read(Path file, Consumer<ImportedOp> out, ModelHint hint) {
        return new Reading(file, hint).run(out);
    }

    /**
     * A trace's coverage with the rank and world size its {@code distributedInfo} records (-1: none), and what was
     * wrong with them ({@code problem}, null: nothing).
     */
    record Ranked(Coverage coverage, int rank, int worldSize, String problem) {}

    /** Reads {@code file} as {@link #read(Path, Consumer)} does, with its rank ({@link RankTraces}). */
    Ranked readRanked(Path file, Consumer<ImportedOp> out) {
        Reading reading = new Reading(file, null);
        Coverage coverage = reading.run(out);
        return new Ranked(coverage, reading.rank, reading.worldSize, reading.distributedProblem);
    }

    private static final int CAT_OTHER = 0;
    private static final int CAT_OP = 1;
    private static final int CAT_ANNOTATION = 2;
    private static final int CAT_KERNEL = 3;
    private static final int CAT_RUNTIME = 4;

    private static int category(String cat) {
        if (cat == null) {
            return CAT_OTHER;
        }
        return switch (cat.toLowerCase(Locale.ROOT)) {
            case "cpu_op", "operator" -> CAT_OP;
            case "user_annotation" -> CAT_ANNOTATION;
            case "kernel", "gpu_memcpy", "gpu_memset", "memcpy", "memset" -> CAT_KERNEL;
            case "cuda_runtime", "cuda_driver", "runtime", "driver", "hip_runtime", "hip_driver" -> CAT_RUNTIME;
            default -> CAT_OTHER;
        };
    }

    /** A kernel's function name without return type, namespaces, template and parameters. */
    static String shortKernelName(String name) {
        String s = name.replace("(anonymous namespace)::", "").trim();
        if (s.startsWith("void ")) {
            s = s.substring(5).trim();
        }
        int end = s.length();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '<' || c == '(') {
                end = i;
                break;
            }
        }
        s = s.substring(0, end);
        int colon = s.lastIndexOf("::");
        if (colon >= 0) {
            s = s.substring(colon + 2);
        }
        s = clean(s);
        return s.isEmpty() ? "unnamed" : s.length() > 120 ? s.substring(0, 120) : s;
    }

    /** A name as the trace keeps it: trimmed, never empty (commas and quotes stay: the CSV writer quotes them). */
    static String clean(String name) {
        String s = name.trim();
        return s.isEmpty() ? "unnamed" : s;
    }

    /** "[-]digits[.digits]" microseconds as nanoseconds (rounded half up), or MIN_VALUE for other forms. */
    static long decimalNs(char[] c, int offset, int length) {
        int i = offset;
        int end = offset + length;
        boolean negative = i < end && c[i] == '-';
        if (negative) {
            i++;
        }
        long us = 0;
        int digits = 0;
        while (i < end && c[i] >= '0' && c[i] <= '9') {
            if (++digits > 16) {
                return Long.MIN_VALUE;
            }
            us = us * 10 + (c[i++] - '0');
        }
        long frac = 0;
        int scale = 0;
        boolean roundUp = false;
        if (i < end && c[i] == '.') {
            i++;
            while (i < end && c[i] >= '0' && c[i] <= '9') {
                if (scale < 3) {
                    frac = frac * 10 + (c[i] - '0');
                    scale++;
                } else if (scale == 3) {
                    roundUp = c[i] >= '5';
                    scale++;
                }
                i++;
            }
        }
        if (i != end || digits == 0 || us >= Long.MAX_VALUE / 1000 - 1) {
            return Long.MIN_VALUE;
        }
        for (int s = Math.min(scale, 3); s < 3; s++) {
            frac *= 10;
        }
        long ns = us * 1000 + frac + (roundUp ? 1 : 0);
        return negative ? -ns : ns;
    }

    /** The state of one import: compact per-event arrays, filled by one pass, then linked and emitted. */
    private static final class Reading {
        private final Path file;
        private final String where;
        private final KinetoMapper mapper = new KinetoMapper();
        private final KinetoArgs args = new KinetoArgs();

        private final Map<String, Integer> nameIds = new HashMap<>();
        private final List<String> names = new ArrayList<>();
        private final Map<String, Integer> threadIds = new HashMap<>();

        // Ops (cpu_op) and annotations (user_annotation), by record index.
        private final Longs opStart = new Longs();
        private final Longs opEnd = new Longs();
        private final Longs opExt = new Longs();
        private final Ints opThread = new Ints();
        private final Ints opName = new Ints();
        private final Ints opEvent = new Ints();
        private final Ints opShape = new Ints();
        private final Bytes opCategory = new Bytes();

        // Shapes of ops the mapper knows, by shape index.
        private final Bytes shapeOutcome = new Bytes();
        private final Bytes shapeKind = new Bytes();
        private final Bytes shapeDtype = new Bytes();
        private final Bytes shapeFlags = new Bytes();
        private final Longs shapeBatch = new Longs();
        private final Longs shapeM = new Longs();
        private final Longs shapeN = new Longs();
        private final Longs shapeK = new Longs();
        private final Longs shapeElements = new Longs();
        private final Ints shapeDetail = new Ints();
        /** Per shape: its collective's process group (an index into groupNames and groupRanks), -1 for other ops. */
        private final Ints shapeGroup = new Ints();
        private final List<String> groupNames = new ArrayList<>();
        private final List<List<Integer>> groupRanks = new ArrayList<>();
        private final Map<String, Integer> groupIds = new HashMap<>();
        /** distributedInfo's rank and world_size (-1: not recorded), and what was wrong with them (null: nothing). */
        private int rank = -1;
        private int worldSize = -1;
        private String distributedProblem;

        // GPU activity.
        private final Longs kernelExt = new Longs();
        private final Longs kernelCorrelation = new Longs();
        private final Longs kernelNs = new Longs();
        private final Ints kernelName = new Ints();
        private final Map<String, Integer> kernelShortNames = new HashMap<>();
        private final Longs kernelStart = new Longs();
        /** Per kernel: its full name and launch configuration (grid, block), as an index into signatureIds. */
        private final Ints kernelSignature = new Ints();
        /** Per kernel: its launch grid's x and y, -1 when not recorded (a ROCm graph replay records none). */
        private final Longs kernelGridX = new Longs();
        private final Longs kernelGridY = new Longs();
        /** Per kernel: its full name (a template may name the GEMM: {@code cutlass::Kernel2<cutlass_80_...>}). */
        private final Ints kernelFullName = new Ints();
        private final Map<String, Integer> signatureIds = new HashMap<>();
        private final Set<Long> streams = new HashSet<>();
        private long totalNs;

        // Runtime launches.
        private final LongLongMap launchExtByCorrelation = new LongLongMap();
        private final LongLongMap graphLaunchByCorrelation = new LongLongMap();
        /** Each graph launch's correlation and event index, to name one whose kernels the trace lacks. */
        private final Longs graphLaunchCorrelation = new Longs();
        private final Ints graphLaunchEvent = new Ints();
        private final Longs launchExt = new Longs();

        private int eventIndex;
        private boolean sawEvents;
        private boolean insideEvents;
        private JsonParser parser;

        /** The model graph replays ran (null: none given), for kernels no op launched. */
        private final ModelHint hint;

        Reading(Path file, ModelHint hint) {
            this.file = file;
            this.hint = hint;
            this.where = file.toString();
        }

        Coverage run(Consumer<ImportedOp> out) {
            scan();
            return emit(out);
        }

        // ------------------------------------------------------------ the pass over the file

        private void scan() {
            try (InputStream in = Importers.open(file)) {
                parser = JSON.createParser(in);
                JsonToken t = parser.nextToken();
                if (t == JsonToken.START_ARRAY) {
                    sawEvents = true;
                    readEvents();
                } else if (t == JsonToken.START_OBJECT) {
                    while ((t = parser.nextToken()) == JsonToken.FIELD_NAME) {
                        String key = parser.currentName();
                        JsonToken v = parser.nextToken();
                        if (key.equals("traceEvents")) {
                            if (v != JsonToken.START_ARRAY) {
                                throw InputException.located(where + ": 'traceEvents' must be a list of events, not "
                                    + describe(v));
                            }
                            sawEvents = true;
                            readEvents();
                        } else if (key.equals("distributedInfo") && v == JsonToken.START_OBJECT) {
                            readDistributedInfo();
                        } else {
                            parser.skipChildren();
                        }
                    }
                    if (t != JsonToken.END_OBJECT) {
                        throw new JsonEOFException(parser, t, "end of input inside the top-level object");
                    }
                }
                if (!sawEvents) {
                    throw InputException.located(where + ": not a PyTorch profiler trace: expected a JSON object with a"
                        + " 'traceEvents' list (Chrome trace-event format, as torch.profiler writes it)");
                }
                if (eventIndex == 0) {
                    throw InputException.located(where + ": 'traceEvents' is empty: no ops or kernels to import");
                }
                if (opStart.size() == 0 && kernelNs.size() == 0 && graphLaunchEvent.size() > 0) {
                    throw InputException.located(where + ": no op could be imported as an operator; the first,"
                        + " traceEvents[" + graphLaunchEvent.get(0) + "] (" + clean(names.get((int)
                        graphLaunchByCorrelation.get(graphLaunchCorrelation.get(0), 0))) + "): a graph replay without"
                        + " kernels (the profiler recorded the launch but none of the graph's kernels) and no PyTorch"
                        + " ops ('cpu_op' events)");
                }
                if (opStart.size() == 0 && kernelNs.size() == 0) {
                    throw InputException.located(where + ": no PyTorch ops ('cpu_op' events) and no GPU kernels among"
                        + " its " + eventIndex + " events: not a PyTorch profiler trace (a Chrome trace from another"
                        + " tool?)");
                }
            } catch (JsonEOFException e) {
                throw InputException.located(where + ": truncated: the JSON ends at byte " + byteOffset(e)
                    + inEvent() + "; the file is cut short");
            } catch (StreamConstraintsException e) {
                throw InputException.located(where + ": " + firstLine(e.getOriginalMessage()) + " at byte "
                    + byteOffset(e) + inEvent());
            } catch (JsonProcessingException e) {
                throw InputException.located(where + ": corrupt JSON at byte " + byteOffset(e) + inEvent() + ": "
                    + firstLine(e.getOriginalMessage()));
            } catch (EOFException e) {
                throw InputException.located(where + ": truncated: the gzip stream ends early, at byte "
                    + parserOffset() + " of the JSON" + inEvent());
            } catch (ZipException e) {
                throw InputException.located(where + ": corrupt gzip data near byte " + parserOffset()
                    + " of the JSON" + inEvent() + " (" + firstLine(e.getMessage()) + ")");
            } catch (IOException e) {
                throw InputException.located(where + ": cannot read (" + firstLine(e.getMessage()) + ")" + inEvent());
            } finally {
                if (parser != null) {
                    try {
                        parser.close();
                    } catch (IOException ignored) {
                        // the stream is closed by the try-with-resources
                    }
                }
            }
        }

        /**
         * The {@code distributedInfo} block PyTorch's profiler adds under torch.distributed
         * ({@code torch/profiler/profiler.py}, {@code _get_distributed_info}): its {@code rank} and
         * {@code world_size}; the rest ({@code backend}, {@code pg_config}, ...) is not needed.
         */
        private void readDistributedInfo() throws IOException {
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String key = parser.currentName();
                JsonToken v = parser.nextToken();
                if (key.equals("rank") || key.equals("world_size")) {
                    if (v != JsonToken.VALUE_NUMBER_INT || parser.getLongValue() < 0
                        || parser.getLongValue() > Integer.MAX_VALUE || key.equals("world_size")
                        && parser.getLongValue() == 0) {
                        // Only a multi-rank replay needs them: a single device's import goes on without.
                        if (distributedProblem == null) {
                            distributedProblem = "distributedInfo." + key + ": expected a" + (key.equals("rank")
                                ? " non-negative" : " positive") + " integer, got " + (v.isScalarValue() ? "'"
                                + parser.getText() + "'" : describe(v));
                        }
                        parser.skipChildren();
                    } else if (key.equals("rank")) {
                        rank = parser.getIntValue();
                    } else {
                        worldSize = parser.getIntValue();
                    }
                } else {
                    parser.skipChildren();
                }
            }
        }

        private String inEvent() {
            return insideEvents ? " (in traceEvents[" + eventIndex + "])" : "";
        }

        private long byteOffset(JsonProcessingException e) {
            if (e.getLocation() != null && e.getLocation().getByteOffset() >= 0) {
                return e.getLocation().getByteOffset();
            }
            return parserOffset();
        }

        private long parserOffset() {
            return parser == null ? 0 : Math.max(0, parser.currentLocation().getByteOffset());
        }

        private static String firstLine(String s) {
            if (s == null) {
                return "unknown error";
            }
            int nl = s.indexOf('\n');
            // Jackson names its own settings ("from `StreamReadConstraints.getMaxNestingDepth()`"): no use to a user
            return (nl < 0 ? s : s.substring(0, nl)).replaceAll(", from `[^`]*`", "").trim();
        }

        private static String describe(JsonToken t) {
            if (t == null) {
                return "the end of the file";
            }
            return switch (t) {
                case START_OBJECT -> "an object";
                case START_ARRAY -> "a list";
                case VALUE_STRING -> "a string";
                case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
                case VALUE_TRUE, VALUE_FALSE -> "a boolean";
                case VALUE_NULL -> "null";
                default -> t.toString();
            };
        }

        private void readEvents() throws IOException {
            insideEvents = true;
            JsonToken t;
            while ((t = parser.nextToken()) != JsonToken.END_ARRAY) {
                if (t == null) {
                    throw new JsonEOFException(parser, null, "end of input inside traceEvents");
                }
                try {
                    if (t != JsonToken.START_OBJECT) {
                        throw new InputException("expected an event object, found " + describe(t));
                    }
                    readEvent();
                } catch (InputException e) {
                    throw e.isLocated() ? e : e.at(where + ": traceEvents[" + eventIndex + "]");
                }
                eventIndex++;
            }
            insideEvents = false;
        }

        /**
         * The text of a string value, else null, with the value passed over: a list or an object where a string
         * belongs is skipped whole, so that the next token read is the event's next key, not the value's inside.
         */
        private String string(JsonToken v) throws IOException {
            if (v == JsonToken.VALUE_STRING) {
                return parser.getText();
            }
            parser.skipChildren();
            return null;
        }

        private void readEvent() throws IOException {
            String ph = null;
            String cat = null;
            String name = null;
            long pid = 0;
            long tid = 0;
            String pidText = null;
            String tidText = null;
            long startNs = Long.MIN_VALUE;
            long durNs = Long.MIN_VALUE;
            args.clear();
            JsonToken t;
            while ((t = parser.nextToken()) == JsonToken.FIELD_NAME) {
                String key = parser.currentName();
                JsonToken v = parser.nextToken();
                switch (key) {
                    case "ph" -> ph = string(v);
                    case "cat" -> cat = string(v);
                    case "name" -> name = string(v);
                    case "pid" -> {
                        if (v == JsonToken.VALUE_NUMBER_INT) {
                            pid = parser.getLongValue();
                        } else {
                            pidText = v.isScalarValue() ? parser.getText() : "";
                            parser.skipChildren();
                        }
                    }
                    case "tid" -> {
                        if (v == JsonToken.VALUE_NUMBER_INT) {
                            tid = parser.getLongValue();
                        } else {
                            tidText = v.isScalarValue() ? parser.getText() : "";
                            parser.skipChildren();
                        }
                    }
                    case "ts" -> startNs = nanoseconds(v, "ts");
                    case "dur" -> durNs = nanoseconds(v, "dur");
                    case "args" -> {
                        if (v == JsonToken.START_OBJECT) {
                            args.read(parser);
                        } else {
                            parser.skipChildren();
                        }
                    }
                    default -> parser.skipChildren();
                }
            }
            if (t != JsonToken.END_OBJECT) {
                throw new JsonEOFException(parser, t, "end of input inside an event");
            }
            int category = category(cat);
            if (category == CAT_OTHER || !"X".equals(ph)) {
                return;
            }
            if (startNs == Long.MIN_VALUE) {
                throw new InputException("a '" + cat + "' event needs a numeric 'ts' (microseconds)");
            }
            if (durNs == Long.MIN_VALUE || durNs < 0) {
                throw new InputException("a '" + cat + "' event needs a non-negative numeric 'dur' (microseconds)");
            }
            String n = name == null ? "unnamed" : name;
            switch (category) {
                case CAT_OP, CAT_ANNOTATION -> {
                    String thread = (pidText != null ? pidText : Long.toString(pid)) + "/"
                        + (tidText != null ? tidText : Long.toString(tid));
                    Integer th = threadIds.get(thread);
                    if (th == null) {
                        th = threadIds.size();
                        threadIds.put(thread, th);
                    }
                    int shape = -1;
                    if (category == CAT_OP) {
                        Result r;
                        try {
                            r = mapper.map(n, args);
                        } catch (InputException e) {
                            throw new InputException(n + ": " + e.getMessage());
                        }
                        if (r.outcome != Outcome.UNKNOWN_OP) {
                            shape = storeShape(r);
                        }
                    }
                    opStart.add(startNs);
                    opEnd.add(startNs + durNs);
                    opExt.add(args.externalId);
                    opThread.add(th);
                    opName.add(nameId(n));
                    opEvent.add(eventIndex);
                    opShape.add(shape);
                    opCategory.add(category);
                }
                case CAT_KERNEL -> {
                    if (KernelNames.family(n) != KernelNames.Family.OTHER
                        && KernelNames.impossibleLaunch(args.launchConfig)) {
                        // a corrupt record: nothing about this kernel, its shape or its time, can be trusted
                        throw new InputException("kernel " + shortKernelName(n) + ": grid and block "
                            + args.launchConfig + " launch no thread; expected dimensions of at least 1");
                    }
                    Integer shortName = kernelShortNames.get(n);
                    if (shortName == null) {
                        // a name's tile is checked once, at its first event
                        long[] tile = KernelNames.family(n) == KernelNames.Family.GEMM ? KernelNames.gemmTile(n) : null;
                        if (tile != null && (tile[0] < 1 || tile[1] < 1)) {
                            throw new InputException("GEMM kernel " + shortKernelName(n) + ": the tile its name gives, "
                                + tile[0] + "x" + tile[1] + ", computes nothing; expected tile sizes of at least 1");
                        }
                        shortName = nameId("kernel " + shortKernelName(n));
                        kernelShortNames.put(n, shortName);
                    }
                    String signature = n + '\n' + args.launchConfig;
                    Integer sig = signatureIds.get(signature);
                    if (sig == null) {
                        sig = signatureIds.size();
                        signatureIds.put(signature, sig);
                    }
                    kernelSignature.add(sig);
                    long[] grid = gridXY(args.grid);
                    kernelGridX.add(grid[0]);
                    kernelGridY.add(grid[1]);
                    kernelFullName.add(nameId(n));
                    kernelStart.add(startNs);
                    kernelExt.add(args.externalId);
                    kernelCorrelation.add(args.correlation);
                    kernelNs.add(durNs);
                    kernelName.add(shortName);
                    totalNs += durNs;
                    if (args.stream >= 0 && streams.size() < 1024) {
                        streams.add(args.stream);
                    }
                }
                case CAT_RUNTIME -> {
                    if (args.correlation < 0) {
                        return;
                    }
                    if (n.contains("GraphLaunch")) {
                        graphLaunchByCorrelation.put(args.correlation, nameId(n));
                        graphLaunchCorrelation.add(args.correlation);
                        graphLaunchEvent.add(eventIndex);
                    } else if ((n.contains("Launch") || n.contains("Memcpy") || n.contains("Memset"))
                        && args.externalId >= 0) {
                        launchExtByCorrelation.put(args.correlation, args.externalId);
                        launchExt.add(args.externalId);
                    }
                }
                default -> { }
            }
        }

        /**
         * A time in microseconds as whole nanoseconds, read from the number's digits (not through a double, whose
         * 53 bits cannot hold the nanoseconds of an epoch-based timestamp of 1.7e15 us).
         */
        private long nanoseconds(JsonToken v, String key) throws IOException {
            if (v == JsonToken.VALUE_NUMBER_INT) {
                long us = parser.getLongValue();
                if (Math.abs(us) < Long.MAX_VALUE / 1000) {
                    return us * 1000;
                }
            } else if (v == JsonToken.VALUE_NUMBER_FLOAT) {
                long ns = decimalNs(parser.getTextCharacters(), parser.getTextOffset(), parser.getTextLength());
                if (ns != Long.MIN_VALUE) {
                    return ns;
                }
                double d = parser.getDoubleValue() * 1000;
                if (Double.isFinite(d) && Math.abs(d) < 9e18) {
                    return Math.round(d);
                }
            }
            parser.skipChildren();
            throw new InputException("'" + key + "' must be a finite number (microseconds)");
        }


        /** {x, y} of a grid as KinetoArgs writes it ("[8, 8, 1]"), -1 each where absent or not a whole number. */
        private static long[] gridXY(String grid) {
            long[] xy = {-1, -1};
            String[] parts = grid.replace("[", "").replace("]", "").split(",");
            for (int i = 0; i < 2 && i < parts.length; i++) {
                try {
                    xy[i] = Long.parseLong(parts[i].trim());
                } catch (NumberFormatException e) {
                    xy[i] = -1;
                }
            }
            return xy;
        }

        private int nameId(String n) {
            Integer id = nameIds.get(n);
            if (id == null) {
                id = names.size();
                nameIds.put(n, id);
                names.add(n);
            }
            return id;
        }

        private int storeShape(Result r) {
            shapeOutcome.add(r.outcome.ordinal());
            shapeKind.add(r.kind == null ? -1 : r.kind.ordinal());
            shapeDtype.add(r.dataType == null ? -1 : r.dataType.ordinal());
            shapeFlags.add((r.rows ? 1 : 0) | (r.causal ? 2 : 0) | (r.dtypeAssumed ? 4 : 0));
            shapeBatch.add(r.batch);
            shapeM.add(r.m);
            shapeN.add(r.n);
            shapeK.add(r.k);
            shapeElements.add(r.elements);
            shapeDetail.add(r.detail == null ? -1 : nameId(r.detail));
            shapeGroup.add(args.collectiveName == null ? -1 : groupId());
            return shapeOutcome.size() - 1;
        }

        /** The current event's process group, numbered as first seen. */
        private int groupId() {
            String name = args.groupName == null ? "" : args.groupName;
            String key = name + '\n' + args.groupRanks + '\n' + args.groupRankStart + '\n' + args.groupRankStride
                + '\n' + args.groupSize;
            Integer id = groupIds.get(key);
            if (id == null) {
                id = groupNames.size();
                groupIds.put(key, id);
                groupNames.add(name);
                groupRanks.add(RankTraces.groupRanks(args.groupRanks, args.groupRankStart, args.groupRankStride,
                    args.groupSize));
            }
            return id;
        }

        /** An emitted operator of shape {@code s} (-1: none), recorded by op {@code i} (-1: none). */
        private ImportedOp imported(Operator op, double measuredS, int s, int i) {
            int g = s < 0 ? -1 : shapeGroup.get(s);
            if (g < 0 || !op.kind().isCollective()) {
                return new ImportedOp(op, measuredS);
            }
            String event = i < 0 ? op.name() : "traceEvents[" + opEvent.get(i) + "] (" + clean(names.get(opName.get(i)))
                + ")";
            return new ImportedOp(op, measuredS, new ImportedOp.ProcessGroup(groupNames.get(g), groupRanks.get(g),
                event));
        }

        // ------------------------------------------------------------ linking, nesting and emission

        private Coverage emit(Consumer<ImportedOp> out) {
            int ops = opStart.size();
            LongLongMap opByExt = new LongLongMap();
            for (int i = 0; i < ops; i++) {
                if (opExt.get(i) >= 0) {
                    opByExt.put(opExt.get(i), i);
                }
            }
            // Kernels to the ops that launched them; the rest to graph launches or to their own names, unless an op
            // elsewhere launched the same kernel with the same grid and block alone: then it takes that op's shape.
            long[] opNs = new long[ops];
            int[] opKernels = new int[ops];
            int[] opKernel = new int[ops]; // an op's last kernel: with opKernels 1, the one that ran it
            long[] opGpuStart = new long[ops];
            java.util.Arrays.fill(opGpuStart, Long.MAX_VALUE);
            int kernels = kernelNs.size();
            int[] kernelOp = new int[kernels];
            for (int j = 0; j < kernels; j++) {
                long corr = kernelCorrelation.get(j);
                kernelOp[j] = -1;
                if (corr >= 0 && graphLaunchByCorrelation.contains(corr)) {
                    continue;
                }
                long ext = kernelExt.get(j) >= 0 ? kernelExt.get(j)
                    : corr >= 0 ? launchExtByCorrelation.get(corr, -1) : -1;
                int op = ext >= 0 ? (int) opByExt.get(ext, -1) : -1;
                if (op >= 0 && opCategory.get(op) == CAT_OP) {
                    kernelOp[j] = op;
                    opNs[op] += kernelNs.get(j);
                    opKernels[op]++;
                    opKernel[op] = j;
                    opGpuStart[op] = Math.min(opGpuStart[op], kernelStart.get(j));
                }
            }
            // Per signature: the op whose shape it stands for (-1: none, or ops that disagree, or an op of several
            // kernels or not mapped, so one kernel is not the whole operator).
            int[] sourceOp = new int[signatureIds.size()];
            java.util.Arrays.fill(sourceOp, -2);
            for (int j = 0; j < kernels; j++) {
                int op = kernelOp[j];
                if (op < 0) {
                    continue;
                }
                int sig = kernelSignature.get(j);
                int sh = opShape.get(op);
                boolean whole = opKernels[op] == 1 && sh >= 0 && shapeOutcome.get(sh) == Outcome.MAPPED.ordinal()
                    && shapeDtype.get(sh) >= 0;
                if (!whole) {
                    sourceOp[sig] = -1;
                } else if (sourceOp[sig] == -2) {
                    sourceOp[sig] = op;
                } else if (sourceOp[sig] >= 0 && !sameShape(opShape.get(sourceOp[sig]), sh)) {
                    sourceOp[sig] = -1;
                }
            }
            long firstOpNs = Long.MAX_VALUE;
            for (int i = 0; i < ops; i++) {
                if (opCategory.get(i) == CAT_OP) {
                    firstOpNs = Math.min(firstOpNs, opStart.get(i));
                }
            }
            // With a model hint: each graph replay's kernels, and each run of kernels that no recorded op launched
            // outside replays, in GPU order, by kernel name and launch grid (KernelNames).
            KernelNames.KernelShape[] hinted = null;
            long[] foldedNs = new long[kernels];
            String hintProblem = null;
            long replaysByGrid = 0;
            if (hint != null) {
                hinted = new KernelNames.KernelShape[kernels];
                Map<Long, Ints> byLaunch = new LinkedHashMap<>();
                for (int j = 0; j < kernels; j++) {
                    long corr = kernelCorrelation.get(j);
                    if (corr >= 0 && graphLaunchByCorrelation.contains(corr)) {
                        byLaunch.computeIfAbsent(corr, x -> new Ints()).add(j);
                    }
                }
                for (Map.Entry<Long, Ints> e : byLaunch.entrySet()) {
                    int[] step = new int[e.getValue().size()];
                    for (int x = 0; x < step.length; x++) {
                        step[x] = e.getValue().get(x);
                    }
                    KinetoArrays.sort(step, (a, b) -> Long.compare(kernelStart.get(a), kernelStart.get(b)));
                    KernelNames.StepShapes shapes = KernelNames.decodeStep(launches(step), hint);
                    KernelNames.KernelShape[] ks = shapes.shapes();
                    if (shapes.problem() != null) {
                        ks = KernelNames.byGrid(launches(step), hint);
                        if (ks != null) {
                            replaysByGrid++;
                        } else if (hintProblem == null) {
                            hintProblem = "the graph launch with correlation " + e.getKey() + ": " + shapes.problem();
                        }
                    }
                    if (ks != null) {
                        hint(step, ks, hinted, foldedNs, sourceOp);
                    }
                }
                int[] byStart = new int[kernels];
                for (int j = 0; j < kernels; j++) {
                    byStart[j] = j;
                }
                KinetoArrays.sort(byStart, (a, b) -> Long.compare(kernelStart.get(a), kernelStart.get(b)));
                Ints run = new Ints();
                for (int x = 0; x <= kernels; x++) {
                    int j = x < kernels ? byStart[x] : -1;
                    long corr = j >= 0 ? kernelCorrelation.get(j) : -1;
                    if (j >= 0 && kernelOp[j] < 0 && !(corr >= 0 && graphLaunchByCorrelation.contains(corr))
                        && sourceOp[kernelSignature.get(j)] < 0) {
                        run.add(j);
                        continue;
                    }
                    if (run.size() > 0) {
                        int[] step = new int[run.size()];
                        for (int y = 0; y < step.length; y++) {
                            step[y] = run.get(y);
                        }
                        run = new Ints();
                        KernelNames.StepShapes shapes = KernelNames.decodeStep(launches(step), hint);
                        KernelNames.KernelShape[] ks = shapes.problem() == null ? shapes.shapes()
                            : KernelNames.byGrid(launches(step), hint);
                        if (ks != null) {
                            hint(step, ks, hinted, foldedNs, sourceOp);
                        }
                    }
                }
            }
            Map<String, long[]> graphs = new LinkedHashMap<>();
            LongLongMap graphLaunchesSeen = new LongLongMap();
            Map<String, long[]> orphans = new LinkedHashMap<>();
            Ints inferred = new Ints();
            long graphKernels = 0;
            long graphNs = 0;
            long graphInferred = 0;
            long orphanKernels = 0;
            long orphanNs = 0;
            long earlyKernels = 0;
            long earlyNs = 0;
            long earlyInferred = 0;
            long inferredNs = 0;
            long hintedOps = 0;
            long hintedKernels = 0;
            long hintedNs = 0;
            Map<String, Integer> hintedRoles = new TreeMap<>();
            long[] hintedGrid = new long[3]; // GEMMs of replays: grid-checked, role from grid, M from grid
            long signatureOps = 0;
            long outsideOps = 0;
            long outsideKernels = 0;
            long outsideNs = 0;
            long earlyHinted = 0;
            long orphanHinted = 0;
            Map<String, Integer> outsideRoles = new TreeMap<>();
            long[] outsideGrid = new long[3];
            for (int j = 0; j < kernels; j++) {
                if (kernelOp[j] >= 0) {
                    continue;
                }
                long corr = kernelCorrelation.get(j);
                long ns = kernelNs.get(j);
                boolean graph = corr >= 0 && graphLaunchByCorrelation.contains(corr);
                boolean early = !graph && kernelStart.get(j) < firstOpNs;
                if (graph) {
                    String g = names.get((int) graphLaunchByCorrelation.get(corr, 0));
                    long[] v = graphs.computeIfAbsent(g, x -> new long[3]);
                    if (!graphLaunchesSeen.contains(corr)) {
                        graphLaunchesSeen.put(corr, 1);
                        v[0]++;
                    }
                    graphKernels++;
                    graphNs += ns;
                } else if (early) {
                    earlyKernels++;
                    earlyNs += ns;
                } else {
                    orphanKernels++;
                    orphanNs += ns;
                }
                if (sourceOp[kernelSignature.get(j)] >= 0) {
                    inferred.add(j);
                    inferredNs += ns;
                    signatureOps++;
                    graphInferred += graph ? 1 : 0;
                    earlyInferred += early ? 1 : 0;
                    continue;
                }
                if (hinted != null && hinted[j] != null) {
                    KernelNames.KernelShape ks = hinted[j];
                    if (graph) {
                        hintedKernels++;
                        hintedNs += ns;
                    } else {
                        outsideKernels++;
                        outsideNs += ns;
                        earlyHinted += early ? 1 : 0;
                        orphanHinted += early ? 0 : 1;
                    }
                    if (!ks.foldIntoPrevious()) {
                        inferred.add(j);
                        (graph ? hintedRoles : outsideRoles).merge(ks.role(), 1, Integer::sum);
                        long[] grid = graph ? hintedGrid : outsideGrid;
                        grid[0] += ks.gridChecked() ? 1 : 0;
                        grid[1] += ks.roleFromGrid() ? 1 : 0;
                        grid[2] += ks.mFromGrid() ? 1 : 0;
                        if (graph) {
                            hintedOps++;
                        } else {
                            outsideOps++;
                        }
                    }
                    continue;
                }
                long[] v = graph ? graphs.get(names.get((int) graphLaunchByCorrelation.get(corr, 0)))
                    : orphans.computeIfAbsent(names.get(kernelName.get(j)), x -> new long[2]);
                v[graph ? 2 : 0]++; // a graph's count is of its launches; [2] its kernels left unmapped
                v[1] += ns;
            }
            int[] inferredOrder = new int[inferred.size()];
            for (int x = 0; x < inferredOrder.length; x++) {
                inferredOrder[x] = inferred.get(x);
            }
            KinetoArrays.sort(inferredOrder, (a, b) -> Long.compare(kernelStart.get(a), kernelStart.get(b)));
            boolean[] launched = new boolean[ops];
            for (int j = 0; j < launchExt.size(); j++) {
                int op = (int) opByExt.get(launchExt.get(j), -1);
                if (op >= 0) {
                    launched[op] = true;
                }
            }
            boolean gpuActivity = kernelNs.size() > 0 || launchExt.size() > 0;

            // Nesting by time on each thread: parents before children, a stack of open ops.
            int[] byThread = new int[ops];
            for (int i = 0; i < ops; i++) {
                byThread[i] = i;
            }
            KinetoArrays.sort(byThread, (a, b) -> {
                int c = Integer.compare(opThread.get(a), opThread.get(b));
                if (c == 0) {
                    c = Long.compare(opStart.get(a), opStart.get(b));
                }
                if (c == 0) {
                    c = Long.compare(opEnd.get(b), opEnd.get(a));
                }
                return c != 0 ? c : Integer.compare(opEvent.get(a), opEvent.get(b));
            });
            int[] parent = new int[ops];
            int[] stack = new int[Math.max(1, ops)];
            int depth = 0;
            int thread = -1;
            for (int i : byThread) {
                if (opThread.get(i) != thread) {
                    thread = opThread.get(i);
                    depth = 0;
                }
                while (depth > 0 && !(opStart.get(stack[depth - 1]) <= opStart.get(i)
                    && opEnd.get(stack[depth - 1]) >= opEnd.get(i))) {
                    depth--;
                }
                parent[i] = depth > 0 ? stack[depth - 1] : -1;
                stack[depth++] = i;
            }
            stack = null;

            // The operators: ops that launched GPU work themselves; on a CPU-only trace the innermost mapped ops.
            boolean[] selected = new boolean[ops];
            boolean[] below = new boolean[ops];
            boolean[] hasChild = new boolean[ops];
            for (int i = 0; i < ops; i++) {
                if (parent[i] >= 0) {
                    hasChild[parent[i]] = true;
                }
            }
            long skippedLeaves = 0;
            int firstSkipped = -1; // the op of the earliest event among them, named when nothing maps
            if (gpuActivity) {
                for (int i = 0; i < ops; i++) {
                    selected[i] = opCategory.get(i) == CAT_OP && (opKernels[i] > 0 || launched[i]);
                }
            } else {
                for (int x = ops - 1; x >= 0; x--) {
                    int i = byThread[x];
                    if (opCategory.get(i) == CAT_OP && !below[i]) {
                        int s = opShape.get(i);
                        selected[i] = s >= 0 && (shapeOutcome.get(s) == Outcome.MAPPED.ordinal()
                            || shapeOutcome.get(s) == Outcome.COLLECTIVE_UNRESOLVED.ordinal());
                        if (!selected[i] && !hasChild[i]) {
                            skippedLeaves++;
                            if (firstSkipped < 0 || opEvent.get(i) < opEvent.get(firstSkipped)) {
                                firstSkipped = i;
                            }
                        }
                    }
                    if (parent[i] >= 0 && (selected[i] || below[i])) {
                        below[parent[i]] = true;
                    }
                }
            }
            long idleOps = 0;
            long enclosingOps = 0;
            String enclosingExample = null;
            if (gpuActivity) {
                for (int x = ops - 1; x >= 0; x--) {
                    int i = byThread[x];
                    if (parent[i] >= 0 && (selected[i] || below[i])) {
                        below[parent[i]] = true;
                    }
                }
                for (int i = 0; i < ops; i++) {
                    if (opCategory.get(i) == CAT_OP && !selected[i]) {
                        if (below[i]) {
                            enclosingOps++;
                            if (enclosingExample == null) {
                                enclosingExample = clean(names.get(opName.get(i)));
                            }
                        } else {
                            idleOps++;
                        }
                    }
                }
            }
            byThread = null;

            int count = 0;
            for (int i = 0; i < ops; i++) {
                if (selected[i]) {
                    count++;
                }
            }
            int[] order = new int[count];
            count = 0;
            for (int i = 0; i < ops; i++) {
                if (selected[i]) {
                    order[count++] = i;
                }
            }
            KinetoArrays.sort(order, (a, b) -> {
                int c = Long.compare(opStart.get(a), opStart.get(b));
                return c != 0 ? c : Integer.compare(opEvent.get(a), opEvent.get(b));
            });

            long firstStep = Long.MAX_VALUE;
            for (int i = 0; i < ops; i++) {
                if (opCategory.get(i) == CAT_ANNOTATION) {
                    long s = profilerStep(names.get(opName.get(i)));
                    if (s >= 0) {
                        firstStep = Math.min(firstStep, s);
                    }
                }
            }

            // The most common dtype of the mapped operators, for ops whose dtype the trace does not record.
            int[] dtypeCounts = new int[DataType.values().length];
            for (int i : order) {
                int s = opShape.get(i);
                if (s >= 0 && shapeOutcome.get(s) == Outcome.MAPPED.ordinal() && shapeDtype.get(s) >= 0) {
                    dtypeCounts[shapeDtype.get(s)]++;
                }
            }
            int commonDtype = -1;
            for (int d = 0; d < dtypeCounts.length; d++) {
                if (dtypeCounts[d] > 0 && (commonDtype < 0 || dtypeCounts[d] > dtypeCounts[commonDtype])) {
                    commonDtype = d;
                }
            }
            long assumedDtype = 0;
            Map<String, long[]> unmapped = new LinkedHashMap<>();
            Map<String, Integer> dtypesNotModelled = new TreeMap<>();
            Map<String, Integer> collectivesNotModelled = new TreeMap<>();
            String firstShapeProblem = null;
            long shapeProblems = 0;
            long noShapes = 0;
            long unresolvedCollectives = 0;
            long singleDevice = 0;
            long decodeOps = 0;
            long mapped = 0;
            String firstUnmapped = null;
            long mappedNs = 0;
            long nextId = 0;
            int nextInferred = 0;
            int lastStep = 0;
            long gpuClock = Long.MIN_VALUE; // the GPU start of the ops emitted so far (they stay in CPU order)
            for (int at = 0; at <= order.length; at++) {
                int i = at < order.length ? order[at] : -1;
                if (i >= 0 && opGpuStart[i] != Long.MAX_VALUE) {
                    gpuClock = Math.max(gpuClock, opGpuStart[i]);
                }
                while (nextInferred < inferredOrder.length
                    && (i < 0 || kernelStart.get(inferredOrder[nextInferred]) < gpuClock)) {
                    int j = inferredOrder[nextInferred++];
                    int src = sourceOp[kernelSignature.get(j)];
                    if (src < 0) {
                        // from its kernel name and the model hint: a decode step
                        KernelNames.KernelShape ks = hinted[j];
                        long ns = kernelNs.get(j) + foldedNs[j];
                        out.accept(new ImportedOp(hintedOperator(nextId++, ks, lastStep), ns / 1e9));
                        mapped++;
                        mappedNs += ns;
                        continue;
                    }
                    Phase phase = phaseAndStep(src, parent, firstStep)[0] == 1 ? Phase.DECODE : Phase.PREFILL;
                    if (phase == Phase.DECODE) {
                        decodeOps++;
                    }
                    Operator op = named(operator(nextId++, clean(names.get(opName.get(src)))
                        + " (inferred from kernel)", phase, lastStep, opShape.get(src), commonDtype), j);
                    out.accept(imported(op, kernelNs.get(j) / 1e9, opShape.get(src), src));
                    mapped++;
                    mappedNs += kernelNs.get(j);
                }
                if (i < 0) {
                    break;
                }
                int s = opShape.get(i);
                String text = names.get(opName.get(i));
                Outcome outcome = s < 0 ? Outcome.UNKNOWN_OP : Outcome.values()[shapeOutcome.get(s)];
                if (outcome == Outcome.COLLECTIVE_UNRESOLVED) {
                    // The sizes are on the enclosing record_param_comms (nccl:* inside it launched the kernel), or
                    // on one inside (c10d::allreduce_ launched it around its record_param_comms).
                    int found = -1;
                    for (int p = parent[i]; p >= 0 && found < 0; p = parent[p]) {
                        if (isResolvedCollective(p)) {
                            found = opShape.get(p);
                        }
                    }
                    if (found < 0) {
                        found = collectiveBelow(i, parent);
                    }
                    if (found >= 0) {
                        s = found;
                        outcome = Outcome.values()[shapeOutcome.get(s)];
                    }
                }
                String detail = s >= 0 && shapeDetail.get(s) >= 0 ? names.get(shapeDetail.get(s)) : null;
                if (outcome == Outcome.MAPPED && shapeDtype.get(s) < 0) {
                    if (commonDtype < 0) {
                        outcome = Outcome.DTYPE_NOT_MODELLED;
                        detail = "tensor list without a recorded dtype";
                    } else {
                        assumedDtype++;
                    }
                }
                long ns = opNs[i];
                if (outcome == Outcome.MAPPED) {
                    int[] ps = phaseAndStep(i, parent, firstStep);
                    Phase phase = ps[0] == 1 ? Phase.DECODE : Phase.PREFILL;
                    int step = ps[1];
                    lastStep = step;
                    if (phase == Phase.DECODE) {
                        decodeOps++;
                    }
                    Operator op = operator(nextId++, clean(text), phase, step, s, commonDtype);
                    if (opKernels[i] == 1) {
                        op = named(op, opKernel[i]);
                    }
                    out.accept(imported(op, opKernels[i] > 0 ? ns / 1e9 : Double.NaN, s, i));
                    mapped++;
                    mappedNs += ns;
                    continue;
                }
                String key = clean(text);
                if (firstUnmapped == null) {
                    firstUnmapped = "traceEvents[" + opEvent.get(i) + "] (" + key + "): " + why(outcome, detail);
                }
                switch (outcome) {
                    case NO_SHAPES -> noShapes++;
                    case DTYPE_NOT_MODELLED -> dtypesNotModelled.merge(detail, 1, Integer::sum);
                    case SHAPE_NOT_UNDERSTOOD -> {
                        shapeProblems++;
                        if (firstShapeProblem == null) {
                            firstShapeProblem = key + " in traceEvents[" + opEvent.get(i) + "]: " + detail;
                        }
                    }
                    case COLLECTIVE_UNRESOLVED -> unresolvedCollectives++;
                    case COLLECTIVE_NOT_MODELLED -> {
                        collectivesNotModelled.merge(detail, 1, Integer::sum);
                        key = "collective " + detail;
                    }
                    case SINGLE_DEVICE -> {
                        singleDevice++;
                        key = "collective " + detail;
                    }
                    default -> { }
                }
                long[] v = unmapped.computeIfAbsent(key, x -> new long[2]);
                v[0]++;
                v[1] += ns;
            }
            for (Map.Entry<String, long[]> e : graphs.entrySet()) {
                if (e.getValue()[2] > 0) {
                    unmapped.merge(clean(e.getKey()), new long[] {e.getValue()[0], e.getValue()[1]}, Reading::add);
                }
            }
            for (Map.Entry<String, long[]> e : orphans.entrySet()) {
                unmapped.merge(clean(e.getKey()), e.getValue(), Reading::add);
            }

            List<String> notes = new ArrayList<>();
            if (graphKernels > 0) {
                long launches = 0;
                for (long[] v : graphs.values()) {
                    launches += v[0];
                }
                notes.add(graphKernels + " kernels (" + share(graphNs) + " of the measured GPU time) ran from "
                    + launches + " CUDA/HIP graph launch" + (launches == 1 ? "" : "es") + " ("
                    + String.join(", ", graphs.keySet()) + "): this trace was captured under CUDA graphs: a graph"
                    + " replay records no op, so per-op shapes are lost"
                    + (graphInferred + hintedKernels > 0 ? " (" + (graphInferred + hintedKernels) + " of them inferred"
                    + " from kernel names, below)" : "")
                    + "; for a trace that maps fully, record in eager mode with torch.profiler(record_shapes=True)"
                    + " (e.g. SGLang --disable-cuda-graph, vLLM enforce_eager=True)");
            }
            if (firstUnmapped == null && firstSkipped >= 0) {
                int s = opShape.get(firstSkipped);
                firstUnmapped = "traceEvents[" + opEvent.get(firstSkipped) + "] (" + clean(names.get(opName.get(
                    firstSkipped))) + "): " + (s < 0 ? why(Outcome.UNKNOWN_OP, null) : why(Outcome.values()[
                    shapeOutcome.get(s)], shapeDetail.get(s) >= 0 ? names.get(shapeDetail.get(s)) : null));
            }
            long emptyGraphLaunches = 0;
            String firstEmptyGraph = null;
            for (int g = 0; g < graphLaunchCorrelation.size(); g++) {
                if (!graphLaunchesSeen.contains(graphLaunchCorrelation.get(g))) {
                    emptyGraphLaunches++;
                    if (firstEmptyGraph == null) {
                        firstEmptyGraph = "traceEvents[" + graphLaunchEvent.get(g) + "] (" + clean(names.get((int)
                            graphLaunchByCorrelation.get(graphLaunchCorrelation.get(g), 0))) + ")";
                    }
                }
            }
            if (firstUnmapped == null && firstEmptyGraph != null) {
                firstUnmapped = firstEmptyGraph + ": a graph replay without kernels (the profiler recorded the launch"
                    + " but none of the graph's kernels)";
            }
            if (emptyGraphLaunches > 0) {
                notes.add(emptyGraphLaunches + " CUDA/HIP graph launches ran no recorded kernel (first: "
                    + firstEmptyGraph + "): the profiler recorded the launch but none of the graph's kernels");
            }
            if (mapped == 0 && firstUnmapped != null) {
                // a CSV of no operators would pass for an import: the user's trace holds nothing Rafter can run
                throw InputException.located(where + ": no op could be imported as an operator; the first, "
                    + firstUnmapped + "; expected ops with 'Input Dims' and 'Input type' as"
                    + " torch.profiler(record_shapes=True) records them");
            }
            if (!gpuActivity) {
                notes.add("the trace holds no GPU kernels or launches (profiled without ProfilerActivity.CUDA):"
                    + " operators are the innermost CPU ops the importer maps, without measured times; "
                    + skippedLeaves + " other innermost ops were skipped"
                    + (firstUnmapped == null ? "" : " (first: " + firstUnmapped + ")"));
            }
            if (noShapes > 0) {
                notes.add(noShapes + " ops carry no 'Input Dims' (recorded without shapes): record with"
                    + " torch.profiler(record_shapes=True)");
            }
            if (!dtypesNotModelled.isEmpty()) {
                notes.add(sum(dtypesNotModelled) + " ops on dtypes Rafter does not model (" + list(dtypesNotModelled)
                    + ") are unmapped");
            }
            if (!collectivesNotModelled.isEmpty()) {
                notes.add(sum(collectivesNotModelled) + " collectives without a Rafter kind ("
                    + list(collectivesNotModelled) + "; all_reduce, all_gather, reduce_scatter and all_to_all are modelled) are unmapped under their"
                    + " collective name");
            }
            if (singleDevice > 0) {
                notes.add(singleDevice + " collectives over a single device (nothing to communicate) are unmapped");
            }
            if (unresolvedCollectives > 0) {
                notes.add(unresolvedCollectives + " collective ops carry no 'Collective name' / 'In msg nelems' /"
                    + " 'Group size' (nor does an enclosing record_param_comms): unmapped");
            }
            if (shapeProblems > 0) {
                notes.add(shapeProblems + " ops have shapes the importer cannot read as their operator (first: "
                    + firstShapeProblem + "): unmapped");
            }
            if (hintedOps > 0) {
                notes.add(hintedOps + " operators (" + share(hintedNs) + " of the measured GPU time, " + hintedKernels
                    + " kernels) of graph replays were inferred from kernel names and the model hint ("
                    + hint.model().name() + ", a decode step of " + hint.sequences() + " sequences over "
                    + hint.kvTokens() + " cached tokens each, DECODE), named '... (inferred from kernel name)': "
                    + list(hintedRoles) + "; a split attention's reduce kernel joins its attention operator"
                    + gridNote(hintedGrid, replaysByGrid + " graph replays whose GEMMs do not number the model's"
                    + " layers"));
            }
            if (hintProblem != null) {
                notes.add("kernel names not inferred for " + hintProblem);
            }
            if (outsideOps > 0) {
                notes.add(outsideOps + " operators (" + share(outsideNs) + " of the measured GPU time, "
                    + outsideKernels + " kernels) launched outside any recorded op and any graph replay ("
                    + earlyHinted + " kernels"
                    + " before the first recorded CPU op) were inferred from kernel names and the model hint ("
                    + hint.model().name() + ", a decode step of " + hint.sequences() + " sequences over "
                    + hint.kvTokens() + " cached tokens each, DECODE), like graph replays, named '... (inferred from"
                    + " kernel name)': " + list(outsideRoles) + gridNote(outsideGrid, "runs whose GEMMs do not number"
                    + " the model's layers"));
            }
            if (signatureOps > 0) {
                notes.add(signatureOps + " operators (" + share(inferredNs) + " of the measured GPU time) were"
                    + " inferred from kernel names and launch grids, named '... (inferred from kernel)': their kernels"
                    + " had no recorded op (" + earlyInferred + " launched before the first recorded CPU op, "
                    + graphInferred + " by a graph replay, " + (signatureOps - earlyInferred - graphInferred)
                    + " otherwise), and each takes the shape of the op that launched the same kernel with the same"
                    + " grid and block, alone, elsewhere in the trace");
            }
            if (earlyKernels > 0) {
                notes.add(earlyKernels + " kernels (" + share(earlyNs) + " of the measured GPU time) were launched"
                    + " before the first recorded CPU op (the profiler's GPU side started before its CPU side), so"
                    + " no op of theirs is in the trace" + (earlyInferred + earlyHinted == earlyKernels ? ": all"
                    + " inferred from kernel names" : "; " + (earlyKernels - earlyInferred - earlyHinted)
                    + (earlyHinted == 0 ? " no op elsewhere launched alike" : " neither launched alike by an op"
                    + " elsewhere nor inferred from their names") + " stay unmapped under their kernel names"));
            }
            if (orphanKernels > 0) {
                notes.add(orphanKernels + " kernels (" + share(orphanNs) + " of the measured GPU time) were launched"
                    + " by runtime calls outside any recorded op (not by a graph replay)"
                    + (orphanKernels == signatureOps - earlyInferred - graphInferred + orphanHinted ? ": all inferred"
                    + " from kernel names" : orphanHinted == 0 ? "; those no op elsewhere launched alike stay unmapped"
                    + " under their kernel names" : "; those neither launched alike by an op elsewhere nor inferred"
                    + " from their names stay unmapped under their kernel names"));
            }
            if (assumedDtype > 0) {
                notes.add(assumedDtype + " ops on tensor lists (aten::cat, aten::stack) have no dtype in the trace:"
                    + " given its most common one, " + DataType.values()[commonDtype].key());
            }
            if (gpuActivity && enclosingOps > 0) {
                notes.add(enclosingOps + " enclosing ops (e.g. " + enclosingExample + ") are counted once, through"
                    + " the innermost ops that launched their kernels");
            }
            if (gpuActivity && idleOps > 0) {
                notes.add(idleOps + " ops launched no GPU work (views, allocations, host-side ops) and are not device"
                    + " operators");
            }
            if (decodeOps > 0) {
                notes.add(decodeOps + " operators are DECODE (their enclosing annotation names decode); the rest"
                    + " PREFILL");
            }
            if (streams.size() > 1) {
                notes.add("kernels ran on " + streams.size() + " streams; the imported operators carry no"
                    + " dependencies and run one after another in CPU launch order");
            }
            return new Coverage(format(), mapped, unmapped, mappedNs / 1e9, totalNs / 1e9, notes);
        }

        /** Kernels {@code step} (in GPU order) as KernelNames reads them: name and launch grid. */
        private List<KernelNames.Launch> launches(int[] step) {
            List<KernelNames.Launch> out = new ArrayList<>(step.length);
            for (int j : step) {
                out.add(new KernelNames.Launch(names.get(kernelFullName.get(j)), kernelGridX.get(j),
                    kernelGridY.get(j)));
            }
            return out;
        }

        /**
         * Records the inferred shapes of kernels {@code step}; a split attention's reduce kernel adds its time to
         * the kernel before it, unless that one has no inferred shape or takes an eager op's.
         */
        private void hint(int[] step, KernelNames.KernelShape[] shapes, KernelNames.KernelShape[] hinted,
                          long[] foldedNs, int[] sourceOp) {
            for (int x = 0; x < step.length; x++) {
                KernelNames.KernelShape ks = shapes[x];
                if (ks != null && ks.foldIntoPrevious()) {
                    if (hinted[step[x - 1]] == null || sourceOp[kernelSignature.get(step[x - 1])] >= 0) {
                        continue;
                    }
                    foldedNs[step[x - 1]] += kernelNs.get(step[x]);
                }
                hinted[step[x]] = ks;
            }
        }

        /**
         * What launch grids did for the GEMMs counted in {@code grid} (checked, role from grid, M from grid), as a
         * clause of a note; "" when no GEMM had a grid and a tile.
         */
        private static String gridNote(long[] grid, String byGridUnits) {
            if (grid[0] == 0) {
                return "";
            }
            return "; " + grid[0] + " GEMMs recorded a launch grid and give their tile in their name: grid x tile"
                + " covers each one's N" + (grid[1] > 0 ? " (" + grid[1] + " took their role from it, in "
                + byGridUnits + ")" : "") + " and bounds its M, the hint's token count"
                + (grid[2] > 0 ? " except for " + grid[2] + ", whose M is the grid's bound (grid x tile rows)" : "");
        }

        /** A decode operator of a graph-replayed kernel, from its name and the model hint. */
        private Operator hintedOperator(long id, KernelNames.KernelShape ks, int step) {
            String name = ks.role() + " (inferred from kernel name)";
            DataType dt = hint.dataType();
            return switch (ks.kind()) {
                case GEMM -> Operator.gemm(id, name, Phase.DECODE, -1, step, ks.batch(), ks.m(), ks.n(), ks.k(), dt);
                case FLASH_ATTENTION -> Operator.flashAttention(id, name, Phase.DECODE, -1, step, ks.batch(), ks.m(),
                    ks.n(), ks.k(), ks.elements(), false, dt, dt);
                default -> ks.rows() ? Operator.rows(id, name, ks.kind(), Phase.DECODE, -1, step, ks.m(), ks.n(), dt)
                    : Operator.vector(id, name, ks.kind(), Phase.DECODE, -1, step, ks.elements(), dt);
            };
        }

        private static String format() {
            return "kineto";
        }

        /** Why an op did not map, in words for the one-line message. */
        private static String why(Outcome outcome, String detail) {
            return switch (outcome) {
                case MAPPED -> "mapped";
                case UNKNOWN_OP -> "not an op the importer maps (or its args are not an object of the profiler's"
                    + " fields)";
                case NO_SHAPES -> "no 'Input Dims' (recorded without record_shapes=True)";
                case DTYPE_NOT_MODELLED -> "a dtype Rafter does not model (" + detail + ")";
                case SHAPE_NOT_UNDERSTOOD -> detail == null ? "shapes the importer cannot read" : detail;
                case COLLECTIVE_UNRESOLVED -> "a collective without 'Collective name', 'In msg nelems' and"
                    + " 'Group size'";
                case COLLECTIVE_NOT_MODELLED -> "a collective without a Rafter kind (" + detail + ")";
                case SINGLE_DEVICE -> "a collective over a single device";
            };
        }

        /** Whether op {@code p} is a collective op with its own sizes (a record_param_comms). */
        private boolean isResolvedCollective(int p) {
            int ps = opShape.get(p);
            return ps >= 0 && opCategory.get(p) == CAT_OP
                && mapper.family(names.get(opName.get(p))) == AtenOps.Family.COLLECTIVE
                && shapeOutcome.get(ps) != Outcome.COLLECTIVE_UNRESOLVED.ordinal();
        }

        /** The shape of a collective with sizes nested inside op {@code i}, or -1. */
        private int collectiveBelow(int i, int[] parent) {
            if (collectiveBelow == null) {
                // Each collective with sizes marks its ancestors once: an ancestor already marked has its own
                // ancestors marked too, so the walks stop there and the whole map costs one pass.
                collectiveBelow = new LongLongMap();
                for (int c = 0; c < opShape.size(); c++) {
                    if (isResolvedCollective(c)) {
                        for (int p = parent[c]; p >= 0 && !collectiveBelow.contains(p); p = parent[p]) {
                            collectiveBelow.put(p, opShape.get(c));
                        }
                    }
                }
            }
            return (int) collectiveBelow.get(i, -1);
        }

        private LongLongMap collectiveBelow;

        private static long[] add(long[] a, long[] b) {
            return new long[] {a[0] + b[0], a[1] + b[1]};
        }

        private String share(long ns) {
            return totalNs <= 0 ? "0%" : String.format(Locale.ROOT, "%.1f%%", 100.0 * ns / totalNs);
        }

        private static int sum(Map<String, Integer> m) {
            int n = 0;
            for (int v : m.values()) {
                n += v;
            }
            return n;
        }

        private static String list(Map<String, Integer> m) {
            StringBuilder b = new StringBuilder();
            for (Map.Entry<String, Integer> e : m.entrySet()) {
                if (b.length() > 0) {
                    b.append(", ");
                }
                b.append(e.getKey()).append(" x").append(e.getValue());
            }
            return b.toString();
        }

        /**
         * A GEMM run by kernel {@code j} alone, with the tile and path its name gives (GemmKernel#fromName); any
         * other operator, or a GEMM whose kernel name gives none, as it is.
         */
        private Operator named(Operator op, int j) {
            if (op.kind() != OpKind.GEMM) {
                return op;
            }
            dev.rafter.workload.GemmKernel kernel =
                dev.rafter.workload.GemmKernel.fromName(names.get(kernelFullName.get(j)));
            return kernel == null ? op : op.withKernel(kernel);
        }

        private Operator operator(long id, String name, Phase phase, int step, int s, int commonDtype) {
            OpKind kind = OpKind.values()[shapeKind.get(s)];
            DataType dt = DataType.values()[shapeDtype.get(s) >= 0 ? shapeDtype.get(s) : commonDtype];
            long batch = shapeBatch.get(s);
            long m = shapeM.get(s);
            long n = shapeN.get(s);
            long k = shapeK.get(s);
            long elements = shapeElements.get(s);
            return switch (kind) {
                case GEMM -> Operator.gemm(id, name, phase, -1, step, batch, m, n, k, dt);
                // A fused kernel (SDPA, flash, memory-efficient, cuDNN, paged): the scores stay on chip; causal when
                // the op's arguments say so (KinetoMapper#mask).
                case ATTENTION -> Operator.flashAttention(id, name, phase, -1, step, batch, m, n, k, elements,
                    (shapeFlags.get(s) & 2) != 0, dt, dt);
                case ALL_REDUCE, ALL_GATHER, REDUCE_SCATTER, ALL_TO_ALL ->
                    Operator.collective(id, name, kind, phase, -1, step, elements, (int) n, dt);
                default -> (shapeFlags.get(s) & 1) != 0
                    ? Operator.rows(id, name, kind, phase, -1, step, m, n, dt)
                    : Operator.vector(id, name, kind, phase, -1, step, elements, dt);
            };
        }

        /**
         * {phase, step} of op {@code i} from its enclosing annotations: phase 1 DECODE (else PREFILL), step (of a
         * decode operator) the number of the nearest ProfilerStep#N less the trace's first (0 without one).
         */
        private int[] phaseAndStep(int i, int[] parent, long firstStep) {
            Phase phase = Phase.PREFILL;
            int step = 0;
            boolean phaseKnown = false;
            boolean stepKnown = false;
            for (int p = parent[i]; p >= 0 && !(phaseKnown && stepKnown); p = parent[p]) {
                if (opCategory.get(p) != CAT_ANNOTATION) {
                    continue;
                }
                String a = names.get(opName.get(p));
                if (!phaseKnown) {
                    Phase ph = phaseOf(a);
                    if (ph != null) {
                        phase = ph;
                        phaseKnown = true;
                    }
                }
                if (!stepKnown) {
                    long n = profilerStep(a);
                    if (n >= 0) {
                        step = (int) Math.min(Integer.MAX_VALUE, n - firstStep);
                        stepKnown = true;
                    }
                }
            }
            // A step numbers decode steps: a prefill operator has none, whichever profiler iteration it ran in.
            return new int[] {phase == Phase.DECODE ? 1 : 0, phase == Phase.DECODE ? step : 0};
        }

        /** Whether two stored shapes run alike (kind, sizes, dtype, row shape and mask). */
        private boolean sameShape(int a, int b) {
            return shapeKind.get(a) == shapeKind.get(b) && shapeDtype.get(a) == shapeDtype.get(b)
                && shapeFlags.get(a) == shapeFlags.get(b) && shapeBatch.get(a) == shapeBatch.get(b)
                && shapeM.get(a) == shapeM.get(b) && shapeN.get(a) == shapeN.get(b) && shapeK.get(a) == shapeK.get(b)
                && shapeElements.get(a) == shapeElements.get(b);
        }

        /** DECODE / PREFILL when an annotation's name says so, else null. */
        private static Phase phaseOf(String annotation) {
            String a = annotation.toLowerCase(Locale.ROOT);
            if (a.contains("decode")) {
                return Phase.DECODE;
            }
            if (a.contains("prefill") || a.contains("extend")) {
                return Phase.PREFILL;
            }
            return null;
        }

        /** N of a "ProfilerStep#N" annotation, else -1. */
        private static long profilerStep(String annotation) {
            if (!annotation.startsWith("ProfilerStep#")) {
                return -1;
            }
            try {
                return Long.parseLong(annotation.substring("ProfilerStep#".length()).trim());
            } catch (NumberFormatException e) {
                return -1;
            }
        }
    }
}

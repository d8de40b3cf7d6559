package dev.rafter.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Strict reader of one YAML model file. Every key a loader asks for is recorded; {@link #finish()} then rejects any
 * key in the file (or in a {@code --set} override) that nobody asked for, naming the nearest valid key. Errors name
 * the file (or the {@code --set} that caused them) and the dotted key path.
 */
public final class Section {
    private static final YAMLMapper YAML = YAMLMapper.builder()
        .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    private static final java.util.regex.Pattern TRAILING_BLANKS = java.util.regex.Pattern.compile("[ \t]+(?=\r?$)",
        java.util.regex.Pattern.MULTILINE);

    private final Root root;
    private final ObjectNode node;
    private final String prefix;

    private Section(Root root, ObjectNode node, String prefix) {
        this.root = root;
        this.node = node;
        this.prefix = prefix;
    }

    /** Shared state of one file: its name, the keys asked for, and which paths came from {@code --set}. */
    private static final class Root {
        final String file;
        final Set<String> known = new LinkedHashSet<>();
        final Map<String, String> overridden = new LinkedHashMap<>();
        /** For a file that extends others: the file each path came from, where that is not this one. */
        final Map<String, String> heldBy = new java.util.HashMap<>();
        /** The files this one extends, nearest first. */
        final List<Path> bases = new ArrayList<>();
        final ObjectNode tree;

        Root(String file, ObjectNode tree) {
            this.file = file;
            this.tree = tree;
        }
    }

    /**
     * Parses a YAML file into a section; a missing, unreadable, oversized, non-regular (pipe, device, directory) or
     * malformed file is bad input, and so are duplicate keys and a second YAML document.
     */
    /** Loads a file, builds a value from it with {@code reader}, then rejects any key the reader did not ask for. */
    public static <T> T read(Path file, java.util.function.Function<Section, T> reader) {
        Section s = load(file);
        T value = reader.apply(s);
        s.finish();
        return value;
    }

    public static Section load(Path file) {
        return parse(file.toString(), InputFiles.readText(file, InputFiles.MAX_MODEL_BYTES));
    }

    /** The top-level key naming the file that a file begins from. */
    public static final String EXTENDS = "extends";

    /**
     * Loads a file that may begin from another: {@code extends: base.yaml} (relative to the file) reads the base
     * (which may extend another in turn), then lays this file's keys over it. Sections merge key by key, to any depth;
     * anything else (a value, a list such as {@code components:} or {@code memory_tiers:}) replaces the base's whole.
     * Every key remembers the file it came from: messages name that file, and relative paths resolve from its folder.
     */
    public static Section loadExtending(Path file) {
        Section s = extending(file, new ArrayList<>());
        // Known, so that a misspelt 'extend:' is told of the key it meant.
        s.root.known.add(EXTENDS);
        return s;
    }

    private static Section extending(Path file, List<Path> chain) {
        Section s = load(file);
        chain.add(file.toAbsolutePath().normalize());
        JsonNode named = s.root.tree.get(EXTENDS);
        if (named == null) {
            return s;
        }
        if (!named.isTextual() || named.asText().isBlank()) {
            throw s.error(EXTENDS, "expected a path to the file this one extends (relative to " + s.root.file
                + "), got '" + InputFiles.shorten(named.isValueNode() ? named.asText() : named.toString()) + "'");
        }
        Path basePath = s.directory().resolve(named.asText()).normalize();
        int seen = chain.indexOf(basePath.toAbsolutePath().normalize());
        if (seen >= 0) {
            List<String> loop = new ArrayList<>();
            for (Path p : chain.subList(seen, chain.size())) {
                loop.add(p.getFileName().toString());
            }
            loop.add(basePath.getFileName().toString());
            throw s.error(EXTENDS, "'" + named.asText() + "' makes a cycle (" + String.join(" extends ", loop)
                + "); a file may not extend itself, directly or through others");
        }
        try {
            InputFiles.checkRegular(basePath, InputFiles.MAX_MODEL_BYTES);
        } catch (InputException e) {
            throw s.error(EXTENDS, e.getMessage());
        }
        Section base = extending(basePath, chain);
        Root merged = new Root(s.root.file, base.root.tree);
        merged.heldBy.putAll(base.root.heldBy);
        List<String> basePaths = new ArrayList<>();
        collect(base.root.tree, "", basePaths);
        for (String p : basePaths) {
            merged.heldBy.putIfAbsent(p, base.root.file);
        }
        merged.bases.add(basePath);
        merged.bases.addAll(base.root.bases);
        s.root.tree.remove(EXTENDS);
        layOver(merged.tree, s.root.tree, "", merged.heldBy);
        return new Section(merged, merged.tree, "");
    }

    /** Lays {@code top}'s keys over {@code base}: sections merge, anything else replaces (and is held by top's file). */
    private static void layOver(ObjectNode base, ObjectNode top, String prefix, Map<String, String> heldBy) {
        Iterator<Map.Entry<String, JsonNode>> it = top.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            String p = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
            JsonNode under = base.get(e.getKey());
            heldBy.remove(p);
            if (under != null && under.isObject() && e.getValue().isObject()) {
                layOver((ObjectNode) under, (ObjectNode) e.getValue(), p, heldBy);
                continue;
            }
            heldBy.keySet().removeIf(k -> k.startsWith(p + ".") || k.startsWith(p + "["));
            base.set(e.getKey(), e.getValue());
        }
    }

    /** The files this one extends (directly or through others), nearest first; empty for a file that extends none. */
    public List<Path> bases() {
        return List.copyOf(root.bases);
    }

    /** The YAML reader's refusal of a special float ({@code .nan}, {@code -.inf}), quoting it. */
    private static final java.util.regex.Pattern SPECIAL_FLOAT =
        java.util.regex.Pattern.compile("Malformed numeric value ('[+-]?\\.(?:nan|NaN|NAN|inf|Inf|INF)')");

    public static Section parse(String name, String text) {
        // Trailing blanks (tabs included, which the YAML scanner rejects after a value) mean nothing in a model file.
        text = TRAILING_BLANKS.matcher(text).replaceAll("");
        JsonNode tree;
        try (JsonParser parser = YAML.getFactory().createParser(text)) {
            tree = YAML.readTree(parser);
            if (tree != null && parser.nextToken() != null) {
                throw new InputException(name + ":" + parser.currentLocation().getLineNr()
                    + ": a second YAML document ('---'); expected one mapping per file");
            }
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String line = at == null || at.getLineNr() < 1 ? "" : ":" + at.getLineNr();
            String why = e.getOriginalMessage().lines().findFirst().orElse("parse error");
            if (why.startsWith("Duplicate field")) {
                throw new InputException(name + line + ": duplicate key " + why.substring("Duplicate field".length())
                    .trim() + " (a key may appear once per mapping)");
            }
            java.util.regex.Matcher special = SPECIAL_FLOAT.matcher(why);
            if (special.matches()) {
                // YAML's .nan and .inf, which the YAML reader does not take: no model value can be either.
                throw new InputException(name + line + ": " + special.group(1) + " is not a finite number; expected "
                    + "a decimal such as 1.5");
            }
            throw new InputException(name + line + ": malformed YAML (" + InputFiles.shorten(why) + ")");
        } catch (IOException e) {
            throw new InputException(name + ": cannot read file (" + e.getMessage() + ")");
        }
        if (tree == null || tree.isMissingNode() || tree.isNull()) {
            throw new InputException(name + ": file is empty, expected a YAML mapping");
        }
        if (!tree.isObject()) {
            throw new InputException(name + ": expected a YAML mapping at the top level");
        }
        Root root = new Root(name, (ObjectNode) tree);
        return new Section(root, root.tree, "");
    }

    /**
     * Applies {@code path=value} overrides (from {@code --set}) before any key is read. The value is parsed as a
     * YAML scalar, so numbers stay numbers. Paths are checked against the valid keys in {@link #finish()}.
     */
    public Section override(List<String> assignments) {
        for (String assignment : assignments) {
            if (assignment.length() > 1000 || assignment.indexOf('\n') >= 0 || assignment.indexOf('\0') >= 0) {
                throw new InputException("--set " + InputFiles.shorten(assignment)
                    + ": expected one line KEY=VALUE of at most 1000 characters");
            }
            int eq = assignment.indexOf('=');
            if (eq <= 0 || eq == assignment.length() - 1) {
                throw new InputException("--set " + assignment + ": expected KEY=VALUE, e.g. clock_mhz=1200");
            }
            String path = assignment.substring(0, eq).trim();
            String value = assignment.substring(eq + 1).trim();
            if (path.isEmpty() || path.startsWith(".") || path.endsWith(".") || path.contains("..")) {
                throw new InputException("--set " + assignment + ": '" + path + "' is not a dotted key path");
            }
            if (path.equals(EXTENDS)) {
                // The base is read and laid under the file before any --set applies: a new one would go unread.
                throw new InputException("--set " + assignment + ": the file a model extends is read before --set "
                    + "applies; write 'extends: " + value + "' in the file, or name that file instead");
            }
            JsonNode scalar;
            try {
                scalar = YAML.readTree(value);
            } catch (JsonProcessingException e) {
                scalar = JsonNodeFactory.instance.textNode(value);
            }
            if (scalar == null || !scalar.isValueNode()) {
                throw new InputException("--set " + assignment + ": expected a single value, got '" + value + "'");
            }
            String[] parts = path.split("\\.");
            ObjectNode at = root.tree;
            // The path as the loader sees it: a list entry named by its 'name' becomes key[i].
            StringBuilder resolved = new StringBuilder();
            for (int i = 0; i < parts.length - 1; i++) {
                JsonNode child = at.get(parts[i]);
                resolved.append(resolved.length() == 0 ? "" : ".").append(parts[i]);
                if (child != null && child.isArray() && i < parts.length - 2) {
                    // A list of named mappings (e.g. memory_tiers) is addressed by an entry's name.
                    int entry = namedEntry(child, parts[i + 1]);
                    if (entry < 0) {
                        throw new InputException("--set " + assignment + ": '" + String.join(".",
                            java.util.Arrays.copyOf(parts, i + 1)) + "' has no entry named '" + parts[i + 1]
                            + "' (it has " + entryNames(child) + ")");
                    }
                    resolved.append('[').append(entry).append(']');
                    at = (ObjectNode) child.get(entry);
                    i++;
                    continue;
                }
                if (child == null) {
                    // A section the file lacks: this --set wrote it, and is named where it is found wanting.
                    child = at.putObject(parts[i]);
                    root.overridden.putIfAbsent(resolved.toString(), assignment);
                } else if (!child.isObject()) {
                    throw new InputException("--set " + assignment + ": '" + String.join(".",
                        java.util.Arrays.copyOf(parts, i + 1)) + "' is a value, not a section");
                }
                at = (ObjectNode) child;
            }
            JsonNode old = at.get(parts[parts.length - 1]);
            if (old != null && old.isObject()) {
                throw new InputException("--set " + assignment + ": '" + path
                    + "' is a section; set one of its keys, e.g. " + path + "." + old.fieldNames().next());
            }
            at.set(parts[parts.length - 1], scalar);
            root.overridden.put(path, assignment);
            resolved.append(resolved.length() == 0 ? "" : ".").append(parts[parts.length - 1]);
            root.overridden.put(resolved.toString(), assignment);
            // A --set value is the command line's: a relative path in it is relative to the file named, not a base.
            root.heldBy.remove(path);
            root.heldBy.remove(resolved.toString());
        }
        return this;
    }

    /** The index of the mapping in {@code list} whose {@code name} is {@code name}, or -1. */
    private static int namedEntry(JsonNode list, String name) {
        for (int i = 0; i < list.size(); i++) {
            JsonNode item = list.get(i);
            if (item.isObject() && item.hasNonNull("name") && item.get("name").asText().equals(name)) {
                return i;
            }
        }
        return -1;
    }

    /** The names of a list's entries, for a message ("none" for a list of unnamed entries). */
    private static String entryNames(JsonNode list) {
        List<String> names = new ArrayList<>();
        for (JsonNode item : list) {
            if (item.isObject() && item.hasNonNull("name")) {
                names.add(item.get("name").asText());
            }
        }
        return names.isEmpty() ? "no named entries" : String.join(", ", names);
    }

    /** The directory of the file, for paths written relative to it. */
    public java.nio.file.Path directory() {
        return directoryOf(root.file);
    }

    /** The directory of the file that holds {@code key}, for a path written there relative to that file. */
    public java.nio.file.Path directory(String key) {
        return directoryOf(holder(path(key)));
    }

    private static java.nio.file.Path directoryOf(String file) {
        java.nio.file.Path parent = java.nio.file.Path.of(file).toAbsolutePath().getParent();
        return parent == null ? java.nio.file.Path.of(".") : parent;
    }

    /**
     * The file a path's value was read from: this one, or a file it extends. A key that is not there (a missing one)
     * is the business of the file that holds its section.
     */
    private String holder(String path) {
        String p = path;
        while (!root.heldBy.containsKey(p) && !root.heldBy.isEmpty()) {
            int cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
            if (cut <= 0) {
                return root.file;
            }
            p = p.substring(0, cut);
        }
        return root.heldBy.getOrDefault(p, root.file);
    }

    public String file() {
        return root.file;
    }

    private String path(String key) {
        return prefix.isEmpty() ? key : prefix + "." + key;
    }

    /** Where a value came from: the {@code --set} that wrote it, or the file. */
    private String origin(String path) {
        String set = root.overridden.get(path);
        return set != null ? root.file + " (--set " + set + ")" : holder(path);
    }

    private InputException error(String key, String message) {
        String p = path(key);
        return InputException.located(origin(p) + ": " + p + ": " + message);
    }

    private JsonNode value(String key, boolean required) {
        root.known.add(path(key));
        JsonNode v = node.get(key);
        if (v != null && v.isNull() && required) {
            // Written, but with nothing after the colon (or ~, null): not a misspelling of itself.
            throw error(key, "has no value (empty or null); expected one");
        }
        if (v == null && required) {
            List<String> siblings = new ArrayList<>();
            node.fieldNames().forEachRemaining(siblings::add);
            String near = Names.nearest(key, siblings);
            String found = near != null && Names.distance(key, near) <= 2
                ? " (found '" + path(near) + "': misspelt?)" : "";
            throw error(key, "required key is missing" + found);
        }
        return v == null || v.isNull() ? null : v;
    }

    /** The keys of this section, in file order (each counts as read). */
    public List<String> keys() {
        List<String> out = new ArrayList<>();
        node.fieldNames().forEachRemaining(k -> {
            root.known.add(path(k));
            out.add(k);
        });
        return out;
    }

    /** Where a key is, for a message: the file (or the --set that wrote it) and the key's path. */
    public String where(String key) {
        return origin(path(key)) + ": " + path(key);
    }

    public boolean has(String key) {
        root.known.add(path(key));
        return node.hasNonNull(key);
    }

    public Section section(String key) {
        JsonNode v = value(key, true);
        if (!v.isObject()) {
            throw error(key, "expected a section (a YAML mapping), got '" + InputFiles.shorten(v.asText()) + "'");
        }
        return new Section(root, (ObjectNode) v, path(key));
    }

    /** A list of mappings, e.g. a table; each element is a section with path {@code key[i]}. */
    public List<Section> list(String key) {
        JsonNode v = value(key, true);
        if (!v.isArray() || v.isEmpty()) {
            throw error(key, "expected a non-empty list of mappings");
        }
        List<Section> out = new ArrayList<>();
        for (int i = 0; i < v.size(); i++) {
            JsonNode item = v.get(i);
            String p = path(key) + "[" + i + "]";
            if (!item.isObject()) {
                throw InputException.located(origin(path(key)) + ": " + p + ": expected a mapping");
            }
            root.known.add(p);
            out.add(new Section(root, (ObjectNode) item, p));
        }
        return out;
    }

    /** A non-empty list of numbers, e.g. {@code [200, 600, 1000]}. */
    public List<Double> numberList(String key) {
        JsonNode v = value(key, true);
        if (!v.isArray() || v.isEmpty()) {
            throw error(key, "expected a non-empty list of numbers, e.g. [16, 32, 64]");
        }
        List<Double> out = new ArrayList<>();
        for (JsonNode item : v) {
            if (!item.isNumber()) {
                throw error(key, "expected numbers only, got '" + InputFiles.shorten(item.asText()) + "'");
            }
            out.add(item.asDouble());
        }
        return out;
    }

    /** A non-empty list of non-empty number lists, e.g. {@code [[128, 256, 64], [64, 64, 64]]}. */
    public List<List<Double>> numberLists(String key) {
        JsonNode v = value(key, true);
        String example = "expected a non-empty list of number lists, e.g. [[128, 256, 64], [64, 64, 64]]";
        if (!v.isArray() || v.isEmpty()) {
            throw error(key, example);
        }
        List<List<Double>> out = new ArrayList<>();
        for (JsonNode row : v) {
            if (!row.isArray() || row.isEmpty()) {
                throw error(key, example + ", got '" + row + "'");
            }
            List<Double> numbers = new ArrayList<>();
            for (JsonNode item : row) {
                if (!item.isNumber()) {
                    throw error(key, "expected numbers only, got '" + item.asText() + "' in " + row);
                }
                numbers.add(item.asDouble());
            }
            out.add(numbers);
        }
        return out;
    }

    public String string(String key) {
        JsonNode v = value(key, true);
        if (!v.isValueNode()) {
            throw error(key, "expected a string");
        }
        return v.asText();
    }

    /**
     * A path to another file, written relative to this file's directory: it must be a string (not a number or a
     * boolean) naming an existing regular file.
     */
    public Path file(String key) {
        JsonNode v = value(key, true);
        if (!v.isTextual() || v.asText().isBlank()) {
            throw error(key, "expected a path to a file (relative to " + holder(path(key)) + "), got '"
                + InputFiles.shorten(v.asText()) + "'");
        }
        Path p = directory(key).resolve(v.asText()).normalize();
        try {
            InputFiles.checkRegular(p, InputFiles.MAX_MODEL_BYTES);
        } catch (InputException e) {
            throw error(key, e.getMessage());
        }
        return p;
    }

    public String string(String key, String fallback) {
        return has(key) ? string(key) : fallback;
    }

    public long integer(String key) {
        JsonNode v = value(key, true);
        if (v.isIntegralNumber() && v.canConvertToLong()) {
            return v.asLong();
        }
        if (v.isNumber() && v.asDouble() == Math.rint(v.asDouble()) && Math.abs(v.asDouble()) < 9e15) {
            return (long) v.asDouble();
        }
        throw error(key, "expected an integer, got '" + InputFiles.shorten(v.asText()) + "'");
    }

    public long integer(String key, long fallback) {
        return has(key) ? integer(key) : fallback;
    }

    /** An integer that fits a Java int; larger values are reported, not wrapped. */
    public int int32(String key) {
        long v = integer(key);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw error(key, "expected an integer below 2^31, got " + v);
        }
        return (int) v;
    }

    public int int32(String key, int fallback) {
        return has(key) ? int32(key) : fallback;
    }

    public double number(String key) {
        JsonNode v = value(key, true);
        if (!v.isNumber()) {
            throw error(key, "expected a number, got '" + InputFiles.shorten(v.asText()) + "'" + unitHint(v.asText()));
        }
        return v.asDouble();
    }

    public double number(String key, double fallback) {
        return has(key) ? number(key) : fallback;
    }

    public boolean bool(String key, boolean fallback) {
        if (!has(key)) {
            return fallback;
        }
        JsonNode v = value(key, true);
        if (!v.isBoolean()) {
            throw error(key, "expected true or false, got '" + InputFiles.shorten(v.asText()) + "'");
        }
        return v.asBoolean();
    }

    /** Each enum's constant names in lower case, in declaration order. */
    private static final ClassValue<String[]> LOWER_CASE_NAMES = new ClassValue<>() {
        @Override
        protected String[] computeValue(Class<?> type) {
            Object[] constants = type.getEnumConstants();
            String[] names = new String[constants.length];
            for (int i = 0; i < constants.length; i++) {
                names[i] = ((Enum<?>) constants[i]).name().toLowerCase(Locale.ROOT);
            }
            return names;
        }
    };

    /** An enum value written in lower case (e.g. {@code output_stationary}). */
    public <E extends Enum<E>> E choice(String key, Class<E> type) {
        String text = string(key);
        return parseChoice(text, type, m -> error(key, m));
    }

    public <E extends Enum<E>> E choice(String key, Class<E> type, E fallback) {
        return has(key) ? choice(key, type) : fallback;
    }

    public static <E extends Enum<E>> E parseChoice(String text, Class<E> type,
                                                    java.util.function.Function<String, InputException> error) {
        // Trace readers parse three choices per row: the lower-case names are made once per enum.
        String[] lowerCase = LOWER_CASE_NAMES.get(type);
        for (int i = 0; i < lowerCase.length; i++) {
            if (lowerCase[i].equals(text)) {
                return type.getEnumConstants()[i];
            }
        }
        List<String> names = List.of(lowerCase);
        throw error.apply("expected one of " + String.join(", ", names) + ", got '" + InputFiles.shorten(text) + "'"
            + Names.hint(text, names));
    }

    /**
     * Builds a record whose constructor validates itself; its complaints (which name keys relative to this
     * section) get this section's path and the file.
     */
    public <T> T build(Supplier<T> constructor) {
        try {
            return constructor.get();
        } catch (InputException e) {
            if (e.isLocated()) {
                throw e;
            }
            String message = e.getMessage();
            int colon = message.indexOf(':');
            String key = colon > 0 ? message.substring(0, colon) : "";
            String p = key.isEmpty() ? prefix : path(key);
            String rest = colon > 0 ? message.substring(colon + 1).trim() : message;
            throw InputException.located(origin(p) + ": " + (p.isEmpty() ? "" : p + ": ") + rest);
        }
    }

    /** Rejects every key present that no loader asked for, naming the nearest valid key. Call on the root. */
    public void finish() {
        List<String> present = new ArrayList<>();
        collect(root.tree, "", present);
        for (String p : present) {
            if (!root.known.contains(p)) {
                String set = root.overridden.entrySet().stream()
                    .filter(e -> e.getKey().equals(p) || e.getKey().startsWith(p + "."))
                    .map(Map.Entry::getValue).findFirst().orElse(null);
                String where = set != null ? root.file + " (--set " + set + ")" : holder(p);
                throw InputException.located(where + ": unknown key '" + p + "'" + Names.hint(p, root.known));
            }
        }
    }

    private static void collect(ObjectNode n, String prefix, List<String> out) {
        Iterator<Map.Entry<String, JsonNode>> it = n.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            String p = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
            out.add(p);
            if (e.getValue().isObject()) {
                collect((ObjectNode) e.getValue(), p, out);
            } else if (e.getValue().isArray()) {
                for (int i = 0; i < e.getValue().size(); i++) {
                    JsonNode item = e.getValue().get(i);
                    if (item.isObject()) {
                        collect((ObjectNode) item, p + "[" + i + "]", out);
                    }
                }
            }
        }
    }

    private static String unitHint(String text) {
        // A number followed by a unit ('1410 MHz', '2d'), not a YAML word such as '.nan' or '.inf'.
        return text.matches("\\s*(?=[-+.]*[0-9])[-+0-9.eE]+\\s*[A-Za-z/]+\\s*")
            ? " (write the bare number; the unit is in the key name)" : "";
    }
}

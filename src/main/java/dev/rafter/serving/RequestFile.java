package dev.rafter.serving;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rafter.config.CsvReader;
import dev.rafter.config.InputException;
import dev.rafter.config.InputFiles;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoField;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reads a request file, told apart by content:
 * <ul>
 *   <li>CSV with header {@code arrival_s,prompt_tokens,output_tokens} and optional columns {@code priority} and
 *       {@code prefix_id,prefix_tokens} (arrival in seconds from 0; an empty prefix id: no shared prefix);</li>
 *   <li>JSON lines, one object per line with the same keys;</li>
 *   <li>the Azure LLM inference trace as published, header {@code TIMESTAMP,ContextTokens,GeneratedTokens}, the
 *       timestamps ({@code 2023-11-16 18:15:46.6805900}) taken relative to the first row.</li>
 * </ul>
 * Arrivals may not be negative or decrease; prompt and output lengths are at least 1 token. A bad row is bad
 * input naming the file and line.
 */
public final class RequestFile {
    private static final DateTimeFormatter AZURE_TIME = new DateTimeFormatterBuilder()
        .appendPattern("yyyy-MM-dd HH:mm:ss").optionalStart().appendFraction(ChronoField.NANO_OF_SECOND, 0, 9, true)
        .optionalEnd().toFormatter(Locale.ROOT);
    private static final long PS_PER_S = 1_000_000_000_000L;
    private static final int MAX_FIELD_CHARS = 1 << 12;
    /** Columns that may follow arrival_s,prompt_tokens,output_tokens, in this order. */
    private static final List<List<String>> OPTIONAL_COLUMNS = List.of(List.of(), List.of("priority"),
        List.of("prefix_id", "prefix_tokens"), List.of("priority", "prefix_id", "prefix_tokens"));

    private RequestFile() {}

    public static List<Request> read(Path file) {
        try (BufferedReader in = InputFiles.newReader(file, Long.MAX_VALUE)) {
            in.mark(1 << 16);
            int c;
            do {
                c = in.read();
            } while (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\uFEFF');
            in.reset();
            return c == '{' ? jsonLines(file, in) : csv(file, in);
        } catch (IOException e) {
            throw InputException.located(file + ": cannot read (" + e.getMessage() + ")");
        } catch (UncheckedIOException e) {
            throw InputException.located(file + ": cannot read (" + e.getCause().getMessage() + ")");
        }
    }

    private static List<Request> csv(Path file, Reader in) {
        CsvReader csv = new CsvReader(in, file.toString(), MAX_FIELD_CHARS,
            "a request file (CSV: arrival_s,prompt_tokens,output_tokens[,priority][,prefix_id,prefix_tokens])");
        CsvReader.Row header = csv.next();
        if (header == null) {
            throw InputException.located(file + ": empty (expected a header arrival_s,prompt_tokens,output_tokens"
                + " or TIMESTAMP,ContextTokens,GeneratedTokens)");
        }
        List<String> names = new ArrayList<>();
        for (String h : header.cells()) {
            names.add(h.trim());
        }
        boolean azure = names.equals(List.of("TIMESTAMP", "ContextTokens", "GeneratedTokens"));
        boolean ours = names.size() >= 3 && names.subList(0, 3).equals(List.of("arrival_s", "prompt_tokens",
            "output_tokens")) && OPTIONAL_COLUMNS.contains(names.subList(3, names.size()));
        if (!azure && !ours) {
            throw InputException.located(file + ":" + header.line() + ": header " + String.join(",", names)
                + " (expected arrival_s,prompt_tokens,output_tokens[,priority][,prefix_id,prefix_tokens] or the"
                + " Azure trace's TIMESTAMP,ContextTokens,GeneratedTokens)");
        }
        Builder b = new Builder(file);
        LocalDateTime first = null;
        for (CsvReader.Row row = csv.next(); row != null; row = csv.next()) {
            String where = file + ":" + row.line();
            String[] cells = row.cells();
            if (cells.length != names.size()) {
                throw InputException.located(where + ": " + cells.length + " cells, expected " + names.size()
                    + " (" + String.join(",", names) + ")");
            }
            long arrivalPs;
            if (azure) {
                LocalDateTime t;
                try {
                    t = LocalDateTime.parse(cells[0].trim(), AZURE_TIME);
                } catch (DateTimeParseException e) {
                    throw InputException.located(where + ": TIMESTAMP '" + cells[0].trim() + "' is not a time like"
                        + " 2023-11-16 18:15:46.6805900");
                }
                if (first == null) {
                    first = t;
                }
                arrivalPs = ChronoUnit.NANOS.between(first, t) * 1000;
            } else {
                arrivalPs = seconds(where, "arrival_s", cells[0]);
            }
            int priorityAt = names.indexOf("priority");
            int prefixAt = names.indexOf("prefix_id");
            b.add(where, arrivalPs, tokens(where, names.get(1), cells[1]), tokens(where, names.get(2), cells[2]),
                priorityAt > 0 ? priority(where, cells[priorityAt]) : 0,
                prefixAt > 0 ? cells[prefixAt].trim() : "", prefixAt > 0 ? cells[prefixAt + 1].trim() : "");
        }
        return b.requests;
    }

    private static List<Request> jsonLines(Path file, BufferedReader in) throws IOException {
        // One object a line, each key once: a second object on the line, or a key given twice, was dropped silently.
        ObjectMapper mapper = com.fasterxml.jackson.databind.json.JsonMapper.builder()
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
        Builder b = new Builder(file);
        long line = 0;
        for (String text = in.readLine(); text != null; text = in.readLine()) {
            line++;
            if (text.isBlank()) {
                continue;
            }
            String where = file + ":" + line;
            JsonNode node;
            try {
                node = mapper.readTree(text);
            } catch (IOException e) {
                String why = e instanceof com.fasterxml.jackson.core.JsonProcessingException j
                    ? j.getOriginalMessage() : "";
                if (why != null && why.startsWith("Duplicate field")) {
                    throw InputException.located(where + ": duplicate key " + why.substring("Duplicate field"
                        .length()).trim() + " (a key may appear once per object)");
                }
                if (e instanceof com.fasterxml.jackson.databind.exc.MismatchedInputException
                    && why != null && why.startsWith("Trailing token")) {
                    throw InputException.located(where + ": more than one JSON value on the line; expected one"
                        + " object per line");
                }
                throw InputException.located(where + ": not a JSON object (expected {\"arrival_s\": ..., "
                    + "\"prompt_tokens\": ..., \"output_tokens\": ...})");
            }
            if (node == null || !node.isObject()) {
                throw InputException.located(where + ": not a JSON object");
            }
            var fields = node.fieldNames();
            while (fields.hasNext()) {
                String f = fields.next();
                if (!List.of("arrival_s", "prompt_tokens", "output_tokens", "priority", "prefix_id", "prefix_tokens")
                    .contains(f)) {
                    throw InputException.located(where + ": unknown key '" + f + "' (expected arrival_s, "
                        + "prompt_tokens, output_tokens, priority, prefix_id, prefix_tokens)");
                }
            }
            b.add(where, seconds(where, "arrival_s", field(node, where, "arrival_s")),
                tokens(where, "prompt_tokens", field(node, where, "prompt_tokens")),
                tokens(where, "output_tokens", field(node, where, "output_tokens")),
                node.has("priority") ? priority(where, node.get("priority").asText()) : 0,
                node.has("prefix_id") ? node.get("prefix_id").asText() : "",
                node.has("prefix_tokens") ? node.get("prefix_tokens").asText() : "");
        }
        return b.requests;
    }

    private static String field(JsonNode node, String where, String key) {
        JsonNode v = node.get(key);
        if (v == null || !v.isNumber()) {
            throw InputException.located(where + ": " + key + " " + (v == null ? "is missing" : "is not a number"));
        }
        return v.asText();
    }

    /** Collects rows, checking the order of arrivals. */
    private static final class Builder {
        private final Path file;
        private final List<Request> requests = new ArrayList<>();
        private long previousPs;

        Builder(Path file) {
            this.file = file;
        }

        void add(String where, long arrivalPs, int prompt, int output, int priority, String prefixId,
                 String prefixTokens) {
            if (arrivalPs < previousPs) {
                throw InputException.located(where + ": arrival " + arrivalPs / (double) PS_PER_S + " s is before"
                    + " the previous row's " + previousPs / (double) PS_PER_S + " s (arrivals must not decrease)");
            }
            previousPs = arrivalPs;
            if (prefixId.isEmpty() != prefixTokens.isEmpty()) {
                throw InputException.located(where + ": prefix_id and prefix_tokens go together (both empty: no"
                    + " shared prefix)");
            }
            int shared = prefixId.isEmpty() ? 0 : tokens(where, "prefix_tokens", prefixTokens);
            if (shared > prompt) {
                throw InputException.located(where + ": prefix_tokens " + shared + " exceeds prompt_tokens " + prompt);
            }
            requests.add(new Request(requests.size(), arrivalPs, prompt, output, priority, where,
                prefixId.isEmpty() ? null : prefixId, shared));
        }
    }

    private static long seconds(String where, String key, String text) {
        double s;
        try {
            s = dev.rafter.config.Numbers.parseDouble(text);
        } catch (NumberFormatException e) {
            throw InputException.located(where + ": " + key + " '" + text.trim() + "' is not a number of seconds");
        }
        if (!(s >= 0) || s > 1e6) {
            throw InputException.located(where + ": " + key + " " + text.trim() + " (expected seconds from 0 to"
                + " 1e6, not negative)");
        }
        return Math.round(s * PS_PER_S);
    }

    private static int tokens(String where, String key, String text) {
        long n;
        try {
            n = dev.rafter.config.Numbers.parseLong(text.trim());
        } catch (NumberFormatException e) {
            throw InputException.located(where + ": " + key + " '" + text.trim() + "' is not a whole number of"
                + " tokens");
        }
        if (n < 1 || n > (1 << 24)) {
            throw InputException.located(where + ": " + key + " " + n + " (expected 1 to " + (1 << 24) + " tokens)");
        }
        return (int) n;
    }

    private static int priority(String where, String text) {
        try {
            return Math.toIntExact(dev.rafter.config.Numbers.parseLong(text.trim()));
        } catch (NumberFormatException | ArithmeticException e) {
            throw InputException.located(where + ": priority '" + text.trim() + "' is not a whole number");
        }
    }
}

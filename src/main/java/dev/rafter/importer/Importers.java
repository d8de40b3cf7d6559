package dev.rafter.importer;

import dev.rafter.config.InputException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * The catalogue of trace importers and detection by content: a file is gunzipped when it starts with the gzip
 * magic (whatever its name), and the first importer that recognises its first bytes reads it. A file no importer
 * recognises is Rafter's own trace CSV.
 */
public final class Importers {
    /** Bytes looked at to recognise a format. */
    public static final int HEAD_BYTES = 4096;

    private static final List<TraceImporter> ALL = List.of(new KinetoImporter(), new ChakraImporter());

    private Importers() {}

    /** The importer for {@code file}, or null when it is not an imported format (then: Rafter's CSV). */
    public static TraceImporter detect(Path file) {
        byte[] head = new byte[HEAD_BYTES];
        int n;
        try (InputStream in = open(file)) {
            n = in.readNBytes(head, 0, head.length);
        } catch (NoSuchFileException e) {
            throw InputException.located(file + ": file not found");
        } catch (IOException e) {
            throw InputException.located(file + ": cannot read (" + e.getMessage() + ")");
        }
        for (TraceImporter i : ALL) {
            if (i.recognises(head, n)) {
                return i;
            }
        }
        return null;
    }

    /** Opens a trace for reading, gunzipping it when it starts with the gzip magic bytes. */
    public static InputStream open(Path file) throws IOException {
        InputStream raw = new BufferedInputStream(dev.rafter.config.InputFiles.newInputStream(file, Long.MAX_VALUE),
            1 << 16);
        raw.mark(2);
        int b0 = raw.read();
        int b1 = raw.read();
        raw.reset();
        if (b0 == 0x1f && b1 == 0x8b) {
            return new BufferedInputStream(new GZIPInputStream(raw, 1 << 16), 1 << 16);
        }
        return raw;
    }
}

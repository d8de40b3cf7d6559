package dev.rafter.importer;

import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * Reads a trace captured elsewhere into Rafter operators. An importer only produces operators (with their measured
 * times); it never simulates. Implementations are listed in {@link Importers}, which picks one by the file's
 * content.
 */
public interface TraceImporter {
    /** A short name for messages and coverage lines, e.g. {@code kineto} or {@code chakra}. */
    String format();

    /** Whether the first bytes of the (decompressed) file look like this format. */
    boolean recognises(byte[] head, int length);

    /**
     * Streams the trace's operators to {@code out} in an order where every dependency comes first, numbered from
     * 0; returns the coverage. Bad input (truncated or corrupt file, unknown dtype, ...) is an
     * {@link dev.rafter.config.InputException} naming the file and the event index or byte offset.
     */
    Coverage read(Path file, Consumer<ImportedOp> out);

    /**
     * {@link #read(Path, Consumer)} with the model the trace ran ({@code hint}, may be null): kernels no recorded op
     * launched (a CUDA/HIP graph replay) take their shapes from their names and this model where the format allows.
     */
    default Coverage read(Path file, Consumer<ImportedOp> out, ModelHint hint) {
        return read(file, out);
    }
}

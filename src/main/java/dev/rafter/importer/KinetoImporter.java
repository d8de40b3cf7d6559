package dev.rafter.importer;

import java.nio.file.Path;
import java.util.function.Consumer;

/** Placeholder until the Kineto importer lands: recognises nothing. */
final class KinetoImporter implements TraceImporter {
    @Override
    public String format() {
        return "kineto";
    }

    @Override
    public boolean recognises(byte[] head, int length) {
        return false;
    }

    @Override
    public Coverage read(Path file, Consumer<ImportedOp> out) {
        throw new UnsupportedOperationException("not built yet");
    }
}

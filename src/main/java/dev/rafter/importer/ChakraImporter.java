package dev.rafter.importer;

import java.nio.file.Path;
import java.util.function.Consumer;

/** Placeholder until the Chakra importer lands: recognises nothing. */
final class ChakraImporter implements TraceImporter {
    @Override
    public String format() {
        return "chakra";
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

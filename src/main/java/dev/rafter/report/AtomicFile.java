package dev.rafter.report;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes an output file through a temporary sibling that is moved into place only when complete, so a failed or
 * interrupted run never leaves a partial file that looks finished.
 */
public final class AtomicFile {
    private AtomicFile() {}

    /** Something that writes text. */
    @FunctionalInterface
    public interface Body {
        void write(Writer w) throws IOException;
    }

    /** Something that writes a whole file at the given (temporary) path. */
    @FunctionalInterface
    public interface FileBody {
        void write(Path tmp) throws IOException;
    }

    /**
     * An output written over a run: open it, write, then {@link #commit()} to move it into place; closing an
     * uncommitted one deletes it.
     */
    public static final class Pending implements AutoCloseable {
        private final Path target;
        private final Path tmp;
        private final BufferedWriter writer;
        private boolean committed;

        public Pending(Path target) {
            this.target = target;
            try {
                Path dir = target.toAbsolutePath().getParent();
                Files.createDirectories(dir);
                this.tmp = dir.resolve("." + target.getFileName() + "." + ProcessHandle.current().pid() + ".part");
                this.writer = new BufferedWriter(new java.io.OutputStreamWriter(Files.newOutputStream(tmp),
                    java.nio.charset.StandardCharsets.UTF_8), 1 << 16);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + target + ": " + reason(e), e);
            }
        }

        public Writer writer() {
            return writer;
        }

        public void commit() {
            try {
                writer.close();
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                committed = true;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
            }
        }

        @Override
        public void close() {
            if (!committed) {
                try {
                    writer.close();
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort: the .part name already marks it as incomplete
                }
            }
        }
    }

    /** What went wrong, in words: Java's file exceptions often carry only the path. */
    static String reason(IOException e) {
        if (e instanceof java.nio.file.NoSuchFileException n) {
            return n.getFile() + " does not exist";
        }
        if (e instanceof java.nio.file.AccessDeniedException a) {
            return "permission denied on " + a.getFile();
        }
        if (e instanceof java.nio.file.FileAlreadyExistsException f) {
            return f.getFile() + " exists and is not a directory";
        }
        if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) {
            return f.getFile() + ": " + f.getReason();
        }
        return e.getMessage();
    }

    public static void write(Path target, Body body) {
        writeFile(target, tmp -> {
            try (BufferedWriter w = Files.newBufferedWriter(tmp, java.nio.charset.StandardCharsets.UTF_8)) {
                body.write(w);
            }
        });
    }

    public static void writeFile(Path target, FileBody body) {
        Path tmp = null;
        try {
            Path dir = target.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            tmp = dir.resolve("." + target.getFileName() + "." + ProcessHandle.current().pid() + "."
                + Thread.currentThread().getId() + ".part");
            body.write(tmp);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            tmp = null;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target + ": " + reason(e), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort: the .part name already marks it as incomplete
                }
            }
        }
    }
}

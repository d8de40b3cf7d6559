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

    /** Temporary files and staging folders in use; a shutdown hook (SIGTERM, Ctrl-C, exit) removes them. */
    static final java.util.Set<Path> TEMPORARY = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private static final java.util.concurrent.atomic.AtomicLong SERIAL = new java.util.concurrent.atomic.AtomicLong();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (Path p : TEMPORARY) {
                OutputFolder.deleteTree(p);
            }
        }, "rafter-remove-temporary-files"));
    }

    /** A fresh hidden temporary name beside {@code target}: {@code .NAME.PID-N.part}, registered for removal. */
    static Path temporary(Path target) throws IOException {
        checkTarget(target);
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = dir.resolve("." + target.getFileName() + "." + ProcessHandle.current().pid() + "-"
            + SERIAL.incrementAndGet() + ".part");
        TEMPORARY.add(tmp);
        return tmp;
    }

    /** An output replaces only a regular file: a link, pipe, device or directory there is refused, never replaced. */
    public static void checkTarget(Path target) {
        String kind = OutputFolder.kind(target);
        if (kind != null && !kind.equals("file")) {
            throw dev.rafter.config.InputException.located(target + ": is " + kind
                + ", not a file Rafter wrote; it is not replaced (move it away or choose another output)");
        }
    }

    private static void discard(Path tmp) {
        try {
            Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
            // best effort: the .part name already marks it as incomplete
        }
        TEMPORARY.remove(tmp);
    }

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
        private final java.io.OutputStream stream;
        private final BufferedWriter writer;
        private boolean committed;

        public Pending(Path target) {
            this.target = target;
            try {
                this.tmp = temporary(target);
                this.stream = new ChannelStream(java.nio.channels.FileChannel.open(tmp,
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.TRUNCATE_EXISTING,
                    java.nio.file.StandardOpenOption.WRITE));
                this.writer = new BufferedWriter(new java.io.OutputStreamWriter(stream,
                    java.nio.charset.StandardCharsets.UTF_8), 1 << 16);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + target + ": " + reason(e), e);
            }
        }

        public Writer writer() {
            return writer;
        }

        /** The file as bytes, for a caller that encodes its own text; use either this or {@link #writer()}. */
        public java.io.OutputStream stream() {
            return stream;
        }

        public void commit() {
            try {
                writer.close();
                checkTarget(target);
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                TEMPORARY.remove(tmp);
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
                } catch (IOException ignored) {
                    // best effort: the file is discarded anyway
                }
                discard(tmp);
            }
        }
    }

    /**
     * A file's bytes gathered in a direct buffer and handed to its channel when it is full: a long run writes ops.csv
     * a row per operator (176 MB for Llama-3-8B's decode), and a buffered stream over a channel copied every byte
     * once more (into a temporary direct buffer) and took a lock per row. Used from one thread.
     */
    static final class ChannelStream extends java.io.OutputStream {
        private final java.nio.channels.FileChannel channel;
        private final java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocateDirect(1 << 18);
        private boolean closed;

        ChannelStream(java.nio.channels.FileChannel channel) {
            this.channel = channel;
        }

        @Override
        public void write(int b) throws IOException {
            if (!buffer.hasRemaining()) {
                drain();
            }
            buffer.put((byte) b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            java.util.Objects.checkFromIndexSize(off, len, b.length);
            while (len > buffer.remaining()) {
                int part = buffer.remaining();
                buffer.put(b, off, part);
                off += part;
                len -= part;
                drain();
            }
            buffer.put(b, off, len);
        }

        private void drain() throws IOException {
            if (closed) {
                throw new IOException("stream closed");
            }
            buffer.flip();
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            buffer.clear();
        }

        @Override
        public void flush() throws IOException {
            if (buffer.position() > 0) {
                drain();
            }
        }

        @Override
        public void close() throws IOException {
            if (closed) {
                return;
            }
            try {
                flush();
            } finally {
                closed = true;
                channel.close();
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

    /** Writes {@code bytes} (a chart's PNG, a file copied) to {@code target}, whole or not at all. */
    public static void writeBytes(Path target, byte[] bytes) {
        writeFile(target, tmp -> Files.write(tmp, bytes));
    }

    public static void writeFile(Path target, FileBody body) {
        Path tmp = null;
        try {
            tmp = temporary(target);
            body.write(tmp);
            checkTarget(target);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            TEMPORARY.remove(tmp);
            tmp = null;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target + ": " + reason(e), e);
        } finally {
            if (tmp != null) {
                discard(tmp);
            }
        }
    }
}

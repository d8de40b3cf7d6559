package dev.rafter.report;

import dev.rafter.config.InputException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The {@code --out DIR} contract. DIR must be a directory (created if absent; anything else is refused before work
 * starts, and so is a link, pipe or device where one of the command's outputs goes). A run writes into a fresh
 * staging folder inside DIR; {@link #commit()} removes the previous run's outputs of the same command and moves the
 * new ones in, in the order given (the summary last); a run that ends otherwise ({@link #close()} without commit)
 * removes its staging folder and the previous run's outputs, so DIR holds one run's complete outputs or none.
 * Staging folders and temporary files are removed on SIGTERM and Ctrl-C too (a shutdown hook), and the ones a killed
 * run left behind (its process gone) are removed by the next run in the same folder. One run writes into DIR at a
 * time ({@link OutputLock}); a run that created DIR and ends without outputs removes it again when it is empty.
 */
public final class OutputFolder implements AutoCloseable {
    private static final AtomicLong SERIAL = new AtomicLong();
    static final String STAGING_PREFIX = ".rafter-";
    static final String STAGING_SUFFIX = ".staging";

    private final Path dir;
    private final Path staging;
    private final List<String> outputs;
    private final OutputLock lock;
    /** Whether this run created DIR: a run that ends without its outputs then removes it again if it is empty. */
    private final boolean created;
    private boolean done;

    private OutputFolder(Path dir, Path staging, List<String> outputs, OutputLock lock, boolean created) {
        this.dir = dir;
        this.staging = staging;
        this.outputs = outputs;
        this.lock = lock;
        this.created = created;
    }

    /**
     * Opens DIR for a run whose outputs are {@code outputs} (file names, in the order they are moved in: the
     * summary last). {@code option} names the option in messages, e.g. {@code --out}.
     */
    public static OutputFolder open(Path dir, String option, List<String> outputs) {
        boolean created = kind(dir) == null;
        requireDirectory(dir, option);
        OutputLock lock = OutputLock.take(dir, option, command());
        try {
            return open(dir, option, outputs, lock, created);
        } catch (RuntimeException e) {
            lock.close();
            if (created) {
                removeIfEmpty(dir);
            }
            throw e;
        }
    }

    private static OutputFolder open(Path dir, String option, List<String> outputs, OutputLock lock,
                                     boolean created) {
        for (String name : outputs) {
            Path p = dir.resolve(name);
            String kind = kind(p);
            if (kind != null && !kind.equals("file")) {
                throw InputException.located(option + " " + dir + ": " + p + " is " + kind
                    + ", not an output of Rafter; move it away or choose another " + option);
            }
        }
        removeStale(dir);
        Path staging = dir.resolve(STAGING_PREFIX + ProcessHandle.current().pid() + "-" + SERIAL.incrementAndGet()
            + STAGING_SUFFIX);
        try {
            Files.createDirectory(staging);
        } catch (IOException e) {
            throw InputException.located(option + " " + dir + ": cannot write there (" + AtomicFile.reason(e) + ")");
        }
        AtomicFile.TEMPORARY.add(staging);
        return new OutputFolder(dir, staging, outputs, lock, created);
    }

    /** The command line of this process, for the lock (the JVM's main class or jar and its arguments). */
    private static String command() {
        String c = System.getProperty("sun.java.command", "rafter");
        return c.length() > 200 ? c.substring(0, 200) + "..." : c;
    }

    private static void removeIfEmpty(Path dir) {
        try (Stream<Path> entries = Files.list(dir)) {
            if (entries.findAny().isEmpty()) {
                Files.deleteIfExists(dir);
            }
        } catch (IOException | UncheckedIOException ignored) {
            // best effort: an empty folder is harmless
        }
    }

    /**
     * Refuses anything but a directory (a link to one is followed); creates it, with its parents, when absent.
     */
    public static void requireDirectory(Path dir, String option) {
        String kind = kind(dir);
        if (kind == null) {
            if (Files.isSymbolicLink(dir)) {
                throw InputException.located(option + " " + dir + ": a link to nothing; expected a directory");
            }
            try {
                Files.createDirectories(dir);
            } catch (FileAlreadyExistsException e) {
                throw InputException.located(option + " " + dir + ": " + e.getFile() + " is not a directory");
            } catch (IOException e) {
                throw InputException.located(option + " " + dir + ": cannot create it (" + AtomicFile.reason(e) + ")");
            }
            return;
        }
        boolean isDir = Files.isDirectory(dir);
        if (!isDir) {
            throw InputException.located(option + " " + dir + ": is " + (kind.equals("file") ? "a file" : kind)
                + ", expected a directory");
        }
    }

    /** What is at {@code p} without following links: "file", "a directory", "a link", "a pipe or device"; null if nothing. */
    public static String kind(Path p) {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            return "unreadable";
        }
        if (a.isSymbolicLink()) {
            return Files.isDirectory(p) ? "a link to a directory" : "a link";
        }
        if (a.isDirectory()) {
            return "a directory";
        }
        return a.isRegularFile() ? "file" : "a pipe, device or socket";
    }

    /** Where the run writes output {@code name}. */
    public Path path(String name) {
        return staging.resolve(name);
    }

    /** The staging folder (for writers that take a directory). */
    public Path staging() {
        return staging;
    }

    public Path dir() {
        return dir;
    }

    /** Replaces the previous run's outputs with this run's, the summary (the last name) last. */
    public void commit() {
        try {
            for (String name : outputs) {
                if (!Files.exists(staging.resolve(name), LinkOption.NOFOLLOW_LINKS)) {
                    Files.deleteIfExists(dir.resolve(name));
                }
            }
            for (String name : outputs) {
                Path from = staging.resolve(name);
                if (Files.exists(from, LinkOption.NOFOLLOW_LINKS)) {
                    Path to = dir.resolve(name);
                    String kind = kind(to);
                    if (kind != null && !kind.equals("file")) {
                        throw InputException.located(to + " became " + kind + " during the run; not replaced");
                    }
                    Files.move(from, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir + ": " + AtomicFile.reason(e), e);
        }
        done = true;
        deleteTree(staging);
        AtomicFile.TEMPORARY.remove(staging);
        lock.close();
    }

    /** Without a commit: removes this run's staging folder and the previous run's outputs. */
    @Override
    public void close() {
        if (done) {
            return;
        }
        done = true;
        deleteTree(staging);
        AtomicFile.TEMPORARY.remove(staging);
        for (String name : outputs) {
            try {
                if ("file".equals(kind(dir.resolve(name)))) {
                    Files.deleteIfExists(dir.resolve(name));
                }
            } catch (IOException ignored) {
                // best effort: the run fails anyway and says why
            }
        }
        lock.close();
        if (created) {
            removeIfEmpty(dir);
        }
    }

    /**
     * Removes staging folders and {@code .part} files that a run killed outright (its process gone) left in
     * {@code dir}; those of live processes (a concurrent run) stay.
     */
    public static void removeStale(Path dir) {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, ".*")) {
            for (Path p : entries) {
                long pid = ownerPid(p.getFileName().toString());
                if (pid > 0 && pid != ProcessHandle.current().pid() && ProcessHandle.of(pid).isEmpty()) {
                    deleteTree(p);
                }
            }
        } catch (IOException | java.nio.file.DirectoryIteratorException ignored) {
            // best effort: stale temporaries are hidden and never mistaken for outputs
        }
    }

    /** The process that made a temporary name ({@code .rafter-PID-N.staging}, {@code .NAME.PID-N.part}, ...). */
    static long ownerPid(String name) {
        try {
            if (name.startsWith(STAGING_PREFIX) && name.endsWith(STAGING_SUFFIX)) {
                String id = name.substring(STAGING_PREFIX.length(), name.length() - STAGING_SUFFIX.length());
                return Long.parseLong(id.substring(0, id.indexOf('-')));
            }
            if (name.endsWith(".part")) {
                String[] t = name.substring(0, name.length() - ".part".length()).split("\\.");
                if (t.length >= 3 && t[t.length - 2].matches("[0-9]+") && t[t.length - 1].matches("[0-9]+")) {
                    return Long.parseLong(t[t.length - 2]); // older form .NAME.PID.THREAD.part
                }
                String last = t[t.length - 1];
                int dash = last.indexOf('-');
                return Long.parseLong(dash > 0 ? last.substring(0, dash) : last);
            }
        } catch (RuntimeException e) {
            return -1;
        }
        return -1;
    }

    static void deleteTree(Path p) {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> all = Files.walk(p)) {
            for (Path q : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(q);
            }
        } catch (IOException | UncheckedIOException ignored) {
            // best effort
        }
    }
}

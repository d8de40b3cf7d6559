package dev.rafter.report;

import dev.rafter.config.InputException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;

/**
 * One output folder, one writer: a run holds {@code DIR/.rafter.lock} while it writes into DIR, so a second run
 * into the same folder refuses at once instead of mixing its files with the first one's. The lock names its owner
 * (process id, the process's start time, the command); a lock whose owner is gone (a killed run), or whose process
 * id now belongs to another process, is stale and removed. The lock is created whole and in one step (a hard link
 * to a written temporary file), so a reader never sees a half-written one.
 */
public final class OutputLock implements AutoCloseable {
    static final String FILE = ".rafter.lock";

    private final Path path;
    private boolean released;

    private OutputLock(Path path) {
        this.path = path;
    }

    /** Takes the lock of {@code dir} for {@code command}, or refuses (exit 2) naming the run that holds it. */
    public static OutputLock take(Path dir, String option, String command) {
        Path lock = dir.resolve(FILE);
        String mine = "pid=" + ProcessHandle.current().pid() + "\nstarted=" + startOf(ProcessHandle.current())
            + "\ncommand=" + command.replace('\n', ' ') + "\n";
        for (int attempt = 0; attempt < 3; attempt++) {
            try {
                create(lock, mine);
                AtomicFile.TEMPORARY.add(lock);
                return new OutputLock(lock);
            } catch (FileAlreadyExistsException e) {
                Owner owner = Owner.read(lock);
                if (owner != null && owner.alive()) {
                    throw InputException.located(option + " " + dir + ": in use by another Rafter run (" + owner
                        + "); wait for it to end or choose another " + option);
                }
                if (owner == null && recentlyCreated(lock)) {
                    // Just created by another run that is writing its owner line: that run holds it.
                    throw InputException.located(option + " " + dir + ": in use by another Rafter run (starting); "
                        + "wait for it to end or choose another " + option);
                }
                try {
                    Files.deleteIfExists(lock); // stale: its run is gone
                } catch (IOException gone) {
                    throw InputException.located(option + " " + dir + ": cannot remove the stale lock " + lock + " ("
                        + AtomicFile.reason(gone) + ")");
                }
            } catch (IOException e) {
                throw InputException.located(option + " " + dir + ": cannot write there (" + AtomicFile.reason(e)
                    + ")");
            }
        }
        throw InputException.located(option + " " + dir + ": another Rafter run keeps taking it; choose another "
            + option);
    }

    /** Creates {@code lock} with {@code content} in one step; FileAlreadyExistsException if it is there. */
    private static void create(Path lock, String content) throws IOException {
        Path tmp = lock.resolveSibling(FILE + "." + ProcessHandle.current().pid() + "-" + System.nanoTime() + ".part");
        try {
            Files.writeString(tmp, content, StandardCharsets.UTF_8);
            try {
                Files.createLink(lock, tmp);
            } catch (UnsupportedOperationException | FileAlreadyExistsException e) {
                if (e instanceof FileAlreadyExistsException f) {
                    throw f;
                }
                // A file system without hard links: create the file, then fill it (readers allow for a moment
                // of emptiness: recentlyCreated).
                Files.writeString(lock, content, StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE_NEW,
                    java.nio.file.StandardOpenOption.WRITE);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static boolean recentlyCreated(Path lock) {
        try {
            return Files.getLastModifiedTime(lock).toMillis() > System.currentTimeMillis() - 5_000;
        } catch (IOException e) {
            return false;
        }
    }

    private static String startOf(ProcessHandle p) {
        return p.info().startInstant().map(Instant::toString).orElse("unknown");
    }

    /** The run that wrote a lock. */
    record Owner(long pid, String started, String command) {
        static Owner read(Path lock) {
            String text;
            try {
                // the one checked opening path: a FIFO put in the lock's place must not block the run
                text = new String(dev.rafter.config.InputFiles.readBytes(lock, 1 << 16), StandardCharsets.UTF_8);
            } catch (dev.rafter.config.InputException e) {
                return Files.exists(lock, java.nio.file.LinkOption.NOFOLLOW_LINKS) ? null
                    : new Owner(-1, "", ""); // released meanwhile: not alive, and nothing to delete
            }
            long pid = -1;
            String started = null;
            String command = "";
            for (String line : text.split("\n")) {
                if (line.startsWith("pid=")) {
                    try {
                        pid = Long.parseLong(line.substring(4).trim());
                    } catch (NumberFormatException e) {
                        return null;
                    }
                } else if (line.startsWith("started=")) {
                    started = line.substring(8).trim();
                } else if (line.startsWith("command=")) {
                    command = line.substring(8).trim();
                }
            }
            return pid < 0 || started == null ? null : new Owner(pid, started, command);
        }

        /** Whether the process that wrote the lock still runs (the same process: same id and start time). */
        boolean alive() {
            if (pid < 0) {
                return false;
            }
            Optional<ProcessHandle> p = ProcessHandle.of(pid);
            return p.isPresent() && p.get().isAlive() && (started.equals("unknown") || started.equals(startOf(p.get())));
        }

        @Override
        public String toString() {
            return "pid " + pid + (command.isEmpty() ? "" : ", " + command) + ", started " + started;
        }
    }

    /** Releases the lock (idempotent). */
    @Override
    public void close() {
        if (released) {
            return;
        }
        released = true;
        try {
            Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // a lock left behind is recognised as stale by the next run (its process is gone)
        }
        AtomicFile.TEMPORARY.remove(path);
    }
}

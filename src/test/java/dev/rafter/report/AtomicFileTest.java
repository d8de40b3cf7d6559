package dev.rafter.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFileTest {
    @TempDir
    Path dir;

    /** Single bytes, slices of arrays and writes larger than the stream's buffer land in order, byte for byte. */
    @Test
    void aPendingStreamWritesEveryByteInOrderAcrossItsBuffer() throws Exception {
        Path target = dir.resolve("ops.csv");
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        java.util.SplittableRandom random = new java.util.SplittableRandom(16);
        try (AtomicFile.Pending pending = new AtomicFile.Pending(target)) {
            OutputStream out = pending.stream();
            for (int i = 0; i < 2_000; i++) {
                byte[] chunk = new byte[random.nextInt(i % 100 == 0 ? 700_000 : 400)];
                random.nextBytes(chunk);
                int off = chunk.length == 0 ? 0 : random.nextInt(chunk.length);
                int len = random.nextInt(chunk.length - off + 1);
                out.write(chunk, off, len);
                expected.write(chunk, off, len);
                out.write(i);
                expected.write(i);
            }
            pending.commit();
        }
        assertArrayEquals(expected.toByteArray(), Files.readAllBytes(target));
    }

    @Test
    void anUncommittedFileLeavesNothingBehind() throws Exception {
        Path target = dir.resolve("ops.csv");
        try (AtomicFile.Pending pending = new AtomicFile.Pending(target)) {
            pending.stream().write(new byte[300_000]);
        }
        assertFalse(Files.exists(target));
        try (var left = Files.list(dir)) {
            assertEquals(0, left.count());
        }
    }
}

package dev.rafter.config;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * The front door for every input file: it must be a regular file (a FIFO, device or directory is refused at once,
 * before anything is opened, so nothing can hang or fill memory) of bounded size, and text is UTF-8 with an
 * optional byte-order mark and any line ending.
 */
public final class InputFiles {
    /** Model files (hardware, workload, energy tables) are a few KiB; 1 MiB is far beyond any real one. */
    public static final long MAX_MODEL_BYTES = 1L << 20;
    /** The longest line accepted in a model file. */
    public static final int MAX_LINE_CHARS = 10_000;

    private InputFiles() {}

    /**
     * Checks that {@code file} is a regular file (symbolic links are followed) of at most {@code maxBytes}; returns
     * its size. Bad input names the file and what it is instead.
     */
    public static long checkRegular(Path file, long maxBytes) {
        String name = file.toString();
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(file, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            throw InputException.located(name + ": file not found");
        } catch (IOException e) {
            throw InputException.located(name + ": cannot read file (" + e.getMessage() + ")");
        }
        if (a.isDirectory()) {
            throw InputException.located(name + ": is a directory, expected a file");
        }
        if (!a.isRegularFile()) {
            throw InputException.located(name + ": is not a regular file (a pipe, device or socket), expected a file");
        }
        if (a.size() > maxBytes) {
            throw InputException.located(name + ": " + a.size() + " bytes is beyond the limit of " + maxBytes
                + " bytes for this kind of file");
        }
        return a.size();
    }

    /**
     * Opens {@code file} for reading after {@link #checkRegular}: opening a FIFO would block until a writer came,
     * and a device could be read for ever, so no input is opened any other way. Bad input names the file.
     */
    public static InputStream newInputStream(Path file, long maxBytes) {
        checkRegular(file, maxBytes);
        try {
            return Files.newInputStream(file);
        } catch (NoSuchFileException e) {
            throw InputException.located(file + ": file not found");
        } catch (IOException e) {
            throw InputException.located(file + ": cannot read file (" + e.getMessage() + ")");
        }
    }

    /**
     * As {@link #newInputStream}, as strict UTF-8 text: a malformed byte fails the read with an {@link InputException}
     * naming the file and the line that holds it (the line the reader had reached would be wrong: text is decoded
     * ahead of the lines read, a buffer at a time).
     */
    public static BufferedReader newReader(Path file, long maxBytes) {
        return new BufferedReader(new Utf8Reader(newInputStream(file, maxBytes), file.toString()));
    }

    /** Strict UTF-8 decoding that counts the lines it has handed out, so that a bad byte is reported on its line. */
    private static final class Utf8Reader extends java.io.Reader {
        private final InputStream in;
        private final String name;
        private final java.nio.charset.CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        private final ByteBuffer bytes = ByteBuffer.allocate(1 << 13).flip();
        private boolean endOfInput;
        private boolean flushed;
        private long line = 1;

        Utf8Reader(InputStream in, String name) {
            this.in = in;
            this.name = name;
        }

        @Override
        public int read(char[] buf, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            java.nio.CharBuffer out = java.nio.CharBuffer.wrap(buf, off, len);
            while (out.position() == off) {
                java.nio.charset.CoderResult r = decoder.decode(bytes, out, endOfInput);
                if (r.isError()) {
                    if (out.position() > off) {
                        break; // hand out the text before the bad byte first; the next read stops at it
                    }
                    throw InputException.located(name + ":" + line + ": not UTF-8 text");
                }
                if (r.isOverflow()) {
                    break;
                }
                if (endOfInput) {
                    if (!flushed) {
                        decoder.flush(out);
                        flushed = true;
                    }
                    if (out.position() == off) {
                        return -1;
                    }
                    break;
                }
                bytes.compact();
                int n = in.read(bytes.array(), bytes.position(), bytes.remaining());
                if (n < 0) {
                    endOfInput = true;
                } else {
                    bytes.position(bytes.position() + n);
                }
                bytes.flip();
            }
            int n = out.position() - off;
            for (int i = off; i < off + n; i++) {
                if (buf[i] == '\n') {
                    line++;
                }
            }
            return n;
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }

    /** The bytes of a regular file of at most {@code maxBytes} (checked before and while reading). */
    public static byte[] readBytes(Path file, long maxBytes) {
        byte[] bytes;
        try (InputStream in = newInputStream(file, maxBytes)) {
            bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
        } catch (IOException e) {
            throw InputException.located(file + ": cannot read file (" + e.getMessage() + ")");
        }
        if (bytes.length > maxBytes) {
            throw InputException.located(file + ": beyond the limit of " + maxBytes + " bytes for this kind of file");
        }
        return bytes;
    }

    /**
     * Reads a model file as text: a regular file of at most {@code maxBytes} (checked before and while reading),
     * strict UTF-8, a leading byte-order mark dropped, no NUL and no line longer than {@link #MAX_LINE_CHARS}.
     */
    public static String readText(Path file, long maxBytes) {
        String name = file.toString();
        byte[] bytes = readBytes(file, maxBytes);
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw InputException.located(name + ": not UTF-8 text");
        }
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1);
        }
        int line = 1;
        int lineStart = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\0') {
                throw InputException.located(name + ":" + line + ": a NUL character; expected text");
            }
            if (c == '\n') {
                line++;
                lineStart = i + 1;
            } else if (i - lineStart >= MAX_LINE_CHARS) {
                throw InputException.located(name + ":" + line + ": line longer than " + MAX_LINE_CHARS
                    + " characters");
            }
        }
        return text;
    }

    /** A value quoted in a message, cut to a readable length. */
    public static String shorten(String value) {
        String oneLine = value.replaceAll("[\\r\\n\\t]", " ");
        return oneLine.length() <= 60 ? oneLine : oneLine.substring(0, 57) + "...";
    }
}

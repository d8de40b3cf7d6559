package dev.rafter.importer;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * The protocol-buffers wire format, read by hand (https://protobuf.dev/programming-guides/encoding/): a message is a
 * sequence of fields, each a varint tag ({@code field number << 3 | wire type}) followed by its value: a varint
 * (type 0), 8 little-endian bytes (type 1), a varint length and that many bytes (type 2: strings, bytes, embedded
 * messages, packed repeated scalars) or 4 little-endian bytes (type 5). Types 3 and 4 (proto2 groups) are not used
 * by proto3 schemas and are treated as corrupt data.
 *
 * <p>{@link Stream} reads a file of varint-length-prefixed messages without holding more than one message;
 * {@link Fields} walks the fields of one message held in a byte array. Both report problems as {@link Corrupt} with
 * the absolute byte offset, which the importer turns into an input error naming the file.
 */
final class ProtoWire {
    static final int VARINT = 0;
    static final int FIXED64 = 1;
    static final int LENGTH_DELIMITED = 2;
    static final int FIXED32 = 5;

    private ProtoWire() {}

    /** Corrupt or truncated wire data at an absolute byte offset of the (decompressed) file. */
    static final class Corrupt extends Exception {
        private static final long serialVersionUID = 1L;
        final long offset;

        Corrupt(long offset, String message) {
            super(message, null, false, false);
            this.offset = offset;
        }
    }

    static String wireTypeName(int wireType) {
        return switch (wireType) {
            case VARINT -> "varint";
            case FIXED64 -> "64-bit";
            case LENGTH_DELIMITED -> "length-delimited";
            case FIXED32 -> "32-bit";
            default -> "invalid wire type " + wireType;
        };
    }

    /** A stream of varint-length-prefixed messages. */
    static final class Stream {
        private static final int CHUNK = 1 << 20;
        private final InputStream in;
        private long offset;
        private byte[] buffer = new byte[1 << 12];
        private long messageOffset;
        private int messageLength;

        Stream(InputStream in) {
            this.in = in;
        }

        /** Byte offset of the first byte of the current message's body. */
        long messageOffset() {
            return messageOffset;
        }

        int messageLength() {
            return messageLength;
        }

        byte[] buffer() {
            return buffer;
        }

        /**
         * Reads the next length-prefixed message into {@link #buffer()}; false at a clean end of file (no byte of a
         * further prefix).
         */
        boolean next() throws IOException, Corrupt {
            long prefixOffset = offset;
            long length = 0;
            int shift = 0;
            for (int i = 0; ; i++) {
                int b = in.read();
                if (b < 0) {
                    if (i == 0) {
                        return false;
                    }
                    throw new Corrupt(prefixOffset, "truncated varint (message length prefix): the file ends inside it");
                }
                offset++;
                if (i == 9 && (b & 0xfe) != 0 || i > 9) {
                    throw new Corrupt(prefixOffset, "malformed varint (message length prefix longer than 64 bits)");
                }
                length |= (long) (b & 0x7f) << shift;
                shift += 7;
                if (b < 0x80) {
                    break;
                }
            }
            if (length < 0 || length > Integer.MAX_VALUE - 8) {
                throw new Corrupt(prefixOffset, "message length " + Long.toUnsignedString(length)
                    + " is beyond any trace message (corrupt length prefix)");
            }
            messageOffset = offset;
            messageLength = (int) length;
            int read = 0;
            while (read < messageLength) {
                // grow as bytes arrive, so a corrupt huge length does not allocate before the file runs out
                int want = Math.min(messageLength - read, CHUNK);
                if (buffer.length < read + want) {
                    byte[] grown = new byte[Math.max(read + want, Math.min(messageLength, buffer.length * 2))];
                    System.arraycopy(buffer, 0, grown, 0, read);
                    buffer = grown;
                }
                int n = in.readNBytes(buffer, read, want);
                read += n;
                offset += n;
                if (n < want) {
                    throw new Corrupt(prefixOffset, "message declares " + messageLength
                        + " bytes but the file ends after " + read + " (truncated file or length beyond the file)");
                }
            }
            return true;
        }
    }

    /** Iterates over the fields of one message in {@code buf[start, end)}; {@code base} is the absolute offset of buf[0]. */
    static final class Fields {
        private final byte[] buf;
        private final long base;
        private int pos;
        private final int end;
        private int field;
        private int wireType;
        private int fieldOffset;
        private long varint;
        private int valueStart;
        private int valueEnd;

        Fields(byte[] buf, int start, int end, long base) {
            this.buf = buf;
            this.pos = start;
            this.end = end;
            this.base = base;
        }

        /** Advances to the next field; false at the end of the message. */
        boolean next() throws Corrupt {
            if (pos >= end) {
                return false;
            }
            fieldOffset = pos;
            long tag = readVarint();
            wireType = (int) (tag & 7);
            long number = tag >>> 3;
            if (number == 0 || number > 536_870_911L) {
                throw new Corrupt(base + fieldOffset, "invalid field number " + number);
            }
            field = (int) number;
            switch (wireType) {
                case VARINT -> varint = readVarint();
                case FIXED64 -> {
                    need(8);
                    varint = littleEndian(8);
                }
                case FIXED32 -> {
                    need(4);
                    varint = littleEndian(4);
                }
                case LENGTH_DELIMITED -> {
                    long length = readVarint();
                    if (length < 0 || length > end - pos) {
                        throw new Corrupt(base + fieldOffset, "field " + field + " declares "
                            + Long.toUnsignedString(length) + " bytes but its message has " + (end - pos) + " left");
                    }
                    valueStart = pos;
                    valueEnd = pos + (int) length;
                    pos = valueEnd;
                }
                default -> throw new Corrupt(base + fieldOffset, "field " + field + " has " + wireTypeName(wireType)
                    + " (corrupt data)");
            }
            return true;
        }

        private void need(int n) throws Corrupt {
            if (end - pos < n) {
                throw new Corrupt(base + fieldOffset, "field " + field + " is cut short (" + (end - pos)
                    + " of " + n + " bytes)");
            }
        }

        private long littleEndian(int n) {
            long v = 0;
            for (int i = 0; i < n; i++) {
                v |= (long) (buf[pos + i] & 0xff) << (8 * i);
            }
            pos += n;
            return v;
        }

        private long readVarint() throws Corrupt {
            return readVarint(end, "truncated varint: the message ends inside it");
        }

        /** A varint at {@code pos} that must end before {@code limit}. */
        private long readVarint(int limit, String truncated) throws Corrupt {
            int start = pos;
            long v = 0;
            for (int i = 0; ; i++) {
                if (pos >= limit) {
                    throw new Corrupt(base + start, truncated);
                }
                int b = buf[pos++] & 0xff;
                if (i == 9 && (b & 0xfe) != 0) {
                    throw new Corrupt(base + start, "malformed varint (longer than 64 bits)");
                }
                v |= (long) (b & 0x7f) << (7 * i);
                if (b < 0x80) {
                    return v;
                }
            }
        }

        int field() {
            return field;
        }

        int wireType() {
            return wireType;
        }

        /** Absolute byte offset of the current field's tag. */
        long offset() {
            return base + fieldOffset;
        }

        /** The value of a varint, fixed64 or fixed32 field (raw bits). */
        long scalar() {
            return varint;
        }

        int valueStart() {
            return valueStart;
        }

        int valueEnd() {
            return valueEnd;
        }

        String string() {
            return new String(buf, valueStart, valueEnd - valueStart, StandardCharsets.UTF_8);
        }

        /** Fields of the embedded message that is the current (length-delimited) field's value. */
        Fields embedded() {
            return new Fields(buf, valueStart, valueEnd, base);
        }

        /** Fails unless the current field has {@code expected} wire type; {@code what} names the field. */
        void expect(int expected, String what) throws Corrupt {
            if (wireType != expected) {
                throw new Corrupt(offset(), what + " (field " + field + ") has " + wireTypeName(wireType)
                    + " wire type, the schema says " + wireTypeName(expected));
            }
        }

        /**
         * Values of a repeated varint field, packed (length-delimited) or not (one varint): calls {@code sink} for
         * each.
         */
        void repeatedVarint(String what, LongSink sink) throws Corrupt {
            if (wireType == VARINT) {
                sink.accept(varint);
                return;
            }
            expect(LENGTH_DELIMITED, what);
            int savedPos = pos;
            int savedEnd = valueEnd;
            pos = valueStart;
            try {
                while (pos < savedEnd) {
                    sink.accept(readVarint(savedEnd, "truncated varint in a packed list"));
                }
            } finally {
                pos = savedPos;
            }
        }
    }

    @FunctionalInterface
    interface LongSink {
        void accept(long value);
    }
}

package dev.rafter.hw;

/** Element data types and their storage size. */
public enum DataType {
    FP32(4), FP16(2), BF16(2), FP8(1), INT8(1);

    private final int bytes;

    DataType(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }

    public String key() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}

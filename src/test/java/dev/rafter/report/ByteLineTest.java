package dev.rafter.report;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ByteLineTest {
    private static String text(ByteLine line) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        line.writeTo(out);
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void numbersAreWrittenAsLongToStringWritesThem() {
        long[] values = {0, 7, -7, 10, 1234567890123L, Long.MAX_VALUE, Long.MIN_VALUE, -1};
        ByteLine line = new ByteLine();
        StringBuilder expected = new StringBuilder();
        for (long v : values) {
            line.append(v).append(',');
            expected.append(v).append(',');
        }
        assertEquals(expected.toString(), text(line));
    }

    @Test
    void numbersAtEveryDigitCountAndAroundTheIntRangeAreWrittenAsLongToStringWritesThem() {
        ByteLine line = new ByteLine();
        StringBuilder expected = new StringBuilder();
        java.util.List<Long> values = new java.util.ArrayList<>(java.util.List.of((long) Integer.MAX_VALUE,
            Integer.MAX_VALUE + 1L, (long) Integer.MIN_VALUE, Integer.MIN_VALUE - 1L, Long.MAX_VALUE - 1,
            Long.MIN_VALUE + 1));
        for (long p = 1; p > 0 && p <= Long.MAX_VALUE / 10; p *= 10) {
            values.addAll(java.util.List.of(p - 1, p, p + 1, 10 * p - 1, -p, -(p - 1)));
        }
        java.util.Random random = new java.util.Random(16);
        for (int i = 0; i < 1000; i++) {
            values.add(random.nextLong() >> random.nextInt(64));
        }
        for (long v : values) {
            line.clear().append(v);
            assertEquals(Long.toString(v), text(line), "written for " + v);
        }
    }

    @Test
    void textIsUtf8AndCellsAreQuotedOnlyWhereTheyMustBe() {
        ByteLine line = new ByteLine().cell("plain").append(',').cell("a,b").append(',').cell("say \"hi\"")
            .append(',').cell("größe µs").append(',').append("naïve").append('\n');
        assertEquals("plain,\"a,b\",\"say \"\"hi\"\"\",größe µs,naïve\n", text(line));
    }

    @Test
    void aLineLongerThanItsFirstBufferGrows() {
        String long1000 = "x".repeat(1000);
        ByteLine line = new ByteLine().append(long1000).append("é".repeat(600));
        assertEquals(long1000 + "é".repeat(600), text(line));
        assertEquals("", text(line.clear()));
    }
}

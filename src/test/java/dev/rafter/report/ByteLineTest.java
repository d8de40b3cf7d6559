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

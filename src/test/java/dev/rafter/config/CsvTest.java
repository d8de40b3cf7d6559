package dev.rafter.config;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.StringReader;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The one CSV reader and writer: RFC 4180 quoting, line numbers for messages, malformed quotes as bad input. */
class CsvTest {
    private static CsvReader reader(String text) {
        return new CsvReader(new StringReader(text), "f.csv", 1 << 10, "a test CSV");
    }

    @Test
    void theWriterQuotesOnlyWhereNeededAndTheReaderReadsItBack() {
        assertEquals("attn_norm", CsvWriter.cell("attn_norm"), "plain names are written as they are");
        assertEquals("\"a,b\"", CsvWriter.cell("a,b"));
        // RFC 4180 section 2.7: a quote inside a quoted field is doubled.
        assertEquals("\"say \"\"hi\"\"\"", CsvWriter.cell("say \"hi\""));
        assertEquals("\"two\nlines\"", CsvWriter.cell("two\nlines"));
        assertEquals("\"plain\"", CsvWriter.quoted(new StringBuilder(), "plain").toString());
        List<String> cells = List.of("a,b", "say \"hi\"", "two\nlines", "cr\r\nlf", "", " spaced ", "tab\there");
        CsvReader r = reader("h1,h2,h3,h4,h5,h6,h7\n" + CsvWriter.row(cells) + "\n" + CsvWriter.row(cells) + "\n");
        assertEquals(1, r.next().line());
        CsvReader.Row row = r.next();
        assertArrayEquals(cells.toArray(String[]::new), row.cells());
        assertEquals(2, row.line());
        assertEquals(5, r.next().line(), "a row starts after the line breaks held in the quotes of the one before");
        assertNull(r.next());
    }

    @Test
    void blankLinesCommentsAndAByteOrderMarkAreSkipped() {
        CsvReader r = reader("\uFEFFa,b\r\n\n   \n# a comment, with a comma\n1,2\r\n3,\"#4\"");
        assertArrayEquals(new String[] {"a", "b"}, r.next().cells());
        CsvReader.Row one = r.next();
        assertArrayEquals(new String[] {"1", "2"}, one.cells());
        assertEquals(5, one.line());
        assertArrayEquals(new String[] {"3", "#4"}, r.next().cells());
        assertNull(r.next());
    }

    @Test
    void malformedQuotedFieldsAndLongFieldsAreBadInputNamingTheLine() {
        CsvReader after = reader("a,b\n1,2\n3,\"x\"y\n");
        after.next();
        after.next();
        InputException e = assertThrows(InputException.class, after::next);
        assertEquals("f.csv:3: malformed quoted field (Unexpected character after closing quote: 'y' (0x79));"
            + " expected a field in double quotes to end at a comma or line end, with any \" inside doubled",
            e.getMessage());
        CsvReader open = reader("a,b\n1,\"never closed\n2,3\n");
        open.next();
        assertEquals("f.csv:2: a quoted field is not closed (expected a closing \" before the end of the file)",
            assertThrows(InputException.class, open::next).getMessage());
        CsvReader closedThenComment = reader("a,b\n1,\"closed\"\n# trailing comment\n");
        closedThenComment.next();
        assertArrayEquals(new String[] {"1", "closed"}, closedThenComment.next().cells());
        assertNull(closedThenComment.next());
        CsvReader longField = reader("a\n" + "x".repeat(5000) + "\n");
        longField.next();
        assertEquals("f.csv:2: line longer than 1024 characters (is this a test CSV?)",
            assertThrows(InputException.class, longField::next).getMessage());
    }
}

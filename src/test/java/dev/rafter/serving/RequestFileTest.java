package dev.rafter.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.config.InputException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RequestFileTest {
    @TempDir
    Path tmp;

    private Path file(String name, String text) throws Exception {
        Path p = tmp.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    @Test
    void theAzureSampleIsReadAsPublishedWithTimesFromItsFirstRow() {
        List<Request> rows = RequestFile.read(Path.of("traces/requests/azure-conv-2023-first-10min.csv"));
        assertEquals(2867, rows.size());
        // First rows of the file: 18:15:46.6805900,374,44 then 18:15:50.9951690,396,109.
        assertEquals(0, rows.get(0).arrivalPs());
        assertEquals(374, rows.get(0).promptTokens());
        assertEquals(44, rows.get(0).outputTokens());
        assertEquals(4_314_579_000_000L, rows.get(1).arrivalPs()); // 50.9951690 - 46.6805900 s
        assertTrue(rows.get(2866).arrivalPs() < 600_000_000_000_000L);
    }

    @Test
    void csvAndJsonLinesGiveTheSameRequests() throws Exception {
        List<Request> csv = RequestFile.read(file("r.csv", "arrival_s,prompt_tokens,output_tokens,priority\n"
            + "0,100,10,1\n0.25,200,20,0\n"));
        List<Request> json = RequestFile.read(file("r.jsonl", "{\"arrival_s\": 0, \"prompt_tokens\": 100, "
            + "\"output_tokens\": 10, \"priority\": 1}\n\n{\"arrival_s\": 0.25, \"prompt_tokens\": 200, "
            + "\"output_tokens\": 20}\n"));
        assertEquals(2, csv.size());
        for (int i = 0; i < 2; i++) {
            assertEquals(csv.get(i).arrivalPs(), json.get(i).arrivalPs());
            assertEquals(csv.get(i).promptTokens(), json.get(i).promptTokens());
            assertEquals(csv.get(i).outputTokens(), json.get(i).outputTokens());
        }
        assertEquals(250_000_000_000L, csv.get(1).arrivalPs());
        assertEquals(1, csv.get(0).priority());
        assertEquals(0, json.get(1).priority());
    }

    @Test
    void badRowsNameTheirLine() throws Exception {
        String header = "arrival_s,prompt_tokens,output_tokens\n";
        assertMessage(file("neg.csv", header + "0,10,1\n-1,10,1\n"), "neg.csv:3: arrival_s -1");
        assertMessage(file("order.csv", header + "0,10,1\n2,10,1\n1,10,1\n"), "order.csv:4: arrival 1.0 s is before");
        assertMessage(file("zero.csv", header + "0,10,0\n"), "zero.csv:2: output_tokens 0");
        assertMessage(file("zero.jsonl", "{\"arrival_s\": 0, \"prompt_tokens\": 3, \"output_tokens\": 0}\n"),
            "zero.jsonl:1: output_tokens 0");
        assertMessage(file("head.csv", "time,prompt,output\n"), "head.csv:1: header time,prompt,output");
        assertMessage(file("azure.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.1,5,5\n"
            + "2023-11-16 18:15:45.1,5,5\n"), "azure.csv:3: arrival -1.0 s is before");
    }

    private static void assertMessage(Path file, String fragment) {
        InputException e = assertThrows(InputException.class, () -> RequestFile.read(file));
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }
}

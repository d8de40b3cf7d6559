package dev.rafter.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CollectiveCliTest {
    @TempDir
    Path tmp;

    private static String out(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertEquals(0, Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true)), err.toString());
        return out.toString();
    }

    @Test
    void printsARowPerSizeAndJsonWithTheBusBandwidth() throws Exception {
        String text = out("collective", "--system", "models/systems/dgx-h100-8.yaml", "--bytes", "1KiB,64MiB");
        assertTrue(text.contains("ring/ll"), text);
        assertTrue(text.contains("in_switch/simple"), text);
        JsonNode doc = new ObjectMapper().readTree(out("collective", "--system", "models/systems/dgx-a100-8.yaml",
            "--op", "all_gather", "--bytes", "8MiB", "--algorithm", "ring", "--json"));
        JsonNode row = doc.get("rows").get(0);
        assertEquals(8 << 20, row.get("bytes").asLong());
        // nccl-tests: busbw = algbw x (p - 1)/p for an all-gather.
        assertEquals(row.get("algbw_gb_per_s").asDouble() * 7 / 8, row.get("busbw_gb_per_s").asDouble(), 1e-9);
        assertEquals(row.get("bytes").asDouble() / row.get("time_s").asDouble() / 1e9,
            row.get("algbw_gb_per_s").asDouble(), 1e-9);
        assertTrue(row.get("busiest_link_utilisation").asDouble() > 0.5, row.toString());
    }

    @Test
    void badInputIsOneLineNamingTheKey() throws Exception {
        CliTest.assertBadInput(CliTest.run("collective", "--system", "models/systems/dgx-a100-8.yaml", "--bytes",
            "1KiB", "--algorithm", "nvls"), "--algorithm: in_switch cannot run all_reduce on dgx-a100-8");
        CliTest.assertBadInput(CliTest.run("collective", "--system", "models/systems/dgx-a100-8.yaml", "--bytes",
            "12 parsecs"), "--bytes: expected a size such as 1024, 1KiB, 64MiB or 1GB");
        CliTest.assertBadInput(CliTest.run("collective", "--system", "models/systems/dgx-a100-8.yaml", "--bytes",
            "1KiB", "--op", "all_reduc"), "--op: expected one of all_reduce");
        String text = Files.readString(Path.of("models/systems/dgx-h100-8.yaml"))
            .replace("../hardware/h100.yaml", Path.of("models/hardware/h100.yaml").toAbsolutePath().toString())
            .replace("ports: 8 ", "ports: 7 ");
        Path bad = tmp.resolve("small-switch.yaml");
        Files.writeString(bad, text);
        CliTest.assertBadInput(CliTest.run("collective", "--system", bad.toString(), "--bytes", "1KiB"),
            bad + ": fabric.switch.ports: switch 'nvswitch' has 7 ports but 8 links attach to it");
        CliTest.assertBadInput(CliTest.run("collective", "--system", "models/systems/dgx-h100-8.yaml", "--bytes",
            "1KiB", "--set", "fabric.link.bandwidth_gb_per_s=0"), "fabric.link.bandwidth_gb_per_s");
    }
}

package dev.rafter.sim.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rafter.hw.DataType;
import dev.rafter.sim.component.Catalogue;
import dev.rafter.sim.component.PeArray;
import dev.rafter.workload.Operator;
import dev.rafter.workload.Phase;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

/** trace.json stays valid JSON whatever an operator or track is named (names come from profiles). */
class PerfettoSinkTest {
    @Test
    void namesWithBackslashTabNewlineQuoteAndControlCharactersParseBack() throws Exception {
        String name = "back\\slash\ttab\nnew \"quoted\" \u0001 end";
        StringWriter out = new StringWriter();
        Track track = Catalogue.track(0, PeArray.KIND, 0, 0, "pe \"0\"\\");
        PerfettoSink sink = new PerfettoSink(out, List.of(track));
        sink.operator(Operator.gemm(3, name, Phase.PREFILL, 0, 0, 1, 8, 8, 8, DataType.FP16), 0, 2_500_000);
        sink.slice(track, SliceKind.COMPUTE, 3, 0, 1_000_000, 64);
        sink.close();
        JsonNode events = new ObjectMapper().readTree(out.toString()).get("traceEvents");
        boolean sawOperator = false;
        boolean sawTrack = false;
        for (JsonNode e : events) {
            sawOperator |= e.path("name").asText().equals("3 prefill:" + name);
            sawTrack |= e.path("name").asText().equals("thread_name")
                && e.path("args").path("name").asText().equals("pe \"0\"\\");
        }
        assertTrue(sawOperator, out.toString());
        assertTrue(sawTrack, out.toString());
    }

    @Test
    void aPlainNameIsWrittenAsBefore() {
        StringWriter out = new StringWriter();
        PerfettoSink sink = new PerfettoSink(out, List.of());
        sink.operator(Operator.gemm(1, "qkv_proj", Phase.DECODE, 2, 5, 1, 8, 8, 8, DataType.FP16), 1_000_000,
            3_500_000);
        assertTrue(out.toString().contains("{\"ph\":\"X\",\"name\":\"1 decode:qkv_proj\",\"pid\":100001,\"tid\":0,"
            + "\"ts\":1.000000,\"dur\":2.500000,\"args\":{\"op\":1,\"kind\":\"gemm\",\"layer\":2,\"step\":5}}"),
            out.toString());
        assertEquals(1, out.toString().lines().filter(l -> l.contains("qkv_proj")).count());
    }
}

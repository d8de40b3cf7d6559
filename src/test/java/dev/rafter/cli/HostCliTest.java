package dev.rafter.cli;

import static dev.rafter.cli.CliTest.assertBadInput;
import static dev.rafter.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code host:} and {@code --timing} from the command line. */
class HostCliTest {
    @TempDir
    Path tmp;

    private static final String[] TINY = {"--hardware", "models/hardware/h100.yaml", "--workload",
        "models/workloads/tiny.yaml", "--decode-steps", "2"};

    private Path simulate(String name, String... more) {
        Path out = tmp.resolve(name);
        String[] base = {"simulate", TINY[0], TINY[1], TINY[2], TINY[3], TINY[4], TINY[5], "--events", "perfetto",
            "--out", out.toString()};
        String[] args = java.util.Arrays.copyOf(base, base.length + more.length);
        System.arraycopy(more, 0, args, base.length, more.length);
        CliTest.Result r = run(args);
        assertEquals(0, r.code(), r.err());
        return out;
    }

    private static JsonNode summary(Path out) throws Exception {
        return new ObjectMapper().readTree(out.resolve("summary.json").toFile());
    }

    @Test
    void aHostAddsItsTracksAndItsBlockAndTheSameInputsGiveTheSameOutputs() throws Exception {
        Path a = simulate("a", "--set", "host.framework=eager");
        Path b = simulate("b", "--set", "host.framework=eager");
        for (String f : new String[] {"ops.csv", "trace.json"}) {
            assertEquals(Files.readString(a.resolve(f)), Files.readString(b.resolve(f)), f);
        }
        ObjectNode sa = (ObjectNode) summary(a);
        ObjectNode sb = (ObjectNode) summary(b);
        sa.remove("simulator");
        sb.remove("simulator");
        assertEquals(sa, sb);
        JsonNode host = sa.path("host");
        assertEquals("eager", host.path("framework").asText());
        assertEquals("kernel", host.path("timing").asText());
        assertTrue(host.path("busy_s").asDouble() > 0);
        assertTrue(Files.readString(a.resolve("trace.json")).contains("\"launch wait\""));
        Path none = simulate("none");
        assertTrue(summary(none).path("host").isMissingNode(), "no host block without a host");
        assertFalse(Files.readString(none.resolve("trace.json")).contains("\"launch wait\""));
        Path wall = simulate("wall", "--set", "host.framework=eager", "--timing", "wall");
        assertEquals("wall", summary(wall).path("host").path("timing").asText());
        assertTrue(summary(wall).path("latency_s").asDouble() > sa.path("latency_s").asDouble());
        // By dependencies the host issues the same launches, each operator starting once its launch is in.
        Path deps = simulate("deps", "--set", "host.framework=eager", "--order", "dependencies");
        assertEquals(host.path("kernels"), summary(deps).path("host").path("kernels"));
        assertEquals(host.path("busy_s"), summary(deps).path("host").path("busy_s"));
        assertTrue(Files.readString(deps.resolve("trace.json")).contains("\"launch wait\""));
    }

    @Test
    void badHostKeysAndTimingsAreOneLineErrors() throws Exception {
        String[] sim = {"simulate", TINY[0], TINY[1], TINY[2], TINY[3], "--out", tmp.resolve("x").toString()};
        assertBadInput(run(with(sim, "--set", "host.framework=eagr")), "host.framework: expected one of none,");
        assertBadInput(run(with(sim, "--set", "host.queue_depth=1")), "host.queue_depth");
        assertBadInput(run(with(sim, "--set", "host.speed=3")), "unknown key 'host.speed'");
        assertBadInput(run(with(sim, "--set", "host.framework=graph", "--set", "host.costs=nowhere.yaml")),
            "host.costs");
        assertBadInput(run(with(sim, "--timing", "wal")), "--timing: expected one of kernel, wall");
        assertBadInput(run(with(sim, "--timing", "wall")), "--timing wall: needs a host model");
        assertBadInput(run(with(sim, "--set", "host.framework=eager", "--order", "dependencies", "--timing",
            "wall")), "--order dependencies: --timing wall synchronises the host after every operator");
        Path costs = tmp.resolve("costs.yaml");
        Files.writeString(costs, Files.readString(Path.of("models/host/pytorch-cuda.yaml"))
            .replace("launch_ns: 2700", "launch_ns: -1"));
        assertBadInput(run(with(sim, "--set", "host.framework=eager", "--set", "host.costs=" + costs)),
            "launch_ns");
        String[] mi210 = {"simulate", "--hardware", "models/hardware/mi210.yaml", TINY[2], TINY[3], "--out",
            tmp.resolve("y").toString(), "--set", "host.framework=graph"};
        assertBadInput(run(mi210), "host.costs: required when framework is graph");
    }

    private static String[] with(String[] base, String... more) {
        String[] args = java.util.Arrays.copyOf(base, base.length + more.length);
        System.arraycopy(more, 0, args, base.length, more.length);
        return args;
    }
}

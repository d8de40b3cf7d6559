package dev.rafter.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Properties on many devices: random (seeded) overrides of every hardware field, from tiny to absurd, on a trace
 * and on a whole workload. Every run must either simulate (the simulator checks roofline, conservation and
 * deadlock itself and fails loudly) or reject the input in one line; never crash.
 */
class RandomDeviceTest {
    private static final String[][] VALUES = {
        {"cores", "1", "2", "3", "7", "108", "300"},
        {"core.pe_arrays", "1", "2", "3", "8"},
        {"core.pe_array.rows", "1", "4", "16", "33", "128"},
        {"core.pe_array.cols", "1", "8", "16", "64", "256"},
        {"core.pe_array.dataflow", "output_stationary", "weight_stationary", "input_stationary"},
        {"core.pe_array.fold_overlap", "true", "false"},
        {"core.local_buffer.capacity_kib", "8", "16", "64", "1024", "100000"},
        {"core.local_buffer.bytes_per_cycle", "1", "16", "4096"},
        {"global_buffer.capacity_mib", "0.5", "1", "4", "40", "4096"},
        {"global_buffer.bytes_per_cycle", "1", "64", "100000"},
        {"memory.channels", "1", "3", "40", "512"},
        {"memory.bandwidth_gb_per_s", "1", "100", "8192"},
        {"memory.latency_ns", "0", "42", "10000"},
        {"interconnect.bytes_per_cycle", "1", "64", "4096"},
        {"interconnect.latency_cycles", "0", "1", "2000"},
        {"clock_mhz", "1", "200", "1410", "5000"},
        {"device_link.topology", "ring", "fully_connected"},
        {"data_type", "fp32", "fp16", "int8"},
    };

    @TempDir
    Path tmp;

    @Test
    void everyRandomDeviceSimulatesOrIsRejectedInOneLine() {
        Random random = new Random(7);
        int simulated = 0;
        for (int i = 0; i < 40; i++) {
            List<String> args = new ArrayList<>(List.of("simulate", "--hardware", "models/hardware/a100.yaml",
                i % 2 == 0 ? "--trace" : "--workload", i % 2 == 0 ? "traces/gemm-small.csv" : "models/workloads/tiny.yaml",
                "--out", tmp.resolve("r" + i).toString()));
            for (String[] v : VALUES) {
                if (random.nextInt(3) == 0) {
                    args.add("--set");
                    args.add(v[0] + "=" + v[1 + random.nextInt(v.length - 1)]);
                }
            }
            CliTest.Result r = CliTest.run(args.toArray(String[]::new));
            assertTrue(r.code() == 0 || r.code() == 2, args + " -> " + r.code() + " " + r.err());
            if (r.code() == 2) {
                assertEquals(1, r.err().strip().lines().count(), r.err());
            } else {
                simulated++;
            }
        }
        assertTrue(simulated >= 30, "most random devices must simulate: " + simulated);
    }
}

package dev.rafter.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Memory tiers from the command line: the bundled HBF device, placement by --set, and bad input in one line. */
class MemoryTiersCliTest {
    private static final String HBF = "models/hardware/h100-hbf.yaml";

    @TempDir
    Path tmp;

    @Test
    void theHbfDeviceHasTwoTiersBehindItsHbm() {
        HardwareSpec hbf = HardwareLoader.load(Path.of(HBF), List.of());
        assertEquals(List.of("hbm", "hbf", "host"), hbf.memoryTiers().stream().map(HardwareSpec.MemoryTier::name).toList());
    }

    @Test
    void weightsPlacedOnHbfAreReadFromItAndReportedPerTier() throws Exception {
        Path out = tmp.resolve("hbf");
        CliTest.Result r = CliTest.run("simulate", "--hardware", HBF, "--workload", "models/workloads/tiny.yaml",
            "--set", "placement.weights=hbf", "--events", "perfetto", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        JsonNode tiers = s.path("memory_tiers");
        assertEquals("[\"weights\"]", tiers.path("hbf").path("tensors").toString());
        assertEquals("[\"kv_cache\",\"activations\"]", tiers.path("hbm").path("tensors").toString());
        assertTrue(tiers.path("hbf").path("read_bytes").asLong() > 0);
        assertEquals(0, tiers.path("hbf").path("write_bytes").asLong(), "nothing writes the weights");
        assertEquals(tiers.path("hbf").path("read_bytes").asLong(), s.path("bytes").path("hbf_read").asLong());
        assertEquals(tiers.path("hbm").path("read_bytes").asLong(), s.path("bytes").path("hbm_read").asLong());
        assertTrue(s.path("utilisation").path("hbf").asDouble() > 0);
        assertTrue(Files.readString(out.resolve("trace.json")).contains("\"hbf.ch0\""), "a track per HBF channel");
    }

    @Test
    void aKvCacheOffloadedToTheHostIsReadOverTheLink() throws Exception {
        Path out = tmp.resolve("host");
        CliTest.Result r = CliTest.run("simulate", "--hardware", HBF, "--workload", "models/workloads/tiny.yaml",
            "--set", "placement.kv_cache=host", "--phase", "decode", "--decode-steps", "2", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        JsonNode host = s.path("memory_tiers").path("host");
        assertEquals("[\"kv_cache\"]", host.path("tensors").toString());
        assertTrue(host.path("read_bytes").asLong() > 0, "attention reads the KV cache from the host");
        // One 51 GB/s channel: no second of the run moves more than the link carries.
        assertTrue(host.path("utilisation").asDouble() > 0 && host.path("utilisation").asDouble() <= 1);
        assertEquals(host.path("read_bytes").asLong(), s.path("bytes").path("host_read").asLong());
    }

    @Test
    void placementOnATierThatDoesNotExistIsOneLineExit2() {
        CliTest.Result r = CliTest.run("simulate", "--hardware", "models/hardware/a100.yaml", "--workload",
            "models/workloads/tiny.yaml", "--set", "placement.kv_cache=hbf", "--out", tmp.resolve("x").toString());
        assertEquals(2, r.code(), r.err());
        assertEquals("rafter: placement.kv_cache: no memory tier named 'hbf' (the device has [hbm])", r.err().strip());
    }

    @Test
    void duplicateTierNamesAndATierWithoutBandwidthAreOneLineExit2() throws Exception {
        String h100 = Files.readString(Path.of(HBF)).replace("../energy/", Path.of("models/energy")
            .toAbsolutePath() + "/").replace("../memory/", Path.of("models/memory").toAbsolutePath() + "/")
            .replace("extends: ", "extends: " + Path.of("models/hardware").toAbsolutePath() + "/");
        String tier = h100.substring(h100.indexOf("  - name: hbf"));
        Path twice = tmp.resolve("twice.yaml");
        Files.writeString(twice, h100 + tier);
        CliTest.Result r = CliTest.run("describe", "--hardware", twice.toString());
        assertEquals(2, r.code(), r.err());
        // The hbf and host tiers again: the second hbf is the third entry.
        assertEquals("rafter: " + twice + ": memory_tiers[2].name: a tier named 'hbf' is already there (tier names"
            + " must differ)", r.err().strip());
        Path noBandwidth = tmp.resolve("nobw.yaml");
        Files.writeString(noBandwidth, h100.replaceAll("(?m)^    bandwidth_gb_per_s: 3200.*\\n(^ {20,}#.*\\n)*",
            ""));
        r = CliTest.run("describe", "--hardware", noBandwidth.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().strip().startsWith("rafter: " + noBandwidth + ": memory_tiers[0].bandwidth_gb_per_s"),
            r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }

    @Test
    void describeListsTheFurtherTiers() {
        java.io.StringWriter out = new java.io.StringWriter();
        assertEquals(0, Main.execute(new String[] {"describe", "--hardware", HBF}, new java.io.PrintWriter(out, true),
            new java.io.PrintWriter(new java.io.StringWriter(), true)));
        assertTrue(out.toString().contains("  tier hbf       3.20 TB/s over 64 channels, 1024 GiB; flash channels"
            + " (HBF-gen1: 16 KiB pages, 32 planes, 10 us page reads, 100000 P/E cycles), 152 ns fixed path\n"),
            out.toString());
    }

    @Test
    void componentsPrintsTheMemoryKindOnceWhateverTiersRanBefore() {
        // A device with an HBF tier instantiates the memory kind as hbf_channel in this process.
        dev.rafter.sim.Device.tracks(HardwareLoader.load(Path.of(HBF), List.of()));
        java.io.StringWriter out = new java.io.StringWriter();
        assertEquals(0, Main.execute(new String[] {"components"}, new java.io.PrintWriter(out, true),
            new java.io.PrintWriter(new java.io.StringWriter(), true)));
        assertTrue(out.toString().contains("\nhbm_channel: "), out.toString());
        assertTrue(!out.toString().contains("hbf_channel"), out.toString());
    }

    @Test
    void aSweepOverHbfLatencyAddressesTheTierByNameAndDecodeSlowsWithIt() throws Exception {
        Path out = tmp.resolve("sweep");
        CliTest.Result r = CliTest.run("sweep", "--hardware", HBF, "--workload", "models/workloads/tiny.yaml",
            "--set", "placement.weights=hbf", "--phase", "decode", "--vary",
            "memory_tiers.hbf.latency_ns=1000,10000,20000", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        List<String> rows = Files.readAllLines(out.resolve("sweep.csv"));
        List<String> header = List.of(rows.get(0).split(","));
        assertEquals("memory_tiers.hbf.latency_ns", header.get(0));
        int decode = header.indexOf("decode_latency_s");
        double previous = 0;
        for (String row : rows.subList(1, rows.size())) {
            double latency = Double.parseDouble(row.split(",")[decode]);
            assertTrue(latency > previous, "decode latency rises with HBF latency: " + rows);
            previous = latency;
        }
        assertEquals(4, rows.size(), rows.toString());
    }

    @Test
    void setReachesATierByNameAndRefusesAnUnknownTierOrField() {
        HardwareSpec slow = HardwareLoader.load(Path.of(HBF), List.of("memory_tiers.hbf.latency_ns=20000"));
        assertEquals(20000, slow.tier("hbf").memory().latencyNs());
        CliTest.Result r = CliTest.run("describe", "--hardware", HBF, "--set", "memory_tiers.hbx.latency_ns=1");
        assertEquals(2, r.code(), r.err());
        assertEquals("rafter: --set memory_tiers.hbx.latency_ns=1: 'memory_tiers' has no entry named 'hbx' (it has"
            + " hbf, host)", r.err().strip());
        r = CliTest.run("describe", "--hardware", HBF, "--set", "memory_tiers.hbf.latncy_ns=1");
        assertEquals(2, r.code(), r.err());
        assertEquals("rafter: " + HBF + " (--set memory_tiers.hbf.latncy_ns=1): unknown key"
            + " 'memory_tiers[0].latncy_ns' (did you mean 'memory_tiers[0].latency_ns'?)", r.err().strip());
        r = CliTest.run("sweep", "--hardware", HBF, "--workload", "models/workloads/tiny.yaml", "--vary",
            "memory_tiers.hbx.latency_ns=1,2", "--out", tmp.resolve("bad").toString());
        assertEquals(2, r.code(), r.err());
        assertEquals("rafter: --vary memory_tiers.hbx.latency_ns=1: 'memory_tiers' has no entry named 'hbx' (it has"
            + " hbf, host)", r.err().strip());
    }

    @Test
    void eachTierIsChargedAtItsOwnStandardsEnergyPerBit() throws Exception {
        Path out = tmp.resolve("energy");
        CliTest.Result r = CliTest.run("simulate", "--hardware", HBF, "--workload", "models/workloads/tiny.yaml",
            "--set", "placement.weights=hbf", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        JsonNode hbm = s.path("memory_tiers").path("hbm");
        JsonNode hbf = s.path("memory_tiers").path("hbf");
        // off-chip.yaml: hbm3 3.9 pJ/bit (power.memory_standard), hbf 15.6 (the tier's standard: hbf).
        assertEquals(3.9, hbm.path("pj_per_bit").asDouble());
        assertEquals(15.6, hbf.path("pj_per_bit").asDouble());
        long hbfBits = 8 * (hbf.path("read_bytes").asLong() + hbf.path("write_bytes").asLong());
        long hbmReadBits = 8 * hbm.path("read_bytes").asLong();
        long hbmWriteBits = 8 * hbm.path("write_bytes").asLong();
        assertEquals(hbfBits * 15.6e-12, hbf.path("energy_j").asDouble(), 1e-15, "no host-PHY figure for HBF");
        // HBM3 also pays its host PHY (off-chip.yaml phy_pj_per_bit.hbm3: 0.29 read, 0.25 write).
        assertEquals(hbmReadBits * (3.9 + 0.29) * 1e-12 + hbmWriteBits * (3.9 + 0.25) * 1e-12,
            hbm.path("energy_j").asDouble(), 1e-15);
        assertEquals(hbf.path("energy_j").asDouble(), s.path("energy_j").path("by_component").path("hbf").asDouble());
    }

    @Test
    void aTierStandardTheTablesLackIsOneLineExit2() {
        CliTest.Result r = CliTest.run("describe", "--hardware", HBF, "--set", "memory_tiers.hbf.standard=nand");
        assertEquals(2, r.code(), r.err());
        assertEquals("rafter: " + HBF + " (--set memory_tiers.hbf.standard=nand): memory_tiers[0].standard: the 4nm"
            + " table's dram_pj_per_bit has no 'nand' (it has ddr5, gddr6, hbf, hbm2, hbm2e, hbm3, hbm3e, lpddr5,"
            + " stacked_dram)",
            r.err().strip());
    }

    @Test
    void theRooflineCsvNamesTheTierThatBindsEachOperator() throws Exception {
        Path out = tmp.resolve("roofline");
        CliTest.Result r = CliTest.run("roofline", "--hardware", HBF, "--workload", "models/workloads/tiny.yaml",
            "--set", "placement.weights=hbf", "--phase", "decode", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        List<String> rows = Files.readAllLines(out.resolve("roofline.csv"));
        assertEquals(dev.rafter.roofline.RooflineReport.CSV_HEADER + ",memory_tier", rows.get(0));
        for (String row : rows.subList(1, rows.size())) {
            String[] cells = row.split(",");
            // GEMMs stream their weights from HBF (decode: far more bytes than their activations); the rest is HBM.
            assertEquals(cells[2].equals("gemm") ? "hbf" : "hbm", cells[cells.length - 1], row);
        }
    }
}

package dev.rafter.hw;

import dev.rafter.config.Section;
import java.nio.file.Path;
import java.util.List;

/** Reads {@code models/hardware/*.yaml} strictly, with optional {@code --set} overrides. */
public final class HardwareLoader {
    private HardwareLoader() {}

    public static HardwareSpec load(Path file, List<String> overrides) {
        return read(Section.load(file).override(overrides));
    }

    public static HardwareSpec read(Section s) {
        String name = s.string("name");
        double clock = s.number("clock_mhz");
        int cores = s.int32("cores");
        DataType dataType = s.choice("data_type", DataType.class, DataType.FP16);

        Section c = s.section("core");
        int arrays = c.int32("pe_arrays");
        Section pa = c.section("pe_array");
        HardwareSpec.PeArray peArray = pa.build(() -> new HardwareSpec.PeArray(
            pa.int32("rows"), pa.int32("cols"),
            pa.choice("dataflow", Dataflow.class), pa.bool("fold_overlap", false),
            pa.number("sustained_fraction", 1.0)));
        Section vu = c.section("vector_unit");
        HardwareSpec.VectorUnit vector = vu.build(() -> new HardwareSpec.VectorUnit(
            vu.int32("lanes"), vu.int32("flops_per_lane_per_cycle")));
        Section lb = c.section("local_buffer");
        HardwareSpec.LocalBuffer local = lb.build(() -> new HardwareSpec.LocalBuffer(
            lb.number("capacity_kib"), lb.int32("bytes_per_cycle")));
        List<List<Double>> tileList = c.has("gemm_tiles") ? c.numberLists("gemm_tiles") : List.of();
        HardwareSpec.Core core = c.build(() -> new HardwareSpec.Core(arrays, peArray, vector, local,
            gemmTiles(tileList)));

        Section gb = s.section("global_buffer");
        HardwareSpec.GlobalBuffer global = gb.build(() -> new HardwareSpec.GlobalBuffer(
            gb.number("capacity_mib"), gb.int32("bytes_per_cycle")));
        Section m = s.section("memory");
        HardwareSpec.Memory memory = m.build(() -> new HardwareSpec.Memory(m.int32("channels"),
            m.number("bandwidth_gb_per_s"), m.number("latency_ns"), m.number("capacity_gib")));
        Section ic = s.section("interconnect");
        HardwareSpec.Interconnect interconnect = ic.build(() -> new HardwareSpec.Interconnect(
            ic.int32("bytes_per_cycle"), ic.int32("latency_cycles")));
        Section dl = s.section("device_link");
        HardwareSpec.DeviceLink link = dl.build(() -> new HardwareSpec.DeviceLink(dl.number("bandwidth_gb_per_s"),
            dl.number("latency_ns"), dl.choice("topology", HardwareSpec.Topology.class)));

        HardwareSpec hw = s.build(() -> new HardwareSpec(name, clock, cores, core, global, memory,
            interconnect, link, dataType, null));
        if (s.has("energy")) {
            // Relative to the hardware file, so models/hardware/x.yaml can say ../energy/45nm.yaml.
            hw = hw.withEnergy(dev.rafter.energy.EnergyModel.load(s.directory().resolve(s.string("energy"))
                .normalize()));
        }
        s.finish();
        return hw;
    }

    /** {@code core.gemm_tiles}: [m, n, k] triples of positive integers. */
    private static List<HardwareSpec.GemmTile> gemmTiles(List<List<Double>> rows) {
        List<HardwareSpec.GemmTile> out = new java.util.ArrayList<>();
        for (List<Double> row : rows) {
            if (row.size() != 3 || row.stream().anyMatch(v -> v != Math.rint(v))) {
                throw new dev.rafter.config.InputException("gemm_tiles: expected [m, n, k] triples of integers, "
                    + "e.g. [128, 256, 64], got " + row.stream().map(dev.rafter.config.Check::fmt).toList());
            }
            out.add(new HardwareSpec.GemmTile(row.get(0).intValue(), row.get(1).intValue(), row.get(2).intValue()));
        }
        return out;
    }

}

package dev.rafter.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.sim.component.MemoryController;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Phase;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * An operator that reads its producer's result from a global buffer that kept it (a GPU's L2): two copies, the
 * second reading what the first wrote, on one core over one simple memory channel of 1 GB/s (1000 ps a byte) with a
 * 100 ns access latency, so a stage's fill from memory takes its bytes x 1000 ps + 100 ns and nothing else differs.
 */
class L2ResidencyTest {
    private static HardwareSpec device(String... sets) {
        List<String> all = new ArrayList<>(List.of("cores=1", "memory.channels=1", "memory.bandwidth_gb_per_s=1",
            "memory.latency_ns=100"));
        all.addAll(List.of(sets));
        return HardwareLoader.load(Path.of("models/hardware/sram-study-45nm.yaml"), all);
    }

    /** Two copies of {@code elements} fp16 elements, the second after (and reading) the first. */
    private static List<Simulation.OpResult> twoCopies(HardwareSpec hw, long elements, boolean reuse) {
        List<Simulation.OpResult> out = new ArrayList<>();
        new Simulation(hw).reuse(reuse).run(OperatorSource.of(
            Operator.vector(0, "producer", OpKind.COPY, Phase.PREFILL, 0, 0, elements, DataType.FP16),
            Operator.vector(1, "consumer", OpKind.COPY, Phase.PREFILL, 0, 0, elements, DataType.FP16)), null,
            out::add);
        return out;
    }

    private static long durationPs(Simulation.OpResult r) {
        return r.endPs() - r.startPs();
    }

    @Test
    void aResultThatFitsIsReadFromTheBufferWithoutItsMemoryFill() {
        // 256 elements: one stage of 512 bytes, whose fill from memory takes 512 x 1000 ps + 100 ns = 612 ns. The
        // consumer finds all of it resident: the same kernel less that fill (its tiles still cross the buffer's
        // port and the interconnect, the L2's bandwidth and latency).
        for (boolean reuse : new boolean[] {true, false}) {
            List<Simulation.OpResult> r = twoCopies(device("global_buffer.keeps_contents=true"), 256, reuse);
            assertEquals(durationPs(r.get(0)) - 612_000, durationPs(r.get(1)), "reuse " + reuse);
            assertEquals(512, r.get(0).sums().get(MemoryController.KIND, "read_bytes"));
            assertEquals(0, r.get(1).sums().get(MemoryController.KIND, "read_bytes"));
            assertEquals(0, r.get(1).sums().get(MemoryController.KIND, "write_bytes"), "its result stays in the L2");
            assertTrue(r.get(1).mapping().startsWith("100.0% of its input resident in the L2; "), r.get(1).mapping());
            // The roofline counts only the bytes from and to memory: none.
            assertEquals(0, r.get(1).bound().memoryS(), 1e-18);
        }
    }

    @Test
    void aResultPartlyEvictedIsReadPartlyFromTheBuffer() {
        // A 1 KiB buffer. The producer copies 128 elements (one stage of 256 bytes): it fetches 256 bytes, then
        // writes 256. A copy of 288 elements comes next and finds the producer's 256 bytes resident: it fetches the
        // other 320 of its 576, then writes 576; 256 + 256 + 320 + 576 = 1408 bytes were written into 1024, so the
        // oldest 384 go: the producer's fetched 256 and the first 128 of its result. The consumer (deps: the
        // producer) finds half its input resident; its stage reads the other 128 bytes from memory, 128 x 1000 ps +
        // 100 ns instead of 256 x 1000 ps + 100 ns: 128 ns less than the producer's same kernel.
        HardwareSpec hw = device("global_buffer.keeps_contents=true", "global_buffer.capacity_mib=0.0009765625");
        Operator consumer = Operator.vector(2, "consumer", OpKind.COPY, Phase.PREFILL, 0, 0, 128, DataType.FP16);
        consumer = new Operator(consumer.id(), consumer.name(), consumer.kind(), consumer.phase(), consumer.layer(),
            consumer.step(), consumer.batch(), consumer.m(), consumer.n(), consumer.k(), consumer.elements(),
            consumer.dataType(), new long[] {0});
        List<Simulation.OpResult> r = new ArrayList<>();
        new Simulation(hw).run(OperatorSource.of(
            Operator.vector(0, "producer", OpKind.COPY, Phase.PREFILL, 0, 0, 128, DataType.FP16),
            Operator.vector(1, "other", OpKind.COPY, Phase.PREFILL, 0, 0, 288, DataType.FP16), consumer), null, r::add);
        // Its stages (256, 256 and 64 bytes) each read 256/576 of theirs from the buffer, rounded down (113, 113, 28):
        // 322 bytes from memory, where the buffer's account (of whole tensors) says 320.
        assertEquals(322, r.get(1).sums().get(MemoryController.KIND, "read_bytes"));
        assertEquals(durationPs(r.get(0)) - 128_000, durationPs(r.get(2)));
        assertEquals(128, r.get(2).sums().get(MemoryController.KIND, "read_bytes"));
        assertTrue(r.get(2).mapping().startsWith("50.0% of its input resident in the L2; "), r.get(2).mapping());
    }

    @Test
    void aKernelWhoseResultFitsEndsWhenItsStoresReachTheBuffer() {
        // The producer alone (it finds nothing resident either way): written through, its kernel ends when its
        // 512-byte result has crossed the channel and its latency, 512 x 1000 ps + 100 ns after its store reached
        // the buffer; write-back, at that store. The rest of the kernel is the same.
        long through = durationPs(twoCopies(device(), 256, false).get(0));
        List<Simulation.OpResult> back = twoCopies(device("global_buffer.keeps_contents=true"), 256, false);
        assertEquals(through - 612_000, durationPs(back.get(0)));
        assertEquals(0, back.get(0).sums().get(MemoryController.KIND, "write_bytes"));
    }

    /**
     * A 1 KiB buffer: a copy of 512 fp16 elements fetches 1 KiB and writes its 1 KiB result, which evicts what it
     * fetched (clean: nothing to write) and leaves the buffer full of dirty bytes; then a gather of 128 elements
     * streams 256 bytes of its table, which evict 256 of them, and writes its 256-byte result, which evicts 256 more.
     */
    private static List<Simulation.OpResult> copyThenGather(boolean reuse, long[] dirtyLeft) {
        HardwareSpec hw = device("global_buffer.keeps_contents=true", "global_buffer.capacity_mib=0.0009765625");
        List<Simulation.OpResult> r = new ArrayList<>();
        Simulation.Result run = new Simulation(hw).reuse(reuse).run(OperatorSource.of(
            Operator.vector(0, "producer", OpKind.COPY, Phase.PREFILL, 0, 0, 512, DataType.FP16),
            Operator.vector(1, "table", OpKind.GATHER, Phase.PREFILL, 0, 0, 128, DataType.FP16)), null, r::add);
        dirtyLeft[0] = run.l2DirtyBytesLeft();
        return r;
    }

    @Test
    void aStreamThatEvictsDirtyResultsWritesThemBackOnItsTime() {
        // The gather's one stage reads its 256 bytes (the channel busy 256 ns, arriving 100 ns later); the 512 dirty
        // bytes it evicts go out right behind that read, busy 512 ns more and done 100 ns after: 868 ns after the
        // kernel starts (its dispatch first). Its cores are done long before (the same gather with nothing to write
        // back, on a fresh device, takes less).
        HardwareSpec hw = device("global_buffer.keeps_contents=true", "global_buffer.capacity_mib=0.0009765625");
        long dispatchPs = Math.round(hw.deviceDispatchNs() * 1000);
        for (boolean reuse : new boolean[] {true, false}) {
            long[] left = new long[1];
            List<Simulation.OpResult> r = copyThenGather(reuse, left);
            Simulation.OpResult gather = r.get(1);
            assertEquals(dispatchPs + (256 + 512) * 1000 + 100_000, durationPs(gather), "reuse " + reuse);
            assertEquals(512, gather.sums().get(MemoryController.KIND, "write_bytes"));
            assertEquals(256, gather.sums().get(MemoryController.KIND, "read_bytes"));
            assertEquals(0, r.get(0).sums().get(MemoryController.KIND, "write_bytes"), "the copy evicted clean bytes");
            assertTrue(gather.mapping().startsWith("writes back 512 B of results it evicts from the L2; "),
                gather.mapping());
            // Its roofline: 256 bytes read and 512 written at 1 GB/s.
            assertEquals(768e-9, gather.bound().memoryS(), 1e-18);
        }
        List<Simulation.OpResult> alone = new ArrayList<>();
        new Simulation(hw).run(OperatorSource.of(
            Operator.vector(1, "table", OpKind.GATHER, Phase.PREFILL, 0, 0, 128, DataType.FP16)), null, alone::add);
        assertTrue(durationPs(alone.get(0)) < dispatchPs + 868_000, "the write-back sets the gather's end");
    }

    @Test
    void resultsWrittenAreTheBytesWrittenBackPlusTheDirtyBytesLeft() {
        // 1 KiB + 256 bytes of results; 512 written to memory (by the gather), 768 still dirty in the buffer at the
        // end (the copy's last 512, the gather's 256): reported, not flushed, as a GPU leaves them in its L2.
        long[] left = new long[1];
        List<Simulation.OpResult> r = copyThenGather(true, left);
        long written = 0;
        for (Simulation.OpResult x : r) {
            written += x.sums().get(MemoryController.KIND, "write_bytes");
        }
        assertEquals(512, written);
        assertEquals(768, left[0]);
        assertEquals(1024 + 256, written + left[0]);
    }

    @Test
    void aDeviceWhoseBufferKeepsNothingRunsBothAlike() {
        HardwareSpec hw = device();
        assertFalse(hw.globalBuffer().keepsContents(), "off unless the hardware file says so");
        assertFalse(hw.toString().contains("keepsContents"), "its sweep key as before the flag existed");
        List<Simulation.OpResult> r = twoCopies(hw, 256, false);
        assertEquals(durationPs(r.get(0)), durationPs(r.get(1)));
        assertEquals(512, r.get(1).sums().get(MemoryController.KIND, "read_bytes"));
        assertFalse(r.get(1).mapping().contains("resident"), r.get(1).mapping());
        assertEquals(r.get(0).bound(), r.get(1).bound());
    }
}

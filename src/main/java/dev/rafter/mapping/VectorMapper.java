package dev.rafter.mapping;

import dev.rafter.config.InputException;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Maps a vector operator (softmax, norms, activations, elementwise) onto the cores' vector units as GPU kernels run
 * them. A chunk is at most what the local buffer holds twice (double buffering of inputs and outputs):
 * {@code fit} elements. Chunks run in blocks of one per core, each block's inputs streaming through the global
 * buffer as one stage, outputs written straight back.
 * <ul>
 *   <li><b>Elementwise kinds</b> (gelu, silu, elementwise) and vector ops without a row shape: one pass, the
 *       elements cut into chunks spread over all cores (no operand reuse: HBM traffic is the compulsory inputs plus
 *       outputs).</li>
 *   <li><b>Row-wise kinds</b> (softmax, layernorm, rmsnorm) whose row fits ({@code n <= fit}): the row stays on chip,
 *       one pass; a chunk is a group of whole rows (as a warp or block per row or rows does), so many short rows
 *       fill the device and a few rows use only as many cores as there are rows. A norm's normalise loads wait for
 *       its statistics: one more round trip to the global buffer, exposed on each core's last chunk
 *       ({@link #normalisesAfterStatistics}).</li>
 *   <li><b>Row-wise kinds whose row does not fit</b>: one row per core at a time (a CUDA block per row), streamed in
 *       chunks once per pass of {@link OpKind#passes(boolean)} (softmax 3 reads, norms 2, then 1 write). One long
 *       row runs on one core's vector unit and port. The re-reads come from the global buffer (an L2 hit) when the
 *       rows in flight, one per busy core, fit in half of it; otherwise from HBM again. Either way they are real
 *       traffic in the tile program; the roofline keeps the minimum bytes.</li>
 * </ul>
 */
public final class VectorMapper {
    private VectorMapper() {}

    public static TileProgram plan(HardwareSpec hw, Operator op) {
        OpKind kind = op.kind();
        int e = op.dataType().bytes();
        long perElementBytes = (long) (kind.inputsPerElement() + kind.outputsPerElement()) * e;
        long fit = hw.core().localBuffer().capacityBytes() / (2 * perElementBytes);
        if (fit < 1) {
            throw new InputException("core.local_buffer.capacity_kib: cannot hold two chunks of op " + op.id()
                + " (" + kind.key() + ")");
        }
        if (!kind.isRowWise() || !op.hasRowShape()) {
            return chunked(hw, op, 1, op.elements(), fit);
        }
        if (op.n() <= fit) {
            return chunked(hw, op, op.n(), op.m(), fit);
        }
        return rowPerCore(hw, op, fit);
    }

    /**
     * One pass over {@code units} units of {@code unit} elements (single elements, or whole rows that stay on
     * chip), in chunks of whole units spread over the cores.
     */
    private static TileProgram chunked(HardwareSpec hw, Operator op, long unit, long units, long fit) {
        OpKind kind = op.kind();
        OpKind.Pass pass = kind.passes(true).get(0);
        int e = op.dataType().bytes();
        int in = kind.inputsPerElement();
        int out = kind.outputsPerElement();
        int cores = hw.cores();
        long fitGlobal = hw.globalBuffer().capacityBytes() / 4 / ((long) cores * in * e);
        long chunk = Math.min(Math.min(fit, fitGlobal) / unit, ceilDiv(units, cores));
        if (unit > 1) {
            chunk = Math.max(1, chunk); // a whole row, even if a block of them overfills a quarter of the buffer
        }
        if (chunk < 1) {
            throw new InputException("core.local_buffer.capacity_kib: cannot hold two chunks of op " + op.id()
                + " (" + kind.key() + ")");
        }
        long chunks = ceilDiv(units, chunk);
        List<Stage> stages = new ArrayList<>();
        List<List<Work>> perCore = TileProgram.emptyCores(cores);
        long address = 0;
        long done = 0;
        for (long c0 = 0; c0 < chunks; c0 += cores) {
            int users = (int) Math.min(cores, chunks - c0);
            long stageBytes = 0;
            for (int u = 0; u < users; u++) {
                long n = Math.min(chunk, units - done);
                done += n;
                long elements = n * unit;
                stageBytes += elements * in * e;
                long special = elements * pass.specialFunctionsPerElement()
                    + (unit > 1 ? n * pass.specialFunctionsPerRow() : 0);
                perCore.get(u).add(new VectorTile(stages.size(), elements, in, out,
                    elements * pass.flopsPerElement(), special));
            }
            stages.add(new Stage(address, stageBytes, 0, 0, users));
            address += (stageBytes + 255) / 256 * 256;
        }
        long exposed = unit > 1 && normalisesAfterStatistics(kind) ? hw.interconnect().latencyCycles() : 0;
        if (exposed > 0) {
            // Earlier chunks' second round trips overlap the next chunk's loads; the last one's has nothing to hide it.
            for (List<Work> core : perCore) {
                if (!core.isEmpty()) {
                    VectorTile t = (VectorTile) core.get(core.size() - 1);
                    core.set(core.size() - 1, new VectorTile(t.stage(), t.elements(), t.inputsPerElement(),
                        t.outputsPerElement(), t.flops(), t.specialFunctions(), exposed));
                }
            }
        }
        long elements = op.elements();
        String why = unit > 1
            ? String.format(Locale.ROOT,
                "1 pass, rows of %d stay on chip; %d chunks of %d rows, %d per block of %d cores%s",
                unit, chunks, chunk, Math.min(chunks, cores), cores, exposed > 0 ? String.format(Locale.ROOT,
                    "; normalise loads wait for the row statistics (%d cycles exposed on each core's last chunk)",
                    exposed) : "")
            : String.format(Locale.ROOT, "1 pass; %d chunks of %d elements, %d per block of %d cores", chunks, chunk,
                Math.min(chunks, cores), cores);
        return new TileProgram(stages, perCore, elements * in * e, elements * out * e, why);
    }

    /** Rows too long for the local buffer: a row per core, streamed once per pass. */
    private static TileProgram rowPerCore(HardwareSpec hw, Operator op, long fit) {
        OpKind kind = op.kind();
        List<OpKind.Pass> passes = kind.passes(false);
        int e = op.dataType().bytes();
        int in = kind.inputsPerElement();
        int out = kind.outputsPerElement();
        int cores = hw.cores();
        long rows = op.m();
        long n = op.n();
        int busy = (int) Math.min(rows, cores);
        long globalBytes = hw.globalBuffer().capacityBytes();
        long fitGlobal = globalBytes / 4 / ((long) busy * in * e);
        long chunksPerRow = ceilDiv(n, Math.max(1, Math.min(fit, fitGlobal)));
        long chunk = ceilDiv(n, chunksPerRow); // balanced chunks along the row
        boolean reReadOnChip = (long) busy * n * in * e <= globalBytes / 2;
        int last = passes.size() - 1;
        List<Stage> stages = new ArrayList<>();
        List<List<Work>> perCore = TileProgram.emptyCores(cores);
        long address = 0;
        long hbmRead = 0;
        for (long r0 = 0; r0 < rows; r0 += cores) {
            int users = (int) Math.min(cores, rows - r0);
            long rowAddress = address;
            for (int p = 0; p <= last; p++) {
                OpKind.Pass pass = passes.get(p);
                int outputs = pass.writes() ? out : 0;
                boolean fromHbm = p == 0 || !reReadOnChip;
                long at = rowAddress;
                for (long c = 0; c < chunksPerRow; c++) {
                    long len = Math.min(chunk, n - c * chunk);
                    long bytes = users * len * in * e;
                    long special = len * pass.specialFunctionsPerElement() + (c == 0 ? pass.specialFunctionsPerRow()
                        : 0);
                    for (int u = 0; u < users; u++) {
                        perCore.get(u).add(new VectorTile(stages.size(), len, in, outputs,
                            len * pass.flopsPerElement(), special));
                    }
                    long load = fromHbm ? bytes : 0;
                    long pinned = reReadOnChip && p == 0 ? bytes : 0;
                    long unpin = reReadOnChip && p == last ? bytes : 0;
                    stages.add(new Stage(at, load, pinned, unpin, users));
                    hbmRead += load;
                    at += (bytes + 255) / 256 * 256; // a re-read from HBM reads the same addresses again
                }
                address = Math.max(address, at);
            }
        }
        String why = String.format(Locale.ROOT,
            "%d passes, rows of %d do not fit the local buffer (%d elements); a row per core "
                + "on %d of %d cores, %d chunks of %d per pass, re-reads from %s", passes.size(), n, fit, busy,
            cores, chunksPerRow, chunk, reReadOnChip ? "the global buffer" : "HBM");
        return new TileProgram(stages, perCore, hbmRead, op.elements() * out * e, why);
    }

    /**
     * Norms read their row again after its statistics: PyTorch's {@code vectorized_layer_norm_kernel} (a block per
     * row) and vLLM's {@code rms_norm_kernel} / {@code fused_add_rms_norm_kernel} load the row (and the weights) in a
     * second loop behind the block's reduction and barrier, so each block waits on a second dependent round trip to
     * the global buffer (at least an L2 hit: {@code interconnect.latency_cycles}). A softmax whose row stays on chip
     * (a warp per row, the row in registers) does not.
     */
    static boolean normalisesAfterStatistics(OpKind kind) {
        return kind == OpKind.LAYERNORM || kind == OpKind.RMSNORM || kind == OpKind.ADD_RMSNORM;
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}

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
 * On a core with a SIMT description ({@code core.simt}) the kernels' dependent latencies are exposed as well: each
 * chunk of rows waits out its rows' reductions ({@link RowReduction}), as many rows at once as the core holds CTAs
 * of the kernel; a norm's normalise loads, issued after its statistics, take the memory's path too (its weights);
 * a reducing pass of an off-chip row ends in its reduction and the next pass's first loads; a gather's row loads
 * wait for their indices ({@link #indicesFromMemory}), exposed on each core's last chunk.
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
        HardwareSpec.Simt simt = hw.core().simt();
        long rowChain = simt != null && unit > 1 ? RowReduction.rowCycles(simt, kind, unit, e) : 0;
        long rowsInFlight = rowChain > 0 ? RowReduction.rowsInFlight(simt, kind, unit, e) : 1;
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
                    elements * pass.flopsPerElement(), special, rowChain * ceilDiv(n, rowsInFlight)));
            }
            stages.add(new Stage(address, stageBytes, 0, 0, users));
            address += (stageBytes + 255) / 256 * 256;
        }
        boolean normalises = unit > 1 && normalisesAfterStatistics(kind);
        long exposed = normalises ? hw.interconnect().latencyCycles() + (simt != null ? memoryPathCycles(hw) : 0)
            : unit == 1 && simt != null && indicesFromMemory(kind) ? hw.interconnect().latencyCycles()
                + memoryPathCycles(hw) : 0;
        if (exposed > 0) {
            // Earlier chunks' second round trips overlap the next chunk's loads; the last one's has nothing to hide it.
            for (List<Work> core : perCore) {
                if (!core.isEmpty()) {
                    VectorTile t = (VectorTile) core.get(core.size() - 1);
                    core.set(core.size() - 1, new VectorTile(t.stage(), t.elements(), t.inputsPerElement(),
                        t.outputsPerElement(), t.flops(), t.specialFunctions(), t.exposedLatencyCycles() + exposed));
                }
            }
        }
        long elements = op.elements();
        String why = unit > 1
            ? String.format(Locale.ROOT,
                "1 pass, rows of %d stay on chip; %d chunks of %d rows, %d per block of %d cores%s%s",
                unit, chunks, chunk, Math.min(chunks, cores), cores, rowChain > 0 ? String.format(Locale.ROOT,
                    "; a row's reductions take a chain of %d cycles, %d rows in flight per core", rowChain,
                    rowsInFlight) : "",
                exposed > 0 ? String.format(Locale.ROOT, simt != null
                    ? "; normalise loads (the row again, the weights from memory) wait for the row statistics (%d"
                        + " cycles exposed on each core's last chunk)"
                    : "; normalise loads wait for the row statistics (%d cycles exposed on each core's last chunk)",
                    exposed) : "")
            : String.format(Locale.ROOT, "1 pass; %d chunks of %d elements, %d per block of %d cores%s", chunks, chunk,
                Math.min(chunks, cores), cores, exposed > 0 ? String.format(Locale.ROOT,
                    "; a gather's loads wait for their indices, from memory (%d cycles exposed on each core's last"
                        + " chunk)",
                    exposed) : "");
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
        HardwareSpec.Simt simt = hw.core().simt();
        // On a GPU kernel, a pass that reduces ends in the row's reduction; the next pass's loads follow its barrier
        // (a round trip, and for a norm its weights from memory).
        long passEnd = simt == null ? 0 : RowReduction.cycles(simt, kind, n, e) + hw.interconnect().latencyCycles()
            + (normalisesAfterStatistics(kind) ? memoryPathCycles(hw) : 0);
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
                    long exposed = p < last && c == chunksPerRow - 1 ? passEnd : 0;
                    for (int u = 0; u < users; u++) {
                        perCore.get(u).add(new VectorTile(stages.size(), len, in, outputs,
                            len * pass.flopsPerElement(), special, exposed));
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
                + "on %d of %d cores, %d chunks of %d per pass, re-reads from %s%s", passes.size(), n, fit, busy,
            cores, chunksPerRow, chunk, reReadOnChip ? "the global buffer" : "HBM", passEnd > 0
                ? String.format(Locale.ROOT, "; each reducing pass ends in a reduction and the next pass's first "
                    + "loads (%d cycles exposed)", passEnd) : "");
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

    /**
     * A gather's row loads wait for its index loads: PyTorch's {@code indexSelectLargeIndex} (Indexing.cu) loads a
     * thread's index, then the source element at the row it names. The index tensor is an input no kernel wrote (an
     * embedding's token, position or token-type ids: placed on the device before the step, or a module's buffer), and
     * Rafter keeps no inputs but results in the global buffer ({@link L2Residency}), so, as a norm's weights, the
     * indices come from memory: an L2 hit's latency and the memory's fixed path ({@link #memoryPathCycles}), a lower
     * bound (the DRAM core's time left out). The rows' own loads are the chunk's stage, from wherever they lie.
     */
    static boolean indicesFromMemory(OpKind kind) {
        return kind == OpKind.GATHER;
    }

    /**
     * The memory's fixed path in core cycles ({@code memory.latency_ns}), rounded up: what a load that misses the
     * global buffer adds to an L2 hit, without the DRAM core's own time (a lower bound). Rafter keeps no weights in
     * the global buffer ({@link L2Residency} looks up results only), so a norm's weights come from memory.
     */
    static long memoryPathCycles(HardwareSpec hw) {
        return (long) Math.ceil(hw.memory().latencyNs() * hw.clockMhz() / 1000.0);
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}

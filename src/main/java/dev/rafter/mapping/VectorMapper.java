package dev.rafter.mapping;

import dev.rafter.config.InputException;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.workload.Operator;
import java.util.ArrayList;
import java.util.List;

/**
 * Maps a vector operator (softmax, norms, activations, elementwise) onto the cores' vector units: the elements are
 * cut into chunks as large as the local buffer allows with double buffering (inputs and outputs of two chunks),
 * but small enough that every core gets work; chunks run in blocks of one per core, each block's inputs streaming
 * through the global buffer as one stage, outputs written straight back. No operand is reused, so HBM traffic is
 * the compulsory inputs plus outputs. Row structure (e.g. a softmax row) is not kept together: only element counts
 * and FLOPs matter to the timing model.
 */
public final class VectorMapper {
    private VectorMapper() {}

    public static TileProgram plan(HardwareSpec hw, Operator op) {
        int e = op.dataType().bytes();
        int in = op.kind().inputsPerElement();
        int out = op.kind().outputsPerElement();
        long elements = op.elements();
        long perChunkBytes = (long) (in + out) * e;
        long fitLocal = hw.core().localBuffer().capacityBytes() / (2 * perChunkBytes);
        long fitGlobal = hw.globalBuffer().capacityBytes() / 4 / ((long) hw.cores() * in * e);
        long chunk = Math.min(Math.min(fitLocal, fitGlobal), ceilDiv(elements, hw.cores()));
        if (chunk < 1) {
            throw new InputException("core.local_buffer.capacity_kib: cannot hold two chunks of op " + op.id()
                + " (" + op.kind().key() + ")");
        }
        long chunks = ceilDiv(elements, chunk);
        List<Stage> stages = new ArrayList<>();
        List<List<Work>> cores = new ArrayList<>();
        for (int i = 0; i < hw.cores(); i++) {
            cores.add(new ArrayList<>());
        }
        long address = 0;
        long done = 0;
        for (long c0 = 0; c0 < chunks; c0 += hw.cores()) {
            int users = (int) Math.min(hw.cores(), chunks - c0);
            long stageBytes = 0;
            for (int u = 0; u < users; u++) {
                long n = Math.min(chunk, elements - done);
                done += n;
                stageBytes += n * in * e;
                cores.get(u).add(new VectorTile(stages.size(), n, op.kind()));
            }
            stages.add(new Stage(address, stageBytes, 0, 0, users));
            address += (stageBytes + 255) / 256 * 256;
        }
        String why = String.format("%d chunks of %d elements, %d per block of %d cores", chunks, chunk,
            Math.min(chunks, hw.cores()), hw.cores());
        return new TileProgram(stages, cores, elements * in * e, elements * out * e, why);
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}

package dev.rafter.mapping;

import java.util.List;

/**
 * The mapping of one GEMM: the chosen tile sizes and the tile programs they give.
 *
 * @param localM rows of a local tile; {@code localN}, {@code localK} likewise
 * @param globalK depth of a global-buffer stage (a multiple of {@code localK}, or all of K)
 * @param splitK parts K is split into (1: no split-K)
 * @param program the tiles (with split-K: the partial products, written to memory as fp32)
 * @param reduction with split-K, the pass that adds the partial products into the output; else null
 */
public record GemmPlan(int localM, int localN, int localK, int globalK, int splitK, TileProgram program,
                       TileProgram reduction) {

    public GemmPlan(int localM, int localN, int localK, int globalK, TileProgram program) {
        this(localM, localN, localK, globalK, 1, program, null);
    }

    /** The programs to run, one after another. */
    public List<TileProgram> programs() {
        return reduction == null ? List.of(program) : List.of(program, reduction);
    }
}

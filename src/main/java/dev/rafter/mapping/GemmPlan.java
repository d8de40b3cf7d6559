package dev.rafter.mapping;

/**
 * The mapping of one GEMM: the chosen tile sizes and the tile program they give.
 *
 * @param localM rows of a local tile; {@code localN}, {@code localK} likewise
 * @param globalK depth of a global-buffer stage (a multiple of {@code localK}, or all of K)
 */
public record GemmPlan(int localM, int localN, int localK, int globalK, TileProgram program) {}

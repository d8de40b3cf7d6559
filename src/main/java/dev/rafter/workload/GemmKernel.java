package dev.rafter.workload;

/**
 * The GEMM kernel a library ran for an operator, as a replayed trace names it (importer/KernelNames#gemmKernel):
 * its CTA tile in the operator's terms ({@code tileM} rows of the output, {@code tileN} columns, {@code tileK} deep
 * per main-loop step) and the tensor-core path its instructions use. An input fact of the trace, shown beside
 * Rafter's own tile choice in the mapping's explanation (mapping/GemmMapper); the mapping does not follow it yet:
 * on the BERT fixture the library's smaller tiles run faster in Rafter than they do on the GPU.
 *
 * @param name the kernel's name as the trace gives it (shortened to the part that names the kernel)
 * @param path {@link Path#WARPGROUP_MMA}: Hopper's asynchronous warp-group MMA (wgmma);
 *     {@link Path#WARP_MMA}: the warp-level mma.sync / wmma instructions of a kernel built for an earlier
 *     architecture (an sm80 kernel keeps them on Hopper)
 * @param stages the k-steps its main loop keeps in flight (a CUTLASS 2 name's {@code _64x6_}: 6 stages of
 *     asynchronous copies), 0 where the name does not say (cuBLAS's own kernels: the mapping derives them)
 */
public record GemmKernel(String name, int tileM, int tileN, int tileK, Path path, int stages) {
    /** The tensor-core instructions a kernel uses. */
    public enum Path { WARPGROUP_MMA, WARP_MMA }

    public GemmKernel {
        if (tileM < 1 || tileN < 1 || tileK < 1) {
            throw new IllegalArgumentException("a kernel tile's sizes are at least 1, got " + tileM + "x" + tileN
                + "x" + tileK);
        }
        if (name == null || path == null) {
            throw new IllegalArgumentException("a GEMM kernel has a name and a path");
        }
        if (stages < 0) {
            throw new IllegalArgumentException("a kernel's pipeline stages are at least 0 (not named), got " + stages);
        }
    }

    /** A kernel whose name does not give its pipeline stages. */
    public GemmKernel(String name, int tileM, int tileN, int tileK, Path path) {
        this(name, tileM, tileN, tileK, path, 0);
    }
}

package dev.rafter.workload;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The GEMM kernel a library ran for an operator, as a replayed trace names it ({@link #fromName}; an imported trace
 * CSV keeps the name in its {@code kernel} column): its CTA tile in the operator's terms ({@code tileM} rows of the
 * output, {@code tileN} columns, {@code tileK} deep per main-loop step), the tensor-core path its instructions use
 * and its pipeline's stages. An input fact of the trace, shown beside Rafter's own tile choice in the mapping's
 * explanation (mapping/GemmMapper); the mapping keeps the named stages in flight (mapping/LibraryTiles) but not the
 * tile: on the BERT fixture the library's smaller tiles run faster in Rafter than they do on the GPU.
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

    /** cuBLAS's own kernels: {@code sm90_xmma_gemm_..._tilesize64x64x64_...}: CTA tile M x N x K, sm of the path. */
    private static final Pattern XMMA = Pattern.compile("sm(\\d+)_xmma_gemm_\\w*?_tilesize(\\d+)x(\\d+)x(\\d+)_");
    /**
     * CUTLASS 2 procedural names ({@code cutlass_80_tensorop_bf16_s16816gemm_relu_bf16_64x64_64x6_tn_align8}): the
     * architecture, then the threadblock as {@code <M>x<N>_<K>x<stages>} before the layout
     * (cutlass_library gemm_operation.py, GemmOperation.procedural_name and TileDescription.procedural_name).
     */
    private static final Pattern CUTLASS2 = Pattern.compile(
        "cutlass_(\\d+)_(?:wmma_)?tensorop_\\w*?_(\\d+)x(\\d+)_(\\d+)x(\\d+)_[nt][nt]_align\\d+");

    /**
     * The GEMM kernel a trace names, in the operator's terms, or null when the name is not one of the forms below
     * (the mapping then picks its own tile). Forms, first match wins:
     * <ul>
     *   <li>cuBLAS {@code sm<A>_xmma_gemm_..._tilesize<M>x<N>x<K>_...}</li>
     *   <li>CUTLASS 2 {@code cutlass_<A>_[wmma_]tensorop_..._<M>x<N>_<K>x<stages>_<layout>_align<a>}, also inside a
     *       template ({@code cutlass::Kernel2<cutlass_80_...>})</li>
     * </ul>
     * {@code A} is the architecture the kernel was built for: 90 and above is Hopper's warp-group MMA path; below,
     * the warp-level mma.sync / wmma path (an sm80 kernel run on Hopper keeps its instructions). The tile is in the
     * kernel's own column-major terms, its M along PyTorch's N (KernelNames#gemmTile): the operator's tile is N x M.
     * A name that says the kernel splits K ({@code segment_k_on}, {@code splitk}, {@code split_k}) gives null: the
     * split's factor is not in it.
     */
    public static GemmKernel fromName(String kernel) {
        String lower = kernel.toLowerCase(Locale.ROOT);
        if (lower.contains("segment_k_on") || lower.contains("splitk") || lower.contains("split_k")) {
            return null;
        }
        for (Pattern p : new Pattern[] {XMMA, CUTLASS2}) {
            Matcher m = p.matcher(kernel);
            if (m.find()) {
                try {
                    int arch = Integer.parseInt(m.group(1));
                    int tileM = Integer.parseInt(m.group(2));
                    int tileN = Integer.parseInt(m.group(3));
                    int tileK = Integer.parseInt(m.group(4));
                    if (tileM < 1 || tileN < 1 || tileK < 1) {
                        return null;
                    }
                    int start = m.start();
                    int end = m.end();
                    while (end < kernel.length() && (Character.isLetterOrDigit(kernel.charAt(end))
                        || kernel.charAt(end) == '_')) {
                        end++;
                    }
                    int stages = p == CUTLASS2 ? Integer.parseInt(m.group(5)) : 0;
                    return new GemmKernel(kernel.substring(start, end), tileN, tileM, tileK,
                        arch >= 90 ? Path.WARPGROUP_MMA : Path.WARP_MMA, stages);
                } catch (NumberFormatException e) {
                    return null; // more digits than an int: no real tile
                }
            }
        }
        return null;
    }
}

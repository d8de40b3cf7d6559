package dev.rafter.importer;

import dev.rafter.workload.OpKind;
import dev.rafter.workload.TransformerSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Kernel families recognised by kernel name, for kernels that no recorded op launched (a CUDA/HIP graph replay
 * records no op). The table, first match wins (names compared in lower case):
 * <table>
 * <caption>kernel families</caption>
 * <tr><th>family</th><th>name contains</th><th>examples</th></tr>
 * <tr><td>GEMM</td><td>{@code cijk_} (Tensile / hipBLASLt), {@code gemm}, {@code cutlass}, {@code nvjet},
 *     {@code xmma}</td><td>{@code Cijk_Alik_Bljk_..._MT64x32x256_...}, {@code sm90_xmma_gemm_...},
 *     {@code cutlass_80_tensorop_bf16_s16816gemm_...}</td></tr>
 * <tr><td>ATTENTION_REDUCE (part of the preceding attention)</td><td>{@code paged_attention} and
 *     {@code reduce}</td><td>{@code paged_attention_ll4mi_reduce_kernel}, {@code paged_attention_v2_reduce_kernel}
 *     </td></tr>
 * <tr><td>DECODE_ATTENTION</td><td>{@code paged_attention}, {@code batchdecode}, {@code flash_fwd_splitkv},
 *     {@code fmha}, {@code flash_fwd}</td><td>{@code paged_attention_ll4mi_QKV_mfma16_kernel},
 *     {@code BatchDecodeWithPagedKVCacheKernel}</td></tr>
 * <tr><td>NORM</td><td>{@code rmsnorm}, {@code rms_norm} (ADD_RMSNORM when also {@code add})</td>
 *     <td>{@code aiter::add_rmsnorm_quant_kernel}, {@code vllm::fused_add_rms_norm_kernel}</td></tr>
 * <tr><td>GATED_ACTIVATION</td><td>{@code act_and_mul}, {@code silu_and_mul}, {@code gelu_and_mul}</td>
 *     <td>{@code sgl_hip::activation::act_and_mul_kernel<..silu..>}</td></tr>
 * <tr><td>ROPE</td><td>{@code rotary_embedding}, {@code rope}</td><td>{@code rotary_embedding_kernel}</td></tr>
 * <tr><td>KV_CACHE_WRITE</td><td>{@code store_kvcache}, {@code reshape_and_cache}, {@code concat_and_cache}</td>
 *     <td>{@code store_kvcache<2048, 4, ...>}</td></tr>
 * </table>
 * A kernel name gives a GEMM's tile ({@link #gemmTile}) but not its problem size, so the sizes come from the model
 * the user names ({@link ModelHint}): a graph replay, or a run of kernels that no recorded op launched, is taken to
 * be one decode step of the hint's batch. Its kernels in GPU order walk the decoder layers and each GEMM takes its
 * role from its place in the layer ({@link #decodeStep}); where the event records the launch grid, grid x tile must
 * cover the role's N and gives M. A run whose GEMMs do not number a whole step gives each GEMM the role whose N its
 * grid x tile covers ({@link #byGrid}).
 */
final class KernelNames {
    enum Family { GEMM, ATTENTION_REDUCE, DECODE_ATTENTION, NORM, GATED_ACTIVATION, ROPE, KV_CACHE_WRITE, OTHER }

    private KernelNames() {}

    /** cuBLAS sm90 kernels: {@code ..._tilesize128x128x64_...}. */
    private static final Pattern TILESIZE = Pattern.compile("tilesize(\\d+)x(\\d+)");
    /** Tensile / hipBLASLt macro tile: {@code ..._MT64x32x256_...}. */
    private static final Pattern TENSILE_TILE = Pattern.compile("_MT(\\d+)x(\\d+)x\\d+_");
    /**
     * cutlass, cuBLAS (ampere_..., nvjet) and cutlass 3 names: the first {@code _<M>x<N>_} or {@code _<M>x<N>x<K>_}
     * ({@code cutlass_80_tensorop_bf16_s16816gemm_relu_bf16_128x256_64x3_tn_align8},
     * {@code nvjet_sm90_tst_64x8_64x16_2x4_h_bz_bias_TNT}, {@code cutlass3x_sm90_..._128x256x64_1x2x1_...}).
     */
    private static final Pattern NAMED_TILE = Pattern.compile("_(\\d+)x(\\d+)(?:x\\d+)?(?=_|$)");

    static Family family(String kernel) {
        String n = kernel.toLowerCase(Locale.ROOT);
        if (n.contains("cijk_") || n.contains("gemm") || n.contains("cutlass") || n.contains("nvjet")
            || n.contains("xmma")) {
            return Family.GEMM;
        }
        if (n.contains("paged_attention") && n.contains("reduce")) {
            return Family.ATTENTION_REDUCE;
        }
        if (n.contains("paged_attention") || n.contains("batchdecode") || n.contains("flash_fwd")
            || n.contains("fmha")) {
            return Family.DECODE_ATTENTION;
        }
        if (n.contains("rmsnorm") || n.contains("rms_norm")) {
            return Family.NORM;
        }
        if (n.contains("act_and_mul") || n.contains("silu_and_mul") || n.contains("gelu_and_mul")) {
            return Family.GATED_ACTIVATION;
        }
        if (n.contains("rotary_embedding") || n.contains("rope")) {
            return Family.ROPE;
        }
        if (n.contains("store_kvcache") || n.contains("reshape_and_cache") || n.contains("concat_and_cache")) {
            return Family.KV_CACHE_WRITE;
        }
        return Family.OTHER;
    }

    /**
     * Whether a kernel's recorded launch configuration ("[g, g, g][b, b, b]", as KinetoArgs writes it; "" when
     * absent) has a dimension below 1 or one that is not a whole number: no such launch runs.
     */
    static boolean impossibleLaunch(String launchConfig) {
        if (launchConfig.isEmpty()) {
            return false;
        }
        for (String part : launchConfig.replace("][", ",").replace("[", "").replace("]", "").split(",")) {
            String v = part.trim();
            if (v.isEmpty() || v.equals("?")) {
                continue;
            }
            try {
                if (Long.parseLong(v) < 1) {
                    return true;
                }
            } catch (NumberFormatException e) {
                return true;
            }
        }
        return false;
    }

    /**
     * A GEMM kernel's output tile {rows, columns} as its name gives it (cuBLAS {@code tilesize}, Tensile {@code MT},
     * else the first {@code _MxN_} of a cutlass / cuBLAS / nvjet name), or null when the name gives none. The tile
     * is in the kernel's own (column-major, cuBLAS) terms: its first size runs along the kernel's M, which is
     * PyTorch's N when PyTorch calls cuBLAS with its operands swapped, as it does for linear layers.
     */
    static long[] gemmTile(String kernel) {
        for (Pattern p : new Pattern[] {TILESIZE, TENSILE_TILE, NAMED_TILE}) {
            Matcher m = p.matcher(kernel);
            if (m.find()) {
                try {
                    return new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))};
                } catch (NumberFormatException e) {
                    return new long[] {0, 0}; // more digits than a long: no real tile, refused as impossible
                }
            }
        }
        return null;
    }

    /**
     * {M, 1 when M is the hint's token count (else the grid's bound)} for a GEMM of output width {@code n} run as a
     * launch of {@code gridX x gridY} blocks of {@code tile}, or null when the grid does not cover n: one grid
     * dimension must be n's tile count, ceil(n / tile); the other, q, bounds M to ((q - 1) tile, q tile]. M is
     * {@code tokens} (the hint's) when it lies there, else q x tile, the most the grid computes. Both orientations
     * are tried, the kernel's M along PyTorch's N first (grid.x over the output features, as cuBLAS runs a linear
     * layer); grid.z (split-K or batch) gives neither.
     */
    static long[] gridFit(long[] tile, long gridX, long gridY, long n, long tokens) {
        long[] bound = null;
        for (int o = 0; o < 2; o++) {
            long tileN = tile[o];
            long tileM = tile[1 - o];
            long gridN = o == 0 ? gridX : gridY;
            long gridM = o == 0 ? gridY : gridX;
            if ((n + tileN - 1) / tileN != gridN) {
                continue;
            }
            if (tokens > (gridM - 1) * tileM && tokens <= gridM * tileM) {
                return new long[] {tokens, 1};
            }
            if (bound == null) {
                bound = new long[] {gridM * tileM, 0};
            }
        }
        return bound;
    }

    /** A kernel as launched: its name, and its launch grid's x and y (-1 when the trace records no grid). */
    record Launch(String name, long gridX, long gridY) {
        static Launch ungridded(String name) {
            return new Launch(name, -1, -1);
        }
    }

    /**
     * An operator shape inferred for one kernel; {@code foldIntoPrevious}: its time joins the previous one's;
     * {@code gridChecked}: a GEMM whose launch grid x tile covers its role's N; {@code roleFromGrid}: one whose
     * role its grid chose (not its place in the layer); {@code mFromGrid}: one whose M is its grid's bound, not the
     * hint's token count.
     */
    record KernelShape(String role, OpKind kind, long batch, long m, long n, long k, long elements, boolean rows,
                       boolean foldIntoPrevious, boolean gridChecked, boolean roleFromGrid, boolean mFromGrid) {}

    /** The shapes of one graph replay's kernels (null: not inferred), and why the GEMMs were not, if they were not. */
    record StepShapes(KernelShape[] shapes, String problem) {}

    /** A GEMM of a decoder layer (or the output head): its name, output width n and reduction k. */
    private record Role(String name, long n, long k) {}

    /** A layer's GEMMs in order: fused (QKV, O, gate+up or up, down) or unfused (Q, K, V, O, gate, up, down). */
    private static List<Role> layerRoles(TransformerSpec m, boolean fused) {
        long d = m.dModel();
        long qWidth = (long) m.heads() * m.headDim();
        long kvWidth = (long) m.kvHeads() * m.headDim();
        boolean gated = m.ffn() == TransformerSpec.FfnKind.SWIGLU;
        List<Role> roles = new ArrayList<>();
        if (fused) {
            roles.add(new Role("qkv_proj", qWidth + 2 * kvWidth, d));
        } else {
            roles.add(new Role("q_proj", qWidth, d));
            roles.add(new Role("k_proj", kvWidth, d));
            roles.add(new Role("v_proj", kvWidth, d));
        }
        roles.add(new Role("o_proj", d, qWidth));
        if (gated && fused) {
            roles.add(new Role("gate_up_proj", 2L * m.ffnDim(), d));
        } else {
            if (gated) {
                roles.add(new Role("gate_proj", m.ffnDim(), d));
            }
            roles.add(new Role("up_proj", m.ffnDim(), d));
        }
        roles.add(new Role("down_proj", d, m.ffnDim()));
        return roles;
    }

    /**
     * One decode step's kernels, in GPU order, against the hint. The GEMMs must number layers x G (+1 for the
     * output head), G the GEMMs of a decoder layer: 4 with fused projections (QKV, O, gate+up, down; O, up, down
     * without a gate) or 7 unfused (Q, K, V, O, gate, up, down; 6 without a gate); otherwise their roles are unknown
     * and nothing of the replay is inferred. A GEMM whose event records its launch grid and whose name gives its
     * tile must have a grid that covers its role's N ({@link #gridFit}, which gives its M); one that does not makes
     * the walk a problem too. Between a layer's first GEMM (QKV or Q) and its O projection, the first norm is the
     * query heads' (Qwen3's q_norm), the second the key heads'; every other norm is over the hidden size.
     * Attention, rope, the KV-cache write and the gated activation take their sizes from the hint.
     */
    static StepShapes decodeStep(List<Launch> kernels, ModelHint hint) {
        TransformerSpec m = hint.model();
        boolean gated = m.ffn() == TransformerSpec.FfnKind.SWIGLU;
        int gemms = 0;
        for (Launch k : kernels) {
            gemms += family(k.name()) == Family.GEMM ? 1 : 0;
        }
        int layers = m.layers();
        int fused = gated ? 4 : 3;
        int unfused = gated ? 7 : 6;
        boolean head = gemms != (long) fused * layers && gemms != (long) unfused * layers;
        int perLayer = (gemms - (head ? 1 : 0)) % layers == 0 ? (gemms - (head ? 1 : 0)) / layers : 0;
        if (perLayer != fused && perLayer != unfused) {
            return new StepShapes(new KernelShape[kernels.size()], gemms + " GEMM kernels do not fit " + layers
                + " layers of " + fused + " or " + unfused + " GEMMs (+1 for the output head) of the model hint");
        }
        List<Role> roles = layerRoles(m, perLayer == fused);
        Role lmHead = new Role("lm_head", m.vocab(), m.dModel());
        int oRole = 1 + (perLayer == fused ? 0 : 2);

        KernelShape[] out = new KernelShape[kernels.size()];
        int gemm = 0;
        int lastRole = -1; // the role of the last GEMM seen (-1 before the first)
        int normsSinceQkv = 0;
        for (int i = 0; i < kernels.size(); i++) {
            Launch l = kernels.get(i);
            Family f = family(l.name());
            if (f == Family.GEMM) {
                Role r;
                if (head && gemm == gemms - 1) {
                    r = lmHead;
                } else {
                    lastRole = gemm % perLayer;
                    r = roles.get(lastRole);
                    normsSinceQkv = 0;
                }
                gemm++;
                long tokens = hint.sequences();
                boolean bound = false;
                long[] tile = gemmTile(l.name());
                boolean gridded = tile != null && l.gridX() >= 1 && l.gridY() >= 1;
                if (gridded) {
                    long[] fit = gridFit(tile, l.gridX(), l.gridY(), r.n(), hint.sequences());
                    if (fit == null) {
                        return new StepShapes(new KernelShape[kernels.size()], "GEMM kernel " + gemm + " of "
                            + gemms + " (" + r.name() + " by its place, N " + r.n() + "): its launch grid ["
                            + l.gridX() + ", " + l.gridY() + "] x tile " + tile[0] + "x" + tile[1]
                            + " does not cover N");
                    }
                    tokens = fit[0];
                    bound = fit[1] == 0;
                }
                out[i] = gemm(r, tokens, gridded, false, bound);
            } else {
                if (f == Family.NORM && lastRole >= 0 && lastRole < oRole) {
                    normsSinceQkv++;
                }
                out[i] = notGemm(f, l.name(), hint, i > 0 ? out[i - 1] : null,
                    lastRole >= 0 && lastRole < oRole ? normsSinceQkv : 0);
            }
        }
        return new StepShapes(out, null);
    }

    /**
     * Kernels that no layer walk fits (a part of a step, or a step whose GEMMs the hint's layers do not number),
     * in GPU order: each GEMM whose name gives its tile and whose event records its grid takes the role of the
     * hint's model (any layer role, fused or not, or the output head) whose N its grid x tile covers
     * ({@link #gridFit}); where several do, first the one whose M range holds the hint's token count, then the one
     * that follows the previous GEMM's role in a layer (a decode attention kernel since stands for the QKV
     * projection, so O follows it; a gated activation for gate+up, so down follows it), then the first in layer
     * order. Other GEMMs are not inferred; the other kernels are as in {@link #decodeStep}. Null when no GEMM was
     * placed: without one nothing confirms that the kernels ran the hint's model.
     */
    static KernelShape[] byGrid(List<Launch> kernels, ModelHint hint) {
        TransformerSpec m = hint.model();
        List<Role> fusedRoles = layerRoles(m, true);
        List<Role> unfusedRoles = layerRoles(m, false);
        List<Role> candidates = new ArrayList<>(fusedRoles);
        for (Role r : unfusedRoles) {
            if (!candidates.contains(r)) {
                candidates.add(r);
            }
        }
        candidates.add(new Role("lm_head", m.vocab(), m.dModel()));
        KernelShape[] out = new KernelShape[kernels.size()];
        Role last = null;
        Role context = null; // what the next GEMM follows: the last GEMM's role, or the one a kernel since implies
        int normsSinceQkv = 0;
        boolean placed = false;
        for (int i = 0; i < kernels.size(); i++) {
            Launch l = kernels.get(i);
            Family f = family(l.name());
            if (f != Family.GEMM) {
                boolean beforeO = last != null && (last.name().equals("qkv_proj") || last.name().equals("q_proj")
                    || last.name().equals("k_proj") || last.name().equals("v_proj"));
                if (f == Family.NORM && beforeO) {
                    normsSinceQkv++;
                }
                out[i] = notGemm(f, l.name(), hint, i > 0 ? out[i - 1] : null, beforeO ? normsSinceQkv : 0);
                if (f == Family.DECODE_ATTENTION) {
                    context = fusedRoles.get(0);
                } else if (f == Family.GATED_ACTIVATION) {
                    context = fusedRoles.get(fusedRoles.size() - 2);
                }
                continue;
            }
            long[] tile = gemmTile(l.name());
            if (tile == null || l.gridX() < 1 || l.gridY() < 1) {
                continue;
            }
            Role best = null;
            long[] bestFit = null;
            int bestScore = -1;
            for (Role r : candidates) {
                long[] fit = gridFit(tile, l.gridX(), l.gridY(), r.n(), hint.sequences());
                if (fit == null) {
                    continue;
                }
                boolean next = follows(context, r, fusedRoles) || follows(context, r, unfusedRoles);
                int score = (int) fit[1] * 2 + (next ? 1 : 0);
                if (score > bestScore) {
                    best = r;
                    bestFit = fit;
                    bestScore = score;
                }
            }
            if (best != null) {
                out[i] = gemm(best, bestFit[0], true, true, bestFit[1] == 0);
                last = best;
                context = best;
                normsSinceQkv = 0;
                placed = true;
            }
        }
        return placed ? out : null;
    }

    /** Whether role {@code next} comes right after {@code previous} in a layer of {@code roles} (cyclically). */
    private static boolean follows(Role previous, Role next, List<Role> roles) {
        int p = previous == null ? -1 : roles.indexOf(previous);
        return p >= 0 && roles.get((p + 1) % roles.size()).equals(next);
    }

    /**
     * A kernel other than a GEMM, sized from the hint: {@code normIndex} 1 and 2 are the query and key heads' norms
     * (between a layer's first GEMM and its O projection), 0 a norm over the hidden size, above 2 not inferred.
     */
    private static KernelShape notGemm(Family f, String name, ModelHint hint, KernelShape previous, int normIndex) {
        TransformerSpec m = hint.model();
        long t = hint.sequences();
        long hd = m.headDim();
        long qWidth = (long) m.heads() * hd;
        long kvWidth = (long) m.kvHeads() * hd;
        String lower = name.toLowerCase(Locale.ROOT);
        return switch (f) {
            // Per-head norms (Qwen3's q_norm, k_norm) add no residual.
            case NORM -> normIndex == 1 ? rows("q_norm", OpKind.RMSNORM, t * m.heads(), hd)
                : normIndex == 2 ? rows("k_norm", OpKind.RMSNORM, t * m.kvHeads(), hd)
                : normIndex == 0 ? rows("norm", lower.contains("add") ? OpKind.ADD_RMSNORM : OpKind.RMSNORM, t,
                m.dModel()) : null;
            case DECODE_ATTENTION -> new KernelShape("attention", OpKind.FLASH_ATTENTION, t * m.kvHeads(),
                m.heads() / m.kvHeads(), hint.kvTokens(), hd, 1, false, false, false, false, false);
            case ATTENTION_REDUCE -> previous != null && previous.kind() == OpKind.FLASH_ATTENTION
                ? new KernelShape("attention", null, 0, 0, 0, 0, 0, false, true, false, false, false) : null;
            case GATED_ACTIVATION -> m.ffn() == TransformerSpec.FfnKind.SWIGLU ? vector("act_and_mul",
                lower.contains("gelu") ? OpKind.GELU_AND_MUL : OpKind.SILU_AND_MUL, t * m.ffnDim()) : null;
            case ROPE -> vector("rope", OpKind.ROPE, t * (qWidth + kvWidth));
            case KV_CACHE_WRITE -> vector("kv_cache_write", OpKind.KV_CACHE_WRITE, t * 2 * kvWidth);
            default -> null;
        };
    }

    private static KernelShape gemm(Role r, long m, boolean gridChecked, boolean roleFromGrid, boolean mFromGrid) {
        return new KernelShape(r.name(), OpKind.GEMM, 1, m, r.n(), r.k(), 0, false, false, gridChecked, roleFromGrid,
            mFromGrid);
    }

    private static KernelShape rows(String role, OpKind kind, long rows, long length) {
        return new KernelShape(role, kind, 0, rows, length, 0, rows * length, true, false, false, false, false);
    }

    private static KernelShape vector(String role, OpKind kind, long elements) {
        return new KernelShape(role, kind, 0, 0, 0, 0, elements, false, false, false, false, false);
    }
}

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
 * A kernel name gives a GEMM's tile (Tensile {@code MT<M>x<N>x<K>}) but not its problem size, and a recorded graph
 * replay carries no grid, so the shapes come from the model the user names ({@link ModelHint}): a graph replay is
 * taken to be one decode step of the hint's batch, its kernels in GPU order walk the decoder layers, and each GEMM
 * takes its role from its place in the layer (see {@link #decodeStep}).
 */
final class KernelNames {
    enum Family { GEMM, ATTENTION_REDUCE, DECODE_ATTENTION, NORM, GATED_ACTIVATION, ROPE, KV_CACHE_WRITE, OTHER }

    private KernelNames() {}

    private static final Pattern TENSILE_TILE = Pattern.compile("_MT(\\d+)x(\\d+)x(\\d+)_");

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

    /** A Tensile / hipBLASLt GEMM's macro tile {M, N, K} from its name, or null when the name gives none. */
    static int[] tensileTile(String kernel) {
        Matcher m = TENSILE_TILE.matcher(kernel);
        return m.find() ? new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
            Integer.parseInt(m.group(3))} : null;
    }

    /** An operator shape inferred for one kernel; {@code foldIntoPrevious}: its time joins the previous one's. */
    record KernelShape(String role, OpKind kind, long batch, long m, long n, long k, long elements, boolean rows,
                       boolean foldIntoPrevious) {}

    /** The shapes of one graph replay's kernels (null: not inferred), and why the GEMMs were not, if they were not. */
    record StepShapes(KernelShape[] shapes, String problem) {}

    /**
     * One decode step's kernels, in GPU order, against the hint. The GEMMs must number layers x G (+1 for the
     * output head), G the GEMMs of a decoder layer: 4 with fused projections (QKV, O, gate+up, down; O, up, down
     * without a gate) or 7 unfused (Q, K, V, O, gate, up, down; 6 without a gate); otherwise their roles are unknown
     * and nothing of the replay is inferred. Between a layer's first GEMM (QKV or Q) and its O projection, the
     * first norm is the query heads' (Qwen3's q_norm), the second the key heads'; every other norm is over the
     * hidden size. Attention, rope, the KV-cache write and the gated activation take their sizes from the hint.
     */
    static StepShapes decodeStep(List<String> kernels, ModelHint hint) {
        TransformerSpec m = hint.model();
        long t = hint.sequences();
        long d = m.dModel();
        long hd = m.headDim();
        long qWidth = (long) m.heads() * hd;
        long kvWidth = (long) m.kvHeads() * hd;
        boolean gated = m.ffn() == TransformerSpec.FfnKind.SWIGLU;
        List<long[]> roles = new ArrayList<>(); // {n, k} per GEMM of a layer, in order
        List<String> roleNames = new ArrayList<>();
        int gemms = 0;
        for (String k : kernels) {
            gemms += family(k) == Family.GEMM ? 1 : 0;
        }
        int layers = m.layers();
        int fused = gated ? 4 : 3;
        int unfused = gated ? 7 : 6;
        boolean head = gemms != (long) fused * layers && gemms != (long) unfused * layers;
        int perLayer = (gemms - (head ? 1 : 0)) % layers == 0 ? (gemms - (head ? 1 : 0)) / layers : 0;
        if (perLayer == fused) {
            addRole(roles, roleNames, "qkv_proj", qWidth + 2 * kvWidth, d);
        } else if (perLayer == unfused) {
            addRole(roles, roleNames, "q_proj", qWidth, d);
            addRole(roles, roleNames, "k_proj", kvWidth, d);
            addRole(roles, roleNames, "v_proj", kvWidth, d);
        } else {
            return new StepShapes(new KernelShape[kernels.size()], gemms + " GEMM kernels do not fit " + layers
                + " layers of " + fused + " or " + unfused + " GEMMs (+1 for the output head) of the model hint");
        }
        addRole(roles, roleNames, "o_proj", d, qWidth);
        if (gated && perLayer == fused) {
            addRole(roles, roleNames, "gate_up_proj", 2L * m.ffnDim(), d);
        } else {
            if (gated) {
                addRole(roles, roleNames, "gate_proj", m.ffnDim(), d);
            }
            addRole(roles, roleNames, "up_proj", m.ffnDim(), d);
        }
        addRole(roles, roleNames, "down_proj", d, m.ffnDim());
        int oRole = roleNames.indexOf("o_proj");

        KernelShape[] out = new KernelShape[kernels.size()];
        int gemm = 0;
        int lastRole = -1; // the role of the last GEMM seen (-1 before the first)
        int normsSinceQkv = 0;
        for (int i = 0; i < kernels.size(); i++) {
            Family f = family(kernels.get(i));
            switch (f) {
                case GEMM -> {
                    if (head && gemm == gemms - 1) {
                        out[i] = gemm("lm_head", t, m.vocab(), d);
                    } else {
                        lastRole = gemm % perLayer;
                        out[i] = gemm(roleNames.get(lastRole), t, roles.get(lastRole)[0], roles.get(lastRole)[1]);
                        normsSinceQkv = 0;
                    }
                    gemm++;
                }
                case NORM -> {
                    boolean add = kernels.get(i).toLowerCase(Locale.ROOT).contains("add");
                    if (lastRole >= 0 && lastRole < oRole) {
                        normsSinceQkv++;
                        // Per-head norms (Qwen3's q_norm, k_norm) add no residual.
                        out[i] = normsSinceQkv == 1 ? rows("q_norm", OpKind.RMSNORM, t * m.heads(), hd)
                            : normsSinceQkv == 2 ? rows("k_norm", OpKind.RMSNORM, t * m.kvHeads(), hd) : null;
                    } else {
                        out[i] = rows("norm", add ? OpKind.ADD_RMSNORM : OpKind.RMSNORM, t, d);
                    }
                }
                case DECODE_ATTENTION -> out[i] = new KernelShape("attention", OpKind.FLASH_ATTENTION,
                    t * m.kvHeads(), m.heads() / m.kvHeads(), hint.kvTokens(), hd, 1, false, false);
                case ATTENTION_REDUCE -> out[i] = i > 0 && out[i - 1] != null
                    && out[i - 1].kind() == OpKind.FLASH_ATTENTION
                    ? new KernelShape("attention", null, 0, 0, 0, 0, 0, false, true) : null;
                case GATED_ACTIVATION -> out[i] = gated ? vector("act_and_mul", kernels.get(i).toLowerCase(
                    Locale.ROOT).contains("gelu") ? OpKind.GELU_AND_MUL : OpKind.SILU_AND_MUL, t * m.ffnDim())
                    : null;
                case ROPE -> out[i] = vector("rope", OpKind.ROPE, t * (qWidth + kvWidth));
                case KV_CACHE_WRITE -> out[i] = vector("kv_cache_write", OpKind.KV_CACHE_WRITE, t * 2 * kvWidth);
                default -> { }
            }
        }
        return new StepShapes(out, null);
    }

    private static void addRole(List<long[]> roles, List<String> names, String name, long n, long k) {
        roles.add(new long[] {n, k});
        names.add(name);
    }

    private static KernelShape gemm(String role, long m, long n, long k) {
        return new KernelShape(role, OpKind.GEMM, 1, m, n, k, 0, false, false);
    }

    private static KernelShape rows(String role, OpKind kind, long rows, long length) {
        return new KernelShape(role, kind, 0, rows, length, 0, rows * length, true, false);
    }

    private static KernelShape vector(String role, OpKind kind, long elements) {
        return new KernelShape(role, kind, 0, 0, 0, 0, elements, false, false);
    }
}

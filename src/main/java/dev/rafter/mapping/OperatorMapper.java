package dev.rafter.mapping;

import dev.rafter.hw.HardwareSpec;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;
import java.util.ArrayList;
import java.util.List;

/**
 * The one place where an operator kind becomes tile programs, run one after another: one for a GEMM (two with
 * split-K: the partial products, then their reduction), a grouped GEMM (one launch over its groups' tiles) or a
 * vector operator, three or more for a fused attention
 * of kind {@code attention} (scores GEMM, softmax, context GEMM: run unfused, so the scores go through memory; K and
 * V in their own data type), one for a {@code flash_attention} ({@link FlashAttentionMapper}; two with split-KV:
 * the splits' partial outputs, then their combine). All-reduce is not a
 * tile program: it runs on the device links.
 */
public final class OperatorMapper {
    private OperatorMapper() {}

    /** The programs of {@code op} with every tensor on the first tier (the only one of today's devices). */
    public static List<TileProgram> programs(HardwareSpec hw, Operator op) {
        return programs(hw, op, TensorPlacement.FIRST_TIER);
    }

    /**
     * The programs of {@code op}, each stage's operands tagged with their tensors (a GEMM's weights beside its
     * activations, an attention's KV cache beside its queries, a vector operator's activations, an unfused
     * attention's scores as scratch) and placed by {@code placement}.
     */
    public static List<TileProgram> programs(HardwareSpec hw, Operator op, TensorPlacement.Policy placement) {
        return switch (op.kind()) {
            case GEMM, GROUPED_GEMM -> TensorPlacement.placeGemm(GemmMapper.plan(hw, op).programs(), TensorRole.WEIGHTS,
                TensorRole.ACTIVATIONS, placement);
            case FLASH_ATTENTION -> TensorPlacement.placeGemm(FlashAttentionMapper.programs(hw, op),
                TensorRole.KV_CACHE, TensorRole.ACTIVATIONS, placement);
            case ATTENTION -> {
                List<TileProgram> out = new ArrayList<>(TensorPlacement.placeGemm(GemmMapper.plan(hw,
                    Operator.gemm(op.id(), op.name(), op.phase(), op.layer(), op.step(), op.batch(), op.m(), op.n(),
                        op.k(), op.dataType(), op.operandBType())).programs(), TensorRole.KV_CACHE,
                    TensorRole.ACTIVATIONS, placement));
                out.add(TensorPlacement.place(VectorMapper.plan(hw, Operator.rows(op.id(), op.name(), OpKind.SOFTMAX,
                    op.phase(), op.layer(), op.step(), op.batch() * op.m(), op.n(), op.dataType())),
                    TensorRole.SCRATCH, placement));
                out.addAll(TensorPlacement.placeGemm(GemmMapper.plan(hw, Operator.gemm(op.id(), op.name(),
                    op.phase(), op.layer(), op.step(), op.batch(), op.m(), op.k(), op.n(), op.dataType(),
                    op.operandBType())).programs(), TensorRole.KV_CACHE, TensorRole.SCRATCH, placement));
                yield List.copyOf(out);
            }
            case ALL_REDUCE, ALL_GATHER, REDUCE_SCATTER, ALL_TO_ALL ->
                throw new IllegalArgumentException("collectives run on the device links");
            default -> List.of(TensorPlacement.place(VectorMapper.plan(hw, op), TensorRole.ACTIVATIONS, placement));
        };
    }
}

package dev.rafter.mapping;

import dev.rafter.hw.HardwareSpec;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;
import java.util.ArrayList;
import java.util.List;

/**
 * The one place where an operator kind becomes tile programs, run one after another: one for a GEMM (two with
 * split-K: the partial products, then their reduction) or a vector operator, three or more for a fused attention
 * of kind {@code attention} (scores GEMM, softmax, context GEMM: run unfused, so the scores go through memory; K and
 * V in their own data type), one for a {@code flash_attention} ({@link FlashAttentionMapper}). All-reduce is not a
 * tile program: it runs on the device links.
 */
public final class OperatorMapper {
    private OperatorMapper() {}

    public static List<TileProgram> programs(HardwareSpec hw, Operator op) {
        return switch (op.kind()) {
            case GEMM -> GemmMapper.plan(hw, op).programs();
            case FLASH_ATTENTION -> List.of(FlashAttentionMapper.plan(hw, op));
            case ATTENTION -> {
                List<TileProgram> out = new ArrayList<>(GemmMapper.plan(hw, Operator.gemm(op.id(), op.name(),
                    op.phase(), op.layer(), op.step(), op.batch(), op.m(), op.n(), op.k(), op.dataType(),
                    op.operandBType())).programs());
                out.add(VectorMapper.plan(hw, Operator.rows(op.id(), op.name(), OpKind.SOFTMAX, op.phase(),
                    op.layer(), op.step(), op.batch() * op.m(), op.n(), op.dataType())));
                out.addAll(GemmMapper.plan(hw, Operator.gemm(op.id(), op.name(), op.phase(), op.layer(), op.step(),
                    op.batch(), op.m(), op.k(), op.n(), op.dataType(), op.operandBType())).programs());
                yield List.copyOf(out);
            }
            case ALL_REDUCE, ALL_GATHER, REDUCE_SCATTER, ALL_TO_ALL ->
                throw new IllegalArgumentException("collectives run on the device links");
            default -> List.of(VectorMapper.plan(hw, op));
        };
    }
}

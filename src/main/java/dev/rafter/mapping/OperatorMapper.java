package dev.rafter.mapping;

import dev.rafter.hw.HardwareSpec;
import dev.rafter.workload.OpKind;
import dev.rafter.workload.Operator;
import java.util.List;

/**
 * The one place where an operator kind becomes tile programs, run one after another: one for a GEMM or a vector
 * operator, three for a fused attention (scores GEMM, softmax, context GEMM: run unfused, so the scores go through
 * memory). All-reduce is not a tile program: it runs on the device links.
 */
public final class OperatorMapper {
    private OperatorMapper() {}

    public static List<TileProgram> programs(HardwareSpec hw, Operator op) {
        return switch (op.kind()) {
            case GEMM -> List.of(GemmMapper.plan(hw, op).program());
            case ATTENTION -> List.of(
                GemmMapper.plan(hw, Operator.gemm(op.id(), op.name(), op.phase(), op.layer(), op.step(),
                    op.batch(), op.m(), op.n(), op.k(), op.dataType())).program(),
                VectorMapper.plan(hw, Operator.rows(op.id(), op.name(), OpKind.SOFTMAX, op.phase(), op.layer(),
                    op.step(), op.batch() * op.m(), op.n(), op.dataType())),
                GemmMapper.plan(hw, Operator.gemm(op.id(), op.name(), op.phase(), op.layer(), op.step(),
                    op.batch(), op.m(), op.k(), op.n(), op.dataType())).program());
            case ALL_REDUCE -> throw new IllegalArgumentException("all-reduce runs on the device links");
            default -> List.of(VectorMapper.plan(hw, op));
        };
    }
}

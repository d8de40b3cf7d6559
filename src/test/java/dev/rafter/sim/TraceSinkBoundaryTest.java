package dev.rafter.sim;

import static org.mockito.ArgumentMatchers.anyLong;
import static org.mockito.ArgumentMatchers.argThat;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.atLeastOnce;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;

import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.sim.component.DeviceLink;
import dev.rafter.sim.component.GlobalBuffer;
import dev.rafter.sim.component.MemoryController;
import dev.rafter.sim.component.Interconnect;
import dev.rafter.sim.component.PeArray;
import dev.rafter.sim.trace.SliceKind;
import dev.rafter.sim.trace.TraceSink;
import dev.rafter.sim.trace.Track;
import dev.rafter.workload.Operator;
import dev.rafter.workload.OperatorSource;
import dev.rafter.workload.Phase;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The event sink is the simulator's boundary: what every run must report to it, checked with a mock. */
class TraceSinkBoundaryTest {
    @Test
    void everyComponentReportsItsWorkUnderTheRunningOperator() {
        // Written through, so that the result reaches memory under the operator too.
        HardwareSpec hw = HardwareLoader.load(Path.of("models/hardware/a100.yaml"), List.of("cores=4",
            "global_buffer.keeps_contents=false"));
        TraceSink sink = mock(TraceSink.class);
        new Simulation(hw).run(OperatorSource.of(
            Operator.gemm(7, "g", Phase.PREFILL, 0, 0, 1, 256, 256, 256, DataType.FP16)), sink, r -> { });
        verify(sink, atLeastOnce()).slice(argThat(t -> t.kind() == PeArray.KIND), eq(SliceKind.COMPUTE),
            eq(7L), anyLong(), anyLong(), anyLong());
        verify(sink, atLeastOnce()).slice(argThat(t -> t.kind() == MemoryController.KIND), eq(SliceKind.HBM_READ),
            eq(7L), anyLong(), anyLong(), anyLong());
        verify(sink, atLeastOnce()).slice(argThat(t -> t.kind() == MemoryController.KIND), eq(SliceKind.HBM_WRITE),
            eq(7L), anyLong(), anyLong(), anyLong());
        verify(sink, atLeastOnce()).slice(argThat(t -> t.kind() == Interconnect.CORE_PORT), eq(SliceKind.LOAD), eq(7L),
            anyLong(), anyLong(), anyLong());
        verify(sink, atLeastOnce()).slice(argThat(t -> t.kind() == GlobalBuffer.KIND),
            eq(SliceKind.TRANSFER), eq(7L), anyLong(), anyLong(), anyLong());
        verify(sink, never()).slice(argThat(t -> t.kind() == DeviceLink.KIND), eq(SliceKind.TRANSFER),
            anyLong(), anyLong(), anyLong(), anyLong());
        // Closing the sink is the caller's job (it owns the files): the simulation must not close it.
        verify(sink, never()).close();
    }
}

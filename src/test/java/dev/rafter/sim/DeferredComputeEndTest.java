package dev.rafter.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rafter.hw.DataType;
import dev.rafter.hw.HardwareLoader;
import dev.rafter.hw.HardwareSpec;
import dev.rafter.mapping.OperatorMapper;
import dev.rafter.mapping.TileProgram;
import dev.rafter.sim.component.Core;
import dev.rafter.sim.trace.SliceKind;
import dev.rafter.sim.trace.TraceSink;
import dev.rafter.sim.trace.Track;
import dev.rafter.workload.Operator;
import dev.rafter.workload.Phase;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A core defers the end of a computation that changes nothing outside it (see {@code Core.deferredDone}): the run
 * is the same as with an event for every end, to the picosecond: every slice and count the sinks get, in the same
 * order, and every operator's end; only the events are fewer.
 */
class DeferredComputeEndTest {
    private record Outcome(long endPs, long events, List<String> sunk, List<Long> operatorEnds) {}

    /** Runs the operators' programs one after another on a fresh device, every core deferring or not. */
    private static Outcome run(HardwareSpec hw, List<Operator> ops, boolean defer) {
        List<Track> tracks = Device.tracks(hw);
        List<String> sunk = new ArrayList<>();
        TraceSink sink = new TraceSink() {
            @Override
            public void slice(Track track, SliceKind kind, long opId, long startPs, long endPs, long amount) {
                sunk.add(track.name() + " " + kind + " " + opId + " " + startPs + " " + endPs + " " + amount);
            }

            @Override
            public void count(Track track, SliceKind kind, long opId, long amount) {
                sunk.add(track.name() + " " + kind + " " + opId + " count " + amount);
            }
        };
        List<Object[]> programs = new ArrayList<>();
        for (Operator op : ops) {
            for (TileProgram p : OperatorMapper.programs(hw, op)) {
                programs.add(new Object[] {op, p});
            }
        }
        List<Long> ends = new ArrayList<>();
        Kernel kernel = new Kernel();
        long end = kernel.run(s -> {
            Device device = new Device(hw, s, sink, tracks);
            for (Core c : device.cores()) {
                c.deferComputeEnds(defer);
            }
            runFrom(device, s, programs.iterator(), ends);
        });
        return new Outcome(end, kernel.events(), sunk, ends);
    }

    private static void runFrom(Device device, Scheduler s, Iterator<Object[]> programs, List<Long> ends) {
        if (!programs.hasNext()) {
            return;
        }
        Object[] next = programs.next();
        Operator op = (Operator) next[0];
        device.runProgram(op.id(), op.dataType(), (TileProgram) next[1], () -> {
            ends.add(s.now());
            runFrom(device, s, programs, ends);
        });
    }

    private static void assertSameRun(HardwareSpec hw, List<Operator> ops) {
        Outcome every = run(hw, ops, false);
        Outcome deferred = run(hw, ops, true);
        assertEquals(every.endPs(), deferred.endPs());
        assertEquals(every.operatorEnds(), deferred.operatorEnds());
        assertEquals(every.sunk().size(), deferred.sunk().size());
        for (int i = 0; i < every.sunk().size(); i++) {
            assertEquals(every.sunk().get(i), deferred.sunk().get(i), "sink call " + i);
        }
        assertTrue(deferred.events() < every.events(),
            "some ends deferred: " + deferred.events() + " events vs " + every.events());
    }

    /**
     * Llama-3-8B's decode attention as one decode step runs it (8 sequences x 8 KV heads of 4 query rows, 1500 keys:
     * split-KV, then the combine kernel) and a decode GEMM, on the A100 model with its banked memory: the cores wait
     * for each K/V stage while computing the one before.
     */
    @Test
    void decodeStepOnTheA100IsTheSameToThePicosecond() {
        HardwareSpec hw = HardwareLoader.load(Path.of("models/hardware/a100.yaml"), List.of());
        assertSameRun(hw, List.of(
            Operator.flashAttention(0, "attention", Phase.DECODE, 0, 1, 64, 4, 1500, 128, 1, true, DataType.BF16,
                DataType.BF16),
            Operator.gemm(1, "wo", Phase.DECODE, 0, 1, 1, 8, 4096, 4096, DataType.BF16)));
    }

    /** The fast-forward test's programs (GEMMs, vector operators, flash attention) on its small simple-memory device. */
    @Test
    void smallDeviceProgramsAreTheSameToThePicosecond() {
        assertSameRun(FastForwardTest.small(), FastForwardTest.operators());
    }

    /** A deferred event keeps the place in the order it was given when reserved, among events at its time. */
    @Test
    void anEventScheduledInAReservedPlaceRunsInThatPlace() {
        List<String> ran = new ArrayList<>();
        boolean[] before = new boolean[3];
        new Kernel().run(s -> s.schedule(5, () -> {
            s.schedule(5, () -> ran.add("first"));
            long order = s.reserveOrder();
            s.schedule(5, () -> {
                ran.add("third");
                before[0] = s.ranBefore(10, order); // the second's place, passed
                before[1] = s.ranBefore(11, order); // a place still ahead
            });
            s.schedule(3, () -> s.atInOrder(10, order, () -> {
                ran.add("second");
                before[2] = s.ranBefore(10, order); // its own place: not before itself
            }));
        }));
        assertEquals(List.of("first", "second", "third"), ran);
        assertTrue(before[0]);
        assertFalse(before[1]);
        assertFalse(before[2]);
    }

    /** A holder's deferred event is scheduled when nothing else is pending, and the run goes on to it. */
    @Test
    void aDeferredEventIsScheduledWhenTheRunWouldEnd() {
        List<Long> ran = new ArrayList<>();
        Kernel kernel = new Kernel();
        long end = kernel.run(s -> {
            long order = s.reserveOrder();
            boolean[] scheduled = {false};
            s.holdsDeferred(() -> {
                if (!scheduled[0]) {
                    scheduled[0] = true;
                    s.atInOrder(40, order, () -> ran.add(s.now()));
                }
            });
            s.schedule(7, () -> ran.add(s.now()));
        });
        assertEquals(List.of(7L, 40L), ran);
        assertEquals(40, end);
    }
}

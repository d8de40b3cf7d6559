package dev.rafter.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class KernelTest {
    @Test
    void eventsRunInTimeOrderThenFifoAndTheRunReturnsTheLastTime() {
        Kernel k = new Kernel();
        List<String> log = new ArrayList<>();
        long end = k.run(s -> {
            s.schedule(300, () -> log.add("c@" + s.now()));
            s.schedule(100, () -> log.add("a@" + s.now()));
            s.schedule(100, () -> {
                log.add("b@" + s.now());
                s.schedule(0, () -> log.add("d@" + s.now()));
            });
        });
        assertEquals(List.of("a@100", "b@100", "d@100", "c@300"), log);
        assertEquals(300, end);
        assertEquals(4, k.events());
    }

    @Test
    void aRunStartsNoThread() throws Exception {
        // DSOL's own initialize starts a worker thread per replication (and polls it with sleep(1) until it idles);
        // a batch run has no use for it. The run happens on a thread of a group of its own, which counts its threads.
        ThreadGroup group = new ThreadGroup("kernel-run");
        int[] seen = new int[2];
        Thread runner = new Thread(group, () -> new Kernel().run(s -> {
            seen[0] = group.activeCount();
            s.schedule(100, () -> seen[1] = group.activeCount());
        }));
        runner.start();
        runner.join();
        assertEquals(1, seen[0], "threads while the model is built");
        assertEquals(1, seen[1], "threads while an event runs");
    }

    @Test
    void aContinuingRunGoesOnFromItsClockPartAfterPart() {
        Kernel k = new Kernel();
        List<String> log = new ArrayList<>();
        Scheduler[] clock = new Scheduler[1];
        try (Kernel.Continuing run = k.continuing(s -> clock[0] = s)) {
            assertEquals(300, run.runFrom(() -> {
                clock[0].schedule(300, () -> log.add("a@" + clock[0].now()));
                clock[0].schedule(100, () -> log.add("b@" + clock[0].now()));
            }));
            assertEquals(300, k.now());
            assertEquals(500, run.runFrom(() -> clock[0].schedule(200, () -> log.add("c@" + clock[0].now()))));
            assertEquals(5, k.events(), "two parts' starts and three events");
            IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> run.runFrom(() -> {
                throw new IllegalStateException("a model error");
            }));
            assertEquals("a model error", thrown.getMessage());
            assertThrows(IllegalStateException.class, () -> run.runFrom(() -> log.add("after the error")));
        }
        assertEquals(List.of("b@100", "a@300", "c@500"), log);
    }

    @Test
    void randomSchedulesRunInTimeThenCreationOrder() {
        // Events in order of their time (mostly in order, as computations ending a fixed time after they start, some
        // earlier than the latest, some at equal times) run by time, then by creation, whichever queue holds them.
        java.util.Random random = new java.util.Random(42);
        Kernel k = new Kernel();
        List<long[]> ran = new ArrayList<>();
        long[] created = {0};
        k.run(s -> {
            for (int i = 0; i < 20; i++) {
                spawn(s, random, ran, created, 0);
            }
        });
        assertEquals(created[0], ran.size());
        for (int i = 1; i < ran.size(); i++) {
            long[] a = ran.get(i - 1);
            long[] b = ran.get(i);
            boolean ordered = a[0] < b[0] || (a[0] == b[0] && a[1] < b[1]);
            org.junit.jupiter.api.Assertions.assertTrue(ordered, "event " + i + " ran out of order");
        }
    }

    private static void spawn(Scheduler s, java.util.Random random, List<long[]> ran, long[] created, int depth) {
        long id = created[0]++;
        long delay = switch (random.nextInt(4)) {
            case 0 -> 0;
            case 1 -> 1000;
            case 2 -> random.nextInt(50);
            default -> random.nextInt(5000);
        };
        long at = s.now() + delay;
        s.schedule(delay, () -> {
            ran.add(new long[] {at, id});
            if (depth < 12) {
                int children = random.nextInt(3);
                for (int c = 0; c < children; c++) {
                    spawn(s, random, ran, created, depth + 1);
                }
            }
        });
    }

    @Test
    void aModelExceptionIsRethrownAsItWasThrownAndTheKernelCanRunAgain() {
        Kernel k = new Kernel();
        IllegalArgumentException boom = new IllegalArgumentException("boom");
        RuntimeException thrown = assertThrows(IllegalArgumentException.class,
            () -> k.run(s -> s.schedule(5, () -> {
                throw boom;
            })));
        assertSame(boom, thrown);
        long[] at = {-1};
        assertEquals(7, k.run(s -> s.schedule(7, () -> at[0] = s.now())));
        assertEquals(7, at[0]);
    }

    @Test
    void dsolsSimulatorLoopRunsEveryEventOnTheCallersThread() {
        Kernel k = new Kernel();
        Thread caller = Thread.currentThread();
        List<String> loops = new ArrayList<>();
        k.run(s -> {
            for (int i = 0; i < 3; i++) {
                s.schedule(10 * i, () -> {
                    org.junit.jupiter.api.Assertions.assertSame(caller, Thread.currentThread());
                    loops.add(java.util.Arrays.stream(new Throwable().getStackTrace())
                        .filter(f -> f.getClassName().startsWith("nl.tudelft.simulation.dsol.simulators."))
                        .map(f -> f.getClassName() + "." + f.getMethodName())
                        .findFirst().orElse("not DSOL"));
                });
            }
        });
        assertEquals(List.of("nl.tudelft.simulation.dsol.simulators.DevsSimulator.run",
            "nl.tudelft.simulation.dsol.simulators.DevsSimulator.run",
            "nl.tudelft.simulation.dsol.simulators.DevsSimulator.run"), loops);
    }

    @Test
    void theFirstModelExceptionEndsTheRunAndLaterEventsDoNotRun() {
        Kernel k = new Kernel();
        List<Long> ran = new ArrayList<>();
        IllegalStateException first = new IllegalStateException("first");
        RuntimeException thrown = assertThrows(IllegalStateException.class, () -> k.run(s -> {
            s.schedule(5, () -> {
                ran.add(s.now());
                throw first;
            });
            s.schedule(6, () -> {
                ran.add(s.now());
                throw new IllegalArgumentException("second");
            });
        }));
        assertSame(first, thrown);
        assertEquals(List.of(5L), ran);
    }

    @Test
    void aModelExceptionEndsTheRunAmongEventsDueAtTheSameTime() {
        Kernel k = new Kernel();
        List<String> ran = new ArrayList<>();
        IllegalStateException first = new IllegalStateException("first");
        RuntimeException thrown = assertThrows(IllegalStateException.class, () -> k.run(s -> {
            s.schedule(5, () -> ran.add("a"));
            s.schedule(5, () -> {
                ran.add("b");
                throw first;
            });
            s.schedule(5, () -> ran.add("c"));
        }));
        assertSame(first, thrown);
        assertEquals(List.of("a", "b"), ran);
        assertEquals(2, k.events());
    }

    @Test
    void anErrorInAnEventReachesTheCallerAndTheKernelCanRunAgain() {
        // DSOL's worker thread would die silently on an Error and leave the run waiting; here it reaches the caller.
        Kernel k = new Kernel();
        AssertionError error = new AssertionError("broken invariant");
        assertSame(error, assertThrows(AssertionError.class, () -> k.run(s -> s.schedule(3, () -> {
            throw error;
        }))));
        assertEquals(4, k.run(s -> s.schedule(4, () -> { })));
        assertEquals(1, k.events());
    }

    @Test
    void theEventListGivesDsolItsOwnAndTheModelsEventsInDsolsOrder() {
        // DSOL's order: time, then (15 - priority) << 58 | id. DSOL's warm-up priority 11 runs before a model event
        // (priority 5) at the same time; its end-of-run priority 0 after it.
        Kernel.EventList list = new Kernel.EventList(new Kernel());
        List<String> ran = new ArrayList<>();
        list.model.add(300, (10L << 58) | 2, () -> ran.add("model 2"));
        list.model.add(100, (10L << 58) | 0, () -> ran.add("model 0"));
        list.model.add(100, (10L << 58) | 1, () -> ran.add("model 1"));
        list.add(dsolEvent(100, (short) 0, 7, ran));
        list.add(dsolEvent(100, (short) 11, 9, ran));
        assertEquals(5, list.size());
        List<String> seen = new ArrayList<>();
        while (!list.isEmpty()) {
            var first = list.first();
            var next = list.removeFirst();
            assertEquals(first.getAbsoluteExecutionTime(), next.getAbsoluteExecutionTime());
            assertEquals(first.getId(), next.getId());
            seen.add(next.getAbsoluteExecutionTime() + "/" + next.getPriority() + "/" + next.getId());
            next.execute();
        }
        // DSOL's loop is handed one model event per run of them due at one time; the others of the run ran with it
        // (model 1 with model 0), still before DSOL's own event at that time.
        assertEquals(List.of("100/11/9", "100/5/0", "100/0/7", "300/5/2"), seen);
        assertEquals(List.of("dsol 9", "model 0", "model 1", "dsol 7", "model 2"), ran);
        assertEquals(null, list.first());
    }

    private static nl.tudelft.simulation.dsol.formalisms.eventscheduling.SimEventInterface<Long> dsolEvent(long time,
            short priority, long id, List<String> ran) {
        return new nl.tudelft.simulation.dsol.formalisms.eventscheduling.SimEventInterface<>() {
            @Override
            public void execute() {
                ran.add("dsol " + id);
            }

            @Override
            public Long getAbsoluteExecutionTime() {
                return time;
            }

            @Override
            public short getPriority() {
                return priority;
            }

            @Override
            public long getId() {
                return id;
            }
        };
    }

    @Test
    void schedulingInThePastIsRefused() {
        Kernel k = new Kernel();
        assertThrows(IllegalStateException.class, () -> k.run(s -> s.schedule(-1, () -> { })));
    }

    @Test
    void aRunWithoutEventsEndsAtTimeZero() {
        assertEquals(0, new Kernel().run(s -> { }));
    }

    @Test
    void kernelsRunInParallelThreadsWithIdenticalResults() throws Exception {
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            List<java.util.concurrent.Future<Long>> runs = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                runs.add(pool.submit(() -> {
                    Kernel k = new Kernel();
                    long[] sum = {0};
                    k.run(s -> {
                        for (int e = 0; e < 200; e++) {
                            long d = e * 7919L % 1000;
                            s.schedule(d, () -> sum[0] = sum[0] * 31 + s.now());
                        }
                    });
                    return sum[0];
                }));
            }
            long first = runs.get(0).get();
            for (var r : runs) {
                assertEquals(first, r.get());
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void heapKeepsOrderOverManyEvents() {
        Kernel k = new Kernel();
        long[] last = {-1};
        int[] count = {0};
        k.run(s -> {
            long seed = 1;
            for (int i = 0; i < 50_000; i++) {
                seed = seed * 6364136223846793005L + 1442695040888963407L;
                s.schedule((seed >>> 40) % 10_000, () -> {
                    if (s.now() < last[0]) {
                        throw new AssertionError("time went backwards");
                    }
                    last[0] = s.now();
                    count[0]++;
                });
            }
        });
        assertEquals(50_000, count[0]);
    }
}

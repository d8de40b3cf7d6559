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

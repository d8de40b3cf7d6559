package dev.rafter.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class KernelSteppingTest {
    /**
     * A hand-made event set: equal times, zero delays, events scheduled earlier than the latest one queued (the
     * kernel's heap) and in order (its ring), each event possibly scheduling more. Each logs its name and time.
     */
    private static Consumer<Scheduler> model(List<String> log) {
        Random random = new Random(7);
        int[] created = {0};
        return s -> {
            for (int i = 0; i < 30; i++) {
                spawn(s, random, log, created, 0);
            }
        };
    }

    private static void spawn(Scheduler s, Random random, List<String> log, int[] created, int depth) {
        int name = created[0]++;
        long delay = switch (random.nextInt(4)) {
            case 0 -> 0;
            case 1 -> 500;
            case 2 -> random.nextInt(20);
            default -> random.nextInt(2000);
        };
        s.schedule(delay, () -> {
            log.add(name + "@" + s.now());
            int children = depth < 4 ? random.nextInt(3) : 0;
            for (int c = 0; c < children; c++) {
                spawn(s, random, log, created, depth + 1);
            }
        });
    }

    @Test
    void steppingRunsTheEventsInTheOrderAndAtTheTimesOfRun() {
        List<String> whole = new ArrayList<>();
        new Kernel().run(model(whole));
        List<String> stepped = new ArrayList<>();
        List<Long> announced = new ArrayList<>();
        try (Kernel.Stepping run = new Kernel().stepping(model(stepped))) {
            while (run.nextEventPs() != Long.MAX_VALUE) {
                announced.add(run.nextEventPs());
                run.runNext();
                // One event per step.
                assertEquals(announced.size(), stepped.size());
            }
        }
        assertEquals(whole, stepped);
        for (int i = 0; i < stepped.size(); i++) {
            assertEquals(stepped.get(i).substring(stepped.get(i).indexOf('@') + 1), announced.get(i).toString());
        }
    }

    @Test
    void eventsScheduledBetweenStepsJoinInSchedulingOrder() {
        Kernel kernel = new Kernel();
        List<String> log = new ArrayList<>();
        try (Kernel.Stepping run = kernel.stepping(s -> s.schedule(100, () -> log.add("a@" + s.now())))) {
            run.runNext();
            kernel.schedule(0, () -> log.add("b@" + kernel.now()));
            kernel.at(250, () -> log.add("d@" + kernel.now()));
            kernel.at(100, () -> log.add("c@" + kernel.now()));
            while (run.nextEventPs() != Long.MAX_VALUE) {
                run.runNext();
            }
        }
        assertEquals(List.of("a@100", "b@100", "c@100", "d@250"), log);
        // The kernel runs whole again after a stepping run is closed.
        assertEquals(5, kernel.run(s -> s.schedule(5, () -> { })));
    }

    @Test
    void aModelExceptionReachesTheStepperAsThrown() {
        IllegalArgumentException thrown = new IllegalArgumentException("model");
        try (Kernel.Stepping run = new Kernel().stepping(s -> s.schedule(3, () -> {
            throw thrown;
        }))) {
            assertSame(thrown, assertThrows(IllegalArgumentException.class, run::runNext));
        }
    }
}

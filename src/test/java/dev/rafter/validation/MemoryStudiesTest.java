package dev.rafter.validation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The memory-technology studies pass as {@code rafter validate} runs them, and print their numbers. */
class MemoryStudiesTest {
    @Test
    void theStudiesPass() {
        List<Validation.Check> checks = new ArrayList<>();
        new MemoryStudies(Path.of("validation")).run(checks);
        checks.forEach(c -> System.out.println(c.name() + ": " + c.comparison()));
        assertEquals(6, checks.size());
        for (Validation.Check c : checks) {
            assertTrue(c.passed(), c.name() + ": " + c.comparison());
        }
    }
}

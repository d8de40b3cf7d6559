package dev.rafter.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The libraries' logging: warnings and errors, one line each on standard error; nothing below. */
class LibraryLoggingTest {
    @Test
    void logbackFindsTheSetUpAndPrintsOnlyWarningsAndErrors() throws Exception {
        // logback finds it through META-INF/services
        String services = new String(getClass().getResourceAsStream(
            "/META-INF/services/ch.qos.logback.classic.spi.Configurator").readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(LibraryLogging.class.getName(), services.strip());
        assertTrue(org.slf4j.LoggerFactory.getILoggerFactory() instanceof LoggerContext);

        LoggerContext context = new LoggerContext();
        LibraryLogging setUp = new LibraryLogging();
        setUp.setContext(context);
        setUp.configure(context);
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        assertEquals(Level.WARN, root.getLevel());
        PrintStream saved = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            Logger dsol = context.getLogger("nl.tudelft.simulation.dsol.Simulator");
            dsol.info("not shown");
            dsol.warn("replication {} ended early", 3);
        } finally {
            System.setErr(saved);
        }
        assertEquals("WARN Simulator: replication 3 ended early" + System.lineSeparator(),
            err.toString(StandardCharsets.UTF_8));
    }
}

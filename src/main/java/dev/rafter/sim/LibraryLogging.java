package dev.rafter.sim;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * Logging of the libraries Rafter runs on (DSOL and djutils log through logback): warnings and errors only, one
 * line each on standard error; Rafter prints its own output. Set up in code, found by logback through
 * {@code META-INF/services}, instead of a logback.xml: parsing XML cost about 0.1 s of every start.
 */
public final class LibraryLogging extends ContextAwareBase implements Configurator {
    @Override
    public ExecutionStatus configure(LoggerContext context) {
        AppenderBase<ILoggingEvent> stderr = new AppenderBase<>() {
            @Override
            protected void append(ILoggingEvent event) {
                String logger = event.getLoggerName();
                System.err.println(event.getLevel() + " " + logger.substring(logger.lastIndexOf('.') + 1) + ": "
                    + event.getFormattedMessage());
            }
        };
        stderr.setContext(context);
        stderr.setName("stderr");
        stderr.start();
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.WARN);
        root.addAppender(stderr);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }
}

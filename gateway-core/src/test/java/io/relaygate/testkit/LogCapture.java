package io.relaygate.testkit;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/** Records what one logger (and its children) logs at INFO and above while it is open, for tests that read logs. */
public final class LogCapture implements AutoCloseable {

    private final Logger logger;
    private final Level previous;
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    private LogCapture(String name) {
        this.logger = (Logger) LoggerFactory.getLogger(name);
        this.previous = logger.getLevel();
        appender.start();
        logger.addAppender(appender);
        if (!logger.isInfoEnabled()) {
            logger.setLevel(Level.INFO);
        }
    }

    /** Starts recording {@code name}'s lines, e.g. {@code io.relaygate.auth}. */
    public static LogCapture of(String name) {
        return new LogCapture(name);
    }

    /** {@return the formatted lines so far} */
    public List<String> lines() {
        synchronized (appender.list) {
            return appender.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        }
    }

    /** {@return the lines so far that contain {@code text}} */
    public List<String> linesContaining(String text) {
        return lines().stream().filter(line -> line.contains(text)).toList();
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
        logger.setLevel(previous);
        appender.stop();
    }
}

package dev.leaderpod.core;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * The lines an elector logs (category {@code dev.leaderpod.core.LeaseElector}, every level), captured in memory for
 * assertions: each as {@code LEVEL message}. Close it to detach.
 */
final class LogCapture implements AutoCloseable {

    private final Logger logger = (Logger) LoggerFactory.getLogger(LeaseElector.class);
    private final Level previousLevel = logger.getLevel();
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    LogCapture() {
        appender.start();
        logger.addAppender(appender);
        logger.setLevel(Level.DEBUG);
    }

    /** Every line so far, as {@code LEVEL message}. */
    List<String> lines() {
        return appender.list.stream()
                .map(event -> event.getLevel() + " " + event.getFormattedMessage())
                .toList();
    }

    /** Lines at {@code level} or above, as {@code LEVEL message}. */
    List<String> atLeast(Level level) {
        return appender.list.stream()
                .filter(event -> event.getLevel().isGreaterOrEqual(level))
                .map(event -> event.getLevel() + " " + event.getFormattedMessage())
                .toList();
    }

    /** The throwable logged with the last line, or null. */
    Throwable lastThrowable() {
        ILoggingEvent last = appender.list.get(appender.list.size() - 1);
        return last.getThrowableProxy() == null
                ? null
                : ((ch.qos.logback.classic.spi.ThrowableProxy) last.getThrowableProxy()).getThrowable();
    }

    void clear() {
        appender.list.clear();
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
        logger.setLevel(previousLevel);
    }
}

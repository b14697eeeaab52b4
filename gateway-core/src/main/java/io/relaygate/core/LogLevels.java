package io.relaygate.core;

import java.lang.reflect.Method;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sets the level of the gateway's own loggers ({@code io.relaygate}) from {@code logLevel}, at start and on a reload.
 * The core compiles against SLF4J only, so it reaches logback's {@code setLevel} by reflection; with another backend
 * the key is reported as not applied. Thread-safe.
 */
final class LogLevels {

    private static final Logger log = LoggerFactory.getLogger(Gateway.class);
    private static final String LOGGER = "io.relaygate";

    /** The level logback.xml gave, restored when {@code logLevel} is removed; captured at the first change. */
    private static Object configured;
    private static boolean captured;

    private LogLevels() {
    }

    /**
     * Sets the level, or with {@code null} gives back the one logback.xml set.
     *
     * @return whether the backend took it
     */
    static synchronized boolean apply(String level) {
        Logger logger = LoggerFactory.getLogger(LOGGER);
        try {
            Class<?> levelType = Class.forName("ch.qos.logback.classic.Level", false, logger.getClass()
                    .getClassLoader());
            Method setLevel = logger.getClass().getMethod("setLevel", levelType);
            if (!captured) {
                configured = logger.getClass().getMethod("getLevel").invoke(logger);
                captured = true;
            }
            Object value = level == null ? configured
                    : levelType.getMethod("toLevel", String.class).invoke(null, level.toUpperCase(java.util.Locale.ROOT));
            setLevel.invoke(logger, value);
            return true;
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            log.warn("logLevel: the logging backend ({}) takes no level from here; set it in its own configuration",
                    logger.getClass().getName());
            return false;
        }
    }
}

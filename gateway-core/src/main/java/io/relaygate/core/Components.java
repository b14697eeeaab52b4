package io.relaygate.core;

import java.util.ArrayDeque;
import java.util.Deque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a gateway has opened, in the order it opened it, to be closed in reverse: a later part may use an earlier one
 * until it is closed itself. A part that fails to close is logged and the others still close. Not thread-safe: the
 * gateway calls it under its own lock.
 */
final class Components implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Gateway.class);

    private record Part(String name, AutoCloseable closer) {
    }

    private final Deque<Part> opened = new ArrayDeque<>();

    /** Records that {@code name} is open and how to close it. */
    void add(String name, AutoCloseable closer) {
        opened.push(new Part(name, closer));
    }

    /** Closes every part, the last opened first; idempotent. */
    @Override
    public void close() {
        while (!opened.isEmpty()) {
            Part part = opened.pop();
            try {
                part.closer().close();
            } catch (Exception e) {
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                log.warn("stopping the {} failed: {}", part.name(), e.toString());
            }
        }
    }
}

package io.relaygate.spi;

import java.time.Duration;

/**
 * One part's configuration section ({@code plugins.<name>}, named like the part the configuration selects, e.g.
 * {@code plugins.sqlite} for {@code accountStore: sqlite}): an immutable set of keys with typed accessors.
 * Thread-safe. The gateway notes which keys the part read and, once the factory returns, fails on any key nobody
 * read, so a misspelt key is an error instead of a silently ignored setting.
 * <p>
 * Sizes accept plain bytes or a unit ({@code 8192}, {@code 8KiB}, {@code 1MiB}, {@code 10MB}); durations accept
 * {@code ms}, {@code s}, {@code m} and {@code h} ({@code 500ms}, {@code 10s}, {@code 15m}). Every accessor throws
 * {@link ConfigException} naming the key when the value has the wrong type or is out of range.
 */
public interface PluginConfig {

    /** {@return the section's path, e.g. {@code plugins.socks5}} */
    String path();

    /** {@return the string at {@code key}, or {@code defaultValue} when absent} */
    String getString(String key, String defaultValue);

    /** {@return the boolean at {@code key}, or {@code defaultValue} when absent} */
    boolean getBoolean(String key, boolean defaultValue);

    /** {@return the integer at {@code key} within {@code [min, max]}, or {@code defaultValue} when absent} */
    long getLong(String key, long defaultValue, long min, long max);

    /** {@return the size in bytes at {@code key} within {@code [min, max]}, or {@code defaultValue} when absent} */
    long getSize(String key, long defaultValue, long min, long max);

    /** {@return the duration at {@code key} within {@code [min, max]}, or {@code defaultValue} when absent} */
    Duration getDuration(String key, Duration defaultValue, Duration min, Duration max);
}

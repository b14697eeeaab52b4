package io.relaygate.spi;

/**
 * An invalid configuration value. The message names the key, the value and what was expected; the gateway adds the
 * file and line and exits with status 2.
 */
public class ConfigException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private final String key;

    /**
     * @param key     the full key, e.g. {@code plugins.httpConnect.maxHeaderBytes}
     * @param message what was wrong and what was expected, e.g. {@code "-1 (expected: a size from 1KiB to 1MiB)"}
     */
    public ConfigException(String key, String message) {
        super(key + ": " + message);
        this.key = key;
    }

    /** {@return the full key of the offending value} */
    public String key() {
        return key;
    }
}

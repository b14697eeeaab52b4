package io.relaygate.core.config;

/**
 * A configuration or usage error, as one line that names where the value came from (file and line, or the flag),
 * the key and the expectation. The command line prints it and exits with status 2.
 */
public final class ConfigError extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public ConfigError(String message) {
        super(message);
    }

    /** {@return an error for {@code e}, prefixed with where its key was set} */
    public static ConfigError of(io.relaygate.spi.ConfigException e, Settings settings) {
        String origin = settings.origin(e.key());
        return new ConfigError(origin == null ? e.getMessage() : origin + ": " + e.getMessage());
    }
}

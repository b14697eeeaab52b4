package io.relaygate.console;

import io.relaygate.spi.ConfigException;
import io.relaygate.spi.PluginConfig;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The console's configuration. Immutable.
 *
 * @param token          the admin token, or null to use (or create) {@code <data-dir>/admin.token}
 * @param allowedOrigins origins besides the console's own whose pages may open the stats WebSocket
 * @param maxBodySize    the largest request body; larger gets 413
 * @param wsMaxQueued    bytes a stats client may leave unsent before it is dropped
 */
record ConsoleSettings(String token, List<String> allowedOrigins, long maxBodySize, long wsMaxQueued) {

    static ConsoleSettings from(PluginConfig config) {
        String token = config.getString("token", null);
        if (token != null) {
            String problem = AdminToken.problem(token);
            if (problem != null) {
                throw new ConfigException(config.path() + ".token", problem);
            }
        }
        List<String> origins = new ArrayList<>();
        for (String origin : config.getString("allowedOrigins", "").split(",")) {
            if (!origin.isBlank()) {
                origins.add(normalise(origin.trim()));
            }
        }
        long maxBody = config.getSize("maxBodySize", 64 * 1024, 1024, 16L << 20);
        long wsMaxQueued = config.getSize("wsMaxQueued", 256 * 1024, 1024, 64L << 20);
        return new ConsoleSettings(token, List.copyOf(origins), maxBody, wsMaxQueued);
    }

    private static String normalise(String origin) {
        try {
            URI uri = URI.create(origin);
            if (uri.getScheme() == null || uri.getHost() == null || uri.getPath() != null && !uri.getPath().isEmpty()) {
                throw new IllegalArgumentException();
            }
            return origin.toLowerCase(Locale.ROOT);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("allowedOrigins", "\"" + origin + "\" (expected: origins such as"
                    + " http://127.0.0.1:8080, comma-separated)");
        }
    }
}

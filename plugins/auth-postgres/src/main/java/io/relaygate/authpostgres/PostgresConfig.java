package io.relaygate.authpostgres;

import io.relaygate.spi.ConfigException;
import io.relaygate.spi.PluginConfig;
import java.time.Duration;

/**
 * The PostgreSQL store's settings, {@code plugins.postgres}.
 *
 * @param url          the JDBC URL, {@code jdbc:postgresql://HOST:PORT/DATABASE[?…]}
 * @param user         the database user, or null to leave it to the URL
 * @param password     its password, or null (trust, or in the URL)
 * @param poolSize     pooled connections
 * @param connectTimeout how long getting a connection may take before a call fails
 */
record PostgresConfig(String url, String user, String password, int poolSize, Duration connectTimeout) {

    static PostgresConfig from(PluginConfig c) {
        String url = c.getString("url", null);
        if (url == null || !url.startsWith("jdbc:postgresql:")) {
            throw new ConfigException(c.path() + ".url", (url == null ? "missing" : "\"" + url + "\"")
                    + " (expected: jdbc:postgresql://HOST:PORT/DATABASE)");
        }
        return new PostgresConfig(url, c.getString("user", null), c.getString("password", null),
                (int) c.getLong("poolSize", 4, 1, 256),
                c.getDuration("connectTimeout", Duration.ofSeconds(5), Duration.ofMillis(250), Duration.ofMinutes(5)));
    }

    /** {@return the URL without anything after {@code ?}, which may hold a password: for messages} */
    String label() {
        int query = url.indexOf('?');
        return query < 0 ? url : url.substring(0, query);
    }
}

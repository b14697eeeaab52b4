package io.relaygate.authpostgres;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import java.util.UUID;

/**
 * A schema of its own in the test PostgreSQL for one test: {@code RELAYGATE_TEST_POSTGRES_URL} (default
 * {@code jdbc:postgresql://127.0.0.1:5432/test}) as {@code RELAYGATE_TEST_POSTGRES_USER} (default {@code postgres}),
 * dropped at close.
 */
final class TestDatabase implements AutoCloseable {

    static final String URL = env("RELAYGATE_TEST_POSTGRES_URL", "jdbc:postgresql://127.0.0.1:5432/test");
    static final String USER = env("RELAYGATE_TEST_POSTGRES_USER", "postgres");
    static final String PASSWORD = System.getenv("RELAYGATE_TEST_POSTGRES_PASSWORD");

    final String schema = "relaygate_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);

    TestDatabase() throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA " + schema);
        }
    }

    private static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isBlank() ? fallback : value;
    }

    static Connection connect() throws SQLException {
        Properties properties = new Properties();
        properties.setProperty("user", USER);
        if (PASSWORD != null) {
            properties.setProperty("password", PASSWORD);
        }
        return DriverManager.getConnection(URL, properties);
    }

    /** {@return the store's settings for this schema} */
    PostgresConfig config() {
        return new PostgresConfig(URL + (URL.contains("?") ? "&" : "?") + "currentSchema=" + schema, USER, PASSWORD,
                4, Duration.ofSeconds(5));
    }

    @Override
    public void close() throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            s.execute("DROP SCHEMA " + schema + " CASCADE");
        }
    }
}

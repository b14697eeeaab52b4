package io.relaygate.authpostgres;

import io.relaygate.testkit.TestServices;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import java.util.UUID;

/**
 * A schema of its own in the test PostgreSQL ({@link TestServices#postgresUrl}) for one test, dropped at close.
 */
final class TestDatabase implements AutoCloseable {

    static final String URL = TestServices.postgresUrl();
    static final String USER = TestServices.postgresUser();
    static final String PASSWORD = System.getenv("RELAYGATE_TEST_POSTGRES_PASSWORD");

    final String schema = "relaygate_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);

    TestDatabase() throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA " + schema);
        }
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

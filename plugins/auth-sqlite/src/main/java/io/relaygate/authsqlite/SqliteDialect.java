package io.relaygate.authsqlite;

import io.relaygate.accountjdbc.Dialect;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.sqlite.SQLiteErrorCode;

/** SQLite's schema and ways, for the shared JDBC account store. Stateless. */
final class SqliteDialect implements Dialect {

    /** The schema, as numbered migrations. Append only: never edit a shipped one. */
    static final List<String> STEPS = List.of(
            """
            CREATE TABLE users (
                name        TEXT    PRIMARY KEY,
                salt        BLOB    NOT NULL,
                iterations  INTEGER NOT NULL CHECK (iterations > 0),
                stored_key  BLOB    NOT NULL,
                server_key  BLOB    NOT NULL,
                rate        INTEGER NOT NULL DEFAULT 0 CHECK (rate >= 0),
                enabled     INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
                created_at  INTEGER NOT NULL,
                updated_at  INTEGER NOT NULL,
                bytes_up    INTEGER NOT NULL DEFAULT 0,
                bytes_down  INTEGER NOT NULL DEFAULT 0
            ) STRICT
            """,
            // 2: the reverse tunnel: how many public ports a user may hold, and the sticky port of each service.
            """
            ALTER TABLE users ADD COLUMN expose_ports INTEGER NOT NULL DEFAULT 0 CHECK (expose_ports >= 0)
            """,
            // 3: deleted with their user by delete(); foreign keys are off in this store.
            """
            CREATE TABLE exposed_ports (
                user_name   TEXT    NOT NULL,
                service     TEXT    NOT NULL,
                port        INTEGER NOT NULL UNIQUE CHECK (port BETWEEN 1 AND 65535),
                assigned_at INTEGER NOT NULL,
                PRIMARY KEY (user_name, service)
            ) STRICT
            """,
            // 4: account policy: separate rates per direction, a cap on concurrent tunnels, an expiry, a quota per
            // calendar period, and the traffic by UTC day that quotas are counted from.
            """
            ALTER TABLE users ADD COLUMN rate_up INTEGER NOT NULL DEFAULT 0 CHECK (rate_up >= 0);
            ALTER TABLE users ADD COLUMN rate_down INTEGER NOT NULL DEFAULT 0 CHECK (rate_down >= 0);
            ALTER TABLE users ADD COLUMN max_connections INTEGER NOT NULL DEFAULT 0 CHECK (max_connections >= 0);
            ALTER TABLE users ADD COLUMN expires_at INTEGER;
            ALTER TABLE users ADD COLUMN quota_bytes INTEGER NOT NULL DEFAULT 0 CHECK (quota_bytes >= 0);
            ALTER TABLE users ADD COLUMN quota_period TEXT CHECK (quota_period IN ('day', 'week', 'month'));
            CREATE TABLE traffic_days (
                user_name   TEXT    NOT NULL,
                day         INTEGER NOT NULL,
                bytes_up    INTEGER NOT NULL DEFAULT 0,
                bytes_down  INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (user_name, day)
            ) STRICT
            """);

    @Override
    public String name() {
        return "sqlite";
    }

    @Override
    public List<String> migrations() {
        return STEPS;
    }

    @Override
    public String migrationsTable() {
        return "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)"
                + " STRICT";
    }

    @Override
    public void beginMigration(Statement statement) throws SQLException {
        // IMMEDIATE: the write lock at once, so two processes starting together migrate one after the other.
        statement.execute("BEGIN IMMEDIATE");
    }

    @Override
    public boolean uniqueViolation(SQLException e) {
        return e.getErrorCode() == SQLiteErrorCode.SQLITE_CONSTRAINT.code
                && String.valueOf(e.getMessage()).contains("users.name");
    }
}

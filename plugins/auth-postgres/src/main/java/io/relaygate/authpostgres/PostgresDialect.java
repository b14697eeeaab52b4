package io.relaygate.authpostgres;

import io.relaygate.accountjdbc.Dialect;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/** PostgreSQL's schema and ways, for the shared JDBC account store. Stateless. */
final class PostgresDialect implements Dialect {

    /** The channel the schema's trigger notifies when an account (not its counters) changes. */
    static final String CHANNEL = "relaygate_accounts";

    /**
     * The schema, as numbered migrations. Append only: never edit a shipped one. The first is the SQLite store's
     * four steps at once (no PostgreSQL database predates them), with a trigger for the change feed: any writer, a
     * gateway or the command line of any machine, notifies every listening gateway; traffic counters do not.
     */
    static final List<String> STEPS = List.of(
            """
            CREATE TABLE users (
                name            TEXT    PRIMARY KEY,
                salt            BYTEA   NOT NULL,
                iterations      INTEGER NOT NULL CHECK (iterations > 0),
                stored_key      BYTEA   NOT NULL,
                server_key      BYTEA   NOT NULL,
                rate            BIGINT  NOT NULL DEFAULT 0 CHECK (rate >= 0),
                enabled         INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
                created_at      BIGINT  NOT NULL,
                updated_at      BIGINT  NOT NULL,
                bytes_up        BIGINT  NOT NULL DEFAULT 0,
                bytes_down      BIGINT  NOT NULL DEFAULT 0,
                expose_ports    INTEGER NOT NULL DEFAULT 0 CHECK (expose_ports >= 0),
                rate_up         BIGINT  NOT NULL DEFAULT 0 CHECK (rate_up >= 0),
                rate_down       BIGINT  NOT NULL DEFAULT 0 CHECK (rate_down >= 0),
                max_connections INTEGER NOT NULL DEFAULT 0 CHECK (max_connections >= 0),
                expires_at      BIGINT,
                quota_bytes     BIGINT  NOT NULL DEFAULT 0 CHECK (quota_bytes >= 0),
                quota_period    TEXT    CHECK (quota_period IN ('day', 'week', 'month'))
            );
            CREATE TABLE exposed_ports (
                user_name   TEXT    NOT NULL,
                service     TEXT    NOT NULL,
                port        INTEGER NOT NULL UNIQUE CHECK (port BETWEEN 1 AND 65535),
                assigned_at BIGINT  NOT NULL,
                PRIMARY KEY (user_name, service)
            );
            CREATE TABLE traffic_days (
                user_name   TEXT    NOT NULL,
                day         BIGINT  NOT NULL,
                bytes_up    BIGINT  NOT NULL DEFAULT 0,
                bytes_down  BIGINT  NOT NULL DEFAULT 0,
                PRIMARY KEY (user_name, day)
            );
            CREATE FUNCTION relaygate_accounts_changed() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN PERFORM pg_notify(''relaygate_accounts'', current_schema()); RETURN NULL; END';
            CREATE TRIGGER users_changed AFTER INSERT OR DELETE OR UPDATE OF salt, iterations, stored_key, server_key,
                rate, enabled, updated_at, expose_ports, rate_up, rate_down, max_connections, expires_at, quota_bytes,
                quota_period ON users FOR EACH STATEMENT EXECUTE FUNCTION relaygate_accounts_changed()
            """);

    @Override
    public String name() {
        return "postgres";
    }

    @Override
    public List<String> migrations() {
        return STEPS;
    }

    @Override
    public String migrationsTable() {
        return "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)";
    }

    @Override
    public void beginMigration(Statement statement) throws SQLException {
        statement.execute("BEGIN");
        // Held to the end of the transaction: a second gateway starting now waits, then finds the schema current.
        statement.execute("SELECT pg_advisory_xact_lock(7080)");
    }

    @Override
    public boolean uniqueViolation(SQLException e) {
        return "23505".equals(e.getSQLState()) && String.valueOf(e.getMessage()).contains("users_pkey");
    }
}

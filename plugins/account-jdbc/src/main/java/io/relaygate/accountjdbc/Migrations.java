package io.relaygate.accountjdbc;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * Brings a database's schema up to its dialect's last migration, the versions applied recorded in the database
 * itself ({@code schema_migrations}). A step may hold several statements, each ending a line with {@code ;}.
 */
final class Migrations {

    private Migrations() {
    }

    /**
     * Applies the missing steps in one transaction.
     *
     * @throws IllegalStateException if the database was written by a newer version
     */
    static void apply(Connection connection, Dialect dialect) throws SQLException {
        List<String> steps = dialect.migrations();
        boolean autoCommit = connection.getAutoCommit();
        try (Statement statement = connection.createStatement()) {
            connection.setAutoCommit(true);
            dialect.beginMigration(statement);
            try {
                statement.execute(dialect.migrationsTable());
                int current;
                try (ResultSet rs = statement.executeQuery("SELECT coalesce(max(version), 0) FROM schema_migrations")) {
                    current = rs.next() ? rs.getInt(1) : 0;
                }
                if (current > steps.size()) {
                    throw new IllegalStateException("schema version " + current + " is newer than this Relaygate"
                            + " knows (" + steps.size() + ")");
                }
                for (int version = current + 1; version <= steps.size(); version++) {
                    for (String sql : steps.get(version - 1).split(";\\s*\\n")) {
                        if (!sql.isBlank()) {
                            statement.execute(sql);
                        }
                    }
                    statement.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (" + version + ", "
                            + System.currentTimeMillis() + ")");
                }
                statement.execute("COMMIT");
            } catch (SQLException | RuntimeException e) {
                statement.execute("ROLLBACK");
                throw e;
            }
        } finally {
            connection.setAutoCommit(autoCommit);
        }
    }
}

package io.relaygate.accountjdbc;

import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * What differs between the databases the shared account store runs on: the schema's DDL, how a migration takes its
 * lock, how a duplicate name shows. Everything else is one SQL for all. Stateless and thread-safe.
 */
public interface Dialect {

    /** {@return the database's name for messages: {@code sqlite}, {@code postgres}} */
    String name();

    /**
     * {@return the schema as numbered migrations, the first at index 0} Append only: a shipped step never changes.
     * A step may hold several statements, each ending a line with {@code ;}. The tables and columns are the
     * contract the shared SQL relies on ({@code users}, {@code exposed_ports}, {@code traffic_days}).
     */
    List<String> migrations();

    /** {@return the statement that creates {@code schema_migrations (version, applied_at)} if it is missing} */
    String migrationsTable();

    /**
     * Begins the migration's transaction with a lock that makes a second process starting at the same time wait
     * and then find the schema current.
     */
    void beginMigration(Statement statement) throws SQLException;

    /** {@return whether {@code e} says a user of that name exists already} */
    boolean uniqueViolation(SQLException e);
}

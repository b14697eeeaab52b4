package io.relaygate.accountjdbc;

import io.relaygate.spi.Account;
import io.relaygate.spi.AccountChange;
import io.relaygate.spi.AccountExistsException;
import io.relaygate.spi.AccountLimits;
import io.relaygate.spi.AccountStore;
import io.relaygate.spi.AccountStoreException;
import io.relaygate.spi.AccountUpdate;
import io.relaygate.spi.Quota;
import io.relaygate.spi.ScramCredential;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Accounts in a relational database over JDBC: one SQL for SQLite and PostgreSQL, a {@link Dialect} for what differs
 * (the schema's DDL, the migration lock, a duplicate name). Counters are increments ({@code SET bytes = bytes + ?}),
 * so several gateways may write at once. A subclass brings the connections and the change feed. Thread-safe; every
 * method blocks (JDBC).
 */
public abstract class JdbcAccountStore implements AccountStore {

    private static final Logger log = LoggerFactory.getLogger(JdbcAccountStore.class);
    private static final String COLUMNS = "name, salt, iterations, stored_key, server_key, rate, enabled, created_at,"
            + " updated_at, bytes_up, bytes_down, expose_ports, rate_up, rate_down, max_connections, expires_at,"
            + " quota_bytes, quota_period";

    private final DataSource pool;
    private final Dialect dialect;
    private final String label;
    private final List<Consumer<AccountChange>> listeners = new CopyOnWriteArrayList<>();

    /**
     * @param pool    pooled connections, autocommit on
     * @param dialect the database's ways
     * @param label   what the store is called in error messages (a file name, a JDBC URL without credentials)
     */
    protected JdbcAccountStore(DataSource pool, Dialect dialect, String label) {
        this.pool = pool;
        this.dialect = dialect;
        this.label = label;
    }

    /** Brings the schema up to date: call once, before any other method. */
    protected static void migrate(Connection connection, Dialect dialect) throws SQLException {
        Migrations.apply(connection, dialect);
    }

    @Override
    public Optional<Account> find(String name) {
        try (Connection connection = pool.getConnection();
             PreparedStatement ps = connection.prepareStatement("SELECT " + COLUMNS + " FROM users WHERE name = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(account(rs)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw failure("find", e);
        }
    }

    @Override
    public List<Account> list() {
        try (Connection connection = pool.getConnection()) {
            return listAll(connection);
        } catch (SQLException e) {
            throw failure("list", e);
        }
    }

    @Override
    public Map<Integer, Long> iterationCounts() {
        try (Connection connection = pool.getConnection();
             Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("SELECT iterations, COUNT(*) FROM users GROUP BY iterations")) {
            Map<Integer, Long> counts = new HashMap<>();
            while (rs.next()) {
                counts.put(rs.getInt(1), rs.getLong(2));
            }
            return counts;
        } catch (SQLException e) {
            throw failure("count iterations", e);
        }
    }

    protected static List<Account> listAll(Connection connection) throws SQLException {
        List<Account> accounts = new ArrayList<>();
        try (Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("SELECT " + COLUMNS + " FROM users ORDER BY name")) {
            while (rs.next()) {
                accounts.add(account(rs));
            }
        }
        return accounts;
    }

    @Override
    public Account create(Account account) {
        try (Connection connection = pool.getConnection();
             PreparedStatement ps = connection.prepareStatement("INSERT INTO users (" + COLUMNS + ")"
                     + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?, ?, ?, ?, ?, ?, ?)")) {
            ScramCredential credential = account.credential();
            ps.setString(1, account.name());
            ps.setBytes(2, credential.salt());
            ps.setInt(3, credential.iterations());
            ps.setBytes(4, credential.storedKey());
            ps.setBytes(5, credential.serverKey());
            ps.setLong(6, account.rate());
            ps.setInt(7, account.enabled() ? 1 : 0);
            ps.setLong(8, account.created().toEpochMilli());
            ps.setLong(9, account.updated().toEpochMilli());
            AccountLimits limits = account.limits();
            ps.setInt(10, limits.exposePorts());
            ps.setLong(11, limits.rateUp());
            ps.setLong(12, limits.rateDown());
            ps.setInt(13, limits.maxConnections());
            setExpiry(ps, 14, limits.expires());
            ps.setLong(15, limits.quota().bytes());
            setPeriod(ps, 16, limits.quota());
            ps.executeUpdate();
            return new Account(account.name(), credential, account.enabled(), account.created(), account.updated(),
                    0, 0, limits);
        } catch (SQLException e) {
            if (dialect.uniqueViolation(e)) {
                throw new AccountExistsException(account.name());
            }
            throw failure("create", e);
        }
    }

    @Override
    public Optional<Account> update(String name, AccountUpdate update) {
        // Only fixed column names go into the SQL text; every value is a parameter.
        List<String> sets = new ArrayList<>();
        List<Binder> values = new ArrayList<>();
        if (update.credential() != null) {
            ScramCredential c = update.credential();
            sets.add("salt = ?, iterations = ?, stored_key = ?, server_key = ?");
            values.add((ps, i) -> ps.setBytes(i, c.salt()));
            values.add((ps, i) -> ps.setInt(i, c.iterations()));
            values.add((ps, i) -> ps.setBytes(i, c.storedKey()));
            values.add((ps, i) -> ps.setBytes(i, c.serverKey()));
        }
        set(sets, values, "enabled", update.enabled() == null ? null : update.enabled() ? 1L : 0L);
        set(sets, values, "rate", update.rate());
        set(sets, values, "rate_up", update.rateUp());
        set(sets, values, "rate_down", update.rateDown());
        set(sets, values, "max_connections", update.maxConnections() == null ? null : (long) update.maxConnections());
        set(sets, values, "expose_ports", update.exposePorts() == null ? null : (long) update.exposePorts());
        if (update.expires() != null) {
            Instant expires = update.expires().orElse(null);
            sets.add("expires_at = ?");
            values.add((ps, i) -> setExpiry(ps, i, expires));
        }
        if (update.quota() != null) {
            Quota quota = update.quota();
            sets.add("quota_bytes = ?, quota_period = ?");
            values.add((ps, i) -> ps.setLong(i, quota.bytes()));
            values.add((ps, i) -> setPeriod(ps, i, quota));
        }
        long now = System.currentTimeMillis();
        sets.add("updated_at = ?");
        values.add((ps, i) -> ps.setLong(i, now));
        String sql = "UPDATE users SET " + String.join(", ", sets) + " WHERE name = ?";
        try (Connection connection = pool.getConnection(); PreparedStatement ps = connection.prepareStatement(sql)) {
            int i = 1;
            for (Binder value : values) {
                value.bind(ps, i++);
            }
            ps.setString(i, name);
            if (ps.executeUpdate() == 0) {
                return Optional.empty();
            }
        } catch (SQLException e) {
            throw failure("update", e);
        }
        return find(name);
    }

    /** Sets one parameter of a statement. */
    @FunctionalInterface
    private interface Binder {
        void bind(PreparedStatement ps, int index) throws SQLException;
    }

    private static void set(List<String> sets, List<Binder> values, String column, Long value) {
        if (value != null) {
            sets.add(column + " = ?");
            values.add((ps, i) -> ps.setLong(i, value));
        }
    }

    private static void setExpiry(PreparedStatement ps, int index, Instant expires) throws SQLException {
        if (expires == null) {
            ps.setNull(index, Types.INTEGER);
        } else {
            ps.setLong(index, expires.toEpochMilli());
        }
    }

    private static void setPeriod(PreparedStatement ps, int index, Quota quota) throws SQLException {
        if (quota.period() == null) {
            ps.setNull(index, Types.VARCHAR);
        } else {
            ps.setString(index, quota.period().word());
        }
    }

    @Override
    public boolean delete(String name) {
        try (Connection connection = pool.getConnection();
             PreparedStatement ports = connection.prepareStatement("DELETE FROM exposed_ports WHERE user_name = ?");
             PreparedStatement days = connection.prepareStatement("DELETE FROM traffic_days WHERE user_name = ?");
             PreparedStatement ps = connection.prepareStatement("DELETE FROM users WHERE name = ?")) {
            ports.setString(1, name);
            ports.executeUpdate();
            days.setString(1, name);
            days.executeUpdate();
            ps.setString(1, name);
            return ps.executeUpdate() > 0;
        } catch (SQLException e) {
            throw failure("delete", e);
        }
    }

    @Override
    public void addTraffic(LocalDate day, Map<String, long[]> increments) {
        if (increments.isEmpty()) {
            return;
        }
        try (Connection connection = pool.getConnection();
             PreparedStatement totals = connection.prepareStatement(
                     "UPDATE users SET bytes_up = bytes_up + ?, bytes_down = bytes_down + ? WHERE name = ?");
             // Only for users that exist: a deleted user's late traffic is dropped, as from the totals.
             PreparedStatement byDay = connection.prepareStatement("INSERT INTO traffic_days (user_name, day,"
                     + " bytes_up, bytes_down) SELECT name, ?, ?, ? FROM users WHERE name = ? ON CONFLICT (user_name,"
                     + " day) DO UPDATE SET bytes_up = traffic_days.bytes_up + excluded.bytes_up,"
                     + " bytes_down = traffic_days.bytes_down + excluded.bytes_down")) {
            inTransaction(connection, () -> {
                for (Map.Entry<String, long[]> entry : increments.entrySet()) {
                    long up = entry.getValue()[0];
                    long down = entry.getValue()[1];
                    totals.setLong(1, up);
                    totals.setLong(2, down);
                    totals.setString(3, entry.getKey());
                    totals.addBatch();
                    byDay.setLong(1, day.toEpochDay());
                    byDay.setLong(2, up);
                    byDay.setLong(3, down);
                    byDay.setString(4, entry.getKey());
                    byDay.addBatch();
                }
                totals.executeBatch();
                byDay.executeBatch();
            });
        } catch (SQLException e) {
            throw failure("add traffic", e);
        }
    }

    @Override
    public long[] traffic(String user, LocalDate since) {
        try (Connection connection = pool.getConnection();
             PreparedStatement ps = connection.prepareStatement("SELECT coalesce(sum(bytes_up), 0),"
                     + " coalesce(sum(bytes_down), 0) FROM traffic_days WHERE user_name = ? AND day >= ?")) {
            ps.setString(1, user);
            ps.setLong(2, since.toEpochDay());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new long[] {rs.getLong(1), rs.getLong(2)};
            }
        } catch (SQLException e) {
            throw failure("read traffic", e);
        }
    }

    @Override
    public Optional<Integer> assignedPort(String user, String service) {
        try (Connection connection = pool.getConnection();
             PreparedStatement ps = connection.prepareStatement(
                     "SELECT port FROM exposed_ports WHERE user_name = ? AND service = ?")) {
            ps.setString(1, user);
            ps.setString(2, service);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(rs.getInt(1)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw failure("read a port", e);
        }
    }

    @Override
    public void assignPort(String user, String service, int port) {
        try (Connection connection = pool.getConnection();
             PreparedStatement release = connection.prepareStatement(
                     "DELETE FROM exposed_ports WHERE port = ? OR (user_name = ? AND service = ?)");
             PreparedStatement assign = connection.prepareStatement(
                     "INSERT INTO exposed_ports (user_name, service, port, assigned_at) VALUES (?, ?, ?, ?)")) {
            inTransaction(connection, () -> {
                release.setInt(1, port);
                release.setString(2, user);
                release.setString(3, service);
                release.executeUpdate();
                assign.setString(1, user);
                assign.setString(2, service);
                assign.setInt(3, port);
                assign.setLong(4, System.currentTimeMillis());
                assign.executeUpdate();
            });
        } catch (SQLException e) {
            throw failure("assign a port", e);
        }
    }

    /** A unit of work on a connection. */
    @FunctionalInterface
    private interface SqlWork {
        void run() throws SQLException;
    }

    /** Runs {@code work} in one transaction: committed if it returns, rolled back if it throws. */
    private static void inTransaction(Connection connection, SqlWork work) throws SQLException {
        connection.setAutoCommit(false);
        try {
            work.run();
            connection.commit();
        } catch (SQLException | RuntimeException e) {
            connection.rollback();
            throw e;
        } finally {
            connection.setAutoCommit(true);
        }
    }

    /** {@return the innermost cause's message, for a one-line error} */
    protected static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() != null ? root.getMessage() : root.getClass().getSimpleName();
    }

    @Override
    public void addListener(Consumer<AccountChange> listener) {
        listeners.add(listener);
        startFeed();
    }

    /** Starts following changes by any writer, once: the first listener calls it. */
    protected abstract void startFeed();

    /**
     * {@return the changes from {@code before} to {@code now} (accounts by name): created, updated (credential,
     * limits, enabled flag or update time), deleted; traffic counters are not changes}
     */
    protected static List<AccountChange> diff(Map<String, Account> before, Map<String, Account> now) {
        List<AccountChange> changes = new ArrayList<>();
        for (Account account : now.values()) {
            Account old = before.get(account.name());
            if (old == null) {
                changes.add(new AccountChange(AccountChange.Kind.CREATED, account.name(), account));
            } else if (!old.updated().equals(account.updated()) || old.enabled() != account.enabled()
                    || !old.limits().equals(account.limits())) {
                changes.add(new AccountChange(AccountChange.Kind.UPDATED, account.name(), account));
            }
        }
        for (String name : before.keySet()) {
            if (!now.containsKey(name)) {
                changes.add(new AccountChange(AccountChange.Kind.DELETED, name, null));
            }
        }
        return changes;
    }

    /** Tells every listener of {@code changes}; a listener that throws is logged and the others still hear. */
    protected final void publish(List<AccountChange> changes) {
        for (AccountChange change : changes) {
            for (Consumer<AccountChange> listener : listeners) {
                try {
                    listener.accept(change);
                } catch (RuntimeException e) {
                    log.warn("an account-change listener failed", e);
                }
            }
        }
    }

    /** {@return the accounts by name} */
    protected static Map<String, Account> byName(List<Account> accounts) {
        Map<String, Account> map = new HashMap<>();
        accounts.forEach(a -> map.put(a.name(), a));
        return map;
    }

    private static Account account(ResultSet rs) throws SQLException {
        ScramCredential credential = new ScramCredential(rs.getBytes("salt"), rs.getInt("iterations"),
                rs.getBytes("stored_key"), rs.getBytes("server_key"));
        long expiresAt = rs.getLong("expires_at");
        Instant expires = rs.wasNull() ? null : Instant.ofEpochMilli(expiresAt);
        String period = rs.getString("quota_period");
        Quota quota = period == null ? Quota.NONE : new Quota(rs.getLong("quota_bytes"),
                Quota.Period.valueOf(period.toUpperCase(java.util.Locale.ROOT)));
        AccountLimits limits = new AccountLimits(rs.getLong("rate"), rs.getLong("rate_up"), rs.getLong("rate_down"),
                rs.getInt("max_connections"), rs.getInt("expose_ports"), expires, quota);
        return new Account(rs.getString("name"), credential, rs.getInt("enabled") == 1,
                Instant.ofEpochMilli(rs.getLong("created_at")), Instant.ofEpochMilli(rs.getLong("updated_at")),
                rs.getLong("bytes_up"), rs.getLong("bytes_down"), limits);
    }

    /** {@return {@code e} as the SPI's failure, naming the store and the operation} */
    protected final AccountStoreException failure(String operation, SQLException e) {
        return new AccountStoreException("account store " + label + ": " + operation + " failed: " + e.getMessage(),
                e);
    }
}

package io.relaygate.authsqlite;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.relaygate.spi.Account;
import io.relaygate.spi.AccountChange;
import io.relaygate.spi.AccountExistsException;
import io.relaygate.spi.AccountLimits;
import io.relaygate.spi.AccountStore;
import io.relaygate.spi.AccountStoreException;
import io.relaygate.spi.AccountUpdate;
import io.relaygate.spi.Quota;
import io.relaygate.spi.ScramCredential;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;
import org.sqlite.SQLiteErrorCode;

/** Accounts in one SQLite file. Thread-safe; every method blocks (JDBC). */
final class SqliteAccountStore implements AccountStore {

    private static final Logger log = LoggerFactory.getLogger(SqliteAccountStore.class);
    private static final byte[] SQLITE_HEADER = "SQLite format 3\0".getBytes(StandardCharsets.US_ASCII);
    private static final String COLUMNS = "name, salt, iterations, stored_key, server_key, rate, enabled, created_at,"
            + " updated_at, bytes_up, bytes_down, expose_ports, rate_up, rate_down, max_connections, expires_at,"
            + " quota_bytes, quota_period";

    private final SqliteConfig config;
    private final SQLiteDataSource dataSource;
    private final HikariDataSource pool;
    private final List<Consumer<AccountChange>> listeners = new CopyOnWriteArrayList<>();
    private ScheduledExecutorService poller;
    private Connection pollConnection;
    private long dataVersion;
    private Map<String, Account> snapshot;

    private SqliteAccountStore(SqliteConfig config, SQLiteDataSource dataSource, HikariDataSource pool) {
        this.config = config;
        this.dataSource = dataSource;
        this.pool = pool;
    }

    /**
     * Opens (and on first use creates) the database. A file that is not a sound SQLite database is refused, never
     * recreated: it holds the users.
     *
     * @throws IllegalStateException with one line for the user when the database cannot be opened
     */
    static SqliteAccountStore open(SqliteConfig config) {
        Path file = config.file();
        boolean existed = Files.exists(file);
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            if (existed) {
                checkHeader(file);
            } else if (file.getFileSystem().supportedFileAttributeViews().contains("posix")) {
                // SQLite gives the -wal and -shm files the database's mode: 0600 for all three, whatever the umask.
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(
                        "rw-------")));
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
            }
        } catch (IOException e) {
            throw new IllegalStateException(file + ": " + e.getMessage(), e);
        }
        SQLiteConfig sqlite = new SQLiteConfig();
        sqlite.setJournalMode(SQLiteConfig.JournalMode.WAL);
        // FULL: a write that returned is on disk even if the machine loses power (RELIABILITY.md H1).
        sqlite.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
        sqlite.setBusyTimeout((int) Math.min(Integer.MAX_VALUE, config.busyTimeout().toMillis()));
        sqlite.enforceForeignKeys(true);
        SQLiteDataSource dataSource = new SQLiteDataSource(sqlite);
        dataSource.setUrl("jdbc:sqlite:" + file.toAbsolutePath());
        HikariConfig hikari = new HikariConfig();
        hikari.setDataSource(dataSource);
        hikari.setPoolName("relaygate-sqlite");
        hikari.setMaximumPoolSize(config.poolSize());
        hikari.setMinimumIdle(1);
        hikari.setConnectionTimeout(Math.max(250, config.busyTimeout().toMillis() + 1000));
        HikariDataSource pool;
        try {
            pool = new HikariDataSource(hikari);
        } catch (RuntimeException e) {
            throw new IllegalStateException(file + ": cannot open the database (" + rootMessage(e) + ")", e);
        }
        SqliteAccountStore store = new SqliteAccountStore(config, dataSource, pool);
        try (Connection connection = pool.getConnection()) {
            if (existed) {
                store.quickCheck(connection);
            }
            Migrations.apply(connection);
        } catch (SQLException | RuntimeException e) {
            pool.close();
            throw new IllegalStateException(file + ": " + rootMessage(e), e);
        }
        log.debug("account store: {}", file);
        return store;
    }

    private static void checkHeader(Path file) throws IOException {
        if (Files.size(file) == 0) {
            return;     // an empty file is a new database to SQLite
        }
        byte[] header = new byte[SQLITE_HEADER.length];
        try (InputStream in = Files.newInputStream(file)) {
            if (in.readNBytes(header, 0, header.length) != header.length || !Arrays.equals(header, SQLITE_HEADER)) {
                throw new IllegalStateException(file + ": not a SQLite database; refusing to start rather than"
                        + " replace it (restore it from a backup, or move it away to start with no users)");
            }
        }
    }

    private void quickCheck(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("PRAGMA quick_check")) {
            String result = rs.next() ? rs.getString(1) : "no answer";
            if (!"ok".equals(result)) {
                throw new IllegalStateException("the database is damaged (quick_check: " + result + "); refusing to"
                        + " start rather than lose users (restore it from a backup)");
            }
        }
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

    private static List<Account> listAll(Connection connection) throws SQLException {
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
            if (e.getErrorCode() == SQLiteErrorCode.SQLITE_CONSTRAINT.code
                    && String.valueOf(e.getMessage()).contains("users.name")) {
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
                     + " day) DO UPDATE SET bytes_up = bytes_up + excluded.bytes_up,"
                     + " bytes_down = bytes_down + excluded.bytes_down")) {
            connection.setAutoCommit(false);
            try {
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
                connection.commit();
            } catch (SQLException e) {
                connection.rollback();
                throw e;
            } finally {
                connection.setAutoCommit(true);
            }
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
            connection.setAutoCommit(false);
            try {
                release.setInt(1, port);
                release.setString(2, user);
                release.setString(3, service);
                release.executeUpdate();
                assign.setString(1, user);
                assign.setString(2, service);
                assign.setInt(3, port);
                assign.setLong(4, System.currentTimeMillis());
                assign.executeUpdate();
                connection.commit();
            } catch (SQLException e) {
                connection.rollback();
                throw e;
            } finally {
                connection.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw failure("assign a port", e);
        }
    }

    @Override
    public synchronized void addListener(Consumer<AccountChange> listener) {
        listeners.add(listener);
        if (poller != null) {
            return;
        }
        try {
            pollConnection = dataSource.getConnection();
            dataVersion = dataVersion(pollConnection);
            snapshot = byName(listAll(pollConnection));
        } catch (SQLException e) {
            throw failure("watch", e);
        }
        poller = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "relaygate-sqlite-changes");
            t.setDaemon(true);
            return t;
        });
        long interval = config.pollInterval().toMillis();
        poller.scheduleWithFixedDelay(this::poll, interval, interval, TimeUnit.MILLISECONDS);
    }

    /**
     * Looks for commits by any other connection, this process's or another's: {@code PRAGMA data_version} changes
     * then, and only then. A changed version costs one scan of the users, diffed against the last one.
     */
    private synchronized void poll() {
        try {
            long version = dataVersion(pollConnection);
            if (version == dataVersion) {
                return;
            }
            dataVersion = version;
            Map<String, Account> now = byName(listAll(pollConnection));
            List<AccountChange> changes = new ArrayList<>();
            for (Account account : now.values()) {
                Account before = snapshot.get(account.name());
                if (before == null) {
                    changes.add(new AccountChange(AccountChange.Kind.CREATED, account.name(), account));
                } else if (!before.updated().equals(account.updated()) || before.enabled() != account.enabled()
                        || !before.limits().equals(account.limits())) {
                    changes.add(new AccountChange(AccountChange.Kind.UPDATED, account.name(), account));
                }
            }
            for (String name : snapshot.keySet()) {
                if (!now.containsKey(name)) {
                    changes.add(new AccountChange(AccountChange.Kind.DELETED, name, null));
                }
            }
            snapshot = now;
            for (AccountChange change : changes) {
                for (Consumer<AccountChange> listener : listeners) {
                    try {
                        listener.accept(change);
                    } catch (RuntimeException e) {
                        log.warn("an account-change listener failed", e);
                    }
                }
            }
        } catch (SQLException | RuntimeException e) {
            log.warn("watching the account store failed: {}", e.toString());
        }
    }

    private static long dataVersion(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("PRAGMA data_version")) {
            return rs.next() ? rs.getLong(1) : 0;
        }
    }

    private static Map<String, Account> byName(List<Account> accounts) {
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

    private AccountStoreException failure(String operation, SQLException e) {
        return new AccountStoreException("account store " + config.file().getFileName() + ": " + operation
                + " failed: " + e.getMessage(), e);
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() != null ? root.getMessage() : root.getClass().getSimpleName();
    }

    @Override
    public synchronized void close() {
        if (poller != null) {
            poller.shutdownNow();
            try {
                pollConnection.close();
            } catch (SQLException e) {
                log.debug("closing the watch connection", e);
            }
        }
        pool.close();
    }
}

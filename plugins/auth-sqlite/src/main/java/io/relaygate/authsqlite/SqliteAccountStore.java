package io.relaygate.authsqlite;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.relaygate.accountjdbc.JdbcAccountStore;
import io.relaygate.spi.Account;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

/**
 * Accounts in one SQLite file: the shared JDBC store on a pool of that file's connections, a change feed that polls
 * {@code PRAGMA data_version}. Thread-safe; every method blocks (JDBC).
 */
final class SqliteAccountStore extends JdbcAccountStore {

    private static final Logger log = LoggerFactory.getLogger(SqliteAccountStore.class);
    private static final byte[] SQLITE_HEADER = "SQLite format 3\0".getBytes(StandardCharsets.US_ASCII);
    static final SqliteDialect DIALECT = new SqliteDialect();

    private final SqliteConfig config;
    private final SQLiteDataSource dataSource;
    private final HikariDataSource pool;
    private ScheduledExecutorService poller;
    private Connection pollConnection;
    private long dataVersion;
    private Map<String, Account> snapshot;

    private SqliteAccountStore(SqliteConfig config, SQLiteDataSource dataSource, HikariDataSource pool) {
        super(pool, DIALECT, config.file().getFileName().toString());
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
            migrate(connection, DIALECT);
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
    protected synchronized void startFeed() {
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
            Map<String, Account> before = snapshot;
            snapshot = now;
            publish(diff(before, now));
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

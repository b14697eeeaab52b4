package io.relaygate.authpostgres;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.relaygate.accountjdbc.JdbcAccountStore;
import io.relaygate.spi.Account;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Accounts in PostgreSQL, shared by every remote that points at the database: the shared JDBC store on a pool, and a
 * change feed by {@code LISTEN}/{@code NOTIFY}. The schema's trigger notifies on any account change by any writer;
 * each notification costs one scan of the users, diffed against the last one. A lost connection is made again with
 * backoff and the scan after it resynchronises, so no change is missed while it was down. Thread-safe; every method
 * blocks (JDBC).
 */
final class PostgresAccountStore extends JdbcAccountStore {

    private static final Logger log = LoggerFactory.getLogger(PostgresAccountStore.class);
    static final PostgresDialect DIALECT = new PostgresDialect();
    private static final java.sql.Driver DRIVER = new org.postgresql.Driver();
    private static final long MIN_BACKOFF_MILLIS = 100;
    private static final long MAX_BACKOFF_MILLIS = 5_000;
    /** How long one wait for notifications lasts: also how soon the feed notices it is being closed. */
    private static final int WAIT_MILLIS = 250;
    private final Object backoffWait = new Object();
    /** The application name of the feed's connection. */
    static final String FEED_APPLICATION = "relaygate-account-feed";

    private final PostgresConfig config;
    private final HikariDataSource pool;
    private Thread feed;
    private volatile boolean closed;
    private Map<String, Account> snapshot;

    private PostgresAccountStore(PostgresConfig config, HikariDataSource pool) {
        super(pool, DIALECT, config.label());
        this.config = config;
        this.pool = pool;
    }

    /**
     * Connects, and brings the schema up to date.
     *
     * @throws IllegalStateException with one line for the user when the database cannot be reached or migrated
     */
    static PostgresAccountStore open(PostgresConfig config) {
        HikariConfig hikari = new HikariConfig();
        hikari.setJdbcUrl(config.url());
        // By class, not through DriverManager: the driver lives in this plugin's class loader, which DriverManager
        // does not search.
        hikari.setDriverClassName(org.postgresql.Driver.class.getName());
        if (config.user() != null) {
            hikari.setUsername(config.user());
        }
        if (config.password() != null) {
            hikari.setPassword(config.password());
        }
        hikari.setPoolName("relaygate-postgres");
        hikari.setMaximumPoolSize(config.poolSize());
        hikari.setMinimumIdle(1);
        hikari.setConnectionTimeout(config.connectTimeout().toMillis());
        // Start even while the database is down: calls fail (logins are refused as unavailable) until it is back.
        hikari.setInitializationFailTimeout(-1);
        HikariDataSource pool = new HikariDataSource(hikari);
        try (Connection connection = pool.getConnection()) {
            migrate(connection, DIALECT);
        } catch (SQLException | RuntimeException e) {
            pool.close();
            throw new IllegalStateException(config.label() + ": " + rootMessage(e), e);
        }
        log.debug("account store: {}", config.label());
        return new PostgresAccountStore(config, pool);
    }

    @Override
    protected synchronized void startFeed() {
        if (feed != null) {
            return;
        }
        try (Connection connection = pool.getConnection()) {
            snapshot = byName(listAll(connection));
        } catch (SQLException e) {
            throw failure("watch", e);
        }
        feed = new Thread(this::follow, "relaygate-postgres-changes");
        feed.setDaemon(true);
        feed.start();
    }

    /** The feed's thread: listen, scan on each notification; on a failure, connect again and scan. */
    private void follow() {
        long backoff = MIN_BACKOFF_MILLIS;
        boolean failing = false;
        while (!closed) {
            try (Connection connection = listen()) {
                scan(connection);                   // whatever changed while no one listened
                if (failing) {
                    log.info("the account store's change feed is back");
                    failing = false;
                }
                backoff = MIN_BACKOFF_MILLIS;
                PGConnection pg = connection.unwrap(PGConnection.class);
                while (!closed) {
                    PGNotification[] notifications = pg.getNotifications(WAIT_MILLIS);
                    if (notifications != null && notifications.length > 0) {
                        scan(connection);
                    }
                }
            } catch (SQLException | RuntimeException e) {
                if (closed) {
                    return;
                }
                if (!failing) {
                    log.warn("the account store's change feed lost the database ({}); connecting again",
                            e.getMessage());
                    failing = true;
                }
                sleep(backoff + ThreadLocalRandom.current().nextLong(backoff / 2 + 1));
                backoff = Math.min(MAX_BACKOFF_MILLIS, backoff * 2);
            }
        }
    }

    private Connection listen() throws SQLException {
        Properties properties = new Properties();
        if (config.user() != null) {
            properties.setProperty("user", config.user());
        }
        if (config.password() != null) {
            properties.setProperty("password", config.password());
        }
        properties.setProperty("connectTimeout", String.valueOf(Math.max(1, config.connectTimeout().toSeconds())));
        // Named, so an operator can tell the feed's connection in pg_stat_activity.
        properties.setProperty("ApplicationName", FEED_APPLICATION);
        Connection connection = DRIVER.connect(config.url(), properties);
        if (connection == null) {
            throw new SQLException("not a PostgreSQL URL: " + config.label());
        }
        try (Statement statement = connection.createStatement()) {
            statement.execute("LISTEN " + PostgresDialect.CHANNEL);
        } catch (SQLException e) {
            connection.close();
            throw e;
        }
        return connection;
    }

    private void scan(Connection connection) throws SQLException {
        Map<String, Account> now = byName(listAll(connection));
        Map<String, Account> before;
        synchronized (this) {
            before = snapshot;
            snapshot = now;
        }
        publish(diff(before, now));
    }

    /** Waits out a backoff, or less when the store closes meanwhile. */
    private void sleep(long millis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        synchronized (backoffWait) {
            for (long left; !closed && (left = deadline - System.nanoTime()) > 0; ) {
                try {
                    TimeUnit.NANOSECONDS.timedWait(backoffWait, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        synchronized (backoffWait) {
            backoffWait.notifyAll();                    // a feed waiting to reconnect stops at once
        }
        Thread running;
        synchronized (this) {
            running = feed;
        }
        if (running != null) {
            try {
                running.join(2 * WAIT_MILLIS + 1_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        pool.close();
    }
}

package io.relaygate.authsqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.relaygate.spi.Account;
import io.relaygate.spi.AccountChange;
import io.relaygate.spi.AccountExistsException;
import io.relaygate.spi.AccountLimits;
import io.relaygate.spi.AccountUpdate;
import io.relaygate.spi.Quota;
import io.relaygate.spi.ScramCredential;
import io.relaygate.testkit.Await;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What is SQLite's own in the account store, against a real database file: its migrations from older files, WAL and
 * file modes, corrupt files, the busy lock. What every store promises is {@link SqliteContractTest}.
 */
@Timeout(60)
class SqliteAccountStoreTest {

    @TempDir
    Path dir;

    private SqliteConfig config() {
        return new SqliteConfig(dir.resolve("gateway.db"), Duration.ofSeconds(3), 4, Duration.ofMillis(50));
    }

    private static Account account(String name, String password, long rate) {
        return Account.create(name, ScramCredential.create(password.getBytes(StandardCharsets.UTF_8), 64,
                new SecureRandom()), true, AccountLimits.NONE.withRate(rate));
    }

    @Test
    void aDatabaseOfTheFirstSchemaIsMigratedAndKeepsItsUsersAndPortsAreKeptPerService() throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("gateway.db"));
             Statement s = c.createStatement()) {
            s.execute(SqliteDialect.STEPS.get(0));
            s.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)"
                    + " STRICT");
            s.execute("INSERT INTO schema_migrations VALUES (1, 0)");
            s.execute("INSERT INTO users (name, salt, iterations, stored_key, server_key, rate, enabled, created_at,"
                    + " updated_at) VALUES ('old', randomblob(16), 64, randomblob(32), randomblob(32), 5, 1, 0, 0)");
        }
        try (SqliteAccountStore store = SqliteAccountStore.open(config())) {
            Account old = store.find("old").orElseThrow();
            assertThat(old.rate()).isEqualTo(5);
            assertThat(old.exposePorts()).as("a new column's default").isZero();
            assertThat(store.update("old", AccountUpdate.NONE.withExposePorts(3)).orElseThrow().exposePorts())
                    .isEqualTo(3);
            store.create(account("bob", "pw", 0));
            store.assignPort("old", "web", 60001);
            store.assignPort("old", "web", 60002);                 // the service moved
            store.assignPort("bob", "db", 60001);                  // the freed port, to another user
            assertThat(store.assignedPort("old", "web")).contains(60002);
            assertThat(store.assignedPort("bob", "db")).contains(60001);
            store.assignPort("bob", "db2", 60002);                 // a port is one service's at a time
            assertThat(store.assignedPort("old", "web")).isEmpty();
            assertThat(store.delete("bob")).isTrue();
            assertThat(store.assignedPort("bob", "db")).as("gone with its user").isEmpty();
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("gateway.db"));
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT max(version) FROM schema_migrations")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).isEqualTo(SqliteDialect.STEPS.size());
        }
    }

    @Test
    void theFileIsWalWithItsMigrationsRecordedAndHoldsNoPassword() throws Exception {
        try (SqliteAccountStore store = SqliteAccountStore.open(config())) {
            store.create(account("carol", "correct horse battery staple", 0));
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("gateway.db"));
             Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("PRAGMA journal_mode")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("wal");
            }
            try (ResultSet rs = s.executeQuery("SELECT version FROM schema_migrations")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(1);
            }
            try (ResultSet rs = s.executeQuery("PRAGMA integrity_check")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("ok");
            }
        }
        byte[] file = Files.readAllBytes(dir.resolve("gateway.db"));
        String text = new String(file, StandardCharsets.ISO_8859_1);
        assertThat(text).doesNotContain("correct horse battery staple");
    }

    @Test
    void theDatabaseAndItsWalAndSharedMemoryFilesAreTheOwnersOnly() throws Exception {
        try (SqliteAccountStore store = SqliteAccountStore.open(config())) {
            store.create(io.relaygate.spi.Account.create("alice", ScramCredential.create("pw".getBytes(), 64,
                    new java.security.SecureRandom()), true, AccountLimits.NONE));
            for (String name : new String[] {"gateway.db", "gateway.db-wal", "gateway.db-shm"}) {
                java.nio.file.Path file = config().file().resolveSibling(name);
                assertThat(java.nio.file.attribute.PosixFilePermissions.toString(
                        java.nio.file.Files.getPosixFilePermissions(file))).as(name).isEqualTo("rw-------");
            }
        }
    }

    @Test
    void aCorruptDatabaseIsRefusedAndLeftAsItWas() throws Exception {
        Path file = dir.resolve("gateway.db");
        byte[] garbage = "this is not a database, but somebody's users may be in it".getBytes();
        Files.write(file, garbage);
        assertThatThrownBy(() -> SqliteAccountStore.open(config())).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("not a SQLite database");
        assertThat(Files.readAllBytes(file)).isEqualTo(garbage);
    }

    @Test
    void aDamagedDatabaseIsRefused() throws Exception {
        try (SqliteAccountStore store = SqliteAccountStore.open(config())) {
            for (int i = 0; i < 200; i++) {
                store.create(account("user" + i, "pw", i));
            }
        }
        Path file = dir.resolve("gateway.db");
        byte[] bytes = Files.readAllBytes(file);
        for (int i = 4096; i < bytes.length; i++) {        // keep the header, wreck the pages
            bytes[i] = (byte) 0xA5;
        }
        Files.write(file, bytes);
        assertThatThrownBy(() -> SqliteAccountStore.open(config())).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("gateway.db");
    }

    private static final LocalDate DAY = LocalDate.of(2026, 11, 28);

    /**
     * {@code schema-v3.db} was made by the release before account policy ({@code gateway user add} of that build,
     * then counters and a port set by SQL): alice (1 MiB/s, two ports, counters, port 60001 for "web") and bob
     * (disabled).
     */
    @Test
    void aDatabaseOfThePreviousReleaseUpgradesInPlaceKeepingUsersCountersAndPorts() throws Exception {
        Path file = dir.resolve("gateway.db");
        try (InputStream in = getClass().getResourceAsStream("schema-v3.db")) {
            Files.copy(in, file);
        }
        try (SqliteAccountStore store = SqliteAccountStore.open(config())) {
            Account alice = store.find("alice").orElseThrow();
            assertThat(alice.rate()).isEqualTo(1 << 20);
            assertThat(alice.exposePorts()).isEqualTo(2);
            assertThat(alice.bytesUp()).isEqualTo(123_456_789L);
            assertThat(alice.bytesDown()).isEqualTo(987_654_321L);
            assertThat(alice.credential().verifies("alice-pass".getBytes())).isTrue();
            assertThat(alice.limits()).as("the new limits' defaults limit nothing more").isEqualTo(
                    AccountLimits.NONE.withRate(1 << 20).withExposePorts(2));
            assertThat(store.assignedPort("alice", "web")).contains(60001);
            assertThat(store.find("bob").orElseThrow().enabled()).isFalse();
            assertThat(store.traffic("alice", LocalDate.EPOCH)).as("no traffic by day before the upgrade")
                    .containsExactly(0, 0);
            store.update("alice", AccountUpdate.NONE.withQuota(Quota.parse("10GiB/week")));
            store.addTraffic(DAY, Map.of("alice", new long[] {1, 1}));
            assertThat(store.find("alice").orElseThrow().bytesUp()).isEqualTo(123_456_790L);
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT max(version) FROM schema_migrations")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).isEqualTo(SqliteDialect.STEPS.size());
        }
    }

    @Test
    void aWriterWaitsForAnotherProcessHoldingTheLock() throws Exception {
        try (SqliteAccountStore store = SqliteAccountStore.open(config())) {
            CountDownLatch locked = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            Thread holder = new Thread(() -> {
                try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("gateway.db"));
                     Statement s = c.createStatement()) {
                    s.execute("BEGIN EXCLUSIVE");
                    locked.countDown();
                    release.await(10, TimeUnit.SECONDS);
                    s.execute("COMMIT");
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            holder.start();
            assertThat(locked.await(5, TimeUnit.SECONDS)).isTrue();
            java.util.concurrent.atomic.AtomicBoolean released = new java.util.concurrent.atomic.AtomicBoolean();
            Thread releaser = new Thread(() -> {
                // The other process holds the lock for 300 ms: long enough that a writer that did not wait would
                // return before it is released.
                java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(300));
                released.set(true);
                release.countDown();
            });
            releaser.start();
            store.create(account("frank", "pw", 0));        // waits out the lock within the busy timeout
            assertThat(released).as("the write completed only after the other process let go").isTrue();
            assertThat(store.find("frank")).isPresent();
            holder.join();
        }
    }
}

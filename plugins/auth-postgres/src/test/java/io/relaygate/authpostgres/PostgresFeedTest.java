package io.relaygate.authpostgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.relaygate.spi.Account;
import io.relaygate.spi.AccountChange;
import io.relaygate.spi.AccountLimits;
import io.relaygate.spi.AccountUpdate;
import io.relaygate.spi.ScramCredential;
import io.relaygate.testkit.Await;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** PostgreSQL's own in the account store: the LISTEN/NOTIFY feed across a lost connection, and bad settings. */
@Timeout(60)
class PostgresFeedTest {

    private TestDatabase database;

    @BeforeEach
    void createSchema() throws Exception {
        database = new TestDatabase();
    }

    @AfterEach
    void dropSchema() throws Exception {
        database.close();
    }

    /** Ends every backend listening for account changes, as a database restart or a network cut would. */
    private static int terminateListeners() throws Exception {
        try (Connection c = TestDatabase.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                     + " WHERE application_name = '" + PostgresAccountStore.FEED_APPLICATION + "'")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void aChangeMadeWhileTheFeedsConnectionWasDownIsSeenOnceItIsBack() throws Exception {
        try (PostgresAccountStore watched = PostgresAccountStore.open(database.config());
             PostgresAccountStore other = PostgresAccountStore.open(database.config())) {
            List<AccountChange> changes = new CopyOnWriteArrayList<>();
            watched.addListener(changes::add);
            other.create(Account.create("alice", ScramCredential.create("pw".getBytes(), 64, new SecureRandom()),
                    true, AccountLimits.NONE));
            Await.until("CREATED", Duration.ofSeconds(5), () -> changes.size() == 1);

            Await.until("the feed's connection ended", Duration.ofSeconds(5), () -> {
                try {
                    return terminateListeners() > 0;
                } catch (Exception e) {
                    return false;
                }
            });
            other.update("alice", AccountUpdate.NONE.withEnabled(false));     // no one listens at this moment
            Await.until("the disable, after the feed reconnected", Duration.ofSeconds(10), () -> changes.size() == 2);
            assertThat(changes.get(1).kind()).isEqualTo(AccountChange.Kind.UPDATED);
            assertThat(changes.get(1).account().enabled()).isFalse();
        }
    }

    @Test
    void aStoreStartsWhileTheDatabaseIsUnreachableNeverButSaysWhy() {
        PostgresConfig unreachable = new PostgresConfig("jdbc:postgresql://127.0.0.1:1/test", "postgres", null, 1,
                Duration.ofMillis(500));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> PostgresAccountStore.open(unreachable))
                .isInstanceOf(IllegalStateException.class).hasMessageStartingWith("jdbc:postgresql://127.0.0.1:1/test:");
    }
}

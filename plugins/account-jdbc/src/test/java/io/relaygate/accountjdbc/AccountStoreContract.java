package io.relaygate.accountjdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.relaygate.spi.Account;
import io.relaygate.spi.AccountChange;
import io.relaygate.spi.AccountExistsException;
import io.relaygate.spi.AccountLimits;
import io.relaygate.spi.AccountStore;
import io.relaygate.spi.AccountUpdate;
import io.relaygate.spi.Quota;
import io.relaygate.spi.ScramCredential;
import io.relaygate.testkit.Await;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What every account store promises, run against each of them (a subclass per store, as JCTools tests its queues):
 * accounts round-trip, counters are increments that several writers add to without losing any, traffic is kept by
 * day, ports are sticky and exclusive, a second store on the same database sees the first's changes in its feed.
 */
@Timeout(60)
public abstract class AccountStoreContract {

    private final List<AccountStore> opened = new ArrayList<>();
    private static final LocalDate DAY = LocalDate.of(2026, 11, 28);

    /** {@return a new store on this test's database: each call is another writer, as another process would be} */
    protected abstract AccountStore newStore();

    /** {@return a store on this test's database, closed after the test} */
    protected final AccountStore store() {
        AccountStore store = newStore();
        opened.add(store);
        return store;
    }

    @AfterEach
    void closeStores() {
        for (AccountStore store : opened) {
            store.close();
        }
    }

    private static Account account(String name, String password, AccountLimits limits) {
        return Account.create(name, ScramCredential.create(password.getBytes(StandardCharsets.UTF_8), 64,
                new SecureRandom()), true, limits);
    }

    @Test
    void accountsRoundTripAndNamesAreExactAndNeverSql() {
        AccountStore store = store();
        store.create(account("alice", "secret", AccountLimits.NONE.withRate(1 << 20)));
        store.create(account("bob", "hunter2", AccountLimits.NONE));
        assertThatThrownBy(() -> store.create(account("alice", "other", AccountLimits.NONE)))
                .isInstanceOf(AccountExistsException.class);
        assertThat(store.list()).extracting(Account::name).containsExactly("alice", "bob");
        Account alice = store.find("alice").orElseThrow();
        assertThat(alice.rate()).isEqualTo(1 << 20);
        assertThat(alice.credential().verifies("secret".getBytes(StandardCharsets.UTF_8))).isTrue();
        assertThat(store.find("ALICE")).as("case-sensitive").isEmpty();
        assertThat(store.find("a' OR '1'='1")).isEmpty();
        assertThat(store.iterationCounts()).containsEntry(64, 2L);

        Account updated = store.update("alice", AccountUpdate.NONE.withRate(4096).withEnabled(false)).orElseThrow();
        assertThat(updated.rate()).isEqualTo(4096);
        assertThat(updated.enabled()).isFalse();
        assertThat(updated.updated()).isAfterOrEqualTo(alice.updated());
        assertThat(store.update("nobody", AccountUpdate.NONE.withRate(1))).isEmpty();
        assertThat(store.delete("bob")).isTrue();
        assertThat(store.delete("bob")).isFalse();
        assertThat(store().list()).as("another writer sees the same").extracting(Account::name)
                .containsExactly("alice");
    }

    @Test
    void everyLimitRoundTripsAndChangesOneByOne() {
        AccountStore store = store();
        Instant expires = Instant.parse("2027-02-01T00:00:00Z");
        store.create(account("frank", "pw", new AccountLimits(1000, 300, 700, 5, 2, expires,
                Quota.parse("50GiB/month"))));
        assertThat(store.find("frank").orElseThrow().limits()).isEqualTo(new AccountLimits(1000, 300, 700, 5, 2,
                expires, new Quota(50L << 30, Quota.Period.MONTH)));
        AccountLimits changed = store.update("frank", AccountUpdate.NONE.withRateUp(0).withMaxConnections(9)
                .withQuota(Quota.parse("1GB/day")).withExpires(null)).orElseThrow().limits();
        assertThat(changed).isEqualTo(new AccountLimits(1000, 0, 700, 9, 2, null,
                new Quota(1_000_000_000L, Quota.Period.DAY)));
    }

    @Test
    void trafficIsAddedAsIncrementsToTotalsAndToItsDay() {
        AccountStore store = store();
        store.create(account("dave", "pw", AccountLimits.NONE));
        store.addTraffic(LocalDate.of(2026, 10, 31), Map.of("dave", new long[] {1, 2}, "ghost", new long[] {5, 5}));
        store.addTraffic(DAY, Map.of("dave", new long[] {100, 200}));
        store.addTraffic(DAY, Map.of("dave", new long[] {1000, 2000}));
        Account dave = store.find("dave").orElseThrow();
        assertThat(dave.bytesUp()).isEqualTo(1101);
        assertThat(dave.bytesDown()).isEqualTo(2202);
        assertThat(store.traffic("dave", DAY)).containsExactly(1100, 2200);
        assertThat(store.traffic("dave", LocalDate.EPOCH)).containsExactly(1101, 2202);
        assertThat(store.traffic("ghost", LocalDate.EPOCH)).as("unknown users are not counted").containsExactly(0, 0);
        store.delete("dave");
        store.create(account("dave", "pw", AccountLimits.NONE));
        assertThat(store.traffic("dave", LocalDate.EPOCH)).as("a new user of the name starts at zero")
                .containsExactly(0, 0);
    }

    @Test
    void severalWritersAddingAtOnceLoseNothing() throws Exception {
        store().create(account("erin", "pw", AccountLimits.NONE));
        int writers = 4;
        int threadsEach = 4;
        int rounds = 100;
        List<AccountStore> stores = new ArrayList<>();
        for (int i = 0; i < writers; i++) {
            stores.add(store());
        }
        ExecutorService threads = Executors.newFixedThreadPool(writers * threadsEach);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> done = new ArrayList<>();
        try {
            for (AccountStore writer : stores) {
                for (int t = 0; t < threadsEach; t++) {
                    done.add(threads.submit(() -> {
                        start.await();
                        for (int r = 0; r < rounds; r++) {
                            writer.addTraffic(DAY, Map.of("erin", new long[] {1, 3}));
                        }
                        return null;
                    }));
                }
            }
            start.countDown();
            for (Future<?> f : done) {
                f.get(50, TimeUnit.SECONDS);
            }
        } finally {
            threads.shutdownNow();
        }
        long expected = (long) writers * threadsEach * rounds;
        Account erin = store().find("erin").orElseThrow();
        assertThat(erin.bytesUp()).isEqualTo(expected);
        assertThat(erin.bytesDown()).isEqualTo(3 * expected);
        assertThat(store().traffic("erin", DAY)).containsExactly(expected, 3 * expected);
    }

    @Test
    void portsAreStickyPerServiceAndOneServicesAtATime() {
        AccountStore store = store();
        store.create(account("old", "pw", AccountLimits.NONE.withExposePorts(2)));
        store.create(account("bob", "pw", AccountLimits.NONE));
        store.assignPort("old", "web", 60001);
        store.assignPort("old", "web", 60002);                 // the service moved
        store.assignPort("bob", "db", 60001);                  // the freed port, to another user
        assertThat(store().assignedPort("old", "web")).contains(60002);
        assertThat(store.assignedPort("bob", "db")).contains(60001);
        store.assignPort("bob", "db2", 60002);                 // a port is one service's at a time
        assertThat(store.assignedPort("old", "web")).isEmpty();
        assertThat(store.delete("bob")).isTrue();
        assertThat(store.assignedPort("bob", "db")).as("gone with its user").isEmpty();
    }

    @Test
    void theChangeFeedSeesAnotherWritersChangesButNotItsCounters() {
        AccountStore watched = store();
        AccountStore other = store();
        List<AccountChange> changes = new CopyOnWriteArrayList<>();
        watched.addListener(changes::add);
        other.create(account("gina", "pw", AccountLimits.NONE));
        Await.until("CREATED", Duration.ofSeconds(5), () -> changes.size() == 1);
        other.addTraffic(DAY, Map.of("gina", new long[] {1, 1}));
        other.update("gina", AccountUpdate.NONE.withRate(2048).withQuota(Quota.parse("1GiB/week")));
        Await.until("UPDATED", Duration.ofSeconds(5), () -> changes.size() == 2);
        other.delete("gina");
        Await.until("DELETED", Duration.ofSeconds(5), () -> changes.size() == 3);
        assertThat(changes).extracting(AccountChange::kind).containsExactly(AccountChange.Kind.CREATED,
                AccountChange.Kind.UPDATED, AccountChange.Kind.DELETED);
        assertThat(changes.get(1).account().rate()).isEqualTo(2048);
        assertThat(changes.get(1).account().limits().quota()).isEqualTo(Quota.parse("1GiB/week"));
    }
}

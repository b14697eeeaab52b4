package io.relaygate.ratelimitredis;

import static io.relaygate.testkit.Rates.measure;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.relaygate.spi.RateLimiter;
import io.relaygate.testkit.Await;
import io.relaygate.testkit.Closer;
import io.relaygate.testkit.LogCapture;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;

/**
 * The limiter against real Redis servers: two limiters stand for two remotes sharing one user, readers take tokens as
 * tunnel directions do, and the totals are measured over windows of wall-clock time.
 */
@Timeout(120)
class RedisLimiterTest {

    private static final long MIB = 1 << 20;

    @RegisterExtension
    final Closer closer = new Closer();
    @TempDir
    Path dir;
    private final String prefix = TestRedis.freshPrefix();

    private RedisLimiter limiter(String url) {
        RedisLimiter limiter = RedisLimiter.start(TestRedis.config(url, prefix));
        closer.track(limiter);
        return limiter;
    }

    private Readers readers(RateLimiter.Bucket bucket, int count) {
        Readers readers = new Readers(bucket, count);
        closer.track(readers);
        return readers;
    }

    private static void awaitClustered(RedisLimiter... limiters) {
        for (RedisLimiter limiter : limiters) {
            Await.until("the limiter leases from Redis", Duration.ofSeconds(10), limiter.keeper()::clustered);
        }
    }


    private static void pause(double seconds) {
        measure(() -> 0, seconds);
    }

    @Test
    void oneRemoteHoldsTheUserToTheRate() {
        RedisLimiter limiter = limiter(TestRedis.URL);
        awaitClustered(limiter);
        Readers readers = readers(limiter.bucket("alice", MIB), 4);
        pause(0.5);
        assertThat(measure(readers::taken, 3)).isCloseTo(MIB, within(MIB * 0.05));
    }

    @Test
    void twoRemotesHoldTheUserToOneRateInTotal() {
        RedisLimiter first = limiter(TestRedis.URL);
        RedisLimiter second = limiter(TestRedis.URL);
        awaitClustered(first, second);
        Readers onFirst = readers(first.bucket("alice", MIB), 4);
        Readers onSecond = readers(second.bucket("alice", MIB), 4);
        pause(0.5);
        long firstBefore = onFirst.taken();
        double total = measure(() -> onFirst.taken() + onSecond.taken(), 4);
        double firstShare = (onFirst.taken() - firstBefore) / (total * 4);
        assertThat(total).isCloseTo(MIB, within(MIB * 0.05));
        assertThat(firstShare).as("both remotes move bytes").isBetween(0.2, 0.8);
    }

    @Test
    void aRateChangedOnEveryRemoteHoldsWithinASecond() {
        RedisLimiter first = limiter(TestRedis.URL);
        RedisLimiter second = limiter(TestRedis.URL);
        awaitClustered(first, second);
        RateLimiter.Bucket a = first.bucket("alice", MIB);
        RateLimiter.Bucket b = second.bucket("alice", MIB);
        Readers onFirst = readers(a, 3);
        Readers onSecond = readers(b, 3);
        pause(1);
        a.rate(3 * MIB);                                    // as each remote's account feed delivers the change
        b.rate(3 * MIB);
        pause(1);                                           // "within a second"
        assertThat(measure(() -> onFirst.taken() + onSecond.taken(), 3)).isCloseTo(3 * MIB, within(3 * MIB * 0.05));
        // Lowered, the rate holds once what was reserved and read ahead at the old rate is paid back at the new one.
        a.rate(MIB / 2);
        b.rate(MIB / 2);
        pause(2);
        assertThat(measure(() -> onFirst.taken() + onSecond.taken(), 3)).isCloseTo(MIB / 2, within(MIB * 0.05 / 2));
    }

    @Test
    void withRedisAwayEachRemoteKeepsItsShareAndNoReaderFails() throws Exception {
        RedisServer redis = new RedisServer(dir).start();
        closer.track(redis);
        try (LogCapture log = LogCapture.of(LeaseKeeper.class.getName())) {
            RedisLimiter first = limiter(redis.url());
            RedisLimiter second = limiter(redis.url());
            awaitClustered(first, second);
            Await.until("both remotes counted", Duration.ofSeconds(10),
                    () -> first.keeper().remotes() == 2 && second.keeper().remotes() == 2);
            Readers onFirst = readers(first.bucket("alice", 2 * MIB), 4);
            Readers onSecond = readers(second.bucket("alice", 2 * MIB), 4);
            LongSupplier total = () -> onFirst.taken() + onSecond.taken();
            pause(0.5);
            assertThat(measure(total, 2)).as("clustered").isCloseTo(2 * MIB, within(2 * MIB * 0.05));

            redis.kill();
            Await.until("both remotes on their own", Duration.ofSeconds(5),
                    () -> !first.keeper().clustered() && !second.keeper().clustered());
            pause(0.3);
            double firstAlone = measure(onFirst::taken, 2);
            assertThat(firstAlone).as("one remote keeps half the rate").isCloseTo(MIB, within(MIB * 0.1));
            assertThat(measure(total, 2)).as("both together the rate").isCloseTo(2 * MIB, within(2 * MIB * 0.1));

            redis.start();                                  // empty: no scripts, no buckets
            awaitClustered(first, second);
            pause(0.5);
            assertThat(measure(total, 4)).as("clustered again").isCloseTo(2 * MIB, within(2 * MIB * 0.05));

            List<String> warnings = log.linesContaining("is unreachable");
            assertThat(warnings).as("said once per remote").hasSize(2);
            assertThat(warnings.get(0)).contains("1/2 of their rate");
            assertThat(log.linesContaining("answers again")).hasSize(2);
        }
    }

    @Test
    void aRemoteStartedWithoutRedisLimitsAloneThenJoins() throws Exception {
        RedisServer redis = new RedisServer(dir);
        closer.track(redis);
        RedisLimiter limiter = limiter(redis.url());
        Readers readers = readers(limiter.bucket("alice", MIB), 2);
        pause(0.5);
        assertThat(limiter.keeper().clustered()).isFalse();
        assertThat(measure(readers::taken, 2)).as("all of the rate: no other remote was seen")
                .isCloseTo(MIB, within(MIB * 0.1));
        redis.start();
        awaitClustered(limiter);
        try (Jedis jedis = new Jedis("127.0.0.1", redis.port())) {
            Await.until("the bucket lives in Redis", Duration.ofSeconds(5),
                    () -> jedis.exists(prefix + "bucket:alice"));
            assertThat(jedis.pttl(prefix + "bucket:alice")).as("and expires when unused").isBetween(1L, 2_000L);
        }
    }

    @Test
    void aFastUserCostsAboutOneRoundTripPerLease() {
        RedisLimiter limiter = limiter(TestRedis.URL);
        awaitClustered(limiter);
        Readers readers = readers(limiter.bucket("alice", 100 * MIB), 4);
        pause(0.5);
        long trips = limiter.keeper().roundTrips();
        long taken = readers.taken();
        assertThat(measure(readers::taken, 3)).isCloseTo(100 * MIB, within(100 * MIB * 0.05));
        double perGib = (limiter.keeper().roundTrips() - trips) / ((readers.taken() - taken) / (double) (1L << 30));
        System.out.printf("Redis round trips per GiB at 100 MiB/s: %.0f%n", perGib);
        // A lease is 256 KiB at this rate (leaseSize): 4,096 leases per GiB, and the heartbeats.
        assertThat(perGib).isBetween(1024.0, 8192.0);
    }

    @Test
    void aRedisThatNeverAnswersCostsTheLeasesNothing() throws Exception {
        // Connections complete in the kernel's backlog and then hear nothing, as from a Redis whose replies are lost.
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             LogCapture log = LogCapture.of(LeaseKeeper.class.getName())) {
            RedisConfig config = new RedisConfig("127.0.0.1", silent.getLocalPort(), 0, null, 256 * 1024, 0.2,
                    64 * 1024, Duration.ofMillis(500), prefix);
            RedisLimiter limiter = closer.track(RedisLimiter.start(config));
            Readers readers = readers(limiter.bucket("alice", MIB), 2);
            Await.until("the silent Redis noticed", Duration.ofSeconds(5),
                    () -> !log.linesContaining("is unreachable").isEmpty());
            pause(0.5);
            // Each second an attempt waits out the timeout on its own thread; the leases come all the while.
            assertThat(measure(readers::taken, 3)).isCloseTo(MIB, within(MIB * 0.1));
            assertThat(log.linesContaining("is unreachable")).hasSize(1);
        }
    }

    @Test
    void anUnlimitedUserNeverReachesRedis() {
        RedisLimiter limiter = limiter(TestRedis.URL);
        awaitClustered(limiter);
        RateLimiter.Bucket bucket = limiter.bucket("dave", 0);
        assertThat(bucket.tryAcquire(123_456_789)).isEqualTo(123_456_789);
        assertThat(bucket.reserve(1 << 20)).isZero();
        long trips = limiter.keeper().roundTrips();
        for (int i = 0; i < 1_000; i++) {
            bucket.tryAcquire(1 << 20);
        }
        try (Jedis jedis = new Jedis(TestRedis.config(TestRedis.URL, prefix).host(),
                TestRedis.config(TestRedis.URL, prefix).port())) {
            assertThat(jedis.exists(prefix + "bucket:dave")).isFalse();
        }
        assertThat(limiter.keeper().roundTrips() - trips).as("heartbeats at most").isLessThanOrEqualTo(2);
    }

    @Test
    void aPasswordIsSentAndNeverLogged() throws Exception {
        RedisServer redis = new RedisServer(dir).requirePassword("redis-s3cret").start();
        closer.track(redis);
        try (LogCapture log = LogCapture.of(LeaseKeeper.class.getName())) {
            RedisLimiter right = RedisLimiter.start(TestRedis.config(redis.url(), prefix, "redis-s3cret"));
            closer.track(right);
            RedisLimiter wrong = RedisLimiter.start(TestRedis.config(redis.url(), prefix, "not-the-password"));
            closer.track(wrong);
            awaitClustered(right);
            Await.until("the wrong password refused", Duration.ofSeconds(5),
                    () -> !log.linesContaining("is unreachable").isEmpty());
            assertThat(wrong.keeper().clustered()).isFalse();
            RateLimiter.Bucket bucket = wrong.bucket("alice", MIB);
            Await.until("the refused remote still grants, on its own", Duration.ofSeconds(5),
                    () -> bucket.tryAcquire(1024) > 0);
            assertThat(log.lines()).noneMatch(line -> line.contains("redis-s3cret") || line.contains("not-the-password"));
        }
    }

    @Test
    void closingLeavesTheRemotesSet() {
        RedisLimiter first = limiter(TestRedis.URL);
        RedisLimiter second = limiter(TestRedis.URL);
        awaitClustered(first, second);
        Await.until("two remotes", Duration.ofSeconds(5), () -> first.keeper().remotes() == 2);
        second.close();
        Await.until("one remote again", Duration.ofSeconds(5), () -> first.keeper().remotes() == 1);
    }
}

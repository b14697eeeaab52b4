package io.relaygate.ratelimitredis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.relaygate.core.config.SectionConfig;
import io.relaygate.core.config.Settings;
import io.relaygate.spi.ConfigException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The event loops' side of a lease, with the keeper replaced by a list of asks; and the settings. */
class LeasedBucketTest {

    private static final long MIB = 1 << 20;
    private final List<LeasedBucket> asks = new ArrayList<>();
    private final RedisConfig config = TestRedis.config(RedisConfig.DEFAULT_URL, "t:");

    private LeasedBucket bucket(long rate) {
        return new LeasedBucket("alice", rate, config, asks::add);
    }

    @Test
    void anEmptyLeaseGrantsNothingAndAsksForARefillOnce() {
        LeasedBucket bucket = bucket(MIB);
        assertThat(bucket.tryAcquire(64 * 1024)).isZero();
        assertThat(bucket.tryAcquire(64 * 1024)).isZero();
        assertThat(asks).as("queued once until the keeper takes it").hasSize(1);
        assertThat(bucket.wanted()).as("a lease: 50 ms of the rate").isEqualTo(MIB / 20);
        bucket.queued.set(false);                       // as the keeper does when it takes the bucket
        bucket.credit(MIB / 20);
        assertThat(bucket.wanted()).isZero();
        assertThat(bucket.tryAcquire(10_000)).isEqualTo(10_000);
        assertThat(bucket.tryAcquire(64 * 1024)).as("all that is left, no more").isEqualTo(MIB / 20 - 10_000);
        assertThat(asks).as("below half a lease it asks again").hasSize(2);
    }

    @Test
    void aReservationWaitsForTheDebtBeforeItAtThePace() {
        LeasedBucket bucket = bucket(MIB);
        long share = bucket.reservationSize();
        assertThat(share).as("20 ms of the rate").isEqualTo(MIB / 50);
        assertThat(bucket.reserve(share)).isEqualTo((long) Math.ceil(share * 1e9 / MIB));
        bucket.pace(MIB / 2);                           // two remotes ask for alice: this one's share is half
        assertThat(bucket.reserve(share)).isEqualTo((long) Math.ceil(2 * share * 1e9 / (MIB / 2)));
        assertThat(bucket.wanted()).as("the debt and a lease, at most the burst")
                .isEqualTo(2 * share + MIB / 20);
        bucket.refund(share);
        assertThat(bucket.held()).isEqualTo(-share);
        bucket.credit(3 * share);
        assertThat(bucket.reserve(share)).as("covered: no wait").isZero();
    }

    @Test
    void anUnlimitedPrincipalTakesNothingFromTheLease() {
        LeasedBucket bucket = bucket(0);
        assertThat(bucket.tryAcquire(Long.MAX_VALUE)).isEqualTo(Long.MAX_VALUE);
        assertThat(bucket.reserve(1_000)).isZero();
        assertThat(bucket.wanted()).isZero();
        assertThat(asks).isEmpty();
        bucket.rate(MIB);
        assertThat(bucket.tryAcquire(1_000)).as("limited from now on").isZero();
        assertThatThrownBy(() -> bucket.rate(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aLeaseIsBoundedByLeaseSizeAndTheBurst() {
        LeasedBucket fast = bucket(100 * MIB);
        assertThat(fast.shape().lease()).as("leaseSize").isEqualTo(256 * 1024);
        assertThat(fast.reservationSize()).as("never more than a lease").isEqualTo(256 * 1024);
        assertThat(fast.shape().capacity()).isEqualTo(20 * MIB);
        LeasedBucket slow = bucket(10_000);
        assertThat(slow.shape().capacity()).as("minBurst").isEqualTo(64 * 1024);
        assertThat(slow.shape().lease()).isEqualTo(1024);
    }

    private static SectionConfig section(String... keysAndValues) {
        Settings settings = Settings.empty();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            settings = settings.with("plugins.redis." + keysAndValues[i], keysAndValues[i + 1], "gateway.yaml:" + i);
        }
        return new SectionConfig(settings, "plugins.redis");
    }

    @Test
    void settingsReadTheUrlAndNameTheKeyOnError() {
        RedisConfig defaults = RedisConfig.from(section());
        assertThat(defaults.label()).isEqualTo("redis://127.0.0.1:6379/0");
        assertThat(defaults.leaseSize()).isEqualTo(256 * 1024);
        assertThat(defaults.timeout()).isEqualTo(Duration.ofMillis(500));
        RedisConfig custom = RedisConfig.from(section("url", "redis://:s3cret@cache.internal:6380/3",
                "leaseSize", "1MiB", "keyPrefix", "eu:"));
        assertThat(custom.host()).isEqualTo("cache.internal");
        assertThat(custom.port()).isEqualTo(6380);
        assertThat(custom.database()).isEqualTo(3);
        assertThat(custom.password()).isEqualTo("s3cret");
        assertThat(custom.label()).doesNotContain("s3cret");
        assertThat(custom.leaseSize()).isEqualTo(MIB);
        assertThat(custom.keyPrefix()).isEqualTo("eu:");
        RedisConfig v6 = RedisConfig.from(section("url", "redis://[::1]:6379"));
        assertThat(v6.host()).isEqualTo("::1");
        assertThat(v6.label()).isEqualTo("redis://[::1]:6379/0");
        for (String bad : new String[] {"http://127.0.0.1:6379", "redis://127.0.0.1:6379/16", "redis://:6379",
                "redis://h:1/x", "redis://:pw@h:1/99"}) {
            assertThatThrownBy(() -> RedisConfig.from(section("url", bad)))
                    .isInstanceOf(ConfigException.class)
                    .hasMessageContaining("redis://HOST:PORT[/DB]")
                    .hasMessageNotContaining("pw@")
                    .satisfies(e -> assertThat(((ConfigException) e).key()).isEqualTo("plugins.redis.url"));
        }
    }
}

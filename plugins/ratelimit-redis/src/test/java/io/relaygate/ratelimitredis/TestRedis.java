package io.relaygate.ratelimitredis;

import io.relaygate.testkit.TestServices;
import java.net.URI;
import java.time.Duration;
import java.util.UUID;

/**
 * The machine's Redis for tests ({@link TestServices#redisUrl}), with a key prefix of each test's own so that tests
 * never see each other's buckets.
 */
final class TestRedis {

    static final String URL = TestServices.redisUrl();

    private TestRedis() {
    }

    static String freshPrefix() {
        return "relaygate-test-" + UUID.randomUUID().toString().substring(0, 8) + ":";
    }

    /** {@return the limiter's settings for {@code url}: defaults, short timeouts, {@code prefix} for keys} */
    static RedisConfig config(String url, String prefix) {
        return config(url, prefix, null);
    }

    /** {@return as {@link #config(String, String)}, authenticating with {@code password}} */
    static RedisConfig config(String url, String prefix, String password) {
        URI uri = URI.create(url);
        return new RedisConfig(uri.getHost(), uri.getPort() < 0 ? 6379 : uri.getPort(), 0, password, 256 * 1024, 0.2,
                64 * 1024, Duration.ofMillis(200), prefix);
    }
}

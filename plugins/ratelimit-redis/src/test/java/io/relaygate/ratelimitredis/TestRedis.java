package io.relaygate.ratelimitredis;

import java.time.Duration;
import java.util.UUID;

/**
 * The machine's Redis for tests: {@code RELAYGATE_TEST_REDIS_URL} (default {@code redis://127.0.0.1:6379}), with a key
 * prefix of each test's own so that tests never see each other's buckets.
 */
final class TestRedis {

    static final String URL = env("RELAYGATE_TEST_REDIS_URL", RedisConfig.DEFAULT_URL);

    private TestRedis() {
    }

    private static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isBlank() ? fallback : value;
    }

    static String freshPrefix() {
        return "relaygate-test-" + UUID.randomUUID().toString().substring(0, 8) + ":";
    }

    /** {@return the limiter's settings for {@code url}: defaults, short timeouts, {@code prefix} for keys} */
    static RedisConfig config(String url, String prefix) {
        java.net.URI uri = java.net.URI.create(url);
        return new RedisConfig(uri.getHost(), uri.getPort() < 0 ? 6379 : uri.getPort(), 0, null, 256 * 1024, 0.2,
                64 * 1024, Duration.ofMillis(200), prefix);
    }
}

package io.relaygate.ratelimit;

import io.relaygate.spi.GatewayContext;
import io.relaygate.spi.GatewayPlugin;
import io.relaygate.spi.PluginConfig;
import io.relaygate.spi.RateLimiter;
import io.relaygate.spi.RateLimiterFactory;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Offers the rate limiter {@code tokenBucket}, configured under {@code plugins.tokenBucket}: {@code burst}, the
 * capacity as a duration of the rate (default 200ms), and {@code minBurst}, its floor (default 64KiB).
 */
public final class TokenBucketPlugin implements GatewayPlugin {

    /** Required by {@link java.util.ServiceLoader}. */
    public TokenBucketPlugin() {
    }

    @Override
    public String name() {
        return "ratelimit-tokenbucket";
    }

    @Override
    public List<RateLimiterFactory> rateLimiters() {
        return List.of(new Factory());
    }

    /** {@code rateLimiter: tokenBucket}, configured by {@code plugins.tokenBucket}. */
    private static final class Factory implements RateLimiterFactory {
        @Override
        public String name() {
            return "tokenBucket";
        }

        @Override
        public RateLimiter create(PluginConfig config, GatewayContext context) {
            Duration burst = config.getDuration("burst", Duration.ofMillis(200), Duration.ofMillis(1),
                    Duration.ofSeconds(60));
            long minBurst = config.getSize("minBurst", 64 * 1024, 1, 1L << 30);
            return new Limiter(burst.toNanos() / 1e9, minBurst);
        }
    }

    /** One bucket per principal, created on first use. Thread-safe. */
    static final class Limiter implements RateLimiter {
        private final double burstSeconds;
        private final long minBurst;
        private final ConcurrentHashMap<String, TokenBucket> buckets = new ConcurrentHashMap<>();

        Limiter(double burstSeconds, long minBurst) {
            this.burstSeconds = burstSeconds;
            this.minBurst = minBurst;
        }

        @Override
        public Bucket bucket(String principal, long bytesPerSecond) {
            TokenBucket bucket = buckets.computeIfAbsent(principal,
                    p -> new TokenBucket(bytesPerSecond, burstSeconds, minBurst, System::nanoTime));
            bucket.rate(bytesPerSecond);
            return bucket;
        }

        @Override
        public void forget(String principal) {
            buckets.remove(principal);
        }
    }
}

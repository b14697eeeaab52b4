package io.relaygate.ratelimitredis;

import io.relaygate.spi.GatewayContext;
import io.relaygate.spi.GatewayPlugin;
import io.relaygate.spi.PluginConfig;
import io.relaygate.spi.RateLimiter;
import io.relaygate.spi.RateLimiterFactory;
import java.util.List;

/**
 * Offers the rate limiter {@code redis}, configured under {@code plugins.redis}: {@code url}
 * ({@code redis://HOST:PORT[/DB]}, default {@code redis://127.0.0.1:6379}), {@code leaseSize} (the most one lease asks
 * for, default 256KiB), {@code burst} (default 200ms) and {@code minBurst} (default 64KiB) as for the token bucket but
 * shared by the cluster, {@code timeout} (default 500ms) and {@code keyPrefix} (default {@code relaygate:}). Several
 * remotes pointing at one Redis hold each user to one rate in total.
 */
public final class RedisLimiterPlugin implements GatewayPlugin {

    /** Required by {@link java.util.ServiceLoader}. */
    public RedisLimiterPlugin() {
    }

    @Override
    public String name() {
        return "ratelimit-redis";
    }

    @Override
    public List<RateLimiterFactory> rateLimiters() {
        return List.of(new Factory());
    }

    /** {@code rateLimiter: redis}, configured by {@code plugins.redis}. */
    private static final class Factory implements RateLimiterFactory {
        @Override
        public String name() {
            return "redis";
        }

        @Override
        public RateLimiter create(PluginConfig config, GatewayContext context) {
            return RedisLimiter.start(RedisConfig.from(config));
        }
    }
}

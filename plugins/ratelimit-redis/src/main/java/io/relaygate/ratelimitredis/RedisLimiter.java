package io.relaygate.ratelimitredis;

import io.relaygate.spi.RateLimiter;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Buckets whose tokens come from Redis in leases, one per principal, refilled by one {@link LeaseKeeper}. Thread-safe.
 */
final class RedisLimiter implements RateLimiter {

    private final RedisConfig config;
    private final LeaseKeeper keeper;
    private final ConcurrentHashMap<String, LeasedBucket> buckets = new ConcurrentHashMap<>();

    private RedisLimiter(RedisConfig config, LeaseKeeper keeper) {
        this.config = config;
        this.keeper = keeper;
    }

    /** {@return a limiter whose keeper is running; it connects to Redis in the background} */
    static RedisLimiter start(RedisConfig config) {
        String id = ProcessHandle.current().pid() + "-" + UUID.randomUUID().toString().substring(0, 8);
        RedisLimiter limiter = new RedisLimiter(config, new LeaseKeeper(config, id));
        limiter.keeper.start();
        return limiter;
    }

    @Override
    public Bucket bucket(String principal, long bytesPerSecond) {
        LeasedBucket bucket = buckets.computeIfAbsent(principal,
                p -> new LeasedBucket(p, bytesPerSecond, config, keeper::ask));
        bucket.rate(bytesPerSecond);
        return bucket;
    }

    @Override
    public void forget(String principal) {
        buckets.remove(principal);
    }

    LeaseKeeper keeper() {
        return keeper;
    }

    @Override
    public void close() {
        keeper.close();
    }
}

package io.relaygate.benchmarks;

import io.relaygate.core.config.SectionConfig;
import io.relaygate.core.config.Settings;
import io.relaygate.ratelimit.TokenBucketPlugin;
import io.relaygate.ratelimitredis.RedisLimiterPlugin;
import io.relaygate.spi.GatewayPlugin;
import io.relaygate.spi.RateLimiter;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The per-read cost of a limited user's bucket (reads of 1 KiB): the local token bucket against the Redis lease (the machine's Redis,
 * {@code RELAYGATE_BENCH_REDIS_URL}, default {@code redis://127.0.0.1:6379}) in the same run. The rate is high and the
 * lease large so that reads are granted and the figure is the grant, not a refusal; the {@code granted} and
 * {@code refused} counters say how far that held.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class LimiterBenchmark {

    @Param({"tokenBucket", "redis"})
    public String limiter;

    private RateLimiter rateLimiter;
    private RateLimiter.Bucket bucket;

    /** What the reads of one thread got. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Reads {
        public long granted;
        public long refused;
    }

    @Setup(Level.Trial)
    public void open() {
        Settings settings = Settings.empty()
                .with("plugins.redis.url", System.getenv().getOrDefault("RELAYGATE_BENCH_REDIS_URL",
                        "redis://127.0.0.1:6379"), "bench")
                .with("plugins.redis.leaseSize", "64MiB", "bench")
                .with("plugins.redis.keyPrefix", "relaygate-bench-" + UUID.randomUUID() + ":", "bench");
        GatewayPlugin plugin = limiter.equals("redis") ? new RedisLimiterPlugin() : new TokenBucketPlugin();
        rateLimiter = plugin.rateLimiters().get(0).create(new SectionConfig(settings, "plugins." + limiter), null);
        bucket = rateLimiter.bucket("alice", 1_000_000_000_000_000L);
    }

    @TearDown(Level.Trial)
    public void close() {
        rateLimiter.close();
    }

    private long read(Reads reads) {
        long granted = bucket.tryAcquire(1024);
        if (granted > 0) {
            reads.granted++;
        } else {
            reads.refused++;
        }
        return granted;
    }

    @Benchmark
    @Threads(1)
    public long oneThread(Reads reads) {
        return read(reads);
    }

    @Benchmark
    @Threads(2)
    public long twoThreads(Reads reads) {
        return read(reads);
    }
}
